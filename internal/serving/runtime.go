package serving

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/lakebox/lakebox/internal/errs"
)

// Replica is one loaded instance of a model.
type Replica interface {
	// Predict scores a frame (already conformed to the signature). The
	// result is JSON-able; a []any with one element per row lets the pool
	// batch concurrent requests. Errors: errs.Invalid for input the model
	// rejects; errs.Unavailable when the replica died (the call may be
	// retried elsewhere); others are internal.
	Predict(ctx context.Context, f *Frame) (any, error)
	// Ping checks the replica is alive. Errors: errs.Unavailable.
	Ping(ctx context.Context) error
	// Close releases the replica.
	Close() error
}

// Runtime loads replicas of one model.
type Runtime interface {
	// Kind names the runtime: "onnx", "xgboost", "python" or "proxy".
	Kind() string
	// NewReplica loads a replica. Errors: errs.Invalid for a model the
	// runtime cannot load; errs.Unavailable for a missing dependency.
	NewReplica(ctx context.Context) (Replica, error)
	// Batching reports whether concurrent requests should be merged into
	// one Predict call.
	Batching() bool
	// Slots is the number of concurrent Predict calls one replica takes.
	Slots() int
}

// RuntimeOptions configure the runtimes.
type RuntimeOptions struct {
	// ONNXRuntimeLib is the path of libonnxruntime.so (setting
	// LAKEBOX_ONNXRUNTIME_LIB).
	ONNXRuntimeLib string
	// Python is the interpreter of Python workers (default /usr/bin/python3).
	Python string
	// Env is extra environment for Python workers (served entity
	// environment_vars).
	Env map[string]string
	// WorkerDir holds the worker script (default: a temp dir).
	WorkerDir string
	Logger    *slog.Logger
	// LogSink receives the stderr lines of Python workers (endpoint logs).
	LogSink func(line string)
}

// OpenRuntime chooses the runtime for a resolved model from its flavors:
// onnx → in-process ONNX Runtime; xgboost with model_format json →
// in-process Go evaluator; sklearn or python_function → Python workers.
// An external model (proxyURL != "") is proxied.
func OpenRuntime(m *ResolvedModel, proxyURL string, o RuntimeOptions) (Runtime, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if proxyURL != "" {
		return newProxyRuntime(proxyURL)
	}
	mm := m.MLmodel
	if _, ok := mm.Flavor("onnx"); ok && o.ONNXRuntimeLib != "" {
		data := mm.FlavorString("onnx", "data")
		if data == "" {
			data = "model.onnx"
		}
		return newONNXRuntime(filepath.Join(m.Dir, data), mm.Signature, o)
	}
	if _, ok := mm.Flavor("xgboost"); ok {
		format := mm.FlavorString("xgboost", "model_format")
		data := mm.FlavorString("xgboost", "data")
		if format == "json" || filepath.Ext(data) == ".json" {
			return newXGBRuntime(filepath.Join(m.Dir, data))
		}
	}
	if _, ok := mm.Flavor("python_function"); ok {
		return newPythonRuntime(m, o)
	}
	if _, ok := mm.Flavor("sklearn"); ok {
		return newPythonRuntime(m, o)
	}
	if _, ok := mm.Flavor("onnx"); ok {
		return nil, errs.E(errs.Unavailable, "ONNXRUNTIME_MISSING", "model %s v%s is an ONNX model but no ONNX Runtime library is configured: set LAKEBOX_ONNXRUNTIME_LIB to libonnxruntime.so.1", m.EntityName, m.Version)
	}
	var fl []string
	for k := range mm.Flavors {
		fl = append(fl, k)
	}
	return nil, errs.E(errs.Invalid, "UNSUPPORTED_MODEL", "model %s v%s has flavors %v; servable flavors are onnx, xgboost (JSON), sklearn and python_function", m.EntityName, m.Version, fl)
}

// xgbRuntime serves an XGBoost JSON model in-process. Replicas share the
// immutable model.
type xgbRuntime struct{ m *XGBModel }

func newXGBRuntime(path string) (Runtime, error) {
	m, err := LoadXGBoost(path)
	if err != nil {
		return nil, err
	}
	return &xgbRuntime{m: m}, nil
}

func (r *xgbRuntime) Kind() string   { return "xgboost" }
func (r *xgbRuntime) Batching() bool { return false }
func (r *xgbRuntime) Slots() int     { return 4 }
func (r *xgbRuntime) NewReplica(ctx context.Context) (Replica, error) {
	return xgbReplica{r.m}, nil
}

type xgbReplica struct{ m *XGBModel }

func (x xgbReplica) Predict(ctx context.Context, f *Frame) (any, error) {
	mat, err := f.floatMatrix(x.m.NumFeatures())
	if err != nil {
		return nil, err
	}
	return x.m.Predict(mat), nil
}
func (xgbReplica) Ping(context.Context) error { return nil }
func (xgbReplica) Close() error               { return nil }
