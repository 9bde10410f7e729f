package tracking

import (
	"context"
	"encoding/base64"
	"encoding/json"
)

// ExperimentQuery is a search over experiments.
type ExperimentQuery struct {
	Filter     []Clause
	OrderBy    []OrderKey
	ViewType   string
	MaxResults int
	Offset     int
}

// RunQuery is a search over runs.
type RunQuery struct {
	ExperimentIDs []int64
	Filter        []Clause
	OrderBy       []OrderKey
	ViewType      string
	MaxResults    int
	Offset        int
}

// LoggedModelQuery is a search over logged models.
type LoggedModelQuery struct {
	ExperimentIDs []int64
	Filter        []Clause
	OrderBy       []OrderKey
	MaxResults    int
	Offset        int
}

// RunUpdate changes a run's status, end time and/or name (nil = unchanged).
type RunUpdate struct {
	Status  *string
	EndTime *int64
	RunName *string
}

// HistoryQuery selects points of one metric of one run.
type HistoryQuery struct {
	RunID      string
	Key        string
	MaxResults int
	Offset     int
}

// ExperimentStore persists experiments.
type ExperimentStore interface {
	// CreateExperiment allocates the next id, stores e and returns the id.
	// ArtifactLocation may contain "{id}", replaced by the id.
	// Errors: RESOURCE_ALREADY_EXISTS for a duplicate name.
	CreateExperiment(ctx context.Context, e Experiment) (string, error)
	// GetExperiment returns an experiment with its tags. Errors: RESOURCE_DOES_NOT_EXIST.
	GetExperiment(ctx context.Context, id int64) (Experiment, error)
	// GetExperimentByName returns an experiment by name. Errors: RESOURCE_DOES_NOT_EXIST.
	GetExperimentByName(ctx context.Context, name string) (Experiment, error)
	// SearchExperiments returns one page and whether more exist.
	SearchExperiments(ctx context.Context, q ExperimentQuery) ([]Experiment, bool, error)
	// UpdateExperiment renames (name != "") and/or sets the lifecycle stage
	// (stage != ""). Errors: RESOURCE_DOES_NOT_EXIST, RESOURCE_ALREADY_EXISTS.
	UpdateExperiment(ctx context.Context, id int64, name, stage string, now int64) error
	// SetExperimentTag upserts (value != nil) or deletes a tag.
	SetExperimentTag(ctx context.Context, id int64, key string, value *string) error
}

// RunStore persists runs and what is logged on them.
type RunStore interface {
	// CreateRun stores a new run with its initial tags.
	CreateRun(ctx context.Context, info RunInfo, tags []Tag) error
	// GetRunInfo returns a run's metadata. Errors: RESOURCE_DOES_NOT_EXIST.
	GetRunInfo(ctx context.Context, runID string) (RunInfo, error)
	// GetRuns returns full runs (data, inputs, outputs) for ids, in order;
	// unknown ids are skipped.
	GetRuns(ctx context.Context, runIDs []string) ([]Run, error)
	// UpdateRun applies u. Errors: RESOURCE_DOES_NOT_EXIST.
	UpdateRun(ctx context.Context, runID string, u RunUpdate) error
	// SetRunLifecycle marks a run active or deleted.
	SetRunLifecycle(ctx context.Context, runID, stage string, now int64) error
	// LogBatch stores metrics (history and latest), params (immutable:
	// INVALID_PARAMETER_VALUE on a changed value) and tags in one transaction.
	LogBatch(ctx context.Context, runID string, metrics []Metric, params []Param, tags []Tag) error
	// DeleteRunTag removes a tag. Errors: RESOURCE_DOES_NOT_EXIST.
	DeleteRunTag(ctx context.Context, runID, key string) error
	// MetricHistory returns points ordered by step, timestamp and whether more exist.
	MetricHistory(ctx context.Context, q HistoryQuery) ([]Metric, bool, error)
	// MetricHistoryRange returns the points of key on runIDs with start <= step <= end.
	MetricHistoryRange(ctx context.Context, runIDs []string, key string, start, end int64) ([]Metric, error)
	// LogInputs records datasets (deduplicated per experiment by name and
	// digest), their table references and model inputs.
	LogInputs(ctx context.Context, runID string, experimentID string, inputs []DatasetInput, refs [][]TableRef, models []ModelInput) error
	// LogOutputs records logged models produced by a run.
	LogOutputs(ctx context.Context, runID string, models []ModelOutput) error
	// RunTables returns the table references of a run's datasets.
	RunTables(ctx context.Context, runID string) ([]TableRef, error)
	// SearchRuns returns one page of run ids and whether more exist.
	SearchRuns(ctx context.Context, q RunQuery) ([]string, bool, error)
}

// LoggedModelStore persists MLflow 3 logged models.
type LoggedModelStore interface {
	// CreateLoggedModel stores m (with its tags and params).
	CreateLoggedModel(ctx context.Context, m LoggedModel) error
	// GetLoggedModel returns a model. Errors: RESOURCE_DOES_NOT_EXIST.
	GetLoggedModel(ctx context.Context, id string) (LoggedModel, error)
	// UpdateLoggedModel sets status (if non-empty) and/or lifecycle stage.
	UpdateLoggedModel(ctx context.Context, id, status, stage string, now int64) error
	// SetLoggedModelTags upserts tags; DeleteLoggedModelTag removes one.
	SetLoggedModelTags(ctx context.Context, id string, tags []Tag, now int64) error
	DeleteLoggedModelTag(ctx context.Context, id, key string) error
	// LogLoggedModelParams adds params.
	LogLoggedModelParams(ctx context.Context, id string, params []Param) error
	// SearchLoggedModels returns one page of models and whether more exist.
	SearchLoggedModels(ctx context.Context, q LoggedModelQuery) ([]LoggedModel, bool, error)
}

// Store is everything tracking persists.
type Store interface {
	ExperimentStore
	RunStore
	LoggedModelStore
}

type pageToken struct {
	Offset int `json:"offset"`
}

// EncodePageToken returns MLflow's page token for offset: base64 of {"offset": N}.
func EncodePageToken(offset int) string {
	b, _ := json.Marshal(pageToken{Offset: offset})
	return base64.StdEncoding.EncodeToString(b)
}

// DecodePageToken parses a page token ("" = offset 0).
func DecodePageToken(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		b, err = base64.URLEncoding.DecodeString(tok)
	}
	var p pageToken
	if err != nil || json.Unmarshal(b, &p) != nil || p.Offset < 0 {
		return 0, Invalid("Invalid page token, could not base64-decode: '%s'", tok)
	}
	return p.Offset, nil
}
