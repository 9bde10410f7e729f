package app

import (
	"github.com/lakebox/lakebox/internal/artifact"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/registry"
	"github.com/lakebox/lakebox/internal/sqldb"
	"github.com/lakebox/lakebox/internal/tracking"
)

// MLflowParts are the services behind the MLflow-compatible API.
type MLflowParts struct {
	Tracking  *tracking.Service
	Artifacts *artifact.Service
	Registry  *registry.Service
}

// ArtifactPrefix is where MLflow artifacts live in the warehouse: the URI
// mlflow-artifacts:/<path> is the warehouse key mlflow-artifacts/<path>.
const ArtifactPrefix = "mlflow-artifacts"

// openMLflow builds tracking, artifacts and the model registry (on the
// catalog, which must be open), mounts the MLflow API and starts the
// registry's webhook dispatcher.
func (a *App) openMLflow() {
	m := &a.MLflow
	m.Tracking = tracking.NewService(sqldb.NewTrackingStore(a.DB), tracking.WithLogger(a.Log))
	m.Artifacts = artifact.NewService(blob.Prefixed(a.Warehouse, ArtifactPrefix), m.Tracking, nil)
	m.Registry = registry.NewService(a.Catalog, m.Tracking, sqldb.NewRegistryStore(a.DB), registry.Options{Logger: a.Log})
	m.Artifacts.SetModels(m.Registry)
	a.Handler.MountMLflowTracking(m.Tracking)
	a.Handler.MountMLflowArtifacts(m.Artifacts, m.Tracking)
	a.Handler.MountMLflowRegistry(m.Registry)
	for _, p := range []string{"/api/2.0/mlflow/", "/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow/", "/ajax-api/2.0/mlflow-artifacts/"} {
		a.Handler.HandleFallback(p, httpapi.MLflow)
	}
	a.closers = append(a.closers, m.Registry.Start())
}
