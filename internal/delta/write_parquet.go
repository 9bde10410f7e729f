package delta

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/lakebox/lakebox/internal/errs"
)

// ReasonSchemaMismatch: rows given to a write do not fit the table schema
// (errs.Invalid). The message names the column.
const ReasonSchemaMismatch = "DELTA_SCHEMA_MISMATCH"

// orderedGroup is a Parquet group node whose fields keep the order of the
// Delta schema (parquet.Group sorts them by name).
type orderedGroup struct {
	fields []parquet.Field
	id     int
}

type namedField struct {
	parquet.Node
	name string
}

func (f *namedField) Name() string                           { return f.name }
func (f *namedField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }

func (g *orderedGroup) ID() int                     { return g.id }
func (g *orderedGroup) String() string              { return "group" }
func (g *orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g *orderedGroup) Optional() bool              { return false }
func (g *orderedGroup) Repeated() bool              { return false }
func (g *orderedGroup) Required() bool              { return true }
func (g *orderedGroup) Leaf() bool                  { return false }
func (g *orderedGroup) Fields() []parquet.Field     { return g.fields }
func (g *orderedGroup) Encoding() encoding.Encoding { return nil }
func (g *orderedGroup) Compression() compress.Codec { return nil }
func (g *orderedGroup) GoType() reflect.Type        { return reflect.TypeOf(map[string]any{}) }
func (g *orderedGroup) add(name string, n parquet.Node) {
	g.fields = append(g.fields, &namedField{n, name})
}

// logicalListGroup and logicalMapGroup annotate an ordered group with the
// LIST / MAP logical type.
type logicalListGroup struct{ *orderedGroup }

func (logicalListGroup) Type() parquet.Type {
	return parquet.List(parquet.Leaf(parquet.Int32Type)).Type()
}

type logicalMapGroup struct{ *orderedGroup }

func (logicalMapGroup) Type() parquet.Type {
	return parquet.Map(parquet.String(), parquet.Leaf(parquet.Int32Type)).Type()
}

type wnodeKind int

const (
	wLeaf wnodeKind = iota
	wStruct
	wList
	wMap
)

// wnode is the write plan of one Delta value: how it shreds into Parquet
// leaf columns (Dremel levels) and where its statistics go.
type wnode struct {
	kind      wnodeKind
	name      string // logical name (for errors)
	phys      string // physical name (Parquet and stats)
	dt        DataType
	optional  bool
	def, rep  int // definition / repetition level of a present value of this node
	children  []*wnode
	leaf      int // leaf column index
	firstLeaf int
	lastLeaf  int // exclusive
	stat      *colStat
	path      string // dotted logical path for error messages
}

// parquetPlan is the compiled writer for one data schema.
type parquetPlan struct {
	schema *parquet.Schema
	root   *wnode
	leaves []*wnode
	stats  []*colStat // per top-level field order, the roots of the stats tree
}

// decimalBytes is the minimal FIXED_LEN_BYTE_ARRAY width for a precision.
func decimalBytes(precision int) int {
	n := 1
	for {
		if math.Pow(2, float64(8*n-1)) >= math.Pow(10, float64(precision)) {
			return n
		}
		n++
	}
}

