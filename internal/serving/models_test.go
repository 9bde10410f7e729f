package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Test models are built once per test binary by testdata/make_models.py with
// Debian's /usr/bin/python3 (sklearn, onnx, xgboost): real MLflow model
// directories, not fakes.
var (
	modelsDir string
	modelsErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lakebox-serving-models-")
	if err != nil {
		panic(err)
	}
	modelsDir = dir
	if env := os.Getenv("LAKEBOX_TEST_MODELS"); env != "" {
		modelsDir = env // reuse a built set (benchmarks)
	} else {
		out, err := exec.Command(pythonPath(), "testdata/make_models.py", dir).CombinedOutput()
		if err != nil {
			modelsErr = fmt.Errorf("make_models.py: %v\n%s", err, out)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func pythonPath() string {
	if p := os.Getenv("LAKEBOX_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// requireModels skips (or fails under LAKEBOX_REQUIRE_SERVICES) when the
// Python model toolchain is missing.
func requireModels(tb testing.TB) string {
	tb.Helper()
	if modelsErr != nil {
		if os.Getenv("LAKEBOX_REQUIRE_SERVICES") != "" {
			tb.Fatalf("test models unavailable: %v", modelsErr)
		}
		tb.Skipf("test models unavailable (apt-get install python3-sklearn python3-pandas python3-onnx python3-xgboost): %v", modelsErr)
	}
	return modelsDir
}

func onnxLib(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("LAKEBOX_ONNXRUNTIME_LIB"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache/lakebox/onnxruntime-1.30.0/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("LAKEBOX_REQUIRE_SERVICES") != "" {
			tb.Fatalf("libonnxruntime.so.1 not found: set LAKEBOX_ONNXRUNTIME_LIB")
		}
		tb.Skip("libonnxruntime.so.1 not found: set LAKEBOX_ONNXRUNTIME_LIB (scripts/test.sh installs it)")
	}
	return p
}

type expectedSet struct {
	Columns  []string    `json:"columns"`
	X        [][]float64 `json:"X"`
	XMissing [][]any     `json:"X_missing"`
	LR       []float64   `json:"lr"`
	RF       []float64   `json:"rf"`
	ONNX     [][]float64 `json:"onnx_lr"`
	XGBBin   []float64   `json:"xgb_bin"`
	XGBReg   []float64   `json:"xgb_reg"`
	XGBMulti [][]float64 `json:"xgb_multi"`
	LRv2     []float64   `json:"lr_v2"`
}

func loadExpected(tb testing.TB) *expectedSet {
	dir := requireModels(tb)
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	require.NoError(tb, err)
	var e expectedSet
	require.NoError(tb, json.Unmarshal(b, &e))
	return &e
}

// newModelTree lays the built models out as a DirSource registry:
// main.default.<name> version 1 (and main.default.lr version 2 = lr_v2).
func newModelTree(tb testing.TB) *DirSource {
	dir := requireModels(tb)
	root := tb.TempDir()
	link := func(name, model, version string) {
		d := filepath.Join(root, "main", "default", name)
		require.NoError(tb, os.MkdirAll(d, 0o750))
		require.NoError(tb, os.Symlink(filepath.Join(dir, model), filepath.Join(d, version)))
	}
	for _, n := range []string{"lr", "rf", "onnx_lr", "xgb_bin", "xgb_reg", "xgb_multi"} {
		link(n, n, "1")
	}
	link("lr", "lr_v2", "2")
	s := &DirSource{Root: root}
	require.NoError(tb, s.SetAlias("main.default.lr", "champion", "1"))
	return s
}

func frameOf(cols []string, rows [][]float64) *Frame {
	f := &Frame{Columns: cols}
	for _, r := range rows {
		row := make([]any, len(r))
		for i, v := range r {
			row[i] = v
		}
		f.Rows = append(f.Rows, row)
	}
	return f
}

func openReplica(tb testing.TB, src *DirSource, name string) (Runtime, Replica) {
	tb.Helper()
	m, err := src.Resolve(context.Background(), "main.default."+name, "1", "")
	require.NoError(tb, err)
	rt, err := OpenRuntime(m, "", RuntimeOptions{ONNXRuntimeLib: onnxLib(tb), Python: pythonPath(), WorkerDir: tb.TempDir()})
	require.NoError(tb, err)
	r, err := rt.NewReplica(context.Background())
	require.NoError(tb, err)
	tb.Cleanup(func() { r.Close() })
	return rt, r
}
