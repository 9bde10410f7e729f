package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/artifact"
	"github.com/lakebox/lakebox/internal/registry"
	"github.com/lakebox/lakebox/internal/tracking"
)

// MLflowPath is the prefix of the MLflow REST API.
const MLflowPath = "/api/2.0/mlflow/"

// MLflow calls an MLflow REST endpoint (path after /api/2.0/mlflow/). GET
// requests send in as a query string (url.Values), others as JSON.
func (c *Client) MLflow(ctx context.Context, method, path string, in, out any) error {
	if method == http.MethodGet {
		q, _ := in.(url.Values)
		return c.Do(ctx, method, MLflowPath+path, q, nil, out)
	}
	if in == nil {
		in = struct{}{}
	}
	return c.Do(ctx, method, MLflowPath+path, nil, in, out)
}

// CreateExperiment creates an experiment and returns its id.
func (c *Client) CreateExperiment(ctx context.Context, name string, tags ...tracking.Tag) (string, error) {
	var out struct {
		ExperimentID string `json:"experiment_id"`
	}
	err := c.MLflow(ctx, "POST", "experiments/create", map[string]any{"name": name, "tags": tags}, &out)
	return out.ExperimentID, err
}

// GetExperiment returns an experiment by id.
func (c *Client) GetExperiment(ctx context.Context, id string) (tracking.Experiment, error) {
	var out struct {
		Experiment tracking.Experiment `json:"experiment"`
	}
	err := c.MLflow(ctx, "GET", "experiments/get", url.Values{"experiment_id": {id}}, &out)
	return out.Experiment, err
}

// GetExperimentByName returns an experiment by name.
func (c *Client) GetExperimentByName(ctx context.Context, name string) (tracking.Experiment, error) {
	var out struct {
		Experiment tracking.Experiment `json:"experiment"`
	}
	err := c.MLflow(ctx, "GET", "experiments/get-by-name", url.Values{"experiment_name": {name}}, &out)
	return out.Experiment, err
}

// SearchExperiments searches experiments.
func (c *Client) SearchExperiments(ctx context.Context, filter string, maxResults int, viewType string) ([]tracking.Experiment, error) {
	var out struct {
		Experiments []tracking.Experiment `json:"experiments"`
	}
	err := c.MLflow(ctx, "POST", "experiments/search", map[string]any{"filter": filter, "max_results": maxResults, "view_type": viewType}, &out)
	return out.Experiments, err
}

// CreateRun starts a run in an experiment.
func (c *Client) CreateRun(ctx context.Context, experimentID, name string, tags ...tracking.Tag) (tracking.Run, error) {
	var out struct {
		Run tracking.Run `json:"run"`
	}
	err := c.MLflow(ctx, "POST", "runs/create", map[string]any{"experiment_id": experimentID, "run_name": name, "tags": tags}, &out)
	return out.Run, err
}

// GetRun returns a run.
func (c *Client) GetRun(ctx context.Context, runID string) (tracking.Run, error) {
	var out struct {
		Run tracking.Run `json:"run"`
	}
	err := c.MLflow(ctx, "GET", "runs/get", url.Values{"run_id": {runID}, "run_uuid": {runID}}, &out)
	return out.Run, err
}

// UpdateRun sets a run's status and end time.
func (c *Client) UpdateRun(ctx context.Context, runID, status string, endTime int64) (tracking.RunInfo, error) {
	var out struct {
		RunInfo tracking.RunInfo `json:"run_info"`
	}
	err := c.MLflow(ctx, "POST", "runs/update", map[string]any{"run_id": runID, "run_uuid": runID, "status": status, "end_time": endTime}, &out)
	return out.RunInfo, err
}

// LogMetric logs one metric point.
func (c *Client) LogMetric(ctx context.Context, runID, key string, value float64, timestamp, step int64) error {
	return c.MLflow(ctx, "POST", "runs/log-metric", map[string]any{
		"run_id": runID, "run_uuid": runID, "key": key, "value": tracking.Value(value), "timestamp": timestamp, "step": step}, nil)
}

