package delta

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/lakebox/lakebox/internal/errs"
)

// pqNode is a node of a Parquet file schema with its levels.
type pqNode struct {
	name      string
	rep       format.FieldRepetitionType
	leaf      bool
	physical  format.Type
	typeLen   int32
	converted deprecated.ConvertedType
	hasConv   bool
	logical   format.LogicalTypeValue
	scale     int
	fieldID   int32
	children  []*pqNode
	leafIndex int // leaves: column index
	firstLeaf int
	def, repL int // max definition / repetition level at this node
}

func (n *pqNode) child(name string) *pqNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// buildPQTree turns the flattened Parquet schema into a tree with levels.
func buildPQTree(elems []format.SchemaElement) (*pqNode, error) {
	pos, leaf := 0, 0
	var build func(def, rep int) (*pqNode, error)
	build = func(def, rep int) (*pqNode, error) {
		if pos >= len(elems) {
			return nil, errors.New("schema ends early")
		}
		e := elems[pos]
		pos++
		n := &pqNode{name: e.Name, fieldID: e.FieldID, firstLeaf: leaf}
		if r, ok := e.RepetitionType.Get(); ok {
			n.rep = r
		}
		if pos > 1 {
			switch n.rep {
			case format.Optional:
				def++
			case format.Repeated:
				def++
				rep++
			}
		}
		n.def, n.repL = def, rep
		if c, ok := e.ConvertedType.Get(); ok {
			n.converted, n.hasConv = c, true
		}
		n.logical = e.LogicalType.Value
		if s, ok := e.Scale.Get(); ok {
			n.scale = int(s)
		}
		if d, ok := n.logical.(*format.DecimalType); ok {
			n.scale = int(d.Scale)
		}
		nc, _ := e.NumChildren.Get()
		if t, ok := e.Type.Get(); ok && nc == 0 {
			n.leaf, n.physical = true, t
			n.typeLen, _ = e.TypeLength.Get()
			n.leafIndex = leaf
			leaf++
			return n, nil
		}
		for i := 0; i < int(nc); i++ {
			c, err := build(def, rep)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
		}
		return n, nil
	}
	return build(0, 0)
}

// fieldMatcher finds the Parquet child for a Delta field.
type fieldMatcher struct{ mode ColumnMappingMode }

func (m fieldMatcher) find(g *pqNode, f *StructField) *pqNode {
	if m.mode == ColumnMappingID {
		if id, ok := f.FieldID(); ok {
			for _, c := range g.children {
				if int64(c.fieldID) == id && c.fieldID != 0 {
					return c
				}
			}
		}
	}
	name := f.PhysicalName(m.mode)
	if c := g.child(name); c != nil {
		return c
	}
	if m.mode != ColumnMappingNone {
		return nil
	}
	for _, c := range g.children { // Spark matches case-insensitively
		if equalFoldASCII(c.name, name) {
			return c
		}
	}
	return nil
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 32
		}
		if 'A' <= y && y <= 'Z' {
			y += 32
		}
		if x != y {
			return false
		}
	}
	return true
}

type planKind int

const (
	planLeaf planKind = iota
	planStruct
	planList
	planMap
	planMissing // field absent from the file: always NULL
)

// plan is how one Delta value is assembled from Parquet columns.
type plan struct {
	kind     planKind
	node     *pqNode // the node holding the value (group for lists/maps)
	dt       DataType
	repNode  *pqNode // lists/maps: the repeated node
	fields   []*plan // struct fields in Delta order
	elem     *plan   // list element; map key
	val      *plan   // map value
	probe    int     // leaf column used to detect nulls and repetition
	leaves   []int   // leaf columns consumed by this plan
	extraOne bool    // probe is not consumed by any child: advance it explicitly
}

func (p *plan) String() string { return fmt.Sprintf("plan(%v,%s)", p.kind, p.dt) }

