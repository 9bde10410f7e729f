package tracking

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/lakebox/lakebox/internal/errs"
)

// Lifecycle stages of experiments, runs and logged models.
const (
	StageActive  = "active"
	StageDeleted = "deleted"
)

// Run statuses.
const (
	StatusRunning   = "RUNNING"
	StatusScheduled = "SCHEDULED"
	StatusFinished  = "FINISHED"
	StatusFailed    = "FAILED"
	StatusKilled    = "KILLED"
)

// ValidRunStatus reports whether s is a run status.
func ValidRunStatus(s string) bool {
	switch s {
	case StatusRunning, StatusScheduled, StatusFinished, StatusFailed, StatusKilled:
		return true
	}
	return false
}

// View types of searches.
const (
	ViewActiveOnly  = "ACTIVE_ONLY"
	ViewDeletedOnly = "DELETED_ONLY"
	ViewAll         = "ALL"
)

// Well-known tags.
const (
	TagRunName     = "mlflow.runName"
	TagParentRunID = "mlflow.parentRunId"
	TagUser        = "mlflow.user"
)

// DefaultExperimentID is the id of the Default experiment.
const DefaultExperimentID = "0"

// Tag is a key/value pair (experiment, run, logged model and input tags).
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Experiment is an MLflow experiment.
type Experiment struct {
	ExperimentID     string `json:"experiment_id"`
	Name             string `json:"name"`
	ArtifactLocation string `json:"artifact_location"`
	LifecycleStage   string `json:"lifecycle_stage"`
	CreationTime     int64  `json:"creation_time,omitempty"`
	LastUpdateTime   int64  `json:"last_update_time,omitempty"`
	Tags             []Tag  `json:"tags,omitempty"`
}

// Value is a metric value: a float64 that marshals NaN and ±Inf as the JSON
// strings "NaN", "Infinity" and "-Infinity" (proto3 JSON) and accepts those
// strings, numbers and numeric strings.
type Value float64

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// AppendJSON appends the JSON form of v to b.
func (v Value) AppendJSON(b []byte) []byte {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *Value) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '"' && b[0] != 'n' {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "metric value %s is not a number", string(b))
		}
		*v = Value(f)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "metric value %s is not a number", string(b))
	}
	f, err := ParseValue(s)
	if err != nil {
		return err
	}
	*v = Value(f)
	return nil
}

// ParseValue parses a metric value from text ("0.5", "NaN", "Infinity", "-Infinity", "inf").
func ParseValue(s string) (float64, error) {
	switch s {
	case "NaN", "nan":
		return math.NaN(), nil
	case "Infinity", "inf", "Inf":
		return math.Inf(1), nil
	case "-Infinity", "-inf", "-Inf":
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "metric value %q is not a number (use a number, \"NaN\", \"Infinity\" or \"-Infinity\")", s)
	}
	return f, nil
}

// Metric is one logged metric point.
type Metric struct {
	Key           string `json:"key"`
	Value         Value  `json:"value"`
	Timestamp     int64  `json:"timestamp"`
	Step          int64  `json:"step"`
	RunID         string `json:"run_id,omitempty"`
	ModelID       string `json:"model_id,omitempty"`
	DatasetName   string `json:"dataset_name,omitempty"`
	DatasetDigest string `json:"dataset_digest,omitempty"`
}

// Param is a run parameter.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// RunInfo is the metadata of a run.
type RunInfo struct {
	RunID          string `json:"run_id"`
	RunUUID        string `json:"run_uuid"`
	RunName        string `json:"run_name,omitempty"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id,omitempty"`
	Status         string `json:"status"`
	StartTime      int64  `json:"start_time,omitempty"`
	EndTime        int64  `json:"end_time,omitempty"`
	ArtifactURI    string `json:"artifact_uri,omitempty"`
	LifecycleStage string `json:"lifecycle_stage"`
}

// RunData is what was logged on a run. Metrics hold the latest value per key.
type RunData struct {
	Metrics []Metric `json:"metrics,omitempty"`
	Params  []Param  `json:"params,omitempty"`
	Tags    []Tag    `json:"tags,omitempty"`
}

// Dataset describes a dataset (MLflow's Dataset message).
type Dataset struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema,omitempty"`
	Profile    string `json:"profile,omitempty"`
}

// DatasetInput is a dataset used by a run, with input tags (such as
// mlflow.data.context = "training").
type DatasetInput struct {
	Tags    []Tag   `json:"tags,omitempty"`
	Dataset Dataset `json:"dataset"`
}

// ModelInput names a logged model used as a run input.
type ModelInput struct {
	ModelID string `json:"model_id"`
}

// ModelOutput names a logged model produced by a run at a step.
type ModelOutput struct {
	ModelID string `json:"model_id"`
	Step    int64  `json:"step"`
}

// RunInputs are the datasets and models a run used.
type RunInputs struct {
	DatasetInputs []DatasetInput `json:"dataset_inputs,omitempty"`
	ModelInputs   []ModelInput   `json:"model_inputs,omitempty"`
}

// RunOutputs are the logged models a run produced.
type RunOutputs struct {
	ModelOutputs []ModelOutput `json:"model_outputs,omitempty"`
}

// Run is a run with its data, inputs and outputs.
type Run struct {
	Info    RunInfo     `json:"info"`
	Data    RunData     `json:"data"`
	Inputs  RunInputs   `json:"inputs"`
	Outputs *RunOutputs `json:"outputs,omitempty"`
}

// TableRef is a Lakebox (or Delta) table a dataset was read from, at a version
// (-1 when the source did not name one). It is what lineage follows from a
// run to the tables it was trained on.
type TableRef struct {
	RunID       string `json:"run_id,omitempty"`
	DatasetName string `json:"dataset_name"`
	Digest      string `json:"dataset_digest"`
	Context     string `json:"context,omitempty"`
	Table       string `json:"table"`
	Version     int64  `json:"version"`
}

// Logged model statuses.
const (
	ModelPending = "LOGGED_MODEL_PENDING"
	ModelReady   = "LOGGED_MODEL_READY"
	ModelFailed  = "LOGGED_MODEL_UPLOAD_FAILED"
)

// LoggedModelInfo is the metadata of an MLflow 3 logged model.
type LoggedModelInfo struct {
	ModelID                string `json:"model_id"`
	ExperimentID           string `json:"experiment_id"`
	Name                   string `json:"name"`
	CreationTimestampMS    int64  `json:"creation_timestamp_ms,omitempty"`
	LastUpdatedTimestampMS int64  `json:"last_updated_timestamp_ms,omitempty"`
	ArtifactURI            string `json:"artifact_uri"`
	Status                 string `json:"status"`
	Creator                string `json:"creator_id,omitempty"`
	ModelType              string `json:"model_type,omitempty"`
	SourceRunID            string `json:"source_run_id,omitempty"`
	StatusMessage          string `json:"status_message,omitempty"`
	Tags                   []Tag  `json:"tags,omitempty"`
	Registrations          []Tag  `json:"registrations,omitempty"`
	LifecycleStage         string `json:"-"`
}

// LoggedModelData holds a logged model's params and metrics.
type LoggedModelData struct {
	Params  []Param  `json:"params,omitempty"`
	Metrics []Metric `json:"metrics,omitempty"`
}

// LoggedModel is an MLflow 3 logged model.
type LoggedModel struct {
	Info LoggedModelInfo `json:"info"`
	Data LoggedModelData `json:"data"`
}