// LogParam logs one param.
func (c *Client) LogParam(ctx context.Context, runID, key, value string) error {
	return c.MLflow(ctx, "POST", "runs/log-parameter", map[string]any{"run_id": runID, "run_uuid": runID, "key": key, "value": value}, nil)
}

// SetRunTag sets a run tag.
func (c *Client) SetRunTag(ctx context.Context, runID, key, value string) error {
	return c.MLflow(ctx, "POST", "runs/set-tag", map[string]any{"run_id": runID, "run_uuid": runID, "key": key, "value": value}, nil)
}

// LogBatch logs metrics, params and tags in one call.
func (c *Client) LogBatch(ctx context.Context, runID string, metrics []tracking.Metric, params []tracking.Param, tags []tracking.Tag) error {
	return c.MLflow(ctx, "POST", "runs/log-batch", map[string]any{"run_id": runID, "metrics": metrics, "params": params, "tags": tags}, nil)
}

// SearchRunsRequest is the body of runs/search.
type SearchRunsRequest struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        string   `json:"filter,omitempty"`
	RunViewType   string   `json:"run_view_type,omitempty"`
	MaxResults    int      `json:"max_results,omitempty"`
	OrderBy       []string `json:"order_by,omitempty"`
	PageToken     string   `json:"page_token,omitempty"`
}

// SearchRuns searches runs and returns a page and the next page token.
func (c *Client) SearchRuns(ctx context.Context, req SearchRunsRequest) ([]tracking.Run, string, error) {
	var out struct {
		Runs          []tracking.Run `json:"runs"`
		NextPageToken string         `json:"next_page_token"`
	}
	err := c.MLflow(ctx, "POST", "runs/search", req, &out)
	return out.Runs, out.NextPageToken, err
}

// MetricHistory returns a page of a metric's history (maxResults 0 = all).
func (c *Client) MetricHistory(ctx context.Context, runID, key string, maxResults int, pageToken string) ([]tracking.Metric, string, error) {
	q := url.Values{"run_id": {runID}, "run_uuid": {runID}, "metric_key": {key}}
	if maxResults > 0 {
		q.Set("max_results", strconv.Itoa(maxResults))
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var out struct {
		Metrics       []tracking.Metric `json:"metrics"`
		NextPageToken string            `json:"next_page_token"`
	}
	err := c.MLflow(ctx, "GET", "metrics/get-history", q, &out)
	return out.Metrics, out.NextPageToken, err
}

// artifactURL is the proxy URL of an mlflow-artifacts path.
func (c *Client) artifactURL(path string) string {
	return c.Host + "/api/2.0/mlflow-artifacts/artifacts/" + strings.TrimLeft(path, "/")
}

// UploadArtifact PUTs data at an mlflow-artifacts path
// ("<exp>/<run>/artifacts/<file>").
func (c *Client) UploadArtifact(ctx context.Context, path string, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, "PUT", c.artifactURL(path), bytes.NewReader(data))
	if err != nil {
		return err
	}
	return c.raw(req, nil)
}

// DownloadArtifact returns the bytes at an mlflow-artifacts path.
func (c *Client) DownloadArtifact(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.artifactURL(path), nil)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = c.raw(req, &buf)
	return buf.Bytes(), err
}

