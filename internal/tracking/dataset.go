package tracking

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// TagDatasetContext is the input tag naming a dataset's role ("training", "eval").
const TagDatasetContext = "mlflow.data.context"

// tableName matches a three-level table name with an optional version:
// "main.sales.orders", "main.sales.orders@v3", "main.sales.orders@3",
// optionally behind a "lakebox:" or "uc:" scheme.
var tableName = regexp.MustCompile(`^(?:(?:lakebox|uc|table):/*)?([A-Za-z_][\w-]*\.[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*)(?:@v?(\d+))?$`)

// TableRefs extracts the Lakebox tables (and versions) a dataset input names.
// A source names a table when it is a three-level name such as
// "catalog.schema.table@v3", or JSON whose "delta_table_name", "table_name",
// "table", "uri" or "path" field is one (with "delta_table_version",
// "table_version" or "version" giving the version). MLflow's delta source
// (source_type "delta") is the common case. The version is -1 when unknown.
func TableRefs(in DatasetInput) []TableRef {
	d := in.Dataset
	ctx := ""
	for _, t := range in.Tags {
		if t.Key == TagDatasetContext {
			ctx = t.Value
		}
	}
	mk := func(name string, version int64) []TableRef {
		return []TableRef{{DatasetName: d.Name, Digest: d.Digest, Context: ctx, Table: name, Version: version}}
	}
	if name, v, ok := parseTable(strings.TrimSpace(d.Source)); ok {
		return mk(name, v)
	}
	var obj map[string]any
	if json.Unmarshal([]byte(d.Source), &obj) != nil {
		return nil
	}
	version := int64(-1)
	for _, k := range []string{"delta_table_version", "table_version", "version"} {
		if v, ok := jsonInt(obj[k]); ok {
			version = v
			break
		}
	}
	for _, k := range []string{"delta_table_name", "table_name", "table", "uri", "path"} {
		s, _ := obj[k].(string)
		if name, v, ok := parseTable(strings.TrimSpace(s)); ok {
			if v < 0 {
				v = version
			}
			return mk(name, v)
		}
	}
	return nil
}

func parseTable(s string) (string, int64, bool) {
	m := tableName.FindStringSubmatch(s)
	if m == nil {
		return "", 0, false
	}
	if m[2] == "" {
		return m[1], -1, true
	}
	v, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return m[1], v, true
}

func jsonInt(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}
