package delta

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// Predicate is a filter used for data skipping: *Comparison, *IsNull, *In,
// *And, *Or, *Not. Skipping is conservative: a file is pruned only when no
// row in it can satisfy the predicate; surviving files still need row-level
// filtering by the caller.
type Predicate interface{ isPredicate() }

// Op is a comparison operator.
type Op string

// The comparison operators.
const (
	OpEq Op = "="
	OpNe Op = "!="
	OpLt Op = "<"
	OpLe Op = "<="
	OpGt Op = ">"
	OpGe Op = ">="
)

// Comparison is "Column Op Value". Column is a logical name, "." for nested
// fields; Value is a Go value (ints, floats, strings, bool, time.Time,
// Decimal, []byte) converted to the column's type.
type Comparison struct {
	Column string
	Op     Op
	Value  any
}

// IsNull is "Column IS NULL" (or IS NOT NULL with Not).
type IsNull struct {
	Column string
	Not    bool
}

// In is "Column IN (Values...)".
type In struct {
	Column string
	Values []any
}

// And is the conjunction of its operands.
type And struct{ Preds []Predicate }

// Or is the disjunction of its operands.
type Or struct{ Preds []Predicate }

// Not negates its operand.
type Not struct{ Pred Predicate }

func (*Comparison) isPredicate() {}
func (*IsNull) isPredicate()     {}
func (*In) isPredicate()         {}
func (*And) isPredicate()        {}
func (*Or) isPredicate()         {}
func (*Not) isPredicate()        {}

// columnType resolves a dotted logical column path in schema.
func columnType(schema *StructType, col string) (DataType, error) {
	parts := strings.Split(col, ".")
	st := schema
	for i, p := range parts {
		f := st.Field(p)
		if f == nil {
			return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "column %q does not exist in the table schema", col)
		}
		if i == len(parts)-1 {
			return f.Type, nil
		}
		s, ok := f.Type.(*StructType)
		if !ok {
			return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "column %q: %q is not a struct", col, p)
		}
		st = s
	}
	return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "empty column name")
}

// canonicalColumn returns the schema spelling of a dotted column path.
func canonicalColumn(schema *StructType, col string) string {
	parts := strings.Split(col, ".")
	st := schema
	for i, p := range parts {
		f := st.Field(p)
		if f == nil {
			return col
		}
		parts[i] = f.Name
		if s, ok := f.Type.(*StructType); ok {
			st = s
		}
	}
	return strings.Join(parts, ".")
}

// coerce converts a literal to the Go value model of dt.
func coerce(dt DataType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t := dt.(type) {
	case *DecimalType:
		switch x := v.(type) {
		case Decimal:
			return x.Rescale(t.Scale), nil
		case string:
			return ParseDecimal(x, t.Scale)
		default:
			return ParseDecimal(fmt.Sprint(x), t.Scale)
		}
	case *PrimitiveType:
		switch t {
		case TypeByte, TypeShort, TypeInteger, TypeLong:
			switch x := v.(type) {
			case int:
				return castInt(t, int64(x)), nil
			case int8:
				return castInt(t, int64(x)), nil
			case int16:
				return castInt(t, int64(x)), nil
			case int32:
				return castInt(t, int64(x)), nil
			case int64:
				return castInt(t, x), nil
			case string:
				s := x
				return ParsePartitionValue(t, &s)
			}
		case TypeFloat, TypeDouble:
			var f float64
			switch x := v.(type) {
			case float64:
				f = x
			case float32:
				f = float64(x)
			case int:
				f = float64(x)
			case int64:
				f = float64(x)
			case int32:
				f = float64(x)
			case string:
				s := x
				return ParsePartitionValue(t, &s)
			default:
				return nil, fmt.Errorf("%v is not a number", v)
			}
			if t == TypeFloat {
				return float32(f), nil
			}
			return f, nil
		case TypeString:
			if s, ok := v.(string); ok {
				return s, nil
			}
		case TypeBinary:
			switch x := v.(type) {
			case []byte:
				return x, nil
			case string:
				return []byte(x), nil
			}
		case TypeBoolean:
			switch x := v.(type) {
			case bool:
				return x, nil
			case string:
				s := x
				return ParsePartitionValue(t, &s)
			}
		case TypeDate, TypeTimestamp, TypeTimestampNTZ:
			switch x := v.(type) {
			case time.Time:
				return x.UTC(), nil
			case string:
				s := x
				return ParsePartitionValue(t, &s)
			}
		}
	}
	return nil, fmt.Errorf("literal %v (%T) does not fit type %s", v, v, dt)
}

