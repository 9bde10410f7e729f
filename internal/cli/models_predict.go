package cli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/artifact"
	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/serving"
)

// addModelsPredict attaches `predict` to the `models` command group,
// creating the group when no other command has.
func addModelsPredict(root *cobra.Command, g *globals) {
	for _, c := range root.Commands() {
		if c.Name() == "models" {
			c.AddCommand(newModelsPredictCmd(g))
			return
		}
	}
	models := &cobra.Command{Use: "models", Short: "Registered models: batch and streaming scoring", Args: noArgs}
	models.AddCommand(newModelsPredictCmd(g))
	root.AddCommand(models)
}

// predictOptions are the flags of `lakebox models predict`.
type predictOptions struct {
	input, output string
	stream, once  bool
	interval      time.Duration
	checkpoint    string
	batch         int
	modelsDir     string
	columns       string
	predCol       string
	format        string
}

func newModelsPredictCmd(g *globals) *cobra.Command {
	var o predictOptions
	cmd := &cobra.Command{
		Use:   "predict MODEL --input INPUT --output OUTPUT",
		Short: "Score a Delta table with a registered model (batch, or streaming with exactly-once progress)",
		Long: `Score the rows of the INPUT Delta table with MODEL and append them, with a
prediction column, to the OUTPUT Delta table (created when missing).

MODEL is catalog.schema.model@alias or catalog.schema.model/VERSION. It is
resolved by the server's model registry (needs EXECUTE on the model) and its
artifacts are cached under ~/.lakebox/cache/models; with --models-dir (or
LAKEBOX_SERVING_MODELS_DIR) it is read from a directory laid out as
<dir>/<catalog>/<schema>/<model>/<version>/MLmodel (aliases.json for aliases).
The model runs in the same runtimes as model serving (Python workers for
sklearn/pyfunc, in-process ONNX and XGBoost), --batch-size rows per call.

INPUT and OUTPUT are a local directory, a file:// URL, an s3:// URL (see
'lakebox delta scan --help') or a three-level table name resolved through
the catalog of the configured server.

Without --stream the whole latest version of INPUT is scored once and
appended. With --stream only what INPUT gained since the last run is scored
(the files added by later commits, read through the change data feed), and
the last input version scored is committed in OUTPUT's Delta log as an
application transaction (txn) atomically with the rows: a run that stops at
any point resumes exactly once. --stream polls every --interval until
interrupted (Ctrl-C); with --once it scores what is there and exits.`,
		Args: exactArgs(1, "MODEL"),
		RunE: func(c *cobra.Command, args []string) error {
			if o.input == "" || o.output == "" {
				return usagef("--input and --output are required")
			}
			if o.batch <= 0 {
				return usagef("--batch-size must be positive")
			}
			if o.once && !o.stream {
				return usagef("--once goes with --stream")
			}
			// --output names the output table here; the global output
			// format is -o / --output-format.
			if o.format != "table" && o.format != "json" {
				return usagef("invalid -o %q: use table or json", o.format)
			}
			g.output = o.format
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runPredict(ctx, g, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.input, "input", "", "input Delta table: path, file://, s3:// URL or catalog.schema.table")
	f.StringVar(&o.output, "output", "", "output Delta table: path, file://, s3:// URL or catalog.schema.table")
	f.BoolVar(&o.stream, "stream", false, "score new versions of the input incrementally, resuming where the last run stopped")
	f.BoolVar(&o.once, "once", false, "with --stream: score what is there, then exit")
	f.DurationVar(&o.interval, "interval", 10*time.Second, "with --stream: how often to look for new input versions")
	f.StringVar(&o.checkpoint, "checkpoint", "", "directory keeping this query's id (default: an id derived from the input and the model name)")
	f.IntVar(&o.batch, "batch-size", 1024, "rows per model call")
	f.StringVar(&o.modelsDir, "models-dir", "", "read models from this directory instead of the server's registry (env LAKEBOX_SERVING_MODELS_DIR)")
	f.StringVar(&o.columns, "columns", "", "comma-separated input columns passed to the model (default: all, or the model signature's)")
	f.StringVar(&o.predCol, "prediction-column", "prediction", "name of the output's prediction column")
	f.StringVarP(&o.format, "output-format", "o", "table", "summary format: table or json")
	return cmd
}

// predictSummary is the result of one run (-o json prints it).
type predictSummary struct {
	Model         string  `json:"model"`
	ModelVersion  string  `json:"model_version"`
	Runtime       string  `json:"runtime"`
	QueryID       string  `json:"query_id"`
	InputVersion  int64   `json:"input_version"`
	OutputVersion int64   `json:"output_version"`
	Rows          int64   `json:"rows"`
	Batches       int64   `json:"batches"`
	Commits       int     `json:"commits"`
	Seconds       float64 `json:"seconds"`
	RowsPerSecond float64 `json:"rows_per_second"`
}

func runPredict(ctx context.Context, g *globals, ref string, o predictOptions) error {
	name, version, alias, err := serving.ParseModelRef(ref)
	if err != nil {
		return usageError{err}
	}
	var cl *client.Client
	needClient := func() (*client.Client, error) {
		if cl == nil {
			c, err := g.client()
			if err != nil {
				return nil, err
			}
			cl = c
		}
		return cl, nil
	}
	var src serving.ModelSource
	if dir := firstNonEmpty(o.modelsDir, g.env.Getenv("LAKEBOX_SERVING_MODELS_DIR")); dir != "" {
		src = &serving.DirSource{Root: dir}
	} else {
		c, err := needClient()
		if err != nil {
			return err
		}
		src = &clientModelSource{c: c, cacheDir: filepath.Join(g.env.Home, ".lakebox", "cache", "models")}
	}
	m, err := src.Resolve(ctx, name, version, alias)
	if err != nil {
		return err
	}
	in, closeIn, err := openPredictTable(ctx, g, needClient, o.input, false)
	if err != nil {
		return fmt.Errorf("--input: %w", err)
	}
	defer closeIn()
	out, closeOut, err := openPredictTable(ctx, g, needClient, o.output, true)
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	defer closeOut()
	queryID, err := predictQueryID(o, name)
	if err != nil {
		return err
	}
	rt, err := serving.OpenRuntime(m, "", serving.RuntimeOptions{ONNXRuntimeLib: g.env.Getenv("LAKEBOX_ONNXRUNTIME_LIB"),
		Python: g.env.Getenv("LAKEBOX_PYTHON"), WorkerDir: filepath.Join(g.env.Home, ".lakebox", "cache", "worker"),
		LogSink: func(line string) { fmt.Fprintln(g.env.Stderr, line) }})
	if err != nil {
		return err
	}
	rep, err := rt.NewReplica(ctx)
	if err != nil {
		return err
	}
	defer rep.Close()
	p := &predictor{g: g, o: o, m: m, rep: rep, in: in, out: out, appID: queryID,
		sum: predictSummary{Model: m.EntityName, ModelVersion: m.Version, Runtime: rt.Kind(), QueryID: queryID, InputVersion: -1, OutputVersion: -1}}
	if o.columns != "" {
		for _, c := range strings.Split(o.columns, ",") {
			p.cols = append(p.cols, strings.TrimSpace(c))
		}
	}
	fmt.Fprintf(g.env.Stderr, "model %s version %s (%s runtime), query %s\n", m.EntityName, m.Version, rt.Kind(), queryID)
	t0 := time.Now()
	for {
		err := p.step(ctx)
		if err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
			return err
		}
		if !o.stream || o.once || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(o.interval):
		}
		if ctx.Err() != nil {
			break
		}
	}
	p.sum.Seconds = time.Since(t0).Seconds()
	if p.sum.Seconds > 0 {
		p.sum.RowsPerSecond = float64(p.sum.Rows) / p.sum.Seconds
	}
	return g.emit(p.sum, func() *table {
		t := &table{header: []string{"MODEL", "VERSION", "ROWS", "INPUT_VERSION", "OUTPUT_VERSION", "ROWS/S"}}
		t.add(p.sum.Model, p.sum.ModelVersion, p.sum.Rows, p.sum.InputVersion, p.sum.OutputVersion, fmt.Sprintf("%.0f", p.sum.RowsPerSecond))
		return t
	})
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// predictQueryID is the txn appId of this query: from --checkpoint (created
// there on first use) or derived from the input and the model name (not
// its version: a moved alias continues the same query).
func predictQueryID(o predictOptions, model string) (string, error) {
	if o.checkpoint == "" {
		sum := sha256.Sum256([]byte(o.input + "\x00" + model))
		return "lakebox-models-predict-" + hex.EncodeToString(sum[:8]), nil
	}
	if err := os.MkdirAll(o.checkpoint, 0o750); err != nil {
		return "", err
	}
	p := filepath.Join(o.checkpoint, "query_id")
	if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	var b [8]byte
	rand.Read(b[:])
	id := "lakebox-models-predict-" + hex.EncodeToString(b[:])
	if err := os.WriteFile(p+".tmp", []byte(id+"\n"), 0o640); err != nil {
		return "", err
	}
	return id, os.Rename(p+".tmp", p)
}

var tableNameRE = regexp.MustCompile(`^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$`)

// openPredictTable opens a table by path or URL, or by three-level name
// through the catalog API (a name that is not an existing local path).
func openPredictTable(ctx context.Context, g *globals, cl func() (*client.Client, error), p string, create bool) (*delta.Table, func(), error) {
	if tableNameRE.MatchString(p) {
		if _, err := os.Stat(p); err != nil {
			c, err := cl()
			if err != nil {
				return nil, nil, err
			}
			ti, err := c.GetTable(ctx, p)
			if err != nil {
				return nil, nil, err
			}
			if ti.StorageLocation == "" {
				return nil, nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "table %s has no storage location (views cannot be scored or written)", p)
			}
			p = ti.StorageLocation
		}
	}
	if create && !strings.HasPrefix(p, "s3://") {
		dir := strings.TrimPrefix(p, "file://")
		if strings.Contains(dir, "://") {
			return nil, nil, usagef("%q: accepted are local directories, file:// and s3:// URLs and catalog.schema.table names", p)
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, nil, err
		}
		b, err := localfs.New(dir)
		if err != nil {
			return nil, nil, err
		}
		return delta.NewTable(b, ""), func() { b.Close() }, nil
	}
	return openDeltaPath(ctx, g.env, p)
}

