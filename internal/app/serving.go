package app

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/lakebox/lakebox/internal/inferlog"
	"github.com/lakebox/lakebox/internal/serving"
	"github.com/lakebox/lakebox/internal/sqldb"
)

// ServingParts are the model-serving services.
type ServingParts struct {
	Service  *serving.Service
	InferLog *inferlog.Logger
	// Models is the directory model source used until the registry is
	// wired (LAKEBOX_SERVING_MODELS_DIR, default <data dir>/models).
	Models *serving.DirSource
}

// Serving settings read from the environment (documented in README):
//
//	LAKEBOX_ONNXRUNTIME_LIB      path of libonnxruntime.so.1 (ONNX models)
//	LAKEBOX_PYTHON               Python of model workers (default /usr/bin/python3)
//	LAKEBOX_SERVING_MODELS_DIR   directory model source (catalog/schema/model/version)
//	LAKEBOX_INFERLOG_FSYNC=1     fsync inference records (survive a machine crash)
func (a *App) openServing(ctx context.Context) error {
	modelsDir := os.Getenv("LAKEBOX_SERVING_MODELS_DIR")
	if modelsDir == "" {
		modelsDir = filepath.Join(a.Config.DataDir, "models")
	}
	a.Serving.Models = &serving.DirSource{Root: modelsDir}
	spoolDir := filepath.Join(a.Config.DataDir, "spool", "inference")
	a.Serving.InferLog = inferlog.New(inferlog.Options{Dir: spoolDir, Bucket: a.Warehouse, Logger: a.Log,
		Sync: os.Getenv("LAKEBOX_INFERLOG_FSYNC") == "1"})
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
		Source: a.Serving.Models,
		Runtime: serving.RuntimeOptions{ONNXRuntimeLib: os.Getenv("LAKEBOX_ONNXRUNTIME_LIB"), Python: os.Getenv("LAKEBOX_PYTHON"),
			WorkerDir: filepath.Join(a.Config.DataDir, "serving")},
		Capturer:   a.Serving.InferLog,
		Registerer: a.Registry,
		Logger:     a.Log.With("subsystem", "serving"),
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
