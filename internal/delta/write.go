package delta

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// dataWriter writes rows of a table schema into data files, one open file
// per partition, and returns their add actions. It is not safe for
// concurrent use.
type dataWriter struct {
	ctx        context.Context
	table      *Table
	schema     *StructType // full logical schema of the rows
	partCols   []int       // indices of partition columns in schema, in partition order
	partPhys   []string    // physical names of partition columns
	dataIdx    []int       // indices of data columns in schema
	dataSchema *StructType
	mode       ColumnMappingMode
	numIndexed int
	dirPrefix  string // "" or "_change_data/"
	cdc        bool   // write cdc actions (no stats)
	targetSize int64  // roll files at this size (0 = never)
	engine     string
	newID      func() string
	now        func() time.Time

	open    map[string]*openFile
	unpart  *openFile // open[""] of an unpartitioned table, saving a map lookup per row
	order   []string
	scratch Row
	seq     int
	adds    []*Add
	cdcs    []*AddCDCFile
	rows    int64
	bytes   int64
}

type openFile struct {
	key string
	rel string
	pv  PartitionValues
	fw  *parquetFileWriter
	pw  *io.PipeWriter
	// done is closed when the Put of the file returned, with its error in
	// putErr (closed, not sent, so that any number of waiters see it).
	done   chan struct{}
	putErr error
	failed error
}

// wait waits for the file's Put and returns its error.
func (f *openFile) wait() error {
	<-f.done
	return f.putErr
}

// maxOpenPartitionFiles bounds how many partition files are open at once;
// beyond it the oldest is closed (and a later row of its partition starts a
// new file).
const maxOpenPartitionFiles = 128

type dataWriterConfig struct {
	table      *Table
	schema     *StructType
	partition  []string
	config     map[string]string
	mode       ColumnMappingMode
	cdc        bool
	targetSize int64
	engine     string
	newID      func() string
	now        func() time.Time
}

func newDataWriter(ctx context.Context, c dataWriterConfig) (*dataWriter, error) {
	w := &dataWriter{ctx: ctx, table: c.table, schema: c.schema, mode: c.mode, cdc: c.cdc, targetSize: c.targetSize,
		engine: c.engine, newID: c.newID, now: c.now, open: map[string]*openFile{}, numIndexed: 32}
	if v, ok := c.config["delta.dataSkippingNumIndexedCols"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 {
			return nil, errs.E(errs.Invalid, ReasonInvalidArgument, "table property delta.dataSkippingNumIndexedCols=%q is not an integer >= -1", v)
		}
		w.numIndexed = n
	}
	if c.cdc {
		w.dirPrefix = "_change_data/"
	}
	isPart := map[int]bool{}
	for _, pc := range c.partition {
		i := c.schema.FieldIndex(pc)
		if i < 0 {
			return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "partition column %q is not a column of the schema", pc)
		}
		w.partCols = append(w.partCols, i)
		w.partPhys = append(w.partPhys, c.schema.Fields[i].PhysicalName(c.mode))
		isPart[i] = true
	}
	w.dataSchema = &StructType{}
	for i, f := range c.schema.Fields {
		if !isPart[i] {
			w.dataIdx = append(w.dataIdx, i)
			w.dataSchema.Fields = append(w.dataSchema.Fields, f)
		}
	}
	w.scratch = make(Row, len(w.dataIdx))
	// Fail early on unsupported types.
	if _, err := buildParquetPlan(w.dataSchema, w.mode, w.numIndexed); err != nil {
		return nil, err
	}
	return w, nil
}