// ListArtifacts lists a directory of mlflow-artifacts.
func (c *Client) ListArtifacts(ctx context.Context, path string) ([]artifact.FileInfo, error) {
	var out struct {
		Files []artifact.FileInfo `json:"files"`
	}
	err := c.Do(ctx, "GET", "/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {path}}, nil, &out)
	return out.Files, err
}

// ResolveArtifactURI resolves runs:/, models:/ and mlflow-artifacts:/ URIs
// to an artifact path and its listing (a Lakebox extension).
func (c *Client) ResolveArtifactURI(ctx context.Context, uri string) (string, []artifact.FileInfo, error) {
	var out struct {
		Path  string              `json:"path"`
		Files []artifact.FileInfo `json:"files"`
	}
	err := c.Do(ctx, "GET", "/api/2.0/mlflow-artifacts/resolve", url.Values{"uri": {uri}}, nil, &out)
	return out.Path, out.Files, err
}

func (c *Client) raw(req *http.Request, out io.Writer) error {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Lakebox at %s: %w", c.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(resp.Body)
		return decodeError(resp, data)
	}
	if out != nil {
		_, err = io.Copy(out, resp.Body)
	}
	return err
}

// SearchRegisteredModels searches registered models.
func (c *Client) SearchRegisteredModels(ctx context.Context, filter string, maxResults int) ([]registry.RegisteredModel, error) {
	q := url.Values{"filter": {filter}}
	if maxResults > 0 {
		q.Set("max_results", strconv.Itoa(maxResults))
	}
	var out struct {
		RegisteredModels []registry.RegisteredModel `json:"registered_models"`
	}
	err := c.MLflow(ctx, "GET", "registered-models/search", q, &out)
	return out.RegisteredModels, err
}

// GetRegisteredModel returns a registered model.
func (c *Client) GetRegisteredModel(ctx context.Context, name string) (registry.RegisteredModel, error) {
	var out struct {
		RegisteredModel registry.RegisteredModel `json:"registered_model"`
	}
	err := c.MLflow(ctx, "GET", "registered-models/get", url.Values{"name": {name}}, &out)
	return out.RegisteredModel, err
}

// SearchModelVersions searches model versions.
func (c *Client) SearchModelVersions(ctx context.Context, filter string) ([]registry.ModelVersion, error) {
	var out struct {
		ModelVersions []registry.ModelVersion `json:"model_versions"`
	}
	err := c.MLflow(ctx, "GET", "model-versions/search", url.Values{"filter": {filter}}, &out)
	return out.ModelVersions, err
}

// CreateRegisteredModel creates a registered model.
func (c *Client) CreateRegisteredModel(ctx context.Context, name, description string) (registry.RegisteredModel, error) {
	var out struct {
		RegisteredModel registry.RegisteredModel `json:"registered_model"`
	}
	err := c.MLflow(ctx, "POST", "registered-models/create", map[string]any{"name": name, "description": description}, &out)
	return out.RegisteredModel, err
}

// CreateModelVersion registers a version of a model from source.
func (c *Client) CreateModelVersion(ctx context.Context, name, source, runID string) (registry.ModelVersion, error) {
	var out struct {
		ModelVersion registry.ModelVersion `json:"model_version"`
	}
	err := c.MLflow(ctx, "POST", "model-versions/create", map[string]any{"name": name, "source": source, "run_id": runID}, &out)
	return out.ModelVersion, err
}

// SetModelAlias points alias at a version.
func (c *Client) SetModelAlias(ctx context.Context, name, alias, version string) error {
	return c.MLflow(ctx, "POST", "registered-models/alias", map[string]any{"name": name, "alias": alias, "version": version}, nil)
}

// DeleteModelAlias removes an alias.
func (c *Client) DeleteModelAlias(ctx context.Context, name, alias string) error {
	return c.MLflow(ctx, "DELETE", "registered-models/alias", map[string]any{"name": name, "alias": alias}, nil)
}

// GetModelVersionByAlias returns the version an alias points at.
func (c *Client) GetModelVersionByAlias(ctx context.Context, name, alias string) (registry.ModelVersion, error) {
	var out struct {
		ModelVersion registry.ModelVersion `json:"model_version"`
	}
	err := c.MLflow(ctx, "GET", "registered-models/alias", url.Values{"name": {name}, "alias": {alias}}, &out)
	return out.ModelVersion, err
}