// buildParquetPlan compiles a data schema (no partition columns) into a
// Parquet schema and a shredding plan. numIndexedCols bounds how many leaf
// columns get min/max/nullCount statistics (-1 = all).
func buildParquetPlan(schema *StructType, mode ColumnMappingMode, numIndexedCols int) (*parquetPlan, error) {
	p := &parquetPlan{}
	indexed := 0
	var build func(f *StructField, dt DataType, name, path string, optional bool, def, rep int, inRepeated bool, fieldID int) (*wnode, parquet.Node, error)
	build = func(f *StructField, dt DataType, name, path string, optional bool, def, rep int, inRepeated bool, fieldID int) (*wnode, parquet.Node, error) {
		if optional {
			def++
		}
		n := &wnode{name: name, phys: name, dt: dt, optional: optional, def: def, rep: rep, firstLeaf: len(p.leaves), path: path}
		if f != nil {
			n.name = f.Name
		}
		var node parquet.Node
		switch t := dt.(type) {
		case *StructType:
			n.kind = wStruct
			g := &orderedGroup{}
			if !inRepeated {
				n.stat = &colStat{name: name, kind: statStruct}
			}
			for _, cf := range t.Fields {
				pn := cf.PhysicalName(mode)
				id := 0
				if mode == ColumnMappingID {
					if x, ok := cf.FieldID(); ok {
						id = int(x)
					}
				}
				c, cn, err := build(cf, cf.Type, pn, path+"."+cf.Name, cf.Nullable, def, rep, inRepeated, id)
				if err != nil {
					return nil, nil, err
				}
				n.children = append(n.children, c)
				g.add(pn, cn)
				if n.stat != nil && c.stat != nil {
					n.stat.children = append(n.stat.children, c.stat)
				}
			}
			if len(t.Fields) == 0 {
				return nil, nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "struct column %s has no fields; Parquet cannot store empty structs", path)
			}
			node = g
		case *ArrayType:
			n.kind = wList
			if !inRepeated {
				n.stat = &colStat{name: name, kind: statNullOnly}
				if numIndexedCols >= 0 && indexed >= numIndexedCols {
					n.stat = nil
				}
				indexed++
			}
			e, en, err := build(nil, t.ElementType, "element", path+".element", t.ContainsNull, def+1, rep+1, true, 0)
			if err != nil {
				return nil, nil, err
			}
			n.children = []*wnode{e}
			inner := &orderedGroup{}
			inner.add("element", en)
			outer := &orderedGroup{}
			outer.add("list", parquet.Repeated(inner))
			node = logicalListGroup{outer}
		case *MapType:
			n.kind = wMap
			if !inRepeated {
				n.stat = &colStat{name: name, kind: statNullOnly}
				if numIndexedCols >= 0 && indexed >= numIndexedCols {
					n.stat = nil
				}
				indexed++
			}
			k, kn, err := build(nil, t.KeyType, "key", path+".key", false, def+1, rep+1, true, 0)
			if err != nil {
				return nil, nil, err
			}
			v, vn, err := build(nil, t.ValueType, "value", path+".value", t.ValueContainsNull, def+1, rep+1, true, 0)
			if err != nil {
				return nil, nil, err
			}
			n.children = []*wnode{k, v}
			kv := &orderedGroup{}
			kv.add("key", kn)
			kv.add("value", vn)
			outer := &orderedGroup{}
			outer.add("key_value", parquet.Repeated(kv))
			node = logicalMapGroup{outer}
		default:
			n.kind = wLeaf
			ln, err := leafNode(dt, path)
			if err != nil {
				return nil, nil, err
			}
			node = ln
			n.leaf = len(p.leaves)
			p.leaves = append(p.leaves, n)
			if !inRepeated {
				if numIndexedCols < 0 || indexed < numIndexedCols {
					n.stat = newLeafStat(name, dt)
				}
				indexed++
			}
		}
		n.lastLeaf = len(p.leaves)
		if fieldID != 0 {
			node = parquet.FieldID(node, fieldID)
		}
		if optional {
			node = parquet.Optional(node)
		} else {
			node = parquet.Required(node)
		}
		return n, node, nil
	}
	root := &wnode{kind: wStruct, dt: schema, firstLeaf: 0}
	rg := &orderedGroup{}
	for _, f := range schema.Fields {
		pn := f.PhysicalName(mode)
		id := 0
		if mode == ColumnMappingID {
			if x, ok := f.FieldID(); ok {
				id = int(x)
			}
		}
		c, cn, err := build(f, f.Type, pn, f.Name, f.Nullable, 0, 0, false, id)
		if err != nil {
			return nil, err
		}
		root.children = append(root.children, c)
		rg.add(pn, cn)
		if c.stat != nil {
			p.stats = append(p.stats, c.stat)
		}
	}
	if len(schema.Fields) == 0 {
		return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "the data schema has no columns (every column is a partition column); Parquet files need at least one column")
	}
	root.lastLeaf = len(p.leaves)
	p.root = root
	p.schema = parquet.NewSchema("spark_schema", rg)
	return p, nil
}

