// Package artifact stores MLflow run and logged-model artifacts on the
// warehouse blob.Bucket and serves the mlflow-artifacts proxy API's logic.
//
// Layout: the artifact URI "mlflow-artifacts:/<path>" is the blob key
// "<path>" in the bucket the Service is given (app gives it the warehouse
// prefixed with "mlflow-artifacts/"). A run's root is
// "<exp_id>/<run_id>/artifacts" and a logged model's is
// "<exp_id>/models/<model_id>/artifacts" (for experiments with the default
// artifact location).
//
// Invariants:
//   - Every path is clean and relative: "..", ".", empty segments, a leading
//     "/", backslashes and NUL are INVALID_PARAMETER_VALUE before any I/O.
//   - Writes (PUT, DELETE, multipart) only land inside the artifact root of
//     an existing run or logged model, found from the path itself; anything
//     else is INVALID_PARAMETER_VALUE and nothing is written.
//   - "runs:/<run_id>/<path>" resolves through the run's artifact_uri;
//     "models:/…" through the Models resolver (the registry).
package artifact
