package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/tracking"
)

// mlf sends an MLflow request (GET: body is a query string) and returns the
// status and decoded JSON.
func mlf(t *testing.T, srv *apptest.Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	u := srv.URL + path
	var rd io.Reader
	if method == "GET" {
		if q, ok := body.(url.Values); ok {
			u += "?" + q.Encode()
		}
	} else if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apptest.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(data) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(data, &m), "body: %s", data)
	}
	return resp.StatusCode, m
}

// wantErr asserts an MLflow error response.
func wantErr(t *testing.T, status int, body map[string]any, wantStatus int, code, msgPart string) {
	t.Helper()
	require.Equal(t, wantStatus, status, "body: %v", body)
	require.Equal(t, code, body["error_code"], "body: %v", body)
	require.Contains(t, body["message"], msgPart)
}

func TestMLflowTracking(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) { testMLflowTracking(t, apptest.New(t, ms)) })
	}
}

func testMLflowTracking(t *testing.T, srv *apptest.Server) {
	ctx := context.Background()
	c := srv.Admin
	const api = "/api/2.0/mlflow/"

	t.Run("DefaultExperiment", func(t *testing.T) {
		e, err := c.GetExperiment(ctx, "0")
		require.NoError(t, err)
		require.Equal(t, "Default", e.Name)
		require.Equal(t, "mlflow-artifacts:/0", e.ArtifactLocation)
		st, body := mlf(t, srv, "POST", api+"experiments/delete", map[string]any{"experiment_id": "0"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "default experiment")
	})

	var expID string
	t.Run("Experiments", func(t *testing.T) {
		var err error
		expID, err = c.CreateExperiment(ctx, "exp-one", tracking.Tag{Key: "team", Value: "ml"})
		require.NoError(t, err)
		require.Equal(t, "1", expID)
		e, err := c.GetExperimentByName(ctx, "exp-one")
		require.NoError(t, err)
		require.Equal(t, expID, e.ExperimentID)
		require.Equal(t, "mlflow-artifacts:/"+expID, e.ArtifactLocation)
		require.Equal(t, []tracking.Tag{{Key: "team", Value: "ml"}}, e.Tags)
		require.Equal(t, "active", e.LifecycleStage)

		st, body := mlf(t, srv, "POST", api+"experiments/create", map[string]any{"name": "exp-one"})
		wantErr(t, st, body, 400, "RESOURCE_ALREADY_EXISTS", "Experiment(name=exp-one) already exists")
		st, body = mlf(t, srv, "POST", api+"experiments/create", map[string]any{})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'")
		st, body = mlf(t, srv, "POST", api+"experiments/create", map[string]any{"name": 5})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "name")
		st, body = mlf(t, srv, "GET", api+"experiments/get", url.Values{"experiment_id": {"999"}})
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999 exists")
		st, body = mlf(t, srv, "GET", api+"experiments/get", url.Values{"experiment_id": {"abc"}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid experiment ID")
		st, body = mlf(t, srv, "GET", api+"experiments/get-by-name", url.Values{"experiment_name": {"nope"}})
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "Experiment 'nope' does not exist.")

		id2, err := c.CreateExperiment(ctx, "exp-two")
		require.NoError(t, err)
		st, _ = mlf(t, srv, "POST", api+"experiments/update", map[string]any{"experiment_id": id2, "new_name": "exp-2"})
		require.Equal(t, 200, st)
		st, body = mlf(t, srv, "POST", api+"experiments/update", map[string]any{"experiment_id": id2, "new_name": "exp-one"})
		wantErr(t, st, body, 400, "RESOURCE_ALREADY_EXISTS", "exp-one")
		st, _ = mlf(t, srv, "POST", api+"experiments/set-experiment-tag", map[string]any{"experiment_id": id2, "key": "k", "value": "v"})
		require.Equal(t, 200, st)

		exps, err := c.SearchExperiments(ctx, "name LIKE 'exp-%' AND tags.k = 'v'", 0, "")
		require.NoError(t, err)
		require.Len(t, exps, 1)
		require.Equal(t, "exp-2", exps[0].Name)
		st, _ = mlf(t, srv, "POST", api+"experiments/delete-experiment-tag", map[string]any{"experiment_id": id2, "key": "k"})
		require.Equal(t, 200, st)

		st, _ = mlf(t, srv, "POST", api+"experiments/delete", map[string]any{"experiment_id": id2})
		require.Equal(t, 200, st)
		exps, err = c.SearchExperiments(ctx, "", 0, "")
		require.NoError(t, err)
		require.Len(t, exps, 2) // Default and exp-one
		exps, err = c.SearchExperiments(ctx, "", 0, "DELETED_ONLY")
		require.NoError(t, err)
		require.Len(t, exps, 1)
		st, _ = mlf(t, srv, "POST", api+"experiments/restore", map[string]any{"experiment_id": id2})
		require.Equal(t, 200, st)

		// paging and ordering
		st, body = mlf(t, srv, "POST", api+"experiments/search", map[string]any{"max_results": 2, "order_by": []string{"name ASC"}})
		require.Equal(t, 200, st)
		require.Len(t, body["experiments"], 2)
		require.Equal(t, "Default", body["experiments"].([]any)[0].(map[string]any)["name"])
		tok := body["next_page_token"].(string)
		st, body = mlf(t, srv, "POST", api+"experiments/search", map[string]any{"max_results": 2, "order_by": []string{"name ASC"}, "page_token": tok})
		require.Equal(t, 200, st)
		require.Len(t, body["experiments"], 1)
		require.Nil(t, body["next_page_token"])
	})

	var runID string
	t.Run("Runs", func(t *testing.T) {
		run, err := c.CreateRun(ctx, expID, "first", tracking.Tag{Key: "team", Value: "a"})
		require.NoError(t, err)
		runID = run.Info.RunID
		require.Len(t, runID, 32)
		require.Equal(t, runID, run.Info.RunUUID)
		require.Equal(t, "RUNNING", run.Info.Status)
		require.Equal(t, "mlflow-artifacts:/"+expID+"/"+runID+"/artifacts", run.Info.ArtifactURI)
		require.Contains(t, run.Data.Tags, tracking.Tag{Key: "mlflow.runName", Value: "first"})

		// generated name mirrored into the tag
		st, body := mlf(t, srv, "POST", api+"runs/create", map[string]any{"experiment_id": expID})
		require.Equal(t, 200, st)
		info := body["run"].(map[string]any)["info"].(map[string]any)
		require.Regexp(t, `^[a-z]+-[a-z]+-\d+$`, info["run_name"])

		require.NoError(t, c.LogMetric(ctx, runID, "acc", 0.5, 1000, 0))
		require.NoError(t, c.LogMetric(ctx, runID, "acc", 0.7, 1001, 1))
		require.NoError(t, c.LogMetric(ctx, runID, "acc", 0.6, 900, 0)) // older step: not latest
		require.NoError(t, c.LogMetric(ctx, runID, "loss", math.NaN(), 1000, 0))
		require.NoError(t, c.LogParam(ctx, runID, "lr", "0.1"))
		require.NoError(t, c.LogParam(ctx, runID, "lr", "0.1")) // same value: no-op
		require.NoError(t, c.SetRunTag(ctx, runID, "stage", "dev"))

		st, body = mlf(t, srv, "POST", api+"runs/log-parameter", map[string]any{"run_id": runID, "key": "lr", "value": "0.2"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed. Param with key='lr' was already logged with value='0.1'")

		st, body = mlf(t, srv, "GET", api+"runs/get", url.Values{"run_uuid": {runID}})
		require.Equal(t, 200, st)
		data := body["run"].(map[string]any)["data"].(map[string]any)
		metrics := map[string]any{}
		for _, m := range data["metrics"].([]any) {
			mm := m.(map[string]any)
			metrics[mm["key"].(string)] = mm["value"]
		}
		require.Equal(t, 0.7, metrics["acc"])
		require.Equal(t, "NaN", metrics["loss"])

		run, err = c.GetRun(ctx, runID)
		require.NoError(t, err)
		require.Equal(t, []tracking.Param{{Key: "lr", Value: "0.1"}}, run.Data.Params)

		hist, next, err := c.MetricHistory(ctx, runID, "acc", 0, "")
		require.NoError(t, err)
		require.Empty(t, next)
		require.Len(t, hist, 3)
		require.Equal(t, int64(0), hist[0].Step)
		hist, next, err = c.MetricHistory(ctx, runID, "acc", 2, "")
		require.NoError(t, err)
		require.Len(t, hist, 2)
		require.NotEmpty(t, next)
		hist, next, err = c.MetricHistory(ctx, runID, "acc", 2, next)
		require.NoError(t, err)
		require.Len(t, hist, 1)
		require.Empty(t, next)
		require.Equal(t, tracking.Value(0.7), hist[0].Value)

		st, body = mlf(t, srv, "GET", api+"metrics/get-history-bulk-interval", url.Values{"run_ids": {runID}, "metric_key": {"acc"}, "max_results": {"2"}})
		require.Equal(t, 200, st)
		require.Len(t, body["metrics"], 3) // steps 0 (two points) and 1
		require.Equal(t, runID, body["metrics"].([]any)[0].(map[string]any)["run_id"])

		info2, err := c.UpdateRun(ctx, runID, "FINISHED", 5000)
		require.NoError(t, err)
		require.Equal(t, "FINISHED", info2.Status)
		require.Equal(t, int64(5000), info2.EndTime)

		st, _ = mlf(t, srv, "POST", api+"runs/delete-tag", map[string]any{"run_id": runID, "key": "stage"})
		require.Equal(t, 200, st)
		st, body = mlf(t, srv, "POST", api+"runs/delete-tag", map[string]any{"run_id": runID, "key": "stage"})
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "No tag with name: stage")

		// nested run
		child, err := c.CreateRun(ctx, expID, "child", tracking.Tag{Key: "mlflow.parentRunId", Value: runID})
		require.NoError(t, err)
		runs, _, err := c.SearchRuns(ctx, client.SearchRunsRequest{ExperimentIDs: []string{expID}, Filter: "tags.mlflow.parentRunId = '" + runID + "'"})
		require.NoError(t, err)
		require.Len(t, runs, 1)
		require.Equal(t, child.Info.RunID, runs[0].Info.RunID)

		// delete / restore
		st, _ = mlf(t, srv, "POST", api+"runs/delete", map[string]any{"run_id": child.Info.RunID})
		require.Equal(t, 200, st)
		r2, err := c.GetRun(ctx, child.Info.RunID)
		require.NoError(t, err)
		require.Equal(t, "deleted", r2.Info.LifecycleStage)
		st, body = mlf(t, srv, "POST", api+"runs/log-metric", map[string]any{"run_id": child.Info.RunID, "key": "m", "value": 1, "timestamp": 1})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "must be in the 'active' state")
		runs, _, err = c.SearchRuns(ctx, client.SearchRunsRequest{ExperimentIDs: []string{expID}, RunViewType: "DELETED_ONLY"})
		require.NoError(t, err)
		require.Len(t, runs, 1)
		st, _ = mlf(t, srv, "POST", api+"runs/restore", map[string]any{"run_id": child.Info.RunID})
		require.Equal(t, 200, st)
	})

	t.Run("LogBatch", func(t *testing.T) {
		run, err := c.CreateRun(ctx, expID, "batch")
		require.NoError(t, err)
		id := run.Info.RunID
		var ms []tracking.Metric
		for i := 0; i < 990; i++ {
			ms = append(ms, tracking.Metric{Key: fmt.Sprintf("m%d", i%10), Value: tracking.Value(i), Timestamp: int64(1000 + i), Step: int64(i / 10)})
		}
		require.NoError(t, c.LogBatch(ctx, id, ms, []tracking.Param{{Key: "p", Value: "1"}}, []tracking.Tag{{Key: "t", Value: "x"}}))
		got, err := c.GetRun(ctx, id)
		require.NoError(t, err)
		require.Len(t, got.Data.Metrics, 10)
		require.Equal(t, tracking.Value(989), got.Data.Metrics[9].Value)

		tooMany := append(ms, make([]tracking.Metric, 11)...)
		for i := 990; i < 1001; i++ {
			tooMany[i] = tracking.Metric{Key: "x", Value: 1, Timestamp: int64(i)}
		}
		st, body := mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": tooMany})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "at most 1000 metrics")
		var ps []tracking.Param
		for i := 0; i < 101; i++ {
			ps = append(ps, tracking.Param{Key: fmt.Sprintf("p%d", i), Value: "v"})
		}
		st, body = mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "params": ps})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "100 params")
		var ts []tracking.Tag
		for i := 0; i < 101; i++ {
			ts = append(ts, tracking.Tag{Key: fmt.Sprintf("t%d", i), Value: "v"})
		}
		st, body = mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "tags": ts})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "100 tags")
		st, body = mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": ms[:950], "params": ps[:30], "tags": ts[:30]})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "1000 entities")
		st, body = mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "params": []tracking.Param{{Key: "p", Value: "2"}}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Changing param values is not allowed")
		st, body = mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": []map[string]any{{"key": "bad key!", "value": 1, "timestamp": 1}}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid metric name: 'bad key!'")
		st, body = mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": []map[string]any{{"key": "../x", "value": 1, "timestamp": 1}}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid metric name")
		st, body = mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": []map[string]any{{"key": "m", "value": "abc", "timestamp": 1}}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "not a number")
		// NaN is a metric value, nothing else
		st, body = mlf(t, srv, "POST", api+"runs/log-metric", map[string]any{"run_id": id, "key": "m", "value": 1, "timestamp": "NaN"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "invalid integer value")
		st, body = mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": []map[string]any{{"key": "m", "value": 1, "timestamp": 1, "step": "NaN"}}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "metrics.step")
		st, body = mlf(t, srv, "POST", api+"runs/search", map[string]any{"experiment_ids": []string{expID}, "filter": "metrics.m > NaN"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Expected numeric value type for metric 'm'. Found 'NaN'")
		st, body = mlf(t, srv, "GET", api+"experiments/get", url.Values{"experiment_id": {"NaN"}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid experiment ID: 'NaN'")
		st, body = mlf(t, srv, "POST", api+"runs/log-metric", map[string]any{"run_id": id, "key": "nan", "value": "NaN", "timestamp": 1})
		require.Equal(t, 200, st, "%v", body)
		// Infinity round-trips as a string
		st, _ = mlf(t, srv, "POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": []map[string]any{{"key": "inf", "value": "Infinity", "timestamp": 1}}})
		require.Equal(t, 200, st)
		got, err = c.GetRun(ctx, id)
		require.NoError(t, err)
		for _, m := range got.Data.Metrics {
			if m.Key == "inf" {
				require.True(t, math.IsInf(float64(m.Value), 1))
			}
		}
	})

	t.Run("ErrUnknownIDs", func(t *testing.T) {
		missing := strings.Repeat("0", 32)
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"GET", "runs/get", url.Values{"run_id": {missing}}},
			{"POST", "runs/log-metric", map[string]any{"run_id": missing, "key": "a", "value": 1, "timestamp": 1}},
			{"POST", "runs/log-parameter", map[string]any{"run_id": missing, "key": "a", "value": "1"}},
			{"POST", "runs/set-tag", map[string]any{"run_id": missing, "key": "a", "value": "1"}},
			{"POST", "runs/log-batch", map[string]any{"run_id": missing, "params": []tracking.Param{{Key: "a", Value: "b"}}}},
			{"POST", "runs/update", map[string]any{"run_id": missing, "status": "FINISHED"}},
			{"POST", "runs/delete", map[string]any{"run_id": missing}},
			{"GET", "metrics/get-history", url.Values{"run_id": {missing}, "metric_key": {"a"}}},
			{"POST", "experiments/delete", map[string]any{"experiment_id": "424242"}},
			{"POST", "runs/create", map[string]any{"experiment_id": "424242"}},
			{"GET", "logged-models/m-" + missing, nil},
		} {
			st, body := mlf(t, srv, tc.method, api+tc.path, tc.body)
			wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "")
		}
		st, body := mlf(t, srv, "POST", api+"runs/log-metric", map[string]any{"run_id": runID, "key": "a", "timestamp": 1})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'value'")
		st, body = mlf(t, srv, "POST", api+"runs/log-metric", map[string]any{"key": "a", "value": 1, "timestamp": 1})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'run_id'")
		st, body = mlf(t, srv, "POST", api+"runs/nope", map[string]any{})
		wantErr(t, st, body, 404, "ENDPOINT_NOT_FOUND", "")
	})

	t.Run("LogInputs", func(t *testing.T) {
		run, err := c.CreateRun(ctx, expID, "with-data")
		require.NoError(t, err)
		id := run.Info.RunID
		req := map[string]any{"run_id": id, "datasets": []map[string]any{
			{"tags": []tracking.Tag{{Key: "mlflow.data.context", Value: "training"}},
				"dataset": map[string]any{"name": "orders", "digest": "abc123", "source_type": "delta",
					"source": `{"delta_table_name": "main.sales.orders", "delta_table_version": 3}`, "schema": `{"mlflow_colspec": []}`, "profile": `{"num_rows": 10}`}},
			{"dataset": map[string]any{"name": "eval", "digest": "d2", "source_type": "lakebox", "source": "main.sales.eval@v7"}},
		}}
		st, _ := mlf(t, srv, "POST", api+"runs/log-inputs", req)
		require.Equal(t, 200, st)
		st, _ = mlf(t, srv, "POST", api+"runs/log-inputs", req) // idempotent
		require.Equal(t, 200, st)
		got, err := c.GetRun(ctx, id)
		require.NoError(t, err)
		require.Len(t, got.Inputs.DatasetInputs, 2)
		require.Equal(t, "eval", got.Inputs.DatasetInputs[0].Dataset.Name)
		require.Equal(t, `{"num_rows": 10}`, got.Inputs.DatasetInputs[1].Dataset.Profile)
		refs, err := srv.App.MLflow.Tracking.RunTables(ctx, id)
		require.NoError(t, err)
		require.Equal(t, []tracking.TableRef{
			{RunID: id, DatasetName: "eval", Digest: "d2", Table: "main.sales.eval", Version: 7},
			{RunID: id, DatasetName: "orders", Digest: "abc123", Context: "training", Table: "main.sales.orders", Version: 3},
		}, refs)
		runs, _, err := c.SearchRuns(ctx, client.SearchRunsRequest{ExperimentIDs: []string{expID}, Filter: "datasets.name = 'orders' AND datasets.context = 'training'"})
		require.NoError(t, err)
		require.Len(t, runs, 1)
		st, body := mlf(t, srv, "POST", api+"runs/log-inputs", map[string]any{"run_id": id, "datasets": []map[string]any{{"dataset": map[string]any{"name": "x"}}}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "dataset.digest")
	})
}

