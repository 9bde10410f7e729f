package delta

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// AppendJSON appends the corpus JSON encoding of v (of Delta type dt) to b:
// integers as JSON numbers, float/double as the shortest round-trip decimal,
// decimals as strings with exactly scale fraction digits, dates
// "YYYY-MM-DD", timestamps "YYYY-MM-DDTHH:MM:SS.ffffffZ" (timestamp_ntz
// without the Z), binary as padded standard base64, maps as
// [{"key":k,"value":v}], NaN/±Inf as strings.
func AppendJSON(b []byte, dt DataType, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	switch t := dt.(type) {
	case *StructType:
		r, ok := v.(Row)
		if !ok || len(r) != len(t.Fields) {
			return nil, fmt.Errorf("value %T does not fit %s", v, dt)
		}
		b = append(b, '{')
		for i, f := range t.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
			var err error
			if b, err = AppendJSON(b, f.Type, r[i]); err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		return append(b, '}'), nil
	case *ArrayType:
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("value %T is not an array", v)
		}
		b = append(b, '[')
		for i, e := range l {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendJSON(b, t.ElementType, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case *MapType:
		l, ok := v.([]MapEntry)
		if !ok {
			return nil, fmt.Errorf("value %T is not a map", v)
		}
		b = append(b, '[')
		for i, e := range l {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			var err error
			if b, err = AppendJSON(b, t.KeyType, e.Key); err != nil {
				return nil, err
			}
			b = append(b, `,"value":`...)
			if b, err = AppendJSON(b, t.ValueType, e.Value); err != nil {
				return nil, err
			}
			b = append(b, '}')
		}
		return append(b, ']'), nil
	case *DecimalType:
		d, ok := v.(Decimal)
		if !ok {
			return nil, fmt.Errorf("value %T is not a decimal", v)
		}
		return appendJSONString(b, d.Rescale(t.Scale).String()), nil
	}
	switch x := v.(type) {
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendJSONString(b, x), nil
	case []byte:
		return appendJSONString(b, base64.StdEncoding.EncodeToString(x)), nil
	case time.Time:
		switch dt {
		case TypeDate:
			return appendJSONString(b, x.UTC().Format("2006-01-02")), nil
		case TypeTimestampNTZ:
			return appendJSONString(b, x.UTC().Format("2006-01-02T15:04:05.000000")), nil
		default:
			return appendJSONString(b, x.UTC().Format("2006-01-02T15:04:05.000000Z")), nil
		}
	}
	return nil, fmt.Errorf("cannot encode %T as %s", v, dt)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// appendFloat writes the shortest decimal that round-trips at the given bit
// size, in the style of encoding/json.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	abs := math.Abs(f)
	fmtc := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			fmtc = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, fmtc, -1, bits)
	if fmtc == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// EncodeRow returns the JSON object of row (read with schema), keyed by the
// logical column names.
func EncodeRow(schema *StructType, row Row) ([]byte, error) {
	return AppendJSON(nil, schema, row)
}