// Write routes one row (of the full schema) to its partition's file.
func (w *dataWriter) Write(r Row) error {
	if len(r) != len(w.schema.Fields) {
		return errs.E(errs.Invalid, ReasonSchemaMismatch, "row has %d values but the schema has %d columns (%s)", len(r), len(w.schema.Fields), fieldNames(w.schema))
	}
	var key string
	if len(w.partCols) > 0 {
		var sb strings.Builder
		for _, i := range w.partCols {
			s, err := serializePartitionValue(w.schema.Fields[i], r[i])
			if err != nil {
				return err
			}
			if s == nil {
				sb.WriteString("\x00N")
			} else {
				sb.WriteString("\x00V")
				sb.WriteString(*s)
			}
		}
		key = sb.String()
	}
	f := w.unpart
	if f == nil {
		if f = w.open[key]; f == nil {
			var err error
			if f, err = w.openFile(key, r); err != nil {
				return err
			}
		}
	}
	data := r
	if len(w.partCols) > 0 {
		for j, i := range w.dataIdx {
			w.scratch[j] = r[i]
		}
		data = w.scratch
	}
	if err := f.fw.Write(data); err != nil {
		if errs.KindOf(err) == errs.Invalid {
			return err
		}
		return w.fileFailed(f, err)
	}
	w.rows++
	if w.targetSize > 0 && f.fw.rows%1024 == 0 && f.fw.sh.bytes+f.fw.cw.n >= w.targetSize {
		return w.closeFile(key)
	}
	return nil
}

