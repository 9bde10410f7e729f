package serving

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

//go:embed worker.py
var workerScript []byte

// pythonRuntime runs a model in Python worker processes (one process per
// replica), each speaking length-prefixed JSON over stdin/stdout.
type pythonRuntime struct {
	m      *ResolvedModel
	o      RuntimeOptions
	script string
	load   map[string]any
}

func newPythonRuntime(m *ResolvedModel, o RuntimeOptions) (Runtime, error) {
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	if _, err := os.Stat(o.Python); err != nil {
		return nil, errs.E(errs.Unavailable, "PYTHON_MISSING", "model %s v%s needs Python workers but %s does not exist (set LAKEBOX_PYTHON)", m.EntityName, m.Version, o.Python)
	}
	dir := o.WorkerDir
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "lakebox_worker.py")
	if b, err := os.ReadFile(script); err != nil || string(b) != string(workerScript) {
		tmp := fmt.Sprintf("%s.%d.tmp", script, os.Getpid())
		if err := os.WriteFile(tmp, workerScript, 0o640); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, script); err != nil {
			return nil, err
		}
	}
	load := map[string]any{"op": "load", "dir": m.Dir, "env": o.Env}
	mm := m.MLmodel
	if p := mm.FlavorString("sklearn", "pickled_model"); p != "" {
		load["loader"] = "pickle"
		load["path"] = p
		load["serialization"] = mm.FlavorString("sklearn", "serialization_format")
		load["method"] = "predict"
		if _, ok := mm.Flavor("python_function"); ok {
			load["loader"] = "pyfunc"
		}
	} else if p := mm.FlavorString("python_function", "model_path"); p != "" {
		load["loader"] = "pyfunc"
		load["path"] = p
	} else {
		load["loader"] = "pyfunc"
		load["path"] = "model.pkl"
	}
	return &pythonRuntime{m: m, o: o, script: script, load: load}, nil
}

func (r *pythonRuntime) Kind() string   { return "python" }
func (r *pythonRuntime) Batching() bool { return true }
func (r *pythonRuntime) Slots() int     { return 1 }

func (r *pythonRuntime) NewReplica(ctx context.Context) (Replica, error) {
	cmd := exec.Command(r.o.Python, "-u", r.script)
	cmd.Env = os.Environ()
	// One BLAS/OpenMP thread per worker: parallelism comes from replicas,
	// and spinning BLAS threads of several workers starve each other and
	// the server on small machines. The process or entity env may override.
	for _, k := range []string{"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"} {
		if _, ok := os.LookupEnv(k); !ok {
			cmd.Env = append(cmd.Env, k+"=1")
		}
	}
	for k, v := range r.o.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, errs.Wrap(errs.Unavailable, "WORKER_START_FAILED", err, "cannot start Python worker %s", r.o.Python)
	}
	w := &pyWorker{cmd: cmd, in: stdin, out: bufio.NewReader(stdout), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if r.o.LogSink != nil {
				r.o.LogSink(fmt.Sprintf("[pid %d] %s", cmd.Process.Pid, sc.Text()))
			}
		}
	}()
	go func() { cmd.Wait(); close(w.done) }()
	lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var resp struct {
		OK     bool   `json:"ok"`
		Error  string `json:"error"`
		Loader string `json:"loader"`
	}
	if err := w.call(lctx, r.load, &resp); err != nil {
		w.Close()
		return nil, err
	}
	if !resp.OK {
		w.Close()
		return nil, errs.E(errs.Invalid, "MODEL_LOAD_FAILED", "Python worker cannot load model %s v%s: %s", r.m.EntityName, r.m.Version, resp.Error)
	}
	return w, nil
}

type pyWorker struct {
	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	done chan struct{}
	dead bool
}

// Pid returns the worker's process id.
func (w *pyWorker) Pid() int { return w.cmd.Process.Pid }

func (w *pyWorker) died(err error) error {
	w.dead = true
	w.cmd.Process.Kill()
	return errs.Wrap(errs.Unavailable, "WORKER_DIED", err, "the Python worker (pid %d) died", w.cmd.Process.Pid)
}