// buildPlan matches a Delta type to a Parquet node.
func buildPlan(n *pqNode, dt DataType, m fieldMatcher) (*plan, error) {
	switch t := dt.(type) {
	case *StructType:
		if n.leaf {
			return nil, fmt.Errorf("column %q is a primitive in the file but a struct in the table schema", n.name)
		}
		p := &plan{kind: planStruct, node: n, dt: dt, probe: -1}
		for _, f := range t.Fields {
			c := m.find(n, f)
			if c == nil {
				p.fields = append(p.fields, &plan{kind: planMissing, dt: f.Type, probe: -1})
				continue
			}
			cp, err := buildPlan(c, f.Type, m)
			if err != nil {
				return nil, fmt.Errorf("%s.%w", n.name, err)
			}
			p.fields = append(p.fields, cp)
			p.leaves = append(p.leaves, cp.leaves...)
		}
		if len(p.leaves) == 0 {
			p.probe = n.firstLeaf
			p.leaves = []int{n.firstLeaf}
			p.extraOne = true
		} else {
			p.probe = p.leaves[0]
		}
		return p, nil
	case *ArrayType:
		if n.leaf {
			if n.rep == format.Repeated { // bare repeated primitive
				e, err := buildPlan(n, t.ElementType, m)
				if err != nil {
					return nil, err
				}
				return &plan{kind: planList, node: n, dt: dt, repNode: n, elem: e, probe: e.probe, leaves: e.leaves}, nil
			}
			return nil, fmt.Errorf("column %q is a primitive in the file but an array in the table schema", n.name)
		}
		var rn, en *pqNode
		if n.rep == format.Repeated {
			rn, en = n, n
		} else {
			if len(n.children) != 1 || n.children[0].rep != format.Repeated {
				return nil, fmt.Errorf("array column %q does not have exactly one repeated child", n.name)
			}
			rn = n.children[0]
			switch {
			case rn.leaf, len(rn.children) != 1:
				en = rn
			case rn.name == "array" || rn.name == n.name+"_tuple":
				en = rn
			default:
				en = rn.children[0]
			}
		}
		var e *plan
		var err error
		if en == rn && !en.leaf {
			// The repeated group is the element (legacy 2-level list of structs).
			e, err = buildPlan(&pqNode{name: rn.name, rep: format.Required, children: rn.children, firstLeaf: rn.firstLeaf, def: rn.def, repL: rn.repL}, t.ElementType, m)
		} else if en == rn && en.leaf {
			cp := *rn
			cp.rep = format.Required
			e, err = buildPlan(&cp, t.ElementType, m)
		} else {
			e, err = buildPlan(en, t.ElementType, m)
		}
		if err != nil {
			return nil, fmt.Errorf("%s.%w", n.name, err)
		}
		return &plan{kind: planList, node: n, dt: dt, repNode: rn, elem: e, probe: e.probe, leaves: e.leaves}, nil
	case *MapType:
		if n.leaf {
			return nil, fmt.Errorf("column %q is a primitive in the file but a map in the table schema", n.name)
		}
		var rn *pqNode
		if n.rep == format.Repeated {
			rn = n
		} else {
			if len(n.children) != 1 {
				return nil, fmt.Errorf("map column %q does not have exactly one key_value child", n.name)
			}
			rn = n.children[0]
		}
		if len(rn.children) < 1 || len(rn.children) > 2 {
			return nil, fmt.Errorf("map column %q: key_value group has %d children", n.name, len(rn.children))
		}
		k, err := buildPlan(rn.children[0], t.KeyType, m)
		if err != nil {
			return nil, fmt.Errorf("%s.key: %w", n.name, err)
		}
		p := &plan{kind: planMap, node: n, dt: dt, repNode: rn, elem: k, probe: k.probe}
		p.leaves = append(p.leaves, k.leaves...)
		if len(rn.children) == 2 {
			v, err := buildPlan(rn.children[1], t.ValueType, m)
			if err != nil {
				return nil, fmt.Errorf("%s.value: %w", n.name, err)
			}
			p.val = v
			p.leaves = append(p.leaves, v.leaves...)
		} else {
			p.val = &plan{kind: planMissing, dt: t.ValueType, probe: -1}
		}
		return p, nil
	default:
		if !n.leaf {
			return nil, fmt.Errorf("column %q is a group in the file but %s in the table schema", n.name, dt)
		}
		if err := checkLeafCompatible(n, dt); err != nil {
			return nil, err
		}
		return &plan{kind: planLeaf, node: n, dt: dt, probe: n.leafIndex, leaves: []int{n.leafIndex}}, nil
	}
}

func checkLeafCompatible(n *pqNode, dt DataType) error {
	ok := false
	switch t := dt.(type) {
	case *DecimalType:
		ok = n.physical == format.Int32 || n.physical == format.Int64 || n.physical == format.FixedLenByteArray || n.physical == format.ByteArray
	case *PrimitiveType:
		switch t {
		case TypeBoolean:
			ok = n.physical == format.Boolean
		case TypeByte, TypeShort, TypeInteger, TypeDate:
			ok = n.physical == format.Int32
		case TypeLong:
			ok = n.physical == format.Int32 || n.physical == format.Int64
		case TypeFloat:
			ok = n.physical == format.Float
		case TypeDouble:
			ok = n.physical == format.Double || n.physical == format.Float || n.physical == format.Int32 || n.physical == format.Int64
		case TypeString, TypeBinary:
			ok = n.physical == format.ByteArray || n.physical == format.FixedLenByteArray
		case TypeTimestamp, TypeTimestampNTZ:
			ok = n.physical == format.Int64 || n.physical == format.Int96 || n.physical == format.Int32
		}
	}
	if !ok {
		return fmt.Errorf("column %q has physical type %v which cannot be read as %s", n.name, n.physical, dt)
	}
	return nil
}

