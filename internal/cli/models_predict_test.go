package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/delta"
)

type predictExpected struct {
	Columns []string    `json:"columns"`
	X       [][]float64 `json:"X"`
	V1      []float64   `json:"v1"`
	V2      []float64   `json:"v2"`
}

// trainSklearn runs the app tests' training script with the real Python:
// two LogisticRegression versions as MLflow model directories.
func trainSklearn(t *testing.T) (string, predictExpected) {
	t.Helper()
	out := t.TempDir()
	py := "/usr/bin/python3"
	if p := os.Getenv("LAKEBOX_PYTHON"); p != "" {
		py = p
	}
	if b, err := exec.Command(py, "../app/testdata/sklearn_versions.py", out).CombinedOutput(); err != nil {
		if os.Getenv("LAKEBOX_REQUIRE_SERVICES") != "" {
			t.Fatalf("sklearn_versions.py: %v\n%s", err, b)
		}
		t.Skipf("Python sklearn toolchain unavailable: %v\n%s", err, b)
	}
	var exp predictExpected
	b, err := os.ReadFile(filepath.Join(out, "expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &exp))
	return out, exp
}

var predictSchema = &delta.StructType{Fields: []*delta.StructField{
	{Name: "id", Type: delta.TypeLong, Nullable: false},
	{Name: "f0", Type: delta.TypeDouble, Nullable: true}, {Name: "f1", Type: delta.TypeDouble, Nullable: true},
	{Name: "f2", Type: delta.TypeDouble, Nullable: true}, {Name: "f3", Type: delta.TypeDouble, Nullable: true},
	{Name: "label", Type: delta.TypeString, Nullable: true},
}}

// appendInput appends n rows with ids from first; rows whose id is below
// len(exp.X) carry the expected test inputs.
func appendInput(t *testing.T, tbl *delta.Table, exp predictExpected, first, n int) {
	t.Helper()
	rows := make([]delta.Row, n)
	for i := range rows {
		id := first + i
		x := exp.X[id%len(exp.X)]
		rows[i] = delta.Row{int64(id), x[0], x[1], x[2], x[3], "row"}
	}
	_, err := tbl.Append(context.Background(), rows, delta.WriteOptions{})
	require.NoError(t, err)
}

func newInput(t *testing.T, dir string) *delta.Table {
	t.Helper()
	b, err := localfs.New(dir)
	require.NoError(t, err)
	tbl := delta.NewTable(b, "")
	_, err = tbl.CreateTable(context.Background(), delta.CreateTableOptions{Schema: predictSchema})
	require.NoError(t, err)
	return tbl
}

// readPredictions returns id → prediction of an output table and checks
// its schema is the input's plus a long prediction column.
func readPredictions(t *testing.T, dir string) (map[int64]int64, int64) {
	t.Helper()
	b, err := localfs.New(dir)
	require.NoError(t, err)
	snap, err := delta.NewTable(b, "").Latest(context.Background())
	require.NoError(t, err)
	s := snap.Schema()
	require.Len(t, s.Fields, 7)
	require.Equal(t, "prediction", s.Fields[6].Name)
	require.Equal(t, delta.TypeLong, s.Fields[6].Type)
	sc, err := snap.Scan(delta.ScanOptions{Columns: []string{"id", "prediction", "label"}})
	require.NoError(t, err)
	out := map[int64]int64{}
	var n int64
	require.NoError(t, sc.Rows(context.Background(), func(r delta.Row) error {
		n++
		out[r[0].(int64)] = r[1].(int64)
		require.Equal(t, "row", r[2])
		return nil
	}))
	return out, n
}

func TestModelsPredict(t *testing.T) {
	models, exp := trainSklearn(t)
	root := t.TempDir()
	mdir := filepath.Join(root, "main", "default", "churn")
	require.NoError(t, os.MkdirAll(mdir, 0o750))
	require.NoError(t, os.Symlink(filepath.Join(models, "v1"), filepath.Join(mdir, "1")))
	require.NoError(t, os.Symlink(filepath.Join(models, "v2"), filepath.Join(mdir, "2")))
	require.NoError(t, os.WriteFile(filepath.Join(mdir, "aliases.json"), []byte(`{"champion":"1"}`), 0o640))
	vars := map[string]string{"HOME": t.TempDir(), "LAKEBOX_SERVING_MODELS_DIR": root}
	checkPreds := func(t *testing.T, preds map[int64]int64, want []float64, n int) {
		t.Helper()
		require.Len(t, preds, n, "every input row once")
		for id := range int64(n) {
			require.Equal(t, int64(want[id%int64(len(want))]), preds[id], "row %d", id)
		}
	}

	t.Run("Batch", func(t *testing.T) {
		in := filepath.Join(t.TempDir(), "in")
		out := filepath.Join(t.TempDir(), "out")
		appendInput(t, newInput(t, in), exp, 0, 2500)
		code, stdout, stderr := run(t, vars, "", "models", "predict", "main.default.churn/1", "--input", in, "--output", "file://"+out, "-o", "json")
		require.Equal(t, 0, code, stderr)
		var sum predictSummary
		require.NoError(t, json.Unmarshal([]byte(stdout), &sum), stdout)
		require.Equal(t, int64(2500), sum.Rows)
		require.Equal(t, int64(3), sum.Batches, "1,024 rows per model call")
		require.Equal(t, "python", sum.Runtime)
		require.Contains(t, stderr, "rows/s")
		preds, n := readPredictions(t, out)
		require.Equal(t, int64(2500), n)
		checkPreds(t, preds, exp.V1, 2500)
	})

	t.Run("StreamExactlyOnce", func(t *testing.T) {
		in := filepath.Join(t.TempDir(), "in")
		out := filepath.Join(t.TempDir(), "out")
		tbl := newInput(t, in)
		appendInput(t, tbl, exp, 0, 1500)
		args := []string{"models", "predict", "main.default.churn@champion", "--input", in, "--output", out, "--stream", "--once", "-o", "json"}
		runOnce := func() predictSummary {
			code, stdout, stderr := run(t, vars, "", args...)
			require.Equal(t, 0, code, stderr)
			var sum predictSummary
			require.NoError(t, json.Unmarshal([]byte(stdout), &sum), stdout)
			return sum
		}
		sum := runOnce()
		require.Equal(t, int64(1500), sum.Rows)
		require.Equal(t, int64(1), sum.InputVersion)
		// Two more input versions: only their rows are scored.
		appendInput(t, tbl, exp, 1500, 300)
		appendInput(t, tbl, exp, 1800, 200)
		sum = runOnce()
		require.Equal(t, int64(500), sum.Rows)
		require.Equal(t, int64(3), sum.InputVersion)
		// Nothing new: nothing scored, nothing committed.
		sum = runOnce()
		require.Equal(t, int64(0), sum.Rows)
		require.Equal(t, 0, sum.Commits)
		preds, n := readPredictions(t, out)
		require.Equal(t, int64(2000), n)
		checkPreds(t, preds, exp.V1, 2000)
		// The progress is the txn in the output's log.
		b, err := localfs.New(out)
		require.NoError(t, err)
		snap, err := delta.NewTable(b, "").Latest(context.Background())
		require.NoError(t, err)
		require.Len(t, snap.Transactions(), 1)
		for _, txn := range snap.Transactions() {
			require.Equal(t, int64(3), txn.Version)
		}
		// The alias moves: the same query continues with version 2.
		require.NoError(t, os.WriteFile(filepath.Join(mdir, "aliases.json"), []byte(`{"champion":"2"}`), 0o640))
		appendInput(t, tbl, exp, 2000, 16)
		sum = runOnce()
		require.Equal(t, int64(16), sum.Rows)
		require.Equal(t, "2", sum.ModelVersion)
		preds, _ = readPredictions(t, out)
		for id := int64(2000); id < 2016; id++ {
			require.Equal(t, int64(exp.V2[id%16]), preds[id])
		}
		require.NoError(t, os.WriteFile(filepath.Join(mdir, "aliases.json"), []byte(`{"champion":"1"}`), 0o640))
	})

	t.Run("ErrBadInput", func(t *testing.T) {
		code, _, stderr := run(t, vars, "", "models", "predict", "main.default.churn", "--input", "x", "--output", "y")
		require.Equal(t, 2, code)
		require.Contains(t, stderr, "catalog.schema.model@alias")
		code, _, stderr = run(t, vars, "", "models", "predict", "main.default.churn/1", "--output", "y")
		require.Equal(t, 2, code)
		require.Contains(t, stderr, "--input and --output are required")
		code, _, stderr = run(t, vars, "", "models", "predict", "main.default.churn/1", "--input", t.TempDir(), "--output", filepath.Join(t.TempDir(), "o"))
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "not a Delta table")
	})

	t.Run("Registry", func(t *testing.T) {
		srv := apptest.New(t, "SQLite")
		ctx := context.Background()
		c := srv.Admin
		const model = "main.default.churn_lr"
		expID, err := c.CreateExperiment(ctx, "churn")
		require.NoError(t, err)
		run1, err := c.CreateRun(ctx, expID, "train")
		require.NoError(t, err)
		artRoot := strings.TrimPrefix(run1.Info.ArtifactURI, "mlflow-artifacts:/")
		for _, f := range []string{"MLmodel", "model.pkl"} {
			b, err := os.ReadFile(filepath.Join(models, "v1", f))
			require.NoError(t, err)
			require.NoError(t, c.UploadArtifact(ctx, artRoot+"/model/"+f, b))
		}
		require.NoError(t, c.MLflow(ctx, "POST", "registered-models/create", map[string]any{"name": model}, nil))
		require.NoError(t, c.MLflow(ctx, "POST", "model-versions/create", map[string]any{"name": model, "source": "runs:/" + run1.Info.RunID + "/model", "run_id": run1.Info.RunID}, nil))
		require.NoError(t, c.MLflow(ctx, "POST", "registered-models/alias", map[string]any{"name": model, "alias": "champion", "version": "1"}, nil))
		home := t.TempDir()
		rvars := map[string]string{"HOME": home, "LAKEBOX_HOST": srv.URL, "LAKEBOX_TOKEN": apptest.AdminToken}
		in := filepath.Join(t.TempDir(), "in")
		out := filepath.Join(t.TempDir(), "out")
		appendInput(t, newInput(t, in), exp, 0, 100)
		code, stdout, stderr := run(t, rvars, "", "models", "predict", model+"@champion", "--input", in, "--output", out, "-o", "json")
		require.Equal(t, 0, code, stderr)
		var sum predictSummary
		require.NoError(t, json.Unmarshal([]byte(stdout), &sum), stdout)
		require.Equal(t, "1", sum.ModelVersion)
		preds, n := readPredictions(t, out)
		require.Equal(t, int64(100), n)
		checkPreds(t, preds, exp.V1, 100)
		cached, _ := filepath.Glob(filepath.Join(home, ".lakebox", "cache", "models", model, "1-*", "model.pkl"))
		require.Len(t, cached, 1)
	})
}
