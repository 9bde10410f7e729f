package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/lakebox/lakebox/internal/tracking"
)

type mlflowAPI struct {
	t *tracking.Service
}

// requireRunID returns run_id, falling back to the legacy run_uuid.
func requireRunID(runID, runUUID string) (string, error) {
	if runID == "" {
		runID = runUUID
	}
	if runID == "" {
		return "", tracking.Missing("run_id")
	}
	return runID, nil
}

// MountMLflowTracking registers the MLflow tracking API (experiments, runs,
// metrics, datasets, logged models) on s.
func (s *Server) MountMLflowTracking(t *tracking.Service) {
	a := &mlflowAPI{t: t}
	m := s.handleMLflow

	// experiments
	m("POST", "experiments/create", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Name             string         `json:"name"`
			ArtifactLocation string         `json:"artifact_location"`
			Tags             []tracking.Tag `json:"tags"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		id, err := a.t.CreateExperiment(r.Context(), req.Name, req.ArtifactLocation, req.Tags)
		if err != nil {
			return err
		}
		return writeMLflow(w, map[string]string{"experiment_id": id})
	})
	m("GET", "experiments/get", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			ExperimentID string `json:"experiment_id"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		e, err := a.t.GetExperiment(r.Context(), req.ExperimentID)
		if err != nil {
			return err
		}
		return writeMLflow(w, map[string]any{"experiment": e})
	})
	m("GET", "experiments/get-by-name", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Name string `json:"experiment_name"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		e, err := a.t.GetExperimentByName(r.Context(), req.Name)
		if err != nil {
			return err
		}
		return writeMLflow(w, map[string]any{"experiment": e})
	})
	searchExperiments := func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			MaxResults i64      `json:"max_results"`
			Filter     string   `json:"filter"`
			ViewType   string   `json:"view_type"`
			OrderBy    []string `json:"order_by"`
			PageToken  string   `json:"page_token"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		exps, next, err := a.t.SearchExperiments(r.Context(), req.Filter, req.OrderBy, req.ViewType, int64(req.MaxResults), req.PageToken)
		if err != nil {
			return err
		}
		return writeMLflow(w, struct {
			Experiments   []tracking.Experiment `json:"experiments,omitempty"`
			NextPageToken string                `json:"next_page_token,omitempty"`
		}{exps, next})
	}
	m("POST", "experiments/search", searchExperiments)
	m("GET", "experiments/search", searchExperiments)
	// experiments/list was removed in MLflow 2.0; older clients (and the npm
	// mlflow package) still call it: every experiment of a view type.
	m("GET", "experiments/list", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			ViewType string `json:"view_type"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		var all []tracking.Experiment
		tok := ""
		for {
			exps, next, err := a.t.SearchExperiments(r.Context(), "", nil, req.ViewType, tracking.MaxSearchExperiments, tok)
			if err != nil {
				return err
			}
			all = append(all, exps...)
			if next == "" {
				break
			}
			tok = next
		}
		return writeMLflow(w, struct {
			Experiments []tracking.Experiment `json:"experiments,omitempty"`
		}{all})
	})
	type expReq struct {
		ExperimentID string  `json:"experiment_id"`
		NewName      string  `json:"new_name"`
		Key          string  `json:"key"`
		Value        *string `json:"value"`
	}
	expOp := func(op func(r *http.Request, req expReq) error) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			var req expReq
			if err := decodeMLflow(r, &req); err != nil {
				return err
			}
			if err := op(r, req); err != nil {
				return err
			}
			return writeMLflow(w, nil)
		}
	}
	m("POST", "experiments/update", expOp(func(r *http.Request, req expReq) error {
		return a.t.RenameExperiment(r.Context(), req.ExperimentID, req.NewName)
	}))
	m("POST", "experiments/delete", expOp(func(r *http.Request, req expReq) error {
		return a.t.DeleteExperiment(r.Context(), req.ExperimentID)
	}))
	m("POST", "experiments/restore", expOp(func(r *http.Request, req expReq) error {
		return a.t.RestoreExperiment(r.Context(), req.ExperimentID)
	}))
	m("POST", "experiments/set-experiment-tag", expOp(func(r *http.Request, req expReq) error {
		if req.Value == nil {
			return tracking.Missing("value")
		}
		return a.t.SetExperimentTag(r.Context(), req.ExperimentID, req.Key, req.Value)
	}))
	m("POST", "experiments/delete-experiment-tag", expOp(func(r *http.Request, req expReq) error {
		return a.t.SetExperimentTag(r.Context(), req.ExperimentID, req.Key, nil)
	}))

	// runs
	m("POST", "runs/create", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			ExperimentID string         `json:"experiment_id"`
			UserID       string         `json:"user_id"`
			RunName      string         `json:"run_name"`
			StartTime    i64            `json:"start_time"`
			Tags         []tracking.Tag `json:"tags"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		run, err := a.t.CreateRun(r.Context(), tracking.CreateRunRequest{
			ExperimentID: req.ExperimentID, UserID: req.UserID, RunName: req.RunName, StartTime: int64(req.StartTime), Tags: req.Tags,
		})
		if err != nil {
			return err
		}
		return writeMLflow(w, map[string]any{"run": run})
	})
	type runReq struct {
		RunID   string `json:"run_id"`
		RunUUID string `json:"run_uuid"`
	}
	m("GET", "runs/get", func(w http.ResponseWriter, r *http.Request) error {
		var req runReq
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		id, err := requireRunID(req.RunID, req.RunUUID)
		if err != nil {
			return err
		}
		run, err := a.t.GetRun(r.Context(), id)
		if err != nil {
			return err
		}
		return writeRun(w, &run)
	})
	m("POST", "runs/update", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID   string `json:"run_id"`
			RunUUID string `json:"run_uuid"`
			Status  string `json:"status"`
			EndTime i64    `json:"end_time"`
			RunName string `json:"run_name"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		id, err := requireRunID(req.RunID, req.RunUUID)
		if err != nil {
			return err
		}
		info, err := a.t.UpdateRun(r.Context(), id, req.Status, int64(req.EndTime), req.RunName)
		if err != nil {
			return err
		}
		return writeMLflow(w, map[string]any{"run_info": info})
	})
	runOp := func(op func(r *http.Request, id string) error) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			var req runReq
			if err := decodeMLflow(r, &req); err != nil {
				return err
			}
			id, err := requireRunID(req.RunID, req.RunUUID)
			if err != nil {
				return err
			}
			if err := op(r, id); err != nil {
				return err
			}
			return writeMLflow(w, nil)
		}
	}
	m("POST", "runs/delete", runOp(func(r *http.Request, id string) error { return a.t.DeleteRun(r.Context(), id) }))
	m("POST", "runs/restore", runOp(func(r *http.Request, id string) error { return a.t.RestoreRun(r.Context(), id) }))
	m("POST", "runs/log-metric", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID         string          `json:"run_id"`
			RunUUID       string          `json:"run_uuid"`
			Key           string          `json:"key"`
			Value         *tracking.Value `json:"value"`
			Timestamp     i64             `json:"timestamp"`
			Step          i64             `json:"step"`
			ModelID       string          `json:"model_id"`
			DatasetName   string          `json:"dataset_name"`
			DatasetDigest string          `json:"dataset_digest"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		id, err := requireRunID(req.RunID, req.RunUUID)
		if err != nil {
			return err
		}
		if req.Value == nil {
			return tracking.Missing("value")
		}
		if req.Timestamp == 0 {
			return tracking.Missing("timestamp")
		}
		err = a.t.LogMetric(r.Context(), id, tracking.Metric{Key: req.Key, Value: *req.Value, Timestamp: int64(req.Timestamp), Step: int64(req.Step),
			ModelID: req.ModelID, DatasetName: req.DatasetName, DatasetDigest: req.DatasetDigest})
		if err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	m("POST", "runs/log-parameter", runKeyValue(func(ctx context.Context, id, key, value string) error {
		return a.t.LogParam(ctx, id, tracking.Param{Key: key, Value: value})
	}))
	m("POST", "runs/set-tag", runKeyValue(func(ctx context.Context, id, key, value string) error {
		return a.t.SetTag(ctx, id, tracking.Tag{Key: key, Value: value})
	}))
	m("POST", "runs/delete-tag", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID string `json:"run_id"`
			Key   string `json:"key"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if req.RunID == "" {
			return tracking.Missing("run_id")
		}
		if err := a.t.DeleteTag(r.Context(), req.RunID, req.Key); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	m("POST", "runs/log-batch", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID   string            `json:"run_id"`
			Metrics []tracking.Metric `json:"metrics"`
			Params  []tracking.Param  `json:"params"`
			Tags    []tracking.Tag    `json:"tags"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if req.RunID == "" {
			return tracking.Missing("run_id")
		}
		for i := range req.Metrics {
			req.Metrics[i].RunID = ""
		}
		if err := a.t.LogBatch(r.Context(), req.RunID, req.Metrics, req.Params, req.Tags); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	m("POST", "runs/log-inputs", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID    string                  `json:"run_id"`
			Datasets []tracking.DatasetInput `json:"datasets"`
			Models   []tracking.ModelInput   `json:"models"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if req.RunID == "" {
			return tracking.Missing("run_id")
		}
		if err := a.t.LogInputs(r.Context(), req.RunID, req.Datasets, req.Models); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	m("POST", "runs/outputs", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID  string                 `json:"run_id"`
			Models []tracking.ModelOutput `json:"models"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if req.RunID == "" {
			return tracking.Missing("run_id")
		}
		if err := a.t.LogOutputs(r.Context(), req.RunID, req.Models); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	m("POST", "runs/log-model", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID     string `json:"run_id"`
			ModelJSON string `json:"model_json"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if req.RunID == "" {
			return tracking.Missing("run_id")
		}
		if req.ModelJSON == "" {
			return tracking.Missing("model_json")
		}
		var model map[string]any
		if json.Unmarshal([]byte(req.ModelJSON), &model) != nil {
			return tracking.Invalid("model_json is not a JSON object")
		}
		run, err := a.t.GetRun(r.Context(), req.RunID)
		if err != nil {
			return err
		}
		var hist []any
		for _, t := range run.Data.Tags {
			if t.Key == "mlflow.log-model.history" {
				json.Unmarshal([]byte(t.Value), &hist)
			}
		}
		b, _ := json.Marshal(append(hist, model))
		if err := a.t.SetTag(r.Context(), req.RunID, tracking.Tag{Key: "mlflow.log-model.history", Value: string(b)}); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	searchRuns := func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			ExperimentIDs []string `json:"experiment_ids"`
			Filter        string   `json:"filter"`
			RunViewType   string   `json:"run_view_type"`
			MaxResults    i64      `json:"max_results"`
			OrderBy       []string `json:"order_by"`
			PageToken     string   `json:"page_token"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		runs, next, err := a.t.SearchRuns(r.Context(), tracking.SearchRunsRequest{
			ExperimentIDs: req.ExperimentIDs, Filter: req.Filter, ViewType: req.RunViewType, MaxResults: int64(req.MaxResults),
			OrderBy: req.OrderBy, PageToken: req.PageToken,
		})
		if err != nil {
			return err
		}
		return writeRuns(w, runs, next)
	}
	m("POST", "runs/search", searchRuns)
	m("GET", "runs/search", searchRuns)
	m("GET", "metrics/get-history", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID      string `json:"run_id"`
			RunUUID    string `json:"run_uuid"`
			MetricKey  string `json:"metric_key"`
			MaxResults int64  `json:"max_results"`
			PageToken  string `json:"page_token"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		id, err := requireRunID(req.RunID, req.RunUUID)
		if err != nil {
			return err
		}
		ms, next, err := a.t.MetricHistory(r.Context(), id, req.MetricKey, req.MaxResults, req.PageToken)
		if err != nil {
			return err
		}
		return writeMetrics(w, ms, next)
	})
	m("GET", "metrics/get-history-bulk-interval", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunIDs     []string `json:"run_ids"`
			MetricKey  string   `json:"metric_key"`
			StartStep  *int64   `json:"start_step"`
			EndStep    *int64   `json:"end_step"`
			MaxResults int64    `json:"max_results"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		ms, err := a.t.MetricHistoryBulkInterval(r.Context(), req.RunIDs, req.MetricKey, req.StartStep, req.EndStep, req.MaxResults)
		if err != nil {
			return err
		}
		return writeMetrics(w, ms, "")
	})

	a.mountLoggedModels(s)
}

func (a *mlflowAPI) mountLoggedModels(s *Server) {
	m := s.handleMLflow
	model := func(w http.ResponseWriter, lm tracking.LoggedModel, err error) error {
		if err != nil {
			return err
		}
		return writeMLflow(w, map[string]any{"model": lm})
	}
	m("POST", "logged-models", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			ExperimentID string           `json:"experiment_id"`
			Name         string           `json:"name"`
			ModelType    string           `json:"model_type"`
			SourceRunID  string           `json:"source_run_id"`
			Params       []tracking.Param `json:"params"`
			Tags         []tracking.Tag   `json:"tags"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		lm, err := a.t.CreateLoggedModel(r.Context(), tracking.CreateLoggedModelRequest{
			ExperimentID: req.ExperimentID, Name: req.Name, ModelType: req.ModelType, SourceRunID: req.SourceRunID, Params: req.Params, Tags: req.Tags,
		})
		return model(w, lm, err)
	})
	m("GET", "logged-models/{model_id}", func(w http.ResponseWriter, r *http.Request) error {
		lm, err := a.t.GetLoggedModel(r.Context(), r.PathValue("model_id"))
		return model(w, lm, err)
	})
	m("PATCH", "logged-models/{model_id}", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Status string `json:"status"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		lm, err := a.t.FinalizeLoggedModel(r.Context(), r.PathValue("model_id"), req.Status)
		return model(w, lm, err)
	})
	m("DELETE", "logged-models/{model_id}", func(w http.ResponseWriter, r *http.Request) error {
		if err := a.t.DeleteLoggedModel(r.Context(), r.PathValue("model_id")); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	m("PATCH", "logged-models/{model_id}/tags", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Tags []tracking.Tag `json:"tags"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if err := a.t.SetLoggedModelTags(r.Context(), r.PathValue("model_id"), req.Tags); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	m("DELETE", "logged-models/{model_id}/tags/{tag_key...}", func(w http.ResponseWriter, r *http.Request) error {
		if err := a.t.DeleteLoggedModelTag(r.Context(), r.PathValue("model_id"), r.PathValue("tag_key")); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	m("POST", "logged-models/{model_id}/params", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Params []tracking.Param `json:"params"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		if err := a.t.LogLoggedModelParams(r.Context(), r.PathValue("model_id"), req.Params); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	})
	m("POST", "logged-models/search", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			ExperimentIDs []string `json:"experiment_ids"`
			Filter        string   `json:"filter"`
			MaxResults    i64      `json:"max_results"`
			OrderBy       []struct {
				FieldName string `json:"field_name"`
				Ascending *bool  `json:"ascending"`
			} `json:"order_by"`
			PageToken string `json:"page_token"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		var order []string
		for _, o := range req.OrderBy {
			dir := " DESC"
			if o.Ascending == nil || *o.Ascending {
				dir = " ASC"
			}
			if strings.TrimSpace(o.FieldName) != "" {
				order = append(order, o.FieldName+dir)
			}
		}
		ms, next, err := a.t.SearchLoggedModels(r.Context(), req.ExperimentIDs, req.Filter, order, int64(req.MaxResults), req.PageToken)
		if err != nil {
			return err
		}
		return writeMLflow(w, struct {
			Models        []tracking.LoggedModel `json:"models,omitempty"`
			NextPageToken string                 `json:"next_page_token,omitempty"`
		}{ms, next})
	})
}

// runKeyValue handles the endpoints whose body is a run id plus a key and
// a required value (runs/log-parameter, runs/set-tag).
func runKeyValue(apply func(ctx context.Context, runID, key, value string) error) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			RunID   string  `json:"run_id"`
			RunUUID string  `json:"run_uuid"`
			Key     string  `json:"key"`
			Value   *string `json:"value"`
		}
		if err := decodeMLflow(r, &req); err != nil {
			return err
		}
		id, err := requireRunID(req.RunID, req.RunUUID)
		if err != nil {
			return err
		}
		if req.Value == nil {
			return tracking.Missing("value")
		}
		if err := apply(r.Context(), id, req.Key, *req.Value); err != nil {
			return err
		}
		return writeMLflow(w, nil)
	}
}