// CompareValues compares two non-nil values of the same Delta type; ok is
// false for incomparable values (complex types).
func CompareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case int8:
		y, ok := b.(int8)
		return cmp3(int64(x), int64(y)), ok
	case int16:
		y, ok := b.(int16)
		return cmp3(int64(x), int64(y)), ok
	case int32:
		y, ok := b.(int32)
		return cmp3(int64(x), int64(y)), ok
	case int64:
		y, ok := b.(int64)
		return cmp3(x, y), ok
	case float32:
		y, ok := b.(float32)
		return cmpF(float64(x), float64(y)), ok
	case float64:
		y, ok := b.(float64)
		return cmpF(x, y), ok
	case string:
		y, ok := b.(string)
		return strings.Compare(x, y), ok
	case []byte:
		y, ok := b.([]byte)
		return bytes.Compare(x, y), ok
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case time.Time:
		y, ok := b.(time.Time)
		return x.Compare(y), ok
	case Decimal:
		y, ok := b.(Decimal)
		if !ok || x.Unscaled == nil || y.Unscaled == nil {
			return 0, false
		}
		return x.Cmp(y), true
	}
	return 0, false
}

func cmp3(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bindPredicate checks p against schema and converts its literals.
func bindPredicate(schema *StructType, p Predicate) (Predicate, error) {
	switch x := p.(type) {
	case nil:
		return nil, nil
	case *Comparison:
		dt, err := columnType(schema, x.Column)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		default:
			return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "unknown operator %q (accepted: = != < <= > >=)", x.Op)
		}
		v, err := coerce(dt, x.Value)
		if err != nil {
			return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "column %q: %v", x.Column, err)
		}
		return &Comparison{Column: canonicalColumn(schema, x.Column), Op: x.Op, Value: v}, nil
	case *IsNull:
		if _, err := columnType(schema, x.Column); err != nil {
			return nil, err
		}
		return &IsNull{Column: canonicalColumn(schema, x.Column), Not: x.Not}, nil
	case *In:
		dt, err := columnType(schema, x.Column)
		if err != nil {
			return nil, err
		}
		out := &In{Column: canonicalColumn(schema, x.Column)}
		for _, v := range x.Values {
			c, err := coerce(dt, v)
			if err != nil {
				return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "column %q: %v", x.Column, err)
			}
			out.Values = append(out.Values, c)
		}
		return out, nil
	case *And, *Or:
		var ps []Predicate
		if a, ok := x.(*And); ok {
			ps = a.Preds
		} else {
			ps = x.(*Or).Preds
		}
		out := make([]Predicate, len(ps))
		for i, q := range ps {
			b, err := bindPredicate(schema, q)
			if err != nil {
				return nil, err
			}
			out[i] = b
		}
		if _, ok := x.(*And); ok {
			return &And{out}, nil
		}
		return &Or{out}, nil
	case *Not:
		b, err := bindPredicate(schema, x.Pred)
		if err != nil {
			return nil, err
		}
		return negate(b), nil
	}
	return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "unsupported predicate %T", p)
}

