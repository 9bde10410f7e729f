package serving

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"sort"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// Frame is the input of one prediction: rows of values (float64, string,
// bool, nil, or []any for tensor rows), with column names when the payload
// named them.
type Frame struct {
	Columns []string
	Rows    [][]any
	// Params are the request's "params", passed to models that accept them.
	Params map[string]any
}

// Len returns the number of rows.
func (f *Frame) Len() int { return len(f.Rows) }

// Request is a parsed scoring request.
type Request struct {
	Frame *Frame
	// ClientRequestID is the body's client_request_id (Databricks).
	ClientRequestID string
}

func badRequest(format string, args ...any) error {
	return errs.E(errs.Invalid, "BAD_REQUEST", format, args...)
}

var dataKeys = []string{"dataframe_split", "dataframe_records", "instances", "inputs"}

// ParseRequest parses a scoring request body of the given content type
// (application/json or text/csv, optionally with charset=utf-8).
// Errors: errs.Invalid BAD_REQUEST for a malformed body; errs.Unimplemented
// UNSUPPORTED_MEDIA_TYPE (415) for another content type.
func ParseRequest(contentType string, body []byte) (*Request, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "application/json", nil
	}
	if err != nil {
		return nil, unsupportedMedia(contentType)
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return nil, unsupportedMedia(contentType)
		}
	}
	switch mt {
	case "application/json":
		return parseJSON(body)
	case "text/csv":
		f, err := parseCSV(body)
		if err != nil {
			return nil, err
		}
		return &Request{Frame: f}, nil
	}
	return nil, unsupportedMedia(contentType)
}

func unsupportedMedia(ct string) error {
	return errs.E(errs.Unimplemented, "UNSUPPORTED_MEDIA_TYPE", "content type %q is not supported: use application/json or text/csv (charset utf-8 only)", ct)
}

func parseJSON(body []byte) (*Request, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&top); err != nil {
		return nil, badRequest("request body is not a JSON object: %v", err)
	}
	req := &Request{}
	if raw, ok := top["client_request_id"]; ok {
		if err := json.Unmarshal(raw, &req.ClientRequestID); err != nil {
			return nil, badRequest("client_request_id must be a string")
		}
	}
	var key string
	for _, k := range dataKeys {
		if _, ok := top[k]; ok {
			if key != "" {
				return nil, badRequest("the request body has both %q and %q: send exactly one of dataframe_split, dataframe_records, instances or inputs", key, k)
			}
			key = k
		}
	}
	if key == "" {
		var got []string
		for k := range top {
			got = append(got, k)
		}
		sort.Strings(got)
		return nil, badRequest("the request body must have exactly one of the keys dataframe_split, dataframe_records, instances or inputs (MLflow 2.0 scoring protocol; the pre-2.0 pandas formats are not accepted); got %v", got)
	}
	var f *Frame
	var err error
	raw := top[key]
	switch key {
	case "dataframe_split":
		f, err = parseSplit(raw)
	case "dataframe_records":
		var recs []map[string]any
		if err := json.Unmarshal(raw, &recs); err != nil {
			return nil, badRequest("dataframe_records must be a list of objects (pandas orient=records): %v", err)
		}
		f = fromRecords(recs)
	case "instances":
		f, err = parseRows(raw, "instances")
	case "inputs":
		f, err = parseInputs(raw)
	}
	if err != nil {
		return nil, err
	}
	if p, ok := top["params"]; ok && string(p) != "null" {
		if err := json.Unmarshal(p, &f.Params); err != nil {
			return nil, badRequest("params must be an object of parameter values: %v", err)
		}
	}
	req.Frame = f
	return req, nil
}