// leafNode returns the Parquet leaf for a primitive Delta type, with the
// logical annotations Spark writes.
func leafNode(dt DataType, path string) (parquet.Node, error) {
	switch t := dt.(type) {
	case *DecimalType:
		switch {
		case t.Precision <= 9:
			return parquet.Decimal(t.Scale, t.Precision, parquet.Int32Type), nil
		case t.Precision <= 18:
			return parquet.Decimal(t.Scale, t.Precision, parquet.Int64Type), nil
		default:
			return parquet.Decimal(t.Scale, t.Precision, parquet.FixedLenByteArrayType(decimalBytes(t.Precision))), nil
		}
	case *PrimitiveType:
		switch t.Name {
		case "boolean":
			return parquet.Leaf(parquet.BooleanType), nil
		case "byte":
			return parquet.Int(8), nil
		case "short":
			return parquet.Int(16), nil
		case "integer":
			return parquet.Leaf(parquet.Int32Type), nil
		case "long":
			return parquet.Leaf(parquet.Int64Type), nil
		case "float":
			return parquet.Leaf(parquet.FloatType), nil
		case "double":
			return parquet.Leaf(parquet.DoubleType), nil
		case "string":
			return parquet.String(), nil
		case "binary":
			return parquet.Leaf(parquet.ByteArrayType), nil
		case "date":
			return parquet.Date(), nil
		case "timestamp":
			return parquet.TimestampAdjusted(parquet.Microsecond, true), nil
		case "timestamp_ntz":
			return parquet.TimestampAdjusted(parquet.Microsecond, false), nil
		}
	}
	return nil, errs.E(errs.Unimplemented, ReasonSchemaMismatch, "column %s has type %s which this writer cannot store", path, dt)
}

// shredder turns rows into per-column Parquet values.
type shredder struct {
	plan   *parquetPlan
	cols   [][]parquet.Value
	bytes  int64 // rough uncompressed size of the buffered values
	rows   int64
	dec    big.Int
	decBuf []byte
}

func newShredder(p *parquetPlan) *shredder {
	return &shredder{plan: p, cols: make([][]parquet.Value, len(p.leaves))}
}

func (s *shredder) nulls(n *wnode, rep, def int) {
	for l := n.firstLeaf; l < n.lastLeaf; l++ {
		s.cols[l] = append(s.cols[l], parquet.Value{}.Level(rep, def, l))
	}
}

// addRow shreds one row of the data schema. On error nothing of the row is
// kept.
func (s *shredder) addRow(r Row) error {
	root := s.plan.root
	if len(r) != len(root.children) {
		return errs.E(errs.Invalid, ReasonSchemaMismatch, "row has %d values but the data schema has %d columns", len(r), len(root.children))
	}
	mark := make([]int, 0, 8)
	if len(s.cols) <= 8 {
		for i := range s.cols {
			mark = append(mark, len(s.cols[i]))
		}
	} else {
		mark = make([]int, len(s.cols))
		for i := range s.cols {
			mark[i] = len(s.cols[i])
		}
	}
	for i, c := range root.children {
		if err := s.value(c, r[i], 0, 0); err != nil {
			for j := range s.cols {
				s.cols[j] = s.cols[j][:mark[j]]
			}
			return err
		}
	}
	s.rows++
	return nil
}