func fieldNames(s *StructType) string {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// fileFailed reports the Put error when a write into the pipe failed.
func (w *dataWriter) fileFailed(f *openFile, err error) error {
	f.pw.CloseWithError(err)
	if perr := f.wait(); perr != nil {
		f.failed = perr
		return fmt.Errorf("write data file %s: %w", f.key, perr)
	}
	f.failed = err
	return fmt.Errorf("write data file %s: %w", f.key, err)
}

func (w *dataWriter) openFile(key string, r Row) (*openFile, error) {
	if len(w.open) >= maxOpenPartitionFiles {
		if err := w.closeFile(w.order[0]); err != nil {
			return nil, err
		}
	}
	pv := PartitionValues{}
	var dir strings.Builder
	for j, i := range w.partCols {
		f := w.schema.Fields[i]
		s, _ := serializePartitionValue(f, r[i])
		pv[w.partPhys[j]] = s
		dir.WriteString(EscapePartitionValue(w.partPhys[j]))
		dir.WriteByte('=')
		if s == nil {
			dir.WriteString(HiveDefaultPartition)
		} else {
			dir.WriteString(EscapePartitionValue(*s))
		}
		dir.WriteByte('/')
	}
	name := fmt.Sprintf("part-%05d-%s-c000.snappy.parquet", w.seq, w.newID())
	if w.cdc {
		name = fmt.Sprintf("cdc-%05d-%s-c000.snappy.parquet", w.seq, w.newID())
	}
	w.seq++
	rel := w.dirPrefix + dir.String() + name
	plan, err := buildParquetPlan(w.dataSchema, w.mode, w.numIndexed)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	f := &openFile{key: w.table.root + rel, rel: rel, pv: pv, pw: pw, done: make(chan struct{})}
	go func() {
		err := w.table.bucket.Put(w.ctx, f.key, pr, blob.PutOptions{ContentType: "application/vnd.apache.parquet"})
		pr.CloseWithError(err)
		f.putErr = err
		close(f.done)
	}()
	f.fw = newParquetFileWriter(pw, plan, w.engine)
	w.open[key] = f
	if len(w.partCols) == 0 {
		w.unpart = f
	}
	w.order = append(w.order, key)
	return f, nil
}

func (w *dataWriter) closeFile(key string) error {
	f := w.open[key]
	delete(w.open, key)
	if w.unpart == f {
		w.unpart = nil
	}
	for i, k := range w.order {
		if k == key {
			w.order = append(w.order[:i], w.order[i+1:]...)
			break
		}
	}
	size, err := f.fw.Close()
	if err != nil {
		return w.fileFailed(f, err)
	}
	f.pw.Close()
	if err := f.wait(); err != nil {
		return fmt.Errorf("write data file %s: %w", f.key, err)
	}
	w.bytes += size
	now := w.now().UnixMilli()
	if w.cdc {
		w.cdcs = append(w.cdcs, &AddCDCFile{Path: EncodeLogPath(f.rel), PartitionValues: f.pv, Size: size, DataChange: false})
		return nil
	}
	w.adds = append(w.adds, &Add{Path: EncodeLogPath(f.rel), PartitionValues: f.pv, Size: size, ModificationTime: now,
		DataChange: true, Stats: statsJSON(f.fw.rows, f.fw.plan.stats)})
	return nil
}

// Close finishes every open file.
func (w *dataWriter) Close() error {
	var first error
	for len(w.order) > 0 {
		if err := w.closeFile(w.order[0]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Abort stops every open file; the partial objects are not committed
// (Put of a failed stream stores nothing) and written files become
// orphans that VACUUM removes.
func (w *dataWriter) Abort() {
	for _, k := range w.order {
		f := w.open[k]
		f.pw.CloseWithError(errs.E(errs.Canceled, "DELTA_WRITE_ABORTED", "write aborted"))
		f.wait()
	}
	w.open, w.order, w.unpart = map[string]*openFile{}, nil, nil
}

// EncodeLogPath percent-encodes a relative path the way Spark writes add
// paths (a URI path: Hadoop Path.toUri): characters not allowed in a URI
// path, and '%', are escaped; non-ASCII characters are kept.
func EncodeLogPath(rel string) string {
	var b strings.Builder
	for i := 0; i < len(rel); i++ {
		c := rel[i]
		if c < 0x80 && needsURIEscape(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func needsURIEscape(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return false
	}
	switch c {
	case '-', '_', '.', '!', '~', '*', '\'', '(', ')', // unreserved
		';', ':', '@', '&', '=', '+', '$', ',', '/': // punct allowed in a path
		return false
	}
	return true
}

// serializePartitionValue renders a partition value as the protocol's
// string form; nil is NULL. Empty strings become NULL, as in Spark.
func serializePartitionValue(f *StructField, v any) (*string, error) {
	if v == nil {
		if !f.Nullable {
			return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "partition column %s is not nullable but the value is NULL", f.Name)
		}
		return nil, nil
	}
	bad := func() (*string, error) {
		return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "partition column %s has type %s; a %T value (%v) does not fit", f.Name, f.Type, v, v)
	}
	var s string
	switch t := f.Type.(type) {
	case *DecimalType:
		d, ok := v.(Decimal)
		if !ok || d.Unscaled == nil {
			return bad()
		}
		if d.Scale < t.Scale {
			d = d.Rescale(t.Scale)
		} else if d.Scale > t.Scale {
			m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-t.Scale)), nil)
			if new(big.Int).Rem(d.Unscaled, m).Sign() != 0 {
				return bad()
			}
			d = d.Rescale(t.Scale)
		}
		if !decimalFits(d.Unscaled, t.Precision) {
			return bad()
		}
		s = d.String()
	case *PrimitiveType:
		switch t.Name {
		case "string":
			x, ok := v.(string)
			if !ok {
				return bad()
			}
			if x == "" {
				return nil, nil
			}
			s = x
		case "byte", "short", "integer", "long":
			x, ok := toInt64(v)
			if !ok {
				return bad()
			}
			s = strconv.FormatInt(x, 10)
		case "float", "double":
			var x float64
			switch y := v.(type) {
			case float64:
				x = y
			case float32:
				x = float64(y)
			default:
				return bad()
			}
			s = javaDouble(x)
		case "boolean":
			x, ok := v.(bool)
			if !ok {
				return bad()
			}
			s = strconv.FormatBool(x)
		case "binary":
			x, ok := v.([]byte)
			if !ok {
				return bad()
			}
			s = string(x)
		case "date":
			x, ok := v.(time.Time)
			if !ok {
				return bad()
			}
			s = x.Format("2006-01-02")
		case "timestamp", "timestamp_ntz":
			x, ok := v.(time.Time)
			if !ok {
				return bad()
			}
			if t.Name == "timestamp" {
				x = x.UTC()
			}
			s = x.Format("2006-01-02 15:04:05")
			if us := x.Nanosecond() / 1000; us != 0 {
				s += fmt.Sprintf(".%06d", us)
			}
		default:
			return bad()
		}
	default:
		return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "partition column %s has type %s; only primitive types can be partition columns", f.Name, f.Type)
	}
	return &s, nil
}

// javaDouble formats x like Java's Double.toString.
func javaDouble(x float64) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	}
	a := math.Abs(x)
	if a == 0 || (a >= 1e-3 && a < 1e7) {
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		if x == 0 && math.Signbit(x) {
			return "-0.0"
		}
		return s
	}
	s := strconv.FormatFloat(x, 'E', -1, 64)
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
