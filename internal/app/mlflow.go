package app

import (
	"github.com/lakebox/lakebox/internal/artifact"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/sqldb"
	"github.com/lakebox/lakebox/internal/tracking"
)

// MLflowParts are the services behind the MLflow-compatible API.
type MLflowParts struct {
	Tracking  *tracking.Service
	Artifacts *artifact.Service
}

// ArtifactPrefix is where MLflow artifacts live in the warehouse: the URI
// mlflow-artifacts:/<path> is the warehouse key mlflow-artifacts/<path>.
const ArtifactPrefix = "mlflow-artifacts"

// openMLflow builds tracking, artifacts (and the registry) and mounts the
// MLflow API on the handler.
func (a *App) openMLflow() {
	a.MLflow.Tracking = tracking.NewService(sqldb.NewTrackingStore(a.DB), tracking.WithLogger(a.Log))
	a.MLflow.Artifacts = artifact.NewService(blob.Prefixed(a.Warehouse, ArtifactPrefix), a.MLflow.Tracking, nil)
	a.Handler.MountMLflowTracking(a.MLflow.Tracking)
	a.Handler.MountMLflowArtifacts(a.MLflow.Artifacts, a.MLflow.Tracking)
	for _, p := range []string{"/api/2.0/mlflow/", "/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow/", "/ajax-api/2.0/mlflow-artifacts/"} {
		a.Handler.HandleFallback(p, httpapi.MLflow)
	}
}