// assembler reassembles one record from the leaf values of a Parquet row.
type assembler struct {
	cols [][]parquet.Value
	pos  []int
}

func (a *assembler) peek(leaf int) (parquet.Value, bool) {
	if leaf < 0 || leaf >= len(a.cols) || a.pos[leaf] >= len(a.cols[leaf]) {
		return parquet.Value{}, false
	}
	return a.cols[leaf][a.pos[leaf]], true
}

// skipInstance advances leaf past one instance at repetition level r.
func (a *assembler) skipInstance(leaf, r int) {
	a.pos[leaf]++
	for a.pos[leaf] < len(a.cols[leaf]) && a.cols[leaf][a.pos[leaf]].RepetitionLevel() > r {
		a.pos[leaf]++
	}
}

func (a *assembler) skipAll(p *plan, r int) {
	for _, l := range p.leaves {
		a.skipInstance(l, r)
	}
}

func (a *assembler) read(p *plan) (any, error) {
	switch p.kind {
	case planMissing:
		return nil, nil
	case planLeaf:
		v, ok := a.peek(p.probe)
		if !ok {
			return nil, fmt.Errorf("column %q has fewer values than expected", p.node.name)
		}
		a.pos[p.probe]++
		if v.DefinitionLevel() < p.node.def || v.IsNull() {
			return nil, nil
		}
		return convertLeaf(p.node, p.dt, v)
	}
	v, ok := a.peek(p.probe)
	if !ok {
		return nil, fmt.Errorf("column %q has fewer values than expected", p.node.name)
	}
	if v.DefinitionLevel() < p.node.def {
		a.skipAll(p, p.node.repL)
		return nil, nil
	}
	switch p.kind {
	case planStruct:
		row := make(Row, len(p.fields))
		for i, f := range p.fields {
			x, err := a.read(f)
			if err != nil {
				return nil, err
			}
			row[i] = x
		}
		if p.extraOne {
			a.skipInstance(p.probe, p.node.repL)
		}
		return row, nil
	case planList, planMap:
		if v.DefinitionLevel() < p.repNode.def {
			a.skipAll(p, p.node.repL)
			if p.kind == planMap {
				return []MapEntry{}, nil
			}
			return []any{}, nil
		}
		var list []any
		var entries []MapEntry
		for {
			x, err := a.read(p.elem)
			if err != nil {
				return nil, err
			}
			if p.kind == planMap {
				y, err := a.read(p.val)
				if err != nil {
					return nil, err
				}
				entries = append(entries, MapEntry{Key: x, Value: y})
			} else {
				list = append(list, x)
			}
			nv, ok := a.peek(p.probe)
			if !ok || nv.RepetitionLevel() != p.repNode.repL {
				break
			}
		}
		if p.kind == planMap {
			return entries, nil
		}
		return list, nil
	}
	return nil, fmt.Errorf("bad plan")
}

const julianUnixEpoch = 2440588

func timeUnitOf(n *pqNode) time.Duration {
	if ts, ok := n.logical.(*format.TimestampType); ok {
		switch ts.Unit.Value.(type) {
		case *format.MilliSeconds:
			return time.Millisecond
		case *format.NanoSeconds:
			return time.Nanosecond
		}
		return time.Microsecond
	}
	if n.hasConv && n.converted == deprecated.TimestampMillis {
		return time.Millisecond
	}
	return time.Microsecond
}

