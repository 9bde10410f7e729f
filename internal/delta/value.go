package delta

import (
	"math/big"
	"strings"
)

// Row is one row (or one struct value) read from a table: values in the
// order of the fields of the StructType it was read with. The Go value of
// each cell depends on its Delta type:
//
//	byte int8, short int16, integer int32, long int64,
//	float float32, double float64, decimal Decimal,
//	string string, binary []byte, boolean bool,
//	date time.Time (UTC midnight), timestamp time.Time (UTC instant),
//	timestamp_ntz time.Time (the wall-clock value, in UTC),
//	struct Row, array []any, map []MapEntry,
//
// and nil is SQL NULL.
type Row []any

// MapEntry is one entry of a map value.
type MapEntry struct {
	Key   any
	Value any
}

// Decimal is a decimal value: Unscaled × 10^-Scale.
type Decimal struct {
	Unscaled *big.Int
	Scale    int
}

// String formats the decimal with exactly Scale fraction digits.
func (d Decimal) String() string {
	if d.Unscaled == nil {
		return "<nil>"
	}
	s := new(big.Int).Abs(d.Unscaled).String()
	neg := d.Unscaled.Sign() < 0
	if d.Scale > 0 {
		if len(s) <= d.Scale {
			s = strings.Repeat("0", d.Scale-len(s)+1) + s
		}
		s = s[:len(s)-d.Scale] + "." + s[len(s)-d.Scale:]
	} else if d.Scale < 0 {
		s += strings.Repeat("0", -d.Scale)
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Rescale returns d with the given larger-or-equal scale.
func (d Decimal) Rescale(scale int) Decimal {
	if scale == d.Scale || d.Unscaled == nil {
		return d
	}
	if scale > d.Scale {
		m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale-d.Scale)), nil)
		return Decimal{Unscaled: new(big.Int).Mul(d.Unscaled, m), Scale: scale}
	}
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-scale)), nil)
	return Decimal{Unscaled: new(big.Int).Quo(d.Unscaled, m), Scale: scale}
}

// Cmp compares two decimals numerically.
func (d Decimal) Cmp(o Decimal) int {
	s := max(d.Scale, o.Scale)
	return d.Rescale(s).Unscaled.Cmp(o.Rescale(s).Unscaled)
}
