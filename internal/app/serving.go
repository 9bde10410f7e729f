package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/inferlog"
	"github.com/lakebox/lakebox/internal/lineage"
	"github.com/lakebox/lakebox/internal/serving"
	"github.com/lakebox/lakebox/internal/sqldb"
)

// ServingParts are the model-serving services.
type ServingParts struct {
	Service  *serving.Service
	InferLog *inferlog.Logger
	// Source resolves served entities: the model registry (Registry), or
	// a model directory (Models) when LAKEBOX_SERVING_MODELS_DIR is set.
	Source   serving.ModelSource
	Registry *RegistrySource
	Models   *serving.DirSource
}

// openServing builds the serving service from the server settings
// --onnxruntime-lib, --python, --serving-models-dir and --inferlog-fsync
// (or their LAKEBOX_* environment variables).
func (a *App) openServing(ctx context.Context) error {
	if modelsDir := a.Config.ServingModelsDir; modelsDir != "" {
		a.Serving.Models = &serving.DirSource{Root: modelsDir}
		a.Serving.Source = a.Serving.Models
	} else {
		a.Serving.Registry = &RegistrySource{Registry: a.MLflow.Registry, Catalog: a.Catalog, Artifacts: a.MLflow.Artifacts,
			Bucket: blob.Prefixed(a.Warehouse, ArtifactPrefix), CacheDir: filepath.Join(a.Config.DataDir, "serving", "models"),
			Logger: a.Log.With("subsystem", "serving")}
		a.Serving.Source = a.Serving.Registry
	}
	spoolDir := filepath.Join(a.Config.DataDir, "spool", "inference")
	a.Serving.InferLog = inferlog.New(inferlog.Options{Dir: spoolDir, Bucket: a.Warehouse, Logger: a.Log, TableRoot: inferlog.DefaultTableRoot,
		Sync: a.Config.InferenceFsync})
	// Commit what a previous process spooled but did not commit.
	if ents, err := os.ReadDir(spoolDir); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				if err := a.Serving.InferLog.Open(e.Name()); err != nil {
					a.Log.Warn("inference spool not reopened", "table", e.Name(), "err", err.Error())
				}
			}
		}
	}
	a.Serving.Service = serving.New(serving.Options{
		Store:  sqldb.NewServingStore(a.DB),
		Source: a.Serving.Source,
		Runtime: serving.RuntimeOptions{ONNXRuntimeLib: a.Config.ONNXRuntimeLib, Python: a.Config.Python,
			WorkerDir: filepath.Join(a.Config.DataDir, "serving")},
		Capturer:     a.Serving.InferLog,
		Registerer:   a.Registry,
		Logger:       a.Log.With("subsystem", "serving"),
		Deployed:     a.servingLineage,
		CaptureTable: a.registerInferenceTable,
	})
	if err := a.Serving.Service.Start(ctx); err != nil {
		return err
	}
	a.closers = append(a.closers, func() error {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a.Serving.Service.Close(cctx)
		return a.Serving.InferLog.Close(cctx)
	})
	a.Handler.MountServing(a.Serving.Service, a.Registry)
	return nil
}

// registerInferenceTable registers an endpoint's inference table in the
// catalog at the Delta table inferlog writes (created empty now, so it can
// be queried before the first invocation), owned by the endpoint's creator.
// The caller changing the endpoint needs USE CATALOG, USE SCHEMA and CREATE
// TABLE on the schema, as for creating any table there. When the catalog or
// schema does not exist the table is only written by path (as before
// capture tables were registered) and a warning is logged: serving
// endpoints created before their schema keep working.
func (a *App) registerInferenceTable(ctx context.Context, endpoint, creator, table string) error {
	c, s, ok := strings.Cut(table, ".")
	if !ok || !lineage.IsThreeLevel(table) {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "auto_capture_config names the inference table %q; it must be catalog.schema.table", table)
	}
	s, _, _ = strings.Cut(s, ".")
	schema := c + "." + s
	for _, p := range []catalog.Privilege{catalog.PrivUseSchema, catalog.PrivCreateTable} {
		err := a.Catalog.Authorize(ctx, catalog.TypeSchema, schema, p)
		if errs.Is(err, errs.NotFound) {
			a.Log.Warn("inference table not registered: its schema does not exist", "endpoint", endpoint, "table", table)
			return nil
		}
		if err != nil {
			return err
		}
	}
	if creator == "" {
		creator = auth.AdminsGroup
	}
	_, err := a.Catalog.RegisterInternalTable(ctx, catalog.InternalTable{
		FullName: table, Location: inferlog.DefaultTableRoot(table), Owner: creator,
		Comment: "Inference table of serving endpoint " + endpoint + ".",
		Create:  delta.CreateTableOptions{Schema: inferlog.Schema(), PartitionColumns: []string{"date"}, Name: table, Description: "inference table"},
	})
	return err
}

// servingLineage records model version → serving endpoint (→ inference
// table) when an endpoint starts serving a model version.
func (a *App) servingLineage(endpoint string, m *serving.ResolvedModel, inferenceTable string) {
	if a.Audit.Lineage == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := lineage.Event{EntityType: "SERVING", EntityID: endpoint, Metadata: map[string]string{"model_version": m.Version}}
	if err := a.Audit.Lineage.RecordServingLineage(ctx, m.EntityName+"/"+m.Version, endpoint, inferenceTable, ev); err != nil {
		a.Log.Warn("serving lineage not recorded", "endpoint", endpoint, "model", m.EntityName, "version", m.Version, "err", err.Error())
	}
}