func convertLeaf(n *pqNode, dt DataType, v parquet.Value) (any, error) {
	switch t := dt.(type) {
	case *DecimalType:
		var d Decimal
		switch n.physical {
		case format.Int32:
			d = Decimal{Unscaled: big.NewInt(int64(v.Int32())), Scale: n.scale}
		case format.Int64:
			d = Decimal{Unscaled: big.NewInt(v.Int64()), Scale: n.scale}
		default:
			d = Decimal{Unscaled: bigFromTwosComplement(v.ByteArray()), Scale: n.scale}
		}
		return d.Rescale(t.Scale), nil
	case *PrimitiveType:
		switch t {
		case TypeBoolean:
			return v.Boolean(), nil
		case TypeByte:
			return int8(v.Int32()), nil
		case TypeShort:
			return int16(v.Int32()), nil
		case TypeInteger:
			return v.Int32(), nil
		case TypeLong:
			if n.physical == format.Int32 {
				return int64(v.Int32()), nil
			}
			return v.Int64(), nil
		case TypeFloat:
			return v.Float(), nil
		case TypeDouble:
			switch n.physical {
			case format.Float:
				return float64(v.Float()), nil
			case format.Int32:
				return float64(v.Int32()), nil
			case format.Int64:
				return float64(v.Int64()), nil
			}
			return v.Double(), nil
		case TypeString:
			return string(v.ByteArray()), nil
		case TypeBinary:
			return bytes.Clone(v.ByteArray()), nil
		case TypeDate:
			return time.Unix(int64(v.Int32())*86400, 0).UTC(), nil
		case TypeTimestamp, TypeTimestampNTZ:
			switch n.physical {
			case format.Int96:
				i := v.Int96()
				nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
				days := int64(i[2]) - julianUnixEpoch
				return time.Unix(days*86400, nanos).UTC(), nil
			case format.Int32: // date widened to timestamp_ntz
				return time.Unix(int64(v.Int32())*86400, 0).UTC(), nil
			}
			x := v.Int64()
			switch timeUnitOf(n) {
			case time.Millisecond:
				return time.UnixMilli(x).UTC(), nil
			case time.Nanosecond:
				return time.Unix(0, x).UTC(), nil
			}
			return time.UnixMicro(x).UTC(), nil
		}
	}
	return nil, fmt.Errorf("cannot convert column %q to %s", n.name, dt)
}

func bigFromTwosComplement(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	return x
}

// parquetFile is an opened Parquet file with its schema tree.
type parquetFile struct {
	name string
	f    *parquet.File
	root *pqNode
}

func openParquet(name string, data []byte) (pf *parquetFile, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errs.E(errs.Invalid, ReasonCorruptData, "%s is not a readable Parquet file: %v", name, r)
		}
	}()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, ReasonCorruptData, err, "%s is not a readable Parquet file: %v", name, err)
	}
	root, err := buildPQTree(f.Metadata().Schema)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, ReasonCorruptData, err, "%s has an invalid Parquet schema: %v", name, err)
	}
	return &parquetFile{name: name, f: f, root: root}, nil
}

// readRows reads every row of the file as schema (nil entries in skip mean
// "all rows"). Fields of schema absent from the file read as NULL.
func (pf *parquetFile) readRows(schema *StructType, m fieldMatcher, fn func(Row) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errs.E(errs.Invalid, ReasonCorruptData, "reading %s failed: %v", pf.name, r)
		}
	}()
	p, err := buildPlan(pf.root, schema, m)
	if err != nil {
		return errs.Wrap(errs.Invalid, ReasonCorruptData, err, "%s does not match the table schema: %v", pf.name, err)
	}
	nleaves := 0
	var count func(n *pqNode)
	count = func(n *pqNode) {
		if n.leaf {
			nleaves++
		}
		for _, c := range n.children {
			count(c)
		}
	}
	count(pf.root)
	a := &assembler{cols: make([][]parquet.Value, nleaves), pos: make([]int, nleaves)}
	buf := make([]parquet.Row, 256)
	for _, rg := range pf.f.RowGroups() {
		rows := rg.Rows()
		for {
			n, rerr := rows.ReadRows(buf)
			for i := 0; i < n; i++ {
				for j := range a.cols {
					a.cols[j] = a.cols[j][:0]
					a.pos[j] = 0
				}
				for _, v := range buf[i] {
					c := v.Column()
					if c >= 0 && c < nleaves {
						a.cols[c] = append(a.cols[c], v)
					}
				}
				r, err := a.read(p)
				if err != nil {
					rows.Close()
					return errs.Wrap(errs.Invalid, ReasonCorruptData, err, "%s: %v", pf.name, err)
				}
				if err := fn(r.(Row)); err != nil {
					rows.Close()
					return err
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				rows.Close()
				return errs.Wrap(errs.Invalid, ReasonCorruptData, rerr, "reading %s: %v", pf.name, rerr)
			}
			if n == 0 {
				break
			}
		}
		rows.Close()
	}
	return nil
}

// readParquetObject fetches key and opens it as Parquet.
func (t *Table) readParquetObject(ctx context.Context, key string) (*parquetFile, error) {
	data, err := t.readObject(ctx, key)
	if err != nil {
		return nil, err
	}
	return openParquet(key, data)
}

var _ = binary.LittleEndian
var _ = math.MaxInt
