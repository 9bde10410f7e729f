package serving

import (
	"context"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/lakebox/lakebox/internal/errs"
)

// ONNX Runtime's environment is process-wide (one shared library, one
// OrtEnv), so it is initialised once per process; the first configured
// library path wins.
var (
	ortOnce sync.Once
	ortErr  error
)

func initORT(lib string) error {
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(); err != nil {
			ortErr = errs.Wrap(errs.Unavailable, "ONNXRUNTIME_MISSING", err, "cannot load ONNX Runtime from %s (LAKEBOX_ONNXRUNTIME_LIB)", lib)
		}
	})
	return ortErr
}

type onnxRuntime struct {
	path    string
	input   string
	outputs []string
	width   int
}

func newONNXRuntime(path string, sig *Signature, o RuntimeOptions) (Runtime, error) {
	if err := initORT(o.ONNXRuntimeLib); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "INVALID_MODEL", err, "cannot read ONNX model %s", path)
	}
	if len(ins) != 1 || ins[0].DataType != ort.TensorElementDataTypeFloat || len(ins[0].Dimensions) != 2 {
		return nil, errs.E(errs.Invalid, "UNSUPPORTED_MODEL", "ONNX model %s: only models with one float32 input of shape [batch, features] are served; it has %d inputs", path, len(ins))
	}
	r := &onnxRuntime{path: path, input: ins[0].Name, width: int(ins[0].Dimensions[1])}
	if r.width <= 0 {
		r.width = len(sig.columnNames())
	}
	for _, o := range outs {
		if o.OrtValueType != ort.ONNXTypeTensor || o.DataType != ort.TensorElementDataTypeFloat {
			return nil, errs.E(errs.Invalid, "UNSUPPORTED_MODEL", "ONNX model %s: output %q is not a float32 tensor", path, o.Name)
		}
		r.outputs = append(r.outputs, o.Name)
	}
	return r, nil
}

func (r *onnxRuntime) Kind() string   { return "onnx" }
func (r *onnxRuntime) Batching() bool { return true }
func (r *onnxRuntime) Slots() int     { return 2 }

func (r *onnxRuntime) NewReplica(ctx context.Context) (Replica, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	opts.SetIntraOpNumThreads(1)
	opts.SetInterOpNumThreads(1)
	s, err := ort.NewDynamicAdvancedSession(r.path, []string{r.input}, r.outputs, opts)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "INVALID_MODEL", err, "cannot load ONNX model %s", r.path)
	}
	return &onnxReplica{rt: r, s: s}, nil
}

type onnxReplica struct {
	rt *onnxRuntime
	s  *ort.DynamicAdvancedSession
}

func (o *onnxReplica) Predict(ctx context.Context, f *Frame) (any, error) {
	mat, err := f.floatMatrix(o.rt.width)
	if err != nil {
		return nil, err
	}
	n := len(f.Rows)
	if n == 0 {
		return []any{}, nil
	}
	in, err := ort.NewTensor(ort.NewShape(int64(n), int64(o.rt.width)), mat)
	if err != nil {
		return nil, err
	}
	defer in.Destroy()
	outs := make([]ort.Value, len(o.rt.outputs))
	if err := o.s.Run([]ort.Value{in}, outs); err != nil {
		return nil, errs.Wrap(errs.Internal, "", err, "onnx run")
	}
	cols := make([][]any, len(outs))
	for i, v := range outs {
		t := v.(*ort.Tensor[float32])
		cols[i] = rowsOf(t.GetData(), t.GetShape(), n)
		v.Destroy()
	}
	if len(cols) == 1 {
		return cols[0], nil
	}
	recs := make([]any, n)
	for r := range n {
		m := make(map[string]any, len(cols))
		for i, name := range o.rt.outputs {
			m[name] = cols[i][r]
		}
		recs[r] = m
	}
	return recs, nil
}

// rowsOf splits a [n, ...] tensor into n rows (scalars for one value per
// row, lists otherwise).
func rowsOf(data []float32, shape ort.Shape, n int) []any {
	out := make([]any, n)
	per := len(data) / max(n, 1)
	for r := range n {
		if per == 1 {
			out[r] = []any{float64(data[r])}
			continue
		}
		row := make([]any, per)
		for i := range per {
			row[i] = float64(data[r*per+i])
		}
		out[r] = row
	}
	_ = shape
	return out
}

func (o *onnxReplica) Ping(context.Context) error { return nil }
func (o *onnxReplica) Close() error               { return o.s.Destroy() }