func TestMLflowSearchRuns(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) { testMLflowSearchRuns(t, apptest.New(t, ms)) })
	}
}

func testMLflowSearchRuns(t *testing.T, srv *apptest.Server) {
	ctx := context.Background()
	c := srv.Admin
	exp, err := c.CreateExperiment(ctx, "search")
	require.NoError(t, err)
	other, err := c.CreateExperiment(ctx, "other")
	require.NoError(t, err)
	names := map[string]string{}
	// 20 runs: acc = i/20, model alternates rf/Gbm, tag team on even runs.
	for i := 0; i < 20; i++ {
		run, err := c.CreateRun(ctx, exp, fmt.Sprintf("run-%02d", i))
		require.NoError(t, err)
		names[run.Info.RunID] = run.Info.RunName
		model := "rf"
		if i%2 == 1 {
			model = "Gbm"
		}
		tags := []tracking.Tag{}
		if i%2 == 0 {
			tags = append(tags, tracking.Tag{Key: "team", Value: "alpha"})
		}
		ms := []tracking.Metric{{Key: "acc", Value: tracking.Value(float64(i) / 20), Timestamp: int64(i + 1)}}
		if i == 19 {
			ms = nil // no acc: sorts last
		}
		require.NoError(t, c.LogBatch(ctx, run.Info.RunID, ms, []tracking.Param{{Key: "model", Value: model}, {Key: "depth", Value: fmt.Sprint(i % 5)}}, tags))
		if i == 3 {
			_, err := c.UpdateRun(ctx, run.Info.RunID, "FAILED", 10)
			require.NoError(t, err)
		}
	}
	_, err = c.CreateRun(ctx, other, "elsewhere")
	require.NoError(t, err)

	search := func(filter string, order ...string) []string {
		t.Helper()
		runs, _, err := c.SearchRuns(ctx, client.SearchRunsRequest{ExperimentIDs: []string{exp}, Filter: filter, OrderBy: order})
		require.NoError(t, err, filter)
		out := make([]string, len(runs))
		for i, r := range runs {
			out[i] = r.Info.RunName
		}
		return out
	}
	for _, tc := range []struct {
		filter string
		want   []string // in start_time DESC order
	}{
		{"metrics.acc >= 0.85", []string{"run-18", "run-17"}},
		{"metrics.acc > 0.6 AND params.model = 'rf' AND tags.team = 'alpha'", []string{"run-18", "run-16", "run-14"}},
		{"params.model LIKE 'G%' AND metrics.acc < 0.2", []string{"run-03", "run-01"}},
		{"params.model LIKE 'g%'", []string{}}, // LIKE is case-sensitive
		{"params.model ILIKE 'g%' AND params.depth = '0'", []string{"run-15", "run-05"}},
		{"tags.team IS NULL AND metrics.acc < 0.3", []string{"run-05", "run-03", "run-01"}},
		{"attributes.status = 'FAILED'", []string{"run-03"}},
		{"status != 'RUNNING'", []string{"run-03"}},
		{"run_name IN ('run-00', 'run-07')", []string{"run-07", "run-00"}},
		{"attributes.run_name LIKE 'run-1%' AND params.depth NOT IN ('0','1','2','3')", []string{"run-19", "run-14"}},
		{"metrics.acc = 0.5", []string{"run-10"}},
		{"metrics.acc != 0.5 AND metrics.acc < 0.1", []string{"run-01", "run-00"}},
		{"tags.`mlflow.runName` = 'run-04'", []string{"run-04"}},
		{"params.nope = 'x'", []string{}},
	} {
		got := search(tc.filter)
		if len(tc.want) == 0 {
			require.Empty(t, got, tc.filter)
		} else {
			require.Equal(t, tc.want, got, tc.filter)
		}
	}
	// ordering by metric (missing last), by param, by attribute
	got := search("params.depth = '4'", "metrics.acc DESC")
	require.Equal(t, []string{"run-14", "run-09", "run-04", "run-19"}, got)
	got = search("params.depth = '4'", "metrics.acc ASC")
	require.Equal(t, []string{"run-04", "run-09", "run-14", "run-19"}, got)
	got = search("metrics.acc < 0.2", "params.model ASC", "attributes.run_name DESC")
	require.Equal(t, []string{"run-03", "run-01", "run-02", "run-00"}, got)
	got = search("metrics.acc < 0.2", "start_time ASC")
	require.Equal(t, []string{"run-00", "run-01", "run-02", "run-03"}, got)

	// paging
	var all []string
	tok := ""
	for page := 0; ; page++ {
		runs, next, err := c.SearchRuns(ctx, client.SearchRunsRequest{ExperimentIDs: []string{exp, other}, MaxResults: 6, PageToken: tok, OrderBy: []string{"attributes.run_name"}})
		require.NoError(t, err)
		for _, r := range runs {
			all = append(all, r.Info.RunName)
		}
		if next == "" {
			break
		}
		require.Less(t, page, 5)
		tok = next
	}
	require.Len(t, all, 21)
	require.Equal(t, "elsewhere", all[0])
	require.Equal(t, "run-19", all[20])

	// bad input
	for _, tc := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"experiment_ids": []string{exp}, "filter": "metrics.acc > 'x'"}, "Expected numeric value type for metric 'acc'. Found 'x'"},
		{map[string]any{"experiment_ids": []string{exp}, "order_by": []string{"metrics.acc UP"}}, "Invalid order_by clause"},
		{map[string]any{"experiment_ids": []string{exp}, "max_results": 50001}, "Invalid value 50001 for parameter 'max_results'"},
		{map[string]any{"experiment_ids": []string{exp}, "page_token": "zzz"}, "Invalid page token"},
		{map[string]any{"experiment_ids": []string{"x"}}, "Invalid experiment ID"},
		{map[string]any{"experiment_ids": []string{exp}, "run_view_type": "SOME"}, "Invalid view type"},
	} {
		st, body := mlf(t, srv, "POST", "/api/2.0/mlflow/runs/search", tc.body)
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", tc.msg)
	}
	// GET with the query string works too
	st, body := mlf(t, srv, "GET", "/api/2.0/mlflow/runs/search", url.Values{"experiment_ids": {exp}, "filter": {"metrics.acc >= 0.9"}})
	require.Equal(t, 200, st)
	require.Len(t, body["runs"], 1)
}

