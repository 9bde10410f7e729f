package app

import (
	"context"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/artifact"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/lineage"
	"github.com/lakebox/lakebox/internal/registry"
	"github.com/lakebox/lakebox/internal/sqldb"
	"github.com/lakebox/lakebox/internal/tracking"
)

// registryLineage records a new model version's training lineage in the
// lineage graph: each table (or path) the run's datasets were read from →
// the run → the version. The table versions go in the event's metadata
// ("table_versions": "cat.sch.tbl@3,…"), since lineage nodes are tables,
// not table versions.
func (a *App) registryLineage(ctx context.Context, modelVersion, runID string, tables []tracking.TableRef) error {
	if a.Audit.Lineage == nil {
		return nil
	}
	var inputs []lineage.Node
	var versions []string
	for _, t := range tables {
		switch {
		case lineage.IsThreeLevel(t.Table):
			inputs = append(inputs, lineage.TableNode(t.Table))
		case strings.Contains(t.Table, "://"):
			inputs = append(inputs, lineage.Node{Type: lineage.Path, Name: t.Table})
		default:
			continue
		}
		versions = append(versions, t.Table+"@"+strconv.FormatInt(t.Version, 10))
	}
	ev := lineage.Event{EntityType: "MLFLOW_RUN", EntityID: runID, EntityRunID: runID,
		Metadata: map[string]string{"model_version": modelVersion, "table_versions": strings.Join(versions, ",")}}
	return a.Audit.Lineage.RecordModelLineage(ctx, inputs, runID, modelVersion, ev)
}

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
	m.Registry = registry.NewService(a.Catalog, m.Tracking, sqldb.NewRegistryStore(a.DB), registry.Options{Logger: a.Log, Lineage: a.registryLineage})
	m.Artifacts.SetModels(m.Registry)
	a.Handler.MountMLflowTracking(m.Tracking)
	a.Handler.MountMLflowArtifacts(m.Artifacts, m.Tracking)
	a.Handler.MountMLflowRegistry(m.Registry)
	for _, p := range []string{"/api/2.0/mlflow/", "/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow/", "/ajax-api/2.0/mlflow-artifacts/"} {
		a.Handler.HandleFallback(p, httpapi.MLflow)
	}
	a.closers = append(a.closers, m.Registry.Start())
}