// negate pushes a NOT down to the leaves (De Morgan), so skipping never has
// to negate a "maybe".
func negate(p Predicate) Predicate {
	switch x := p.(type) {
	case *Comparison:
		op := map[Op]Op{OpEq: OpNe, OpNe: OpEq, OpLt: OpGe, OpLe: OpGt, OpGt: OpLe, OpGe: OpLt}[x.Op]
		return &Comparison{Column: x.Column, Op: op, Value: x.Value}
	case *IsNull:
		return &IsNull{Column: x.Column, Not: !x.Not}
	case *In:
		ps := make([]Predicate, len(x.Values))
		for i, v := range x.Values {
			ps[i] = &Comparison{Column: x.Column, Op: OpNe, Value: v}
		}
		return &And{ps}
	case *And:
		ps := make([]Predicate, len(x.Preds))
		for i, q := range x.Preds {
			ps[i] = negate(q)
		}
		return &Or{ps}
	case *Or:
		ps := make([]Predicate, len(x.Preds))
		for i, q := range x.Preds {
			ps[i] = negate(q)
		}
		return &And{ps}
	case *Not:
		return x.Pred
	}
	return p
}

// fileView is what skipping knows about one file: exact partition values
// and statistics for data columns.
type fileView struct {
	partition map[string]any // logical partition column -> value (nil = NULL)
	isPart    map[string]bool
	stats     *Stats
}

// mightMatch reports whether some row of the file may satisfy p.
func (v *fileView) mightMatch(p Predicate) bool {
	switch x := p.(type) {
	case nil:
		return true
	case *And:
		for _, q := range x.Preds {
			if !v.mightMatch(q) {
				return false
			}
		}
		return true
	case *Or:
		for _, q := range x.Preds {
			if v.mightMatch(q) {
				return true
			}
		}
		return len(x.Preds) == 0
	case *Not:
		return v.mightMatch(negate(x.Pred))
	case *Comparison:
		if v.isPart[x.Column] {
			pv := v.partition[x.Column]
			if pv == nil || x.Value == nil {
				return false
			}
			c, ok := CompareValues(pv, x.Value)
			return !ok || opHolds(x.Op, c)
		}
		return v.statsMightMatch(x.Column, x.Op, x.Value)
	case *In:
		for _, val := range x.Values {
			if v.mightMatch(&Comparison{Column: x.Column, Op: OpEq, Value: val}) {
				return true
			}
		}
		return false
	case *IsNull:
		if v.isPart[x.Column] {
			return (v.partition[x.Column] == nil) != x.Not
		}
		if v.stats == nil {
			return true
		}
		nc, ok := v.stats.NullCount[x.Column]
		if !ok {
			return true
		}
		if !x.Not {
			return nc > 0
		}
		return !v.stats.HasRecords || nc < v.stats.NumRecords
	}
	return true
}

func opHolds(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	}
	return true
}

func (v *fileView) statsMightMatch(col string, op Op, lit any) bool {
	s := v.stats
	if s == nil || lit == nil {
		return lit != nil || s == nil
	}
	if nc, ok := s.NullCount[col]; ok && s.HasRecords && nc == s.NumRecords && s.NumRecords > 0 {
		return false // all NULL: no comparison holds
	}
	if s.HasRecords && s.NumRecords == 0 {
		return false
	}
	mn, hasMin := s.MinValues[col]
	mx, hasMax := s.MaxValues[col]
	cmpMin, okMin := 0, false
	cmpMax, okMax := 0, false
	if hasMin {
		cmpMin, okMin = CompareValues(mn, lit)
	}
	if hasMax {
		cmpMax, okMax = CompareValues(mx, lit)
	}
	switch op {
	case OpEq:
		return (!okMin || cmpMin <= 0) && (!okMax || cmpMax >= 0)
	case OpNe:
		if okMin && okMax && cmpMin == 0 && cmpMax == 0 {
			if nc, ok := s.NullCount[col]; ok && nc == 0 && (s.TightBounds == nil || *s.TightBounds) {
				return false
			}
		}
		return true
	case OpLt:
		return !okMin || cmpMin < 0
	case OpLe:
		return !okMin || cmpMin <= 0
	case OpGt:
		return !okMax || cmpMax > 0
	case OpGe:
		return !okMax || cmpMax >= 0
	}
	return true
}

var _ = big.NewInt
