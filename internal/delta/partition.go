package delta

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// ParsePartitionValue converts a serialized partition value to the Go value
// of dt (see Row). nil (JSON null) is NULL; so is "" for every type but
// string. Timestamps without a zone are read as UTC.
func ParsePartitionValue(dt DataType, s *string) (any, error) {
	if s == nil {
		return nil, nil
	}
	v := *s
	if dt == TypeString {
		return v, nil
	}
	if v == "" {
		return nil, nil
	}
	switch t := dt.(type) {
	case *DecimalType:
		return ParseDecimal(v, t.Scale)
	case *PrimitiveType:
		switch t {
		case TypeByte, TypeShort, TypeInteger, TypeLong:
			bits := map[*PrimitiveType]int{TypeByte: 8, TypeShort: 16, TypeInteger: 32, TypeLong: 64}[t]
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, bits)
			if err != nil {
				return nil, fmt.Errorf("partition value %q is not a %s", v, t)
			}
			switch t {
			case TypeByte:
				return int8(n), nil
			case TypeShort:
				return int16(n), nil
			case TypeInteger:
				return int32(n), nil
			}
			return n, nil
		case TypeFloat:
			f, err := strconv.ParseFloat(v, 32)
			if err != nil {
				return nil, fmt.Errorf("partition value %q is not a float", v)
			}
			return float32(f), nil
		case TypeDouble:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("partition value %q is not a double", v)
			}
			return f, nil
		case TypeBoolean:
			b, err := strconv.ParseBool(strings.ToLower(v))
			if err != nil {
				return nil, fmt.Errorf("partition value %q is not a boolean", v)
			}
			return b, nil
		case TypeBinary:
			return []byte(v), nil
		case TypeDate:
			d, err := time.Parse("2006-01-02", v)
			if err != nil {
				return nil, fmt.Errorf("partition value %q is not a date (YYYY-MM-DD)", v)
			}
			return d, nil
		case TypeTimestamp, TypeTimestampNTZ:
			return ParseTimestamp(v)
		}
	}
	return nil, fmt.Errorf("partition values of type %s are not supported", dt)
}

var tsLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// ParseTimestamp parses the timestamp forms Delta writers use in partition
// values and statistics ("2024-01-01 10:00:00[.ffffff]", ISO 8601 with or
// without zone); zone-less values are UTC.
func ParseTimestamp(v string) (time.Time, error) {
	for _, l := range tsLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", v)
}

// ParseDecimal parses a decimal literal ("-12.5", "1E+3") at scale.
func ParseDecimal(v string, scale int) (Decimal, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(v))
	if !ok {
		return Decimal{}, fmt.Errorf("%q is not a decimal", v)
	}
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	r.Mul(r, new(big.Rat).SetInt(m))
	if !r.IsInt() {
		// round half up like Spark's HALF_UP
		q, rem := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
		if new(big.Int).Mul(new(big.Int).Abs(rem), big.NewInt(2)).Cmp(r.Denom()) >= 0 {
			if r.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
		return Decimal{Unscaled: q, Scale: scale}, nil
	}
	return Decimal{Unscaled: new(big.Int).Set(r.Num()), Scale: scale}, nil
}