// value shreds v for node n; rep is the repetition level of its first
// leaf value and def the definition level of the parent.
func (s *shredder) value(n *wnode, v any, rep, parentDef int) error {
	if v == nil {
		if !n.optional {
			return errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s is not nullable but the value is NULL", n.path)
		}
		s.nulls(n, rep, parentDef)
		if n.stat != nil {
			n.stat.addNull()
		}
		return nil
	}
	switch n.kind {
	case wLeaf:
		pv, err := s.leafValue(n, v)
		if err != nil {
			return err
		}
		s.cols[n.leaf] = append(s.cols[n.leaf], pv.Level(rep, n.def, n.leaf))
		return nil
	case wStruct:
		r, ok := v.(Row)
		if !ok {
			return errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s is a struct; want a delta.Row value, got %T", n.path, v)
		}
		if len(r) != len(n.children) {
			return errs.E(errs.Invalid, ReasonSchemaMismatch, "struct column %s has %d fields but the value has %d", n.path, len(n.children), len(r))
		}
		for i, c := range n.children {
			if err := s.value(c, r[i], rep, n.def); err != nil {
				return err
			}
		}
		return nil
	case wList:
		l, ok := v.([]any)
		if !ok {
			return errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s is an array; want a []any value, got %T", n.path, v)
		}
		if len(l) == 0 {
			s.nulls(n, rep, n.def)
			return nil
		}
		e := n.children[0]
		for i, x := range l {
			r := rep
			if i > 0 {
				r = e.rep
			}
			if err := s.value(e, x, r, n.def+1); err != nil {
				return err
			}
		}
		return nil
	case wMap:
		m, ok := v.([]MapEntry)
		if !ok {
			return errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s is a map; want a []delta.MapEntry value, got %T", n.path, v)
		}
		if len(m) == 0 {
			s.nulls(n, rep, n.def)
			return nil
		}
		k, val := n.children[0], n.children[1]
		for i, e := range m {
			r := rep
			if i > 0 {
				r = k.rep
			}
			if e.Key == nil {
				return errs.E(errs.Invalid, ReasonSchemaMismatch, "map column %s has a NULL key", n.path)
			}
			if err := s.value(k, e.Key, r, n.def+1); err != nil {
				return err
			}
			if err := s.value(val, e.Value, r, n.def+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("bad write plan")
}

func mismatch(n *wnode, v any) error {
	return errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s has type %s; a %T value (%v) does not fit", n.path, n.dt, v, v)
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	}
	return 0, false
}

// leafValue converts a Go value to the Parquet value of a leaf and feeds
// the statistics.
func (s *shredder) leafValue(n *wnode, v any) (parquet.Value, error) {
	st := n.stat
	switch t := n.dt.(type) {
	case *DecimalType:
		d, ok := v.(Decimal)
		if !ok || d.Unscaled == nil {
			return parquet.Value{}, mismatch(n, v)
		}
		u := d.Unscaled
		if d.Scale != t.Scale {
			if d.Scale < t.Scale {
				u = d.Rescale(t.Scale).Unscaled
			} else {
				m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-t.Scale)), nil)
				q, r := new(big.Int).QuoRem(d.Unscaled, m, new(big.Int))
				if r.Sign() != 0 {
					return parquet.Value{}, errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s is %s; %s cannot be stored without rounding", n.path, t, d)
				}
				u = q
			}
		}
		if !decimalFits(u, t.Precision) {
			return parquet.Value{}, errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s is %s; %s overflows its precision", n.path, t, d)
		}
		if st != nil {
			st.addDecimal(u)
		}
		s.bytes += 8
		switch {
		case t.Precision <= 9:
			return parquet.Int32Value(int32(u.Int64())), nil
		case t.Precision <= 18:
			return parquet.Int64Value(u.Int64()), nil
		}
		return parquet.FixedLenByteArrayValue(twosComplement(u, decimalBytes(t.Precision))), nil
	case *PrimitiveType:
		switch t.Name {
		case "long":
			x, ok := toInt64(v)
			if !ok {
				return parquet.Value{}, mismatch(n, v)
			}
			if st != nil {
				st.addInt(x)
			}
			s.bytes += 8
			return parquet.Int64Value(x), nil
		case "integer", "short", "byte":
			x, ok := toInt64(v)
			lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
			if t.Name == "short" {
				lo, hi = math.MinInt16, math.MaxInt16
			} else if t.Name == "byte" {
				lo, hi = math.MinInt8, math.MaxInt8
			}
			if !ok || x < lo || x > hi {
				return parquet.Value{}, mismatch(n, v)
			}
			if st != nil {
				st.addInt(x)
			}
			s.bytes += 4
			return parquet.Int32Value(int32(x)), nil
		case "double":
			var x float64
			switch f := v.(type) {
			case float64:
				x = f
			case float32:
				x = float64(f)
			default:
				return parquet.Value{}, mismatch(n, v)
			}
			if st != nil {
				st.addFloat(x)
			}
			s.bytes += 8
			return parquet.DoubleValue(x), nil
		case "float":
			var x float32
			switch f := v.(type) {
			case float32:
				x = f
			case float64:
				x = float32(f)
			default:
				return parquet.Value{}, mismatch(n, v)
			}
			if st != nil {
				st.addFloat(float64(x))
			}
			s.bytes += 4
			return parquet.FloatValue(x), nil
		case "string":
			x, ok := v.(string)
			if !ok {
				return parquet.Value{}, mismatch(n, v)
			}
			if st != nil {
				st.addString(x)
			}
			s.bytes += int64(len(x)) + 4
			return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(x), len(x))), nil
		case "binary":
			x, ok := v.([]byte)
			if !ok {
				return parquet.Value{}, mismatch(n, v)
			}
			s.bytes += int64(len(x)) + 4
			return parquet.ByteArrayValue(x), nil
		case "boolean":
			x, ok := v.(bool)
			if !ok {
				return parquet.Value{}, mismatch(n, v)
			}
			s.bytes++
			return parquet.BooleanValue(x), nil
		case "date":
			x, ok := v.(time.Time)
			if !ok {
				return parquet.Value{}, mismatch(n, v)
			}
			d := dateDays(x)
			if st != nil {
				st.addInt(d)
			}
			s.bytes += 4
			return parquet.Int32Value(int32(d)), nil
		case "timestamp", "timestamp_ntz":
			x, ok := v.(time.Time)
			if !ok {
				return parquet.Value{}, mismatch(n, v)
			}
			var us int64
			if t.Name == "timestamp" {
				us = x.UnixMicro()
			} else {
				us = ntzMicros(x)
			}
			if st != nil {
				st.addInt(us)
			}
			s.bytes += 8
			return parquet.Int64Value(us), nil
		}
	}
	return parquet.Value{}, mismatch(n, v)
}

