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
	lk        leafKind
	lo, hi    int64 // accepted range of an lkInt leaf
}

// leafKind is the conversion of a leaf's Go values, resolved once per plan
// so shredding a value is one integer switch (not a type switch on the
// Delta type and a string switch on its name).
type leafKind uint8

const (
	lkUnknown leafKind = iota
	lkLong
	lkInt // integer, short, byte: int32 storage, range-checked
	lkDouble
	lkFloat
	lkString
	lkBinary
	lkBool
	lkDate
	lkTimestamp
	lkTimestampNTZ
	lkDecimal
)

// setLeafKind resolves n.lk (and n.lo, n.hi) from n.dt.
func (n *wnode) setLeafKind() {
	switch t := n.dt.(type) {
	case *DecimalType:
		n.lk = lkDecimal
	case *PrimitiveType:
		switch t.Name {
		case "long":
			n.lk = lkLong
		case "integer":
			n.lk, n.lo, n.hi = lkInt, math.MinInt32, math.MaxInt32
		case "short":
			n.lk, n.lo, n.hi = lkInt, math.MinInt16, math.MaxInt16
		case "byte":
			n.lk, n.lo, n.hi = lkInt, math.MinInt8, math.MaxInt8
		case "double":
			n.lk = lkDouble
		case "float":
			n.lk = lkFloat
		case "string":
			n.lk = lkString
		case "binary":
			n.lk = lkBinary
		case "boolean":
			n.lk = lkBool
		case "date":
			n.lk = lkDate
		case "timestamp":
			n.lk = lkTimestamp
		case "timestamp_ntz":
			n.lk = lkTimestampNTZ
		}
	}
}