// call sends one message and decodes the answer. A context that ends
// mid-call kills the worker (its stream would be out of step).
func (w *pyWorker) call(ctx context.Context, msg any, out any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dead {
		return errs.E(errs.Unavailable, "WORKER_DIED", "the Python worker (pid %d) is dead", w.cmd.Process.Pid)
	}
	b, ok := msg.(json.RawMessage) // already encoded (appendPredictMsg)
	if !ok {
		var err error
		if b, err = json.Marshal(msg); err != nil {
			return errs.Wrap(errs.Invalid, "BAD_REQUEST", err, "cannot encode the request for the Python worker")
		}
	}
	type result struct {
		data []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(b)))
		if _, err := w.in.Write(append(hdr[:], b...)); err != nil {
			ch <- result{err: err}
			return
		}
		if _, err := io.ReadFull(w.out, hdr[:]); err != nil {
			ch <- result{err: err}
			return
		}
		data := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		_, err := io.ReadFull(w.out, data)
		ch <- result{data, err}
	}()
	select {
	case res := <-ch:
		if res.err != nil {
			return w.died(res.err)
		}
		if err := json.Unmarshal(res.data, out); err != nil {
			return w.died(err)
		}
		return nil
	case <-ctx.Done():
		w.died(ctx.Err())
		<-ch
		return errs.Wrap(errs.Canceled, "REQUEST_TIMEOUT", ctx.Err(), "the model did not answer in time")
	}
}

func (w *pyWorker) Predict(ctx context.Context, f *Frame) (any, error) {
	var resp struct {
		OK          bool            `json:"ok"`
		Kind        string          `json:"kind"`
		Error       string          `json:"error"`
		Predictions json.RawMessage `json:"predictions"`
	}
	var msg any
	if b, ok := appendPredictMsg(make([]byte, 0, 64+len(f.Rows)*len(f.Columns)*20), f); ok {
		msg = json.RawMessage(b)
	} else {
		m := map[string]any{"op": "predict", "columns": f.Columns, "data": f.Rows}
		if len(f.Params) > 0 {
			m["params"] = f.Params
		}
		msg = m
	}
	if err := w.call(ctx, msg, &resp); err != nil {
		return nil, err
	}
	if !resp.OK {
		if resp.Kind == "invalid" {
			return nil, errs.E(errs.Invalid, "BAD_REQUEST", "the model rejected the input: %s", resp.Error)
		}
		return nil, errs.E(errs.Internal, "MODEL_ERROR", "the model failed: %s", resp.Error)
	}
	var preds any
	if err := json.Unmarshal(resp.Predictions, &preds); err != nil {
		return nil, err
	}
	return preds, nil
}

func (w *pyWorker) Ping(ctx context.Context) error {
	var resp struct {
		OK bool `json:"ok"`
	}
	return w.call(ctx, map[string]any{"op": "ping"}, &resp)
}

func (w *pyWorker) Close() error {
	w.in.Close()
	select {
	case <-w.done:
	case <-time.After(2 * time.Second):
		w.cmd.Process.Kill()
		<-w.done
	}
	return nil
}

// appendPredictMsg encodes a predict message without reflection for the
// common frame (numbers, booleans and nulls, no params); ok is false for
// anything else (the caller uses encoding/json).
func appendPredictMsg(b []byte, f *Frame) ([]byte, bool) {
	if len(f.Params) > 0 {
		return nil, false
	}
	b = append(b, `{"op":"predict","columns":`...)
	if f.Columns == nil {
		b = append(b, "null"...)
	} else {
		cols, err := json.Marshal(f.Columns)
		if err != nil {
			return nil, false
		}
		b = append(b, cols...)
	}
	b = append(b, `,"data":[`...)
	for i, r := range f.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, v := range r {
			if j > 0 {
				b = append(b, ',')
			}
			switch x := v.(type) {
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, false
				}
				b = strconv.AppendFloat(b, x, 'g', -1, 64)
			case bool:
				b = strconv.AppendBool(b, x)
			case nil:
				b = append(b, "null"...)
			default:
				return nil, false
			}
		}
		b = append(b, ']')
	}
	return append(b, "]}"...), true
}