// predictor scores input versions into the output table.
type predictor struct {
	g     *globals
	o     predictOptions
	m     *serving.ResolvedModel
	rep   serving.Replica
	in    *delta.Table
	out   *delta.Table
	appID string
	cols  []string
	sum   predictSummary
}

// step scores what the input gained since the query's last committed
// input version (everything on the first run, or always without --stream)
// and commits it with the new txn version.
func (p *predictor) step(ctx context.Context) error {
	inSnap, err := p.in.Latest(ctx)
	if err != nil {
		return err
	}
	last := int64(-1)
	outSnap, err := p.out.Latest(ctx)
	switch {
	case err == nil:
		if v, ok := outSnap.AppTransactionVersion(p.appID); ok && p.o.stream {
			last = v
		}
	case errs.Is(err, errs.NotFound):
		outSnap = nil
	default:
		return err
	}
	p.sum.InputVersion = inSnap.Version()
	if last >= inSnap.Version() {
		return nil // nothing new
	}
	inSchema := inSnap.Schema()
	if inSchema.Field(p.o.predCol) != nil {
		return usagef("the input already has a column %q; choose another with --prediction-column", p.o.predCol)
	}
	predType, err := p.predictionType(ctx, inSnap)
	if err != nil {
		return err
	}
	outSchema := &delta.StructType{Fields: append(append([]*delta.StructField{}, inSchema.Fields...), &delta.StructField{Name: p.o.predCol, Type: predType, Nullable: true})}
	if outSnap == nil {
		if outSnap, err = p.out.CreateTable(ctx, delta.CreateTableOptions{Schema: outSchema}); err != nil && !errs.Is(err, errs.AlreadyExists) {
			return fmt.Errorf("create output table: %w", err)
		}
		if outSnap, err = p.out.Latest(ctx); err != nil {
			return err
		}
	}
	txn, err := outSnap.StartTransaction(delta.TransactionOptions{})
	if err != nil {
		return err
	}
	if v, ok := txn.AppTransactionVersion(p.appID); ok && p.o.stream && v != last {
		return errs.E(errs.Conflict, "CONCURRENT_QUERY", "query %s moved on to input version %d meanwhile; is another run of it active?", p.appID, v)
	}
	// Rows: the whole snapshot on the first run, else the rows inserted by
	// the commits after last (only their added files are read).
	var each func(fn func(delta.Row) error) error
	n := len(inSchema.Fields)
	if last < 0 {
		sc, err := inSnap.Scan(delta.ScanOptions{})
		if err != nil {
			return err
		}
		each = func(fn func(delta.Row) error) error { return sc.Rows(ctx, fn) }
	} else {
		cf, err := p.in.ChangeDataFeed(ctx, last+1, inSnap.Version())
		if err != nil {
			return err
		}
		each = func(fn func(delta.Row) error) error {
			return cf.Rows(ctx, func(r delta.Row) error {
				if ct := r[n]; ct == "insert" || ct == "update_postimage" {
					return fn(r[:n])
				}
				return nil
			})
		}
	}
	t0 := time.Now()
	var rows, batches int64
	errStop := errors.New("stop")
	var seqErr error
	seq := func(yield func(delta.Row, error) bool) {
		var batch []delta.Row
		flush := func() bool {
			if len(batch) == 0 {
				return true
			}
			preds, err := p.predict(ctx, inSchema, batch)
			if err != nil {
				seqErr = err
				yield(nil, err)
				return false
			}
			batches++
			for i, r := range batch {
				out := make(delta.Row, n+1)
				copy(out, r)
				out[n] = convertPrediction(preds[i], predType)
				if !yield(out, nil) {
					return false
				}
			}
			rows += int64(len(batch))
			batch = batch[:0]
			return true
		}
		err := each(func(r delta.Row) error {
			batch = append(batch, append(delta.Row(nil), r...))
			if len(batch) >= p.o.batch && !flush() {
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			yield(nil, err)
			return
		}
		if err == nil {
			flush()
		}
	}
	if _, err := txn.WriteSeq(ctx, seq, delta.WriteOptions{Schema: outSchema}); err != nil {
		if seqErr != nil {
			return seqErr
		}
		return err
	}
	txn.SetTransaction(p.appID, inSnap.Version())
	res, err := txn.Commit(ctx, delta.Operation{Name: "WRITE", Parameters: map[string]any{"mode": "Append", "model": p.m.EntityName + "/" + p.m.Version, "query": p.appID}})
	if err != nil {
		return err
	}
	el := time.Since(t0)
	p.sum.Rows += rows
	p.sum.Batches += batches
	p.sum.Commits++
	p.sum.OutputVersion = res.Version
	from := "start"
	if last >= 0 {
		from = "v" + strconv.FormatInt(last+1, 10)
	}
	fmt.Fprintf(p.g.env.Stderr, "input %s..v%d → output v%d: %d rows in %s (%.0f rows/s)\n", from, inSnap.Version(), res.Version, rows, el.Round(time.Millisecond), float64(rows)/math.Max(el.Seconds(), 1e-9))
	return nil
}

// frame turns Delta rows into a scoring frame conformed to the model's
// signature (the serving path: Conform, then the replica).
func (p *predictor) frame(schema *delta.StructType, rows []delta.Row) (*serving.Frame, error) {
	f := &serving.Frame{Rows: make([][]any, len(rows))}
	idx := make([]int, 0, len(schema.Fields))
	if len(p.cols) > 0 {
		for _, c := range p.cols {
			i := schema.FieldIndex(c)
			if i < 0 {
				return nil, usagef("--columns: the input has no column %q", c)
			}
			idx = append(idx, i)
		}
	} else {
		for i := range schema.Fields {
			idx = append(idx, i)
		}
	}
	for _, i := range idx {
		f.Columns = append(f.Columns, schema.Fields[i].Name)
	}
	for r, row := range rows {
		vals := make([]any, len(idx))
		for j, i := range idx {
			vals[j] = frameValue(row[i])
		}
		f.Rows[r] = vals
	}
	if sig := p.m.MLmodel.Signature; sig != nil {
		return serving.Conform(f, sig)
	}
	return f, nil
}

func (p *predictor) predict(ctx context.Context, schema *delta.StructType, rows []delta.Row) ([]any, error) {
	f, err := p.frame(schema, rows)
	if err != nil {
		return nil, err
	}
	v, err := p.rep.Predict(ctx, f)
	if err != nil {
		return nil, err
	}
	preds, ok := v.([]any)
	if !ok || len(preds) != len(rows) {
		return nil, errs.E(errs.Invalid, "UNSUPPORTED_MODEL_OUTPUT", "model %s version %s returned %T for %d rows; batch scoring needs one prediction per row", p.m.EntityName, p.m.Version, v, len(rows))
	}
	return preds, nil
}

// predictionType is the Delta type of the prediction column: from the
// model signature's single output, else inferred from a one-row probe.
func (p *predictor) predictionType(ctx context.Context, snap *delta.Snapshot) (delta.DataType, error) {
	if sig := p.m.MLmodel.Signature; sig != nil && len(sig.Outputs) == 1 {
		switch sig.Outputs[0].Type {
		case "long":
			return delta.TypeLong, nil
		case "integer":
			return delta.TypeInteger, nil
		case "double":
			return delta.TypeDouble, nil
		case "float":
			return delta.TypeFloat, nil
		case "boolean":
			return delta.TypeBoolean, nil
		case "string":
			return delta.TypeString, nil
		}
	}
	sc, err := snap.Scan(delta.ScanOptions{})
	if err != nil {
		return nil, err
	}
	var probe []delta.Row
	errStop := errors.New("stop")
	if err := sc.Rows(ctx, func(r delta.Row) error {
		probe = append(probe, append(delta.Row(nil), r...))
		return errStop
	}); err != nil && err != errStop {
		return nil, err
	}
	if len(probe) == 0 {
		return delta.TypeDouble, nil
	}
	preds, err := p.predict(ctx, snap.Schema(), probe)
	if err != nil {
		return nil, err
	}
	switch preds[0].(type) {
	case float64:
		return delta.TypeDouble, nil
	case bool:
		return delta.TypeBoolean, nil
	}
	return delta.TypeString, nil
}

// frameValue converts a Delta value to the scoring frame's value model
// (float64 for numbers, as parsed from JSON).
func frameValue(v any) any {
	switch x := v.(type) {
	case nil, float64, string, bool:
		return x
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case delta.Decimal:
		f, _ := strconv.ParseFloat(x.String(), 64)
		return f
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// convertPrediction converts one prediction to the column's Go value.
func convertPrediction(v any, t delta.DataType) any {
	if v == nil {
		return nil
	}
	switch t {
	case delta.TypeLong, delta.TypeInteger, delta.TypeDouble, delta.TypeFloat:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case bool:
			if x {
				f = 1
			}
		case string:
			var err error
			if f, err = strconv.ParseFloat(x, 64); err != nil {
				return nil
			}
		default:
			return nil
		}
		switch t {
		case delta.TypeLong:
			return int64(math.Round(f))
		case delta.TypeInteger:
			return int32(math.Round(f))
		case delta.TypeFloat:
			return float32(f)
		}
		return f
	case delta.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x
		case float64:
			return x != 0
		}
		return nil
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// clientModelSource resolves models through the server's MLflow registry
// (which checks EXECUTE) and caches their artifacts locally, one directory
// per model version and artifact location.
type clientModelSource struct {
	c        *client.Client
	cacheDir string
}

// Resolve implements serving.ModelSource.
func (s *clientModelSource) Resolve(ctx context.Context, name, version, alias string) (*serving.ResolvedModel, error) {
	if version == "" {
		var out struct {
			ModelVersion struct {
				Version string `json:"version"`
			} `json:"model_version"`
		}
		if err := s.c.MLflow(ctx, "GET", "registered-models/alias", url.Values{"name": {name}, "alias": {alias}}, &out); err != nil {
			return nil, err
		}
		version = out.ModelVersion.Version
	}
	root, files, err := s.c.ResolveArtifactURI(ctx, "models:/"+name+"/"+version)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(s.c.Host + "\x00" + root))
	dir := filepath.Join(s.cacheDir, name, version+"-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "MLmodel")); err != nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
			return nil, err
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), ".download-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if err := s.download(ctx, root, "", files, tmp); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, dir); err != nil {
			if _, serr := os.Stat(filepath.Join(dir, "MLmodel")); serr != nil {
				return nil, err
			}
		}
	}
	m, err := serving.LoadMLmodel(dir)
	if err != nil {
		return nil, err
	}
	return &serving.ResolvedModel{EntityName: name, Version: version, Dir: dir, MLmodel: m}, nil
}

func (s *clientModelSource) download(ctx context.Context, root, rel string, files []artifact.FileInfo, dst string) error {
	for _, f := range files {
		name := path.Base(f.Path)
		if name == "." || name == ".." || name == "/" {
			continue
		}
		r := path.Join(rel, name)
		if f.IsDir {
			sub, err := s.c.ListArtifacts(ctx, root+"/"+r)
			if err != nil {
				return err
			}
			if err := s.download(ctx, root, r, sub, dst); err != nil {
				return err
			}
			continue
		}
		b, err := s.c.DownloadArtifact(ctx, root+"/"+r)
		if err != nil {
			return err
		}
		p := filepath.Join(dst, filepath.FromSlash(r))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o640); err != nil {
			return err
		}
	}
	return nil
}

// Authorize implements serving.ModelSource (the server checks EXECUTE when
// it resolves the model).
func (s *clientModelSource) Authorize(context.Context, string, serving.Action) error { return nil }
