package client

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/lakebox/lakebox/internal/httpapi"
)

// readArrowRows decodes an ARROW_STREAM chunk (an Arrow IPC stream) into
// rows of strings as the JSON_ARRAY format renders them.
func readArrowRows(r io.Reader) ([][]*string, error) {
	rd, err := ipc.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read ARROW_STREAM chunk: %w", err)
	}
	defer rd.Release()
	var rows [][]*string
	for rd.Next() {
		rec := rd.RecordBatch()
		base := len(rows)
		for range rec.NumRows() {
			rows = append(rows, make([]*string, rec.NumCols()))
		}
		for j, col := range rec.Columns() {
			for i := range col.Len() {
				v, err := arrowString(col, i)
				if err != nil {
					return nil, fmt.Errorf("read ARROW_STREAM chunk: column %s: %w", rec.ColumnName(j), err)
				}
				rows[base+i][j] = v
			}
		}
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("read ARROW_STREAM chunk: %w", err)
	}
	return rows, nil
}

// arrowString renders value i of a column as the JSON_ARRAY format does
// (the server's sqlString): dates as 2006-01-02, timestamps in ISO 8601
// with milliseconds (UTC with a Z, or without a zone), binary in base64,
// decimals without trailing zeros, floats in the shortest form with
// NaN/Infinity; nested types arrive as strings already rendered.
func arrowString(col arrow.Array, i int) (*string, error) {
	if col.IsNull(i) {
		return nil, nil
	}
	var s string
	switch a := col.(type) {
	case *array.Boolean:
		s = strconv.FormatBool(a.Value(i))
	case *array.Int8:
		s = strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int16:
		s = strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int32:
		s = strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		s = strconv.FormatInt(a.Value(i), 10)
	case *array.Float32:
		s = httpapi.FormatFloat(float64(a.Value(i)), 32)
	case *array.Float64:
		s = httpapi.FormatFloat(a.Value(i), 64)
	case *array.Decimal128:
		s = a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
	case *array.String:
		s = a.Value(i)
	case *array.Binary:
		s = base64.StdEncoding.EncodeToString(a.Value(i))
	case *array.Date32:
		s = a.Value(i).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		t := a.DataType().(*arrow.TimestampType)
		if t.Unit != arrow.Microsecond {
			return nil, fmt.Errorf("unexpected timestamp unit %s", t.Unit)
		}
		v := time.UnixMicro(int64(a.Value(i))).UTC()
		if t.TimeZone == "" {
			s = v.Format("2006-01-02T15:04:05.000")
		} else {
			s = v.Format("2006-01-02T15:04:05.000Z")
		}
	default:
		return nil, fmt.Errorf("unexpected Arrow type %s", col.DataType())
	}
	return &s, nil
}
