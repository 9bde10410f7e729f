// Package tracking owns MLflow-compatible experiment tracking: experiments,
// runs, metrics (full history plus the latest value per key), params, tags,
// dataset inputs, run outputs and MLflow 3 logged models, and the MLflow
// search filter grammar.
//
// Invariants:
//   - Experiment "0" ("Default") always exists and cannot be deleted.
//   - A param, once logged on a run, never changes value.
//   - Only an active run accepts metrics, params, tags and inputs.
//   - A run's latest metric per key is the one with the greatest
//     (step, timestamp, value), as in MLflow.
//   - Every search is answered by the Store with SQL over indexes; the
//     Service never loads all runs to filter them.
//
// The Service applies MLflow's validation rules (key characters, length and
// batch limits, NaN handling) and returns errs errors whose reasons are
// MLflow error codes (INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST,
// RESOURCE_ALREADY_EXISTS), so the HTTP surface only renders them.
//
// Types carry the MLflow proto3-JSON field names as json tags: they are the
// domain model of MLflow itself, and sharing them keeps the wire surface a
// thin layer.
package tracking