func parseSplit(raw json.RawMessage) (*Frame, error) {
	var s struct {
		Columns []string `json:"columns"`
		Data    [][]any  `json:"data"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, badRequest("dataframe_split must be {\"columns\": [...], \"data\": [[...], ...]} (pandas orient=split): %v", err)
	}
	for i, r := range s.Data {
		if s.Columns != nil && len(r) != len(s.Columns) {
			return nil, badRequest("dataframe_split row %d has %d values but there are %d columns", i, len(r), len(s.Columns))
		}
	}
	return &Frame{Columns: s.Columns, Rows: s.Data}, nil
}

func fromRecords(recs []map[string]any) *Frame {
	f := &Frame{}
	idx := map[string]int{}
	for _, r := range recs {
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, ok := idx[k]; !ok {
				idx[k] = len(f.Columns)
				f.Columns = append(f.Columns, k)
			}
		}
	}
	for _, r := range recs {
		row := make([]any, len(f.Columns))
		for k, v := range r {
			row[idx[k]] = v
		}
		f.Rows = append(f.Rows, row)
	}
	return f
}

func parseRows(raw json.RawMessage, key string) (*Frame, error) {
	var items []any
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, badRequest("%s must be a list of rows: %v", key, err)
	}
	if len(items) > 0 {
		if _, ok := items[0].(map[string]any); ok {
			recs := make([]map[string]any, len(items))
			for i, it := range items {
				m, ok := it.(map[string]any)
				if !ok {
					return nil, badRequest("%s[%d] is not an object like %s[0]", key, i, key)
				}
				recs[i] = m
			}
			return fromRecords(recs), nil
		}
	}
	f := &Frame{Rows: make([][]any, len(items))}
	for i, it := range items {
		if a, ok := it.([]any); ok {
			f.Rows[i] = a
		} else {
			f.Rows[i] = []any{it}
		}
	}
	return f, nil
}

func parseInputs(raw json.RawMessage) (*Frame, error) {
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		var cols map[string]any
		if err := json.Unmarshal(raw, &cols); err != nil {
			return nil, badRequest("inputs must be an object of columns or a list of rows: %v", err)
		}
		f := &Frame{}
		for k := range cols {
			f.Columns = append(f.Columns, k)
		}
		sort.Strings(f.Columns)
		n := -1
		for _, c := range f.Columns {
			vals, ok := cols[c].([]any)
			if !ok {
				vals = []any{cols[c]}
			}
			if n >= 0 && len(vals) != n {
				return nil, badRequest("inputs column %q has %d values but column %q has %d", c, len(vals), f.Columns[0], n)
			}
			n = len(vals)
		}
		f.Rows = make([][]any, max(n, 0))
		for i := range f.Rows {
			f.Rows[i] = make([]any, len(f.Columns))
			for j, c := range f.Columns {
				if vals, ok := cols[c].([]any); ok {
					f.Rows[i][j] = vals[i]
				} else {
					f.Rows[i][j] = cols[c]
				}
			}
		}
		return f, nil
	}
	return parseRows(raw, "inputs")
}

func parseCSV(body []byte) (*Frame, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return nil, badRequest("the CSV body is empty: send a header row and data rows")
	}
	if err != nil {
		return nil, badRequest("malformed CSV: %v", err)
	}
	f := &Frame{Columns: header}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, badRequest("malformed CSV: %v", err)
		}
		row := make([]any, len(rec))
		for i, s := range rec {
			switch {
			case s == "":
				row[i] = nil
			default:
				if v, err := strconv.ParseFloat(s, 64); err == nil {
					row[i] = v
				} else if b, err := strconv.ParseBool(s); err == nil && (s == "true" || s == "false" || s == "True" || s == "False") {
					row[i] = b
				} else {
					row[i] = s
				}
			}
		}
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

// Conform checks f against the signature and returns a frame with the
// signature's columns in its order and values of its types (float64 for
// numeric types). Extra columns are dropped. Errors: errs.Invalid
// BAD_REQUEST naming the offending column.
func Conform(f *Frame, sig *Signature) (*Frame, error) {
	names := sig.columnNames()
	if names == nil {
		return f, nil
	}
	out := &Frame{Columns: names, Rows: make([][]any, len(f.Rows)), Params: f.Params}
	src := make([]int, len(names))
	if f.Columns == nil {
		for i, r := range f.Rows {
			if len(r) != len(names) {
				return nil, badRequest("row %d has %d values but the model's signature has %d columns %v", i, len(r), len(names), names)
			}
		}
		for i := range src {
			src[i] = i
		}
	} else {
		pos := make(map[string]int, len(f.Columns))
		for i, c := range f.Columns {
			pos[c] = i
		}
		var missing []string
		for i, c := range sig.Inputs {
			p, ok := pos[c.Name]
			if !ok {
				p = -1
				if c.IsRequired() {
					missing = append(missing, c.Name)
				}
			}
			src[i] = p
		}
		if len(missing) > 0 {
			return nil, badRequest("model is missing inputs %q: the signature requires columns %v", missing, names)
		}
	}
	for i, r := range f.Rows {
		row := make([]any, len(names))
		for j, c := range sig.Inputs {
			if src[j] < 0 {
				continue
			}
			v, err := convert(r[src[j]], c.Type)
			if err != nil {
				return nil, badRequest("incompatible input type for column %q (row %d): %v", c.Name, i, err)
			}
			if v == nil && c.IsRequired() && (c.Type == "long" || c.Type == "integer" || c.Type == "boolean") {
				return nil, badRequest("column %q (row %d) is required and of type %s but the value is null", c.Name, i, c.Type)
			}
			row[j] = v
		}
		out.Rows[i] = row
	}
	return out, nil
}

func convert(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "double", "float", "long", "integer":
		switch x := v.(type) {
		case float64:
			if (typ == "long" || typ == "integer") && x != math.Trunc(x) {
				return nil, fmt.Errorf("%v is not an integer but the column is %s", x, typ)
			}
			return x, nil
		case json.Number:
			return x.Float64()
		case bool:
			return nil, fmt.Errorf("got a boolean but the column is %s", typ)
		case string:
			return nil, fmt.Errorf("got the string %q but the column is %s", truncate(x, 40), typ)
		default:
			return nil, fmt.Errorf("got %T but the column is %s", v, typ)
		}
	case "string":
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("got %v but the column is string", v)
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("got %v but the column is boolean", v)
	}
	return v, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// floatMatrix returns the frame's rows as float32 features (NaN for null).
// Errors: errs.Invalid naming the column of a non-numeric value.
func (f *Frame) floatMatrix(width int) ([]float32, error) {
	out := make([]float32, 0, len(f.Rows)*width)
	for i, r := range f.Rows {
		if len(r) == 1 && width > 1 {
			if a, ok := r[0].([]any); ok {
				r = a
			}
		}
		if len(r) != width {
			return nil, badRequest("row %d has %d values but the model takes %d features", i, len(r), width)
		}
		for j, v := range r {
			switch x := v.(type) {
			case nil:
				out = append(out, float32(math.NaN()))
			case float64:
				out = append(out, float32(x))
			case bool:
				if x {
					out = append(out, 1)
				} else {
					out = append(out, 0)
				}
			default:
				col := strconv.Itoa(j)
				if f.Columns != nil && j < len(f.Columns) {
					col = f.Columns[j]
				}
				return nil, badRequest("column %q (row %d) is not numeric: %v", col, i, v)
			}
		}
	}
	return out, nil
}