func TestMLflowLoggedModels(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) { testMLflowLoggedModels(t, apptest.New(t, ms)) })
	}
}

func testMLflowLoggedModels(t *testing.T, srv *apptest.Server) {
	ctx := context.Background()
	c := srv.Admin
	const api = "/api/2.0/mlflow/"
	exp, err := c.CreateExperiment(ctx, "lm")
	require.NoError(t, err)
	run, err := c.CreateRun(ctx, exp, "train")
	require.NoError(t, err)

	st, body := mlf(t, srv, "POST", api+"logged-models", map[string]any{"experiment_id": exp, "name": "model", "source_run_id": run.Info.RunID,
		"model_type": "sklearn", "tags": []tracking.Tag{{Key: "mlflow.source.type", Value: "LOCAL"}}, "params": []tracking.Param{{Key: "alpha", Value: "0.5"}}})
	require.Equal(t, 200, st, "%v", body)
	info := body["model"].(map[string]any)["info"].(map[string]any)
	id := info["model_id"].(string)
	require.Regexp(t, `^m-[0-9a-f]{32}$`, id)
	require.Equal(t, "LOGGED_MODEL_PENDING", info["status"])
	require.Equal(t, "mlflow-artifacts:/"+exp+"/models/"+id+"/artifacts", info["artifact_uri"])
	require.Equal(t, run.Info.RunID, info["source_run_id"])

	root := exp + "/models/" + id + "/artifacts"
	require.NoError(t, c.UploadArtifact(ctx, root+"/MLmodel", []byte("artifact_path: model\n")))
	require.NoError(t, c.UploadArtifact(ctx, root+"/model.pkl", []byte("pkl")))

	st, body = mlf(t, srv, "POST", api+"runs/outputs", map[string]any{"run_id": run.Info.RunID, "models": []map[string]any{{"model_id": id, "step": 0}}})
	require.Equal(t, 200, st, "%v", body)
	st, body = mlf(t, srv, "PATCH", api+"logged-models/"+id, map[string]any{"model_id": id, "status": "LOGGED_MODEL_READY"})
	require.Equal(t, 200, st, "%v", body)
	require.Equal(t, "LOGGED_MODEL_READY", body["model"].(map[string]any)["info"].(map[string]any)["status"])

	r, err := c.GetRun(ctx, run.Info.RunID)
	require.NoError(t, err)
	require.Equal(t, id, r.Outputs.ModelOutputs[0].ModelID)

	st, body = mlf(t, srv, "PATCH", api+"logged-models/"+id+"/tags", map[string]any{"tags": []tracking.Tag{{Key: "mlflow.modelVersions", Value: `[{"name":"m","version":"1"}]`}}})
	require.Equal(t, 200, st, "%v", body)
	st, _ = mlf(t, srv, "POST", api+"logged-models/"+id+"/params", map[string]any{"params": []tracking.Param{{Key: "beta", Value: "1"}}})
	require.Equal(t, 200, st)
	st, body = mlf(t, srv, "GET", api+"logged-models/"+id, nil)
	require.Equal(t, 200, st)
	m := body["model"].(map[string]any)
	require.Len(t, m["info"].(map[string]any)["tags"], 2)
	require.Len(t, m["data"].(map[string]any)["params"], 2)

	// what register_model("runs:/<run>/model") does
	st, body = mlf(t, srv, "POST", api+"logged-models/search", map[string]any{"experiment_ids": []string{exp}, "filter": "name = 'model'"})
	require.Equal(t, 200, st, "%v", body)
	require.Len(t, body["models"], 1)
	st, body = mlf(t, srv, "POST", api+"logged-models/search", map[string]any{"experiment_ids": []string{exp}, "filter": "name = 'other'"})
	require.Equal(t, 200, st)
	require.Empty(t, body)
	st, body = mlf(t, srv, "POST", api+"logged-models/search", map[string]any{"experiment_ids": []string{exp},
		"filter":   "params.alpha = '0.5' AND tags.`mlflow.source.type` = 'LOCAL' AND status = 'LOGGED_MODEL_READY'",
		"order_by": []map[string]any{{"field_name": "creation_timestamp", "ascending": false}}})
	require.Equal(t, 200, st, "%v", body)
	require.Len(t, body["models"], 1)
	st, body = mlf(t, srv, "POST", api+"logged-models/search", map[string]any{"experiment_ids": []string{exp}, "filter": "color = 'x'"})
	wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid attribute key 'color'")

	st, body = mlf(t, srv, "GET", api+"logged-models/"+id+"/artifacts/directories", nil)
	require.Equal(t, 200, st)
	require.Len(t, body["files"], 2)
	resp, _ := raw(t, "GET", srv.URL+api+"logged-models/"+id+"/artifacts/files?artifact_file_path=model.pkl", "Bearer "+apptest.AdminToken, "")
	require.Equal(t, 200, resp.StatusCode)

	st, _ = mlf(t, srv, "DELETE", api+"logged-models/"+id+"/tags/mlflow.modelVersions", nil)
	require.Equal(t, 200, st)
	st, body = mlf(t, srv, "PATCH", api+"logged-models/"+id, map[string]any{"status": "BOGUS"})
	wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid logged model status")
	st, _ = mlf(t, srv, "DELETE", api+"logged-models/"+id, nil)
	require.Equal(t, 200, st)
	st, body = mlf(t, srv, "GET", api+"logged-models/"+id, nil)
	wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "not found")
	st, body = mlf(t, srv, "POST", api+"logged-models", map[string]any{"experiment_id": "777"})
	wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "777")
}
