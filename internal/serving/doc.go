// Package serving owns model serving: endpoints (the Databricks
// serving-endpoints shape), their served entities and traffic splits, the
// replicas that run each entity's model, autoscaling between min and max
// replicas with scale to zero, and invocation with the MLflow scoring
// protocol.
//
// Models come from a ModelSource (the registry, adapted in internal/app,
// or a directory in tests and on a laptop): an MLflow model directory with
// an MLmodel file whose flavors choose the runtime — ONNX and XGBoost JSON
// in-process, sklearn/pyfunc in a pool of Python workers, or a proxy to an
// external MLflow scoring server.
//
// Invariants:
//   - an endpoint's config lives in the Store; every Lakebox replica applies
//     the same config version (Service.Sync polls the store);
//   - a config change (or an alias move) builds the new deployments beside
//     the old ones; traffic moves only when every new entity has a healthy
//     replica, and old replicas drain before they close: requests never fail
//     because of a rollout;
//   - capture (inference logging) never blocks or fails a request: the
//     Capturer's Capture must return quickly.
package serving
