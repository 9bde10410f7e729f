package httpapi

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/lakebox/lakebox/internal/query"
)

// ArrowStreamType is the media type of an ARROW_STREAM result chunk.
const ArrowStreamType = "application/vnd.apache.arrow.stream"

var decimalRE = regexp.MustCompile(`^(?i)decimal\((\d+),\s*(\d+)\)$`)

// arrowType maps a result column to its Arrow type: BOOLEAN → Boolean,
// TINYINT/SMALLINT/INT/BIGINT → Int8/16/32/64, FLOAT/DOUBLE →
// Float32/64, DECIMAL(p,s) → Decimal128(p,s), STRING → String, BINARY →
// Binary, DATE → Date32, TIMESTAMP → Timestamp(µs, "UTC"),
// TIMESTAMP_NTZ → Timestamp(µs, no zone). Every other type (arrays, maps,
// structs, intervals, ...) is a String holding the value as the
// JSON_ARRAY format renders it (JSON text for nested types).
func arrowType(c query.Column) arrow.DataType {
	switch c.Type {
	case "BOOLEAN":
		return arrow.FixedWidthTypes.Boolean
	case "TINYINT", "BYTE":
		return arrow.PrimitiveTypes.Int8
	case "SMALLINT", "SHORT":
		return arrow.PrimitiveTypes.Int16
	case "INT", "INTEGER":
		return arrow.PrimitiveTypes.Int32
	case "BIGINT", "LONG":
		return arrow.PrimitiveTypes.Int64
	case "FLOAT":
		return arrow.PrimitiveTypes.Float32
	case "DOUBLE":
		return arrow.PrimitiveTypes.Float64
	case "DECIMAL":
		if m := decimalRE.FindStringSubmatch(c.TypeText); m != nil {
			p, _ := strconv.Atoi(m[1])
			s, _ := strconv.Atoi(m[2])
			if p >= 1 && p <= 38 && s <= p {
				return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}
			}
		}
	case "STRING":
		return arrow.BinaryTypes.String
	case "BINARY":
		return arrow.BinaryTypes.Binary
	case "DATE":
		return arrow.FixedWidthTypes.Date32
	case "TIMESTAMP":
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case "TIMESTAMP_NTZ":
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	}
	return arrow.BinaryTypes.String
}

// writeArrowStream writes rows as an Arrow IPC stream: the schema and one
// record batch (only the schema when rows is empty).
func writeArrowStream(w io.Writer, cols []query.Column, rows [][]any) error {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: arrowType(c), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	mem := memory.NewGoAllocator()
	iw := ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if len(rows) > 0 {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for i, c := range cols {
			fb := b.Field(i)
			fb.Reserve(len(rows))
			for _, row := range rows {
				var v any
				if i < len(row) {
					v = row[i]
				}
				if err := appendArrow(fb, v, c); err != nil {
					return fmt.Errorf("column %s: %w", c.Name, err)
				}
			}
		}
		rec := b.NewRecordBatch()
		defer rec.Release()
		if err := iw.Write(rec); err != nil {
			return fmt.Errorf("write arrow batch: %w", err)
		}
	}
	return iw.Close()
}

// appendArrow appends v (a value of the engine's result rows) to b.
func appendArrow(b array.Builder, v any, c query.Column) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		switch x := v.(type) {
		case bool:
			b.Append(x)
		case string:
			p, err := strconv.ParseBool(x)
			if err != nil {
				return err
			}
			b.Append(p)
		default:
			return fmt.Errorf("unexpected %T for BOOLEAN", v)
		}
	case *array.Int8Builder:
		n, err := toInt64(v, math.MinInt8, math.MaxInt8)
		b.Append(int8(n))
		return err
	case *array.Int16Builder:
		n, err := toInt64(v, math.MinInt16, math.MaxInt16)
		b.Append(int16(n))
		return err
	case *array.Int32Builder:
		n, err := toInt64(v, math.MinInt32, math.MaxInt32)
		b.Append(int32(n))
		return err
	case *array.Int64Builder:
		n, err := toInt64(v, math.MinInt64, math.MaxInt64)
		b.Append(n)
		return err
	case *array.Float32Builder:
		f, err := toFloat64(v)
		b.Append(float32(f))
		return err
	case *array.Float64Builder:
		f, err := toFloat64(v)
		b.Append(f)
		return err
	case *array.Decimal128Builder:
		t := b.Type().(*arrow.Decimal128Type)
		n, err := decimal128.FromString(fmt.Sprint(v), t.Precision, t.Scale)
		if err != nil {
			return err
		}
		b.Append(n)
	case *array.BinaryBuilder:
		switch x := v.(type) {
		case []byte:
			b.Append(x)
		case string:
			b.AppendString(x)
		default:
			return fmt.Errorf("unexpected %T for BINARY", v)
		}
	case *array.Date32Builder:
		t, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("unexpected %T for DATE", v)
		}
		y, m, d := t.Date()
		b.Append(arrow.Date32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400))
	case *array.TimestampBuilder:
		t, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("unexpected %T for %s", v, c.Type)
		}
		if b.Type().(*arrow.TimestampType).TimeZone == "" {
			// No zone: the wall clock as read, counted as if in UTC.
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		}
		b.Append(arrow.Timestamp(t.UnixMicro()))
	case *array.StringBuilder:
		b.Append(*sqlString(v, c.Type))
	default:
		return fmt.Errorf("no arrow builder for %s", c.Type)
	}
	return nil
}

func toInt64(v any, lo, hi int64) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case int:
		n = int64(x)
	case uint8:
		n = int64(x)
	case uint16:
		n = int64(x)
	case uint32:
		n = int64(x)
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range", x)
		}
		n = int64(x)
	case *big.Int:
		if !x.IsInt64() {
			return 0, fmt.Errorf("%s is out of range", x)
		}
		n = x.Int64()
	case string:
		p, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, err
		}
		n = p
	default:
		return 0, fmt.Errorf("unexpected %T for an integer", v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return n, nil
}

func toFloat64(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case string:
		return strconv.ParseFloat(x, 64)
	}
	n, err := toInt64(v, math.MinInt64, math.MaxInt64)
	return float64(n), err
}