// dateDays is the number of days since 1970-01-01 of t's calendar date.
func dateDays(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// ntzMicros is t's wall-clock value as microseconds since the epoch.
func ntzMicros(t time.Time) int64 {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC).UnixMicro()
}

var bigTen = big.NewInt(10)

func decimalFits(u *big.Int, precision int) bool {
	if precision <= 18 {
		if !u.IsInt64() {
			return false
		}
		x := u.Int64()
		lim := int64(1)
		for i := 0; i < precision; i++ {
			lim *= 10
		}
		return x < lim && x > -lim
	}
	lim := new(big.Int).Exp(bigTen, big.NewInt(int64(precision)), nil)
	return new(big.Int).Abs(u).Cmp(lim) < 0
}

// twosComplement encodes u big-endian in n bytes.
func twosComplement(u *big.Int, n int) []byte {
	out := make([]byte, n)
	if u.Sign() >= 0 {
		u.FillBytes(out)
		return out
	}
	x := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), uint(8*n)), u)
	x.FillBytes(out)
	return out
}

// parquetFileWriter writes one Parquet data file from rows, streaming the
// bytes to w.
type parquetFileWriter struct {
	plan  *parquetPlan
	pw    *parquet.Writer
	sh    *shredder
	cw    *countingWriter
	rows  int64
	rgMax int64 // flush a row group once this many estimated bytes are buffered
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

const defaultRowGroupBytes = 128 << 20

func newParquetFileWriter(w io.Writer, plan *parquetPlan, engine string) *parquetFileWriter {
	cw := &countingWriter{w: w}
	pw := parquet.NewWriter(cw, plan.schema,
		parquet.Compression(&snappy.Codec{}),
		parquet.CreatedBy(engine, "", ""),
		parquet.PageBufferSize(1<<20),
		parquet.WriteBufferSize(1<<20),
	)
	for _, st := range plan.stats {
		st.reset()
	}
	return &parquetFileWriter{plan: plan, pw: pw, sh: newShredder(plan), cw: cw, rgMax: defaultRowGroupBytes}
}

// shredBatch is how many rows are shredded before the values are handed to
// the column writers.
const shredBatch = 4096

// Write adds one row.
func (f *parquetFileWriter) Write(r Row) error {
	if err := f.sh.addRow(r); err != nil {
		return err
	}
	f.rows++
	if f.sh.rows >= shredBatch {
		return f.flushValues(false)
	}
	return nil
}

func (f *parquetFileWriter) flushValues(endRowGroup bool) error {
	if f.sh.rows > 0 {
		cws := f.pw.ColumnWriters()
		for i, vals := range f.sh.cols {
			if _, err := cws[i].WriteRowValues(vals); err != nil {
				return fmt.Errorf("write parquet column %d: %w", i, err)
			}
			f.sh.cols[i] = vals[:0]
		}
		f.sh.rows = 0
	}
	if endRowGroup || f.sh.bytes >= f.rgMax {
		f.sh.bytes = 0
		if err := f.pw.Flush(); err != nil {
			return fmt.Errorf("flush parquet row group: %w", err)
		}
	}
	return nil
}

// Close finishes the file and returns its size.
func (f *parquetFileWriter) Close() (int64, error) {
	if err := f.flushValues(false); err != nil {
		return 0, err
	}
	if err := f.pw.Close(); err != nil {
		return 0, fmt.Errorf("close parquet file: %w", err)
	}
	return f.cw.n, nil
}
