package delta

import (
	"encoding/json"
	"math/big"
	"strings"
	"time"
)

// Stats are the parsed per-file statistics of an add action. Keys of
// MinValues, MaxValues and NullCount are logical column paths joined with
// "." ("a", "s.b"); values are typed as in Row. Columns without statistics
// are absent.
type Stats struct {
	NumRecords  int64
	HasRecords  bool
	MinValues   map[string]any
	MaxValues   map[string]any
	NullCount   map[string]int64
	TightBounds *bool
}

// ParseStats parses the stats JSON of an add action against the table
// schema (statistics use physical names under column mapping). Unparseable
// stats yield nil: statistics are optional and only used for skipping.
func ParseStats(s string, schema *StructType, mode ColumnMappingMode) *Stats {
	if s == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw struct {
		NumRecords  *json.Number   `json:"numRecords"`
		MinValues   map[string]any `json:"minValues"`
		MaxValues   map[string]any `json:"maxValues"`
		NullCount   map[string]any `json:"nullCount"`
		TightBounds *bool          `json:"tightBounds"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil
	}
	st := &Stats{MinValues: map[string]any{}, MaxValues: map[string]any{}, NullCount: map[string]int64{}, TightBounds: raw.TightBounds}
	if raw.NumRecords != nil {
		if n, err := raw.NumRecords.Int64(); err == nil {
			st.NumRecords, st.HasRecords = n, true
		}
	}
	walkStats(raw.MinValues, schema, mode, "", func(p string, f *StructField, v any) {
		if x, ok := statValue(f.Type, v, false); ok {
			st.MinValues[p] = x
		}
	})
	walkStats(raw.MaxValues, schema, mode, "", func(p string, f *StructField, v any) {
		if x, ok := statValue(f.Type, v, true); ok {
			st.MaxValues[p] = x
		}
	})
	walkStats(raw.NullCount, schema, mode, "", func(p string, f *StructField, v any) {
		if n, ok := v.(json.Number); ok {
			if c, err := n.Int64(); err == nil {
				st.NullCount[p] = c
			}
		}
	})
	return st
}

func walkStats(m map[string]any, st *StructType, mode ColumnMappingMode, prefix string, fn func(string, *StructField, any)) {
	for _, f := range st.Fields {
		v, ok := m[f.PhysicalName(mode)]
		if !ok {
			continue
		}
		p := prefix + f.Name
		if sub, ok := f.Type.(*StructType); ok {
			if mv, ok := v.(map[string]any); ok {
				walkStats(mv, sub, mode, p+".", fn)
			}
			continue
		}
		fn(p, f, v)
	}
}

// statValue converts a JSON statistic to the Go value of dt. Timestamp
// maxima are truncated to milliseconds by writers, so isMax rounds them up.
func statValue(dt DataType, v any, isMax bool) (any, bool) {
	switch t := dt.(type) {
	case *DecimalType:
		var s string
		switch x := v.(type) {
		case json.Number:
			s = x.String()
		case string:
			s = x
		default:
			return nil, false
		}
		d, err := ParseDecimal(s, t.Scale)
		return d, err == nil
	case *PrimitiveType:
		switch t {
		case TypeByte, TypeShort, TypeInteger, TypeLong:
			n, ok := v.(json.Number)
			if !ok {
				return nil, false
			}
			i, err := n.Int64()
			if err != nil {
				return nil, false
			}
			return castInt(t, i), true
		case TypeFloat, TypeDouble:
			n, ok := v.(json.Number)
			if !ok {
				return nil, false // NaN etc. are written as strings: skip
			}
			f, err := n.Float64()
			if err != nil {
				return nil, false
			}
			if t == TypeFloat {
				return float32(f), true
			}
			return f, true
		case TypeString:
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			if isMax {
				// Writers may truncate string maxima; only a prefix is known.
				return nil, false
			}
			return s, true
		case TypeBoolean:
			b, ok := v.(bool)
			return b, ok
		case TypeDate:
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			d, err := time.Parse("2006-01-02", s)
			return d, err == nil
		case TypeTimestamp, TypeTimestampNTZ:
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			ts, err := ParseTimestamp(s)
			if err != nil {
				return nil, false
			}
			if isMax {
				ts = ts.Add(time.Millisecond - time.Microsecond)
			}
			return ts, true
		}
	}
	return nil, false
}

func castInt(t *PrimitiveType, i int64) any {
	switch t {
	case TypeByte:
		return int8(i)
	case TypeShort:
		return int16(i)
	case TypeInteger:
		return int32(i)
	}
	return i
}

var _ = big.NewInt