// parquetPlan is the compiled writer for one data schema.
type parquetPlan struct {
	schema *parquet.Schema
	root   *wnode
	leaves []*wnode
	stats  []*colStat // per top-level field order, the roots of the stats tree
	flat   bool       // every top-level column is a leaf (no struct, array or map)
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
			n.setLeafKind()
			n.leaf = len(p.leaves)
			p.leaves = append(p.leaves, n)
			if !inRepeated {
				if numIndexedCols < 0 || indexed < numIndexedCols {
					n.stat = newLeafStat(name, n)
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
	p.flat = len(p.leaves) == len(root.children)
	for _, c := range root.children {
		p.flat = p.flat && c.kind == wLeaf
	}
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
	// pending holds the statistics updates of the row being shredded,
	// applied once the whole row is accepted: a rejected row must not
	// widen min/max or count NULLs.
	pending []statOp
}

type statOpKind uint8

const (
	statOpNull statOpKind = iota
	statOpInt
	statOpFloat
	statOpString
	statOpDecimal
)

// statOp is one deferred statistics update.
type statOp struct {
	st   *colStat
	kind statOpKind
	i    int64
	f    float64
	s    string
	d    *big.Int
}

// commitStats applies the pending statistics updates of an accepted row.
func (s *shredder) commitStats() {
	for i := range s.pending {
		op := &s.pending[i]
		switch op.kind {
		case statOpNull:
			op.st.addNull()
		case statOpInt:
			op.st.addInt(op.i)
		case statOpFloat:
			op.st.addFloat(op.f)
		case statOpString:
			op.st.addString(op.s)
		case statOpDecimal:
			op.st.addDecimal(op.d)
		}
	}
	s.pending = s.pending[:0]
}

// pendingStat queues a statistics update for st; the caller sets its
// operand in place (building a statOp and copying it costs a
// store-forwarding stall, see setLevels).
func (s *shredder) pendingStat(st *colStat, kind statOpKind) *statOp {
	s.pending = append(s.pending, statOp{})
	op := &s.pending[len(s.pending)-1]
	op.st, op.kind = st, kind
	return op
}

func newShredder(p *parquetPlan) *shredder {
	return &shredder{plan: p, cols: make([][]parquet.Value, len(p.leaves))}
}

func (s *shredder) nulls(n *wnode, rep, def int) {
	for l := n.firstLeaf; l < n.lastLeaf; l++ {
		s.cols[l] = append(s.cols[l], parquet.Value{})
		setLevels(&s.cols[l][len(s.cols[l])-1], rep, def, l)
	}
}

// addRow shreds one row of the data schema. On error nothing of the row is
// kept, in the columns or in the statistics.
func (s *shredder) addRow(r Row) error {
	root := s.plan.root
	if len(r) != len(root.children) {
		return errs.E(errs.Invalid, ReasonSchemaMismatch, "row has %d values but the data schema has %d columns", len(r), len(root.children))
	}
	if s.plan.flat {
		// Every column is a leaf: each took exactly one value.
		for i, c := range root.children {
			if err := s.leaf(c, r[i], 0, 0); err != nil {
				for j := 0; j < i; j++ {
					s.cols[j] = s.cols[j][:len(s.cols[j])-1]
				}
				s.pending = s.pending[:0]
				return err
			}
		}
		s.commitStats()
		s.rows++
		return nil
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
			s.pending = s.pending[:0]
			return err
		}
	}
	s.commitStats()
	s.rows++
	return nil
}

// leaf shreds v for leaf node n (see value).
func (s *shredder) leaf(n *wnode, v any, rep, parentDef int) error {
	if v == nil {
		return s.null(n, rep, parentDef)
	}
	col := append(s.cols[n.leaf], parquet.Value{})
	p := &col[len(col)-1]
	if err := s.leafValue(n, v, p); err != nil {
		return err
	}
	setLevels(p, rep, n.def, n.leaf)
	s.cols[n.leaf] = col
	return nil
}

// setLevels sets the levels of *p in place. The value is built in the
// column's slot and never copied: parquet.Value.Level (and returning a
// Value) copies it through narrow stores and a wide load, a
// store-forwarding stall that cost as much as the rest of shredding a
// value.
func setLevels(p *parquet.Value, rep, def, leaf int) {
	p.SetRepetitionLevel(rep)
	p.SetDefinitionLevel(def)
	p.SetColumnIndex(leaf)
}

// null shreds a NULL for node n.
func (s *shredder) null(n *wnode, rep, parentDef int) error {
	if !n.optional {
		return errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s is not nullable but the value is NULL", n.path)
	}
	s.nulls(n, rep, parentDef)
	if n.stat != nil {
		s.pendingStat(n.stat, statOpNull)
	}
	return nil
}

// value shreds v for node n; rep is the repetition level of its first
// leaf value and def the definition level of the parent.
func (s *shredder) value(n *wnode, v any, rep, parentDef int) error {
	if v == nil {
		return s.null(n, rep, parentDef)
	}
	switch n.kind {
	case wLeaf:
		return s.leaf(n, v, rep, parentDef)
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

// leafValue converts a Go value to the Parquet value of a leaf, stored in
// *dst (without levels), and feeds the statistics.
func (s *shredder) leafValue(n *wnode, v any, dst *parquet.Value) error {
	st := n.stat
	switch n.lk {
	case lkLong:
		x, ok := v.(int64)
		if !ok {
			if x, ok = toInt64(v); !ok {
				return mismatch(n, v)
			}
		}
		if st != nil {
			s.pendingStat(st, statOpInt).i = x
		}
		s.bytes += 8
		*dst = parquet.Int64Value(x)
		return nil
	case lkInt:
		x, ok := toInt64(v)
		if !ok || x < n.lo || x > n.hi {
			return mismatch(n, v)
		}
		if st != nil {
			s.pendingStat(st, statOpInt).i = x
		}
		s.bytes += 4
		*dst = parquet.Int32Value(int32(x))
		return nil
	case lkDouble:
		x, ok := v.(float64)
		if !ok {
			f, ok := v.(float32)
			if !ok {
				return mismatch(n, v)
			}
			x = float64(f)
		}
		if st != nil {
			s.pendingStat(st, statOpFloat).f = x
		}
		s.bytes += 8
		*dst = parquet.DoubleValue(x)
		return nil
	case lkFloat:
		var x float32
		switch f := v.(type) {
		case float32:
			x = f
		case float64:
			x = float32(f)
		default:
			return mismatch(n, v)
		}
		if st != nil {
			s.pendingStat(st, statOpFloat).f = float64(x)
		}
		s.bytes += 4
		*dst = parquet.FloatValue(x)
		return nil
	case lkString:
		x, ok := v.(string)
		if !ok {
			return mismatch(n, v)
		}
		if st != nil {
			s.pendingStat(st, statOpString).s = x
		}
		s.bytes += int64(len(x)) + 4
		*dst = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(x), len(x)))
		return nil
	case lkBinary:
		x, ok := v.([]byte)
		if !ok {
			return mismatch(n, v)
		}
		s.bytes += int64(len(x)) + 4
		*dst = parquet.ByteArrayValue(x)
		return nil
	case lkBool:
		x, ok := v.(bool)
		if !ok {
			return mismatch(n, v)
		}
		s.bytes++
		*dst = parquet.BooleanValue(x)
		return nil
	case lkDate:
		x, ok := v.(time.Time)
		if !ok {
			return mismatch(n, v)
		}
		d := dateDays(x)
		if st != nil {
			s.pendingStat(st, statOpInt).i = d
		}
		s.bytes += 4
		*dst = parquet.Int32Value(int32(d))
		return nil
	case lkTimestamp, lkTimestampNTZ:
		x, ok := v.(time.Time)
		if !ok {
			return mismatch(n, v)
		}
		var us int64
		if n.lk == lkTimestamp {
			us = x.UnixMicro()
		} else {
			us = ntzMicros(x)
		}
		if st != nil {
			s.pendingStat(st, statOpInt).i = us
		}
		s.bytes += 8
		*dst = parquet.Int64Value(us)
		return nil
	case lkDecimal:
		return s.decimalValue(n, v, dst)
	}
	return mismatch(n, v)
}

// decimalValue converts a Decimal to the Parquet value of a decimal leaf
// (rescaled to the column's scale), stored in *dst, and feeds the statistics.
func (s *shredder) decimalValue(n *wnode, v any, dst *parquet.Value) error {
	t := n.dt.(*DecimalType)
	d, ok := v.(Decimal)
	if !ok || d.Unscaled == nil {
		return mismatch(n, v)
	}
	u := d.Unscaled
	if d.Scale != t.Scale {
		if d.Scale < t.Scale {
			u = d.Rescale(t.Scale).Unscaled
		} else {
			m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-t.Scale)), nil)
			q, r := new(big.Int).QuoRem(d.Unscaled, m, new(big.Int))
			if r.Sign() != 0 {
				return errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s is %s; %s cannot be stored without rounding", n.path, t, d)
			}
			u = q
		}
	}
	if !decimalFits(u, t.Precision) {
		return errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s is %s; %s overflows its precision", n.path, t, d)
	}
	if n.stat != nil {
		s.pendingStat(n.stat, statOpDecimal).d = u
	}
	s.bytes += 8
	switch {
	case t.Precision <= 9:
		*dst = parquet.Int32Value(int32(u.Int64()))
		return nil
	case t.Precision <= 18:
		*dst = parquet.Int64Value(u.Int64())
		return nil
	}
	*dst = parquet.FixedLenByteArrayValue(twosComplement(u, decimalBytes(t.Precision)))
	return nil
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
