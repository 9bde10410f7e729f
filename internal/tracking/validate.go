package tracking

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// MLflow's limits (mlflow/utils/validation.py).
const (
	MaxMetricsPerBatch   = 1000
	MaxParamsPerBatch    = 100
	MaxTagsPerBatch      = 100
	MaxEntitiesPerBatch  = 1000
	MaxParamValueLen     = 6000
	MaxTagValueLen       = 8000
	MaxKeyLen            = 250
	MaxExperimentNameLen = 500
	MaxSearchRuns        = 50000
	DefaultSearchRuns    = 1000
	MaxSearchExperiments = 50000
	MaxDatasetsPerInput  = 1000
	MaxHistoryResults    = 25000
)

// Invalid returns an INVALID_PARAMETER_VALUE error.
func Invalid(format string, args ...any) error {
	return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", format, args...)
}

// NotFound returns a RESOURCE_DOES_NOT_EXIST error.
func NotFound(format string, args ...any) error {
	return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", format, args...)
}

// AlreadyExists returns a RESOURCE_ALREADY_EXISTS error.
func AlreadyExists(format string, args ...any) error {
	return errs.E(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", format, args...)
}

// Missing is MLflow's error for an absent required field.
func Missing(field string) error {
	return Invalid("Missing value for required parameter '%s'. See the API docs for more information about request parameters.", field)
}

// ValidateKey checks a metric, param or tag key: non-empty, at most 250
// characters of alphanumerics, "_", "-", ".", " ", ":" and "/", and not a
// path that climbs ("..", leading "/").
func ValidateKey(kind, key string) error {
	if key == "" {
		return Missing("key")
	}
	if len(key) > MaxKeyLen {
		return Invalid("%s name '%s' had length %d, which exceeded length limit of %d", kind, key, len(key), MaxKeyLen)
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-. :/", c)) {
			return Invalid("Invalid %s name: '%s'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).", strings.ToLower(kind), key)
		}
	}
	if strings.HasPrefix(key, "/") || key == "." || key == ".." || strings.HasPrefix(key, "../") || strings.Contains(key, "/../") || strings.HasSuffix(key, "/..") {
		return Invalid("Invalid %s name: '%s'. Names cannot be absolute paths or climb out of a directory ('..').", strings.ToLower(kind), key)
	}
	return nil
}

// ValidateRunID checks the shape of a run id (32 lower-case hex characters,
// or any id of 1..256 characters from [A-Za-z0-9_-] as MLflow accepts).
func ValidateRunID(id string) error {
	if id == "" {
		return Missing("run_id")
	}
	if len(id) > 256 {
		return Invalid("Invalid run ID: '%s'", id)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return Invalid("Invalid run ID: '%s'", id)
		}
	}
	return nil
}

// ParseExperimentID checks that id is a non-negative decimal integer.
func ParseExperimentID(id string) (int64, error) {
	if id == "" {
		return 0, Missing("experiment_id")
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 0 {
		return 0, Invalid("Invalid experiment ID: '%s'. Experiment IDs are non-negative integers.", id)
	}
	return n, nil
}

// ValidateMetric checks a metric point. NaN and ±Inf are accepted (MLflow
// stores them); the key must be valid.
func ValidateMetric(m Metric) error {
	if err := ValidateKey("Metric", m.Key); err != nil {
		return err
	}
	if m.Timestamp < 0 {
		return Invalid("Got invalid timestamp %d for metric '%s'. Timestamp must be a non-negative integer (milliseconds since the epoch).", m.Timestamp, m.Key)
	}
	return nil
}

// ValidateParam checks a param.
func ValidateParam(p Param) error {
	if err := ValidateKey("Param", p.Key); err != nil {
		return err
	}
	if len(p.Value) > MaxParamValueLen {
		return Invalid("Param value '%s...' had length %d, which exceeded length limit of %d", p.Value[:20], len(p.Value), MaxParamValueLen)
	}
	return nil
}

// ValidateTag checks a run or experiment tag.
func ValidateTag(t Tag) error {
	if err := ValidateKey("Tag", t.Key); err != nil {
		return err
	}
	if len(t.Value) > MaxTagValueLen {
		return Invalid("Tag value '%s...' had length %d, which exceeded length limit of %d", t.Value[:20], len(t.Value), MaxTagValueLen)
	}
	return nil
}

// ValidateBatch applies MLflow's log-batch limits and per-entity rules.
func ValidateBatch(metrics []Metric, params []Param, tags []Tag) error {
	if len(metrics) > MaxMetricsPerBatch || len(params) > MaxParamsPerBatch || len(tags) > MaxTagsPerBatch ||
		len(metrics)+len(params)+len(tags) > MaxEntitiesPerBatch {
		return Invalid("A batch logging request can contain at most %d metrics, %d params, %d tags and %d entities in total. Got %d metrics, %d params and %d tags.",
			MaxMetricsPerBatch, MaxParamsPerBatch, MaxTagsPerBatch, MaxEntitiesPerBatch, len(metrics), len(params), len(tags))
	}
	for _, m := range metrics {
		if err := ValidateMetric(m); err != nil {
			return err
		}
	}
	seen := make(map[string]string, len(params))
	for _, p := range params {
		if err := ValidateParam(p); err != nil {
			return err
		}
		if v, ok := seen[p.Key]; ok && v != p.Value {
			return Invalid("Duplicate parameter keys have been submitted: ['%s']. Please ensure the request contains only one param value per param key.", p.Key)
		}
		seen[p.Key] = p.Value
	}
	for _, t := range tags {
		if err := ValidateTag(t); err != nil {
			return err
		}
	}
	return nil
}

// ValidateExperimentName checks an experiment name.
func ValidateExperimentName(name string) error {
	if name == "" {
		return Invalid("Invalid experiment name: ''. Experiment names must be non-empty strings.")
	}
	if len(name) > MaxExperimentNameLen {
		return Invalid("Experiment name '%s...' had length %d, which exceeded length limit of %d", name[:20], len(name), MaxExperimentNameLen)
	}
	return nil
}

// isNaN reports whether v is NaN.
func isNaN(v Value) bool { return math.IsNaN(float64(v)) }

// clampMax checks max_results against a limit; 0 means the default.
func clampMax(n, def, limit int64, what string) (int, error) {
	if n == 0 {
		return int(def), nil
	}
	if n < 0 || n > limit {
		return 0, Invalid("Invalid value %d for parameter 'max_results' supplied. It must be at most %d, and positive.", n, limit)
	}
	_ = what
	return int(n), nil
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("'%s'", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
