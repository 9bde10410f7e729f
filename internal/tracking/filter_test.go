package tracking

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
)

func TestParseFilter(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, tc := range []struct {
			in   string
			want []Clause
		}{
			{"", nil},
			{"metrics.acc > 0.9", []Clause{{Entity: EntityMetric, Key: "acc", Op: ">", Num: 0.9, IsNum: true}}},
			{"metric.acc>=1e-3", []Clause{{Entity: EntityMetric, Key: "acc", Op: ">=", Num: 1e-3, IsNum: true}}},
			{"metrics.loss != -2", []Clause{{Entity: EntityMetric, Key: "loss", Op: "!=", Num: -2, IsNum: true}}},
			{"params.model = 'rf'", []Clause{{Entity: EntityParam, Key: "model", Op: "=", Str: "rf"}}},
			{`param.model = "rf"`, []Clause{{Entity: EntityParam, Key: "model", Op: "=", Str: "rf"}}},
			{"parameters.`max depth` LIKE '1%'", []Clause{{Entity: EntityParam, Key: "max depth", Op: "LIKE", Str: "1%"}}},
			{`tags."my tag" ilike '%X%'`, []Clause{{Entity: EntityTag, Key: "my tag", Op: "ILIKE", Str: "%X%"}}},
			{"tags.mlflow.runName = 'r'", []Clause{{Entity: EntityTag, Key: "mlflow.runName", Op: "=", Str: "r"}}},
			{"tag.`mlflow.prompt.is_prompt` != 'true'", []Clause{{Entity: EntityTag, Key: "mlflow.prompt.is_prompt", Op: "!=", Str: "true"}}},
			{"tags.t IS NULL", []Clause{{Entity: EntityTag, Key: "t", Op: "IS NULL"}}},
			{"tags.t is not null", []Clause{{Entity: EntityTag, Key: "t", Op: "IS NOT NULL"}}},
			{"attributes.status = 'FINISHED'", []Clause{{Entity: EntityAttribute, Key: "status", Op: "=", Str: "FINISHED"}}},
			{"status != 'FAILED'", []Clause{{Entity: EntityAttribute, Key: "status", Op: "!=", Str: "FAILED"}}},
			{"created > 100", []Clause{{Entity: EntityAttribute, Key: "start_time", Op: ">", Num: 100, IsNum: true}}},
			{"attr.run_id IN ('a', 'b')", []Clause{{Entity: EntityAttribute, Key: "run_id", Op: "IN", List: []string{"a", "b"}}}},
			{"run.run_name NOT IN ('x')", []Clause{{Entity: EntityAttribute, Key: "run_name", Op: "NOT IN", List: []string{"x"}}}},
			{"datasets.digest = 'd' and dataset.context = 'training'", []Clause{
				{Entity: EntityDataset, Key: "digest", Op: "=", Str: "d"}, {Entity: EntityDataset, Key: "context", Op: "=", Str: "training"}}},
			{"metrics.a > 1 AND params.b = 'x' AND tags.c LIKE 'y%'", []Clause{
				{Entity: EntityMetric, Key: "a", Op: ">", Num: 1, IsNum: true},
				{Entity: EntityParam, Key: "b", Op: "=", Str: "x"},
				{Entity: EntityTag, Key: "c", Op: "LIKE", Str: "y%"}}},
			{"params.q = 'it''s'", []Clause{{Entity: EntityParam, Key: "q", Op: "=", Str: "it's"}}},
			{"params.q <> 'a'", []Clause{{Entity: EntityParam, Key: "q", Op: "!=", Str: "a"}}},
		} {
			got, err := ParseFilter(tc.in, RunGrammar)
			require.NoError(t, err, tc.in)
			require.Equal(t, tc.want, got, tc.in)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct{ in, msg string }{
			{"metrics.acc LIKE 'a'", "Invalid comparator 'LIKE' not one of '['!=', '<', '<=', '=', '>', '>=']'"},
			{"metrics.acc > 'a'", "Expected numeric value type for metric 'acc'. Found 'a'"},
			{"params.p = 1", "Value for parameter 'p' must be a quoted string (single or double quotes). Found '1'"},
			{"params.p > 'a'", "Invalid comparator '>' not one of '['!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN']'"},
			{"foo.bar = 'x'", "Invalid entity type 'foo'. Valid values are ['attr', 'attribute', 'attributes', 'dataset', 'datasets', 'metric', 'metrics', 'param', 'parameter', 'parameters', 'params', 'run', 'tag', 'tags']"},
			{"attributes.color = 'x'", "Invalid attribute key 'color' specified. Valid keys are ['artifact_uri', 'end_time', 'lifecycle_stage', 'run_id', 'run_name', 'start_time', 'status', 'user_id']"},
			{"datasets.size = 'x'", "Invalid dataset key 'size' specified. Valid keys are ['context', 'digest', 'name']"},
			{"start_time > 'x'", "Expected numeric value type for attribute 'start_time'. Found 'x'"},
			{"metrics.a > 1 OR metrics.b > 1", "Invalid filter 'metrics.a > 1 OR metrics.b > 1': 'OR' is not supported; only AND joins clauses"},
			{"metrics.a > 1 metrics.b > 1", "Invalid filter 'metrics.a > 1 metrics.b > 1': expected AND or the end of the filter at position 14, found 'metrics.b'"},
			{"metrics.a", "Invalid filter 'metrics.a': expected a comparison operator after 'a' at position 9, found 'end of filter'"},
			{"params.p = 'open", "Invalid filter 'params.p = 'open': unterminated string starting at position 11"},
			{"params.`p = 'x'", "Invalid filter 'params.`p = 'x'': unterminated quoted key at position 7"},
			{"run_id IN 'a'", "Invalid filter 'run_id IN 'a'': expected '(' after IN at position 10"},
			{"run_id IN (1)", "Invalid filter 'run_id IN (1)': IN takes a list of quoted strings, e.g. ('a', 'b'); found '1' at position 11"},
			{"tags.t IS 'x'", "Invalid filter 'tags.t IS 'x'': expected NULL after IS at position 10"},
			{"params.p IS NULL", "Invalid comparator 'IS NULL' not one of '['!=', '=', 'ILIKE', 'IN', 'LIKE', 'NOT IN']'"},
			{"metrics.a ! 1", "Invalid filter 'metrics.a ! 1': unexpected character '!' at position 10"},
			{"metrics.a > 1 AND", "Invalid filter 'metrics.a > 1 AND': expected an identifier such as metrics.<key>, params.<key>, tags.<key> or an attribute at position 17, found 'end of filter'"},
			{"metrics. > 1", "Invalid filter 'metrics. > 1': identifier 'metrics.' has no key after the '.'"},
			{"params.p = 'a' ; drop table x", "Invalid filter 'params.p = 'a' ; drop table x': unexpected character ';' at position 15"},
		} {
			_, err := ParseFilter(tc.in, RunGrammar)
			require.Error(t, err, tc.in)
			require.Equal(t, errs.Invalid, errs.KindOf(err), tc.in)
			require.Equal(t, "INVALID_PARAMETER_VALUE", errs.ReasonOf(err), tc.in)
			require.Equal(t, tc.msg, errs.Message(err), tc.in)
		}
	})
}

func TestParseOrderBy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want OrderKey
		err  string
	}{
		{in: "metrics.acc DESC", want: OrderKey{Entity: EntityMetric, Key: "acc", Desc: true}},
		{in: "metrics.`val loss`", want: OrderKey{Entity: EntityMetric, Key: "val loss"}},
		{in: "start_time asc", want: OrderKey{Entity: EntityAttribute, Key: "start_time"}},
		{in: "attributes.created DESC", want: OrderKey{Entity: EntityAttribute, Key: "start_time", Desc: true}},
		{in: "params.lr", want: OrderKey{Entity: EntityParam, Key: "lr"}},
		{in: "metrics.acc sideways", err: "Invalid order_by clause 'metrics.acc sideways'. Use <identifier> [ASC|DESC]."},
		{in: "attributes.color", err: "Invalid order_by attribute key 'color' in 'attributes.color'. Valid keys are ['artifact_uri', 'end_time', 'experiment_id', 'run_id', 'run_name', 'start_time', 'status', 'user_id']"},
		{in: "datasets.name", err: "Invalid order_by clause 'datasets.name': datasets cannot order a search"},
	} {
		got, err := ParseOrderBy(tc.in, RunGrammar)
		if tc.err != "" {
			require.Error(t, err, tc.in)
			require.Equal(t, tc.err, errs.Message(err))
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
}

func TestPageToken(t *testing.T) {
	tok := EncodePageToken(50)
	require.Equal(t, "eyJvZmZzZXQiOjUwfQ==", tok)
	n, err := DecodePageToken(tok)
	require.NoError(t, err)
	require.Equal(t, 50, n)
	_, err = DecodePageToken("garbage!")
	require.Equal(t, "INVALID_PARAMETER_VALUE", errs.ReasonOf(err))
}

func TestTableRefs(t *testing.T) {
	for _, tc := range []struct {
		source, sourceType string
		table              string
		version            int64
	}{
		{"main.sales.orders@v3", "lakebox", "main.sales.orders", 3},
		{"main.sales.orders", "table", "main.sales.orders", -1},
		{`{"delta_table_name": "main.s.t", "delta_table_version": 12}`, "delta", "main.s.t", 12},
		{`{"uri": "lakebox:/main.s.t@7"}`, "uc", "main.s.t", 7},
		{`{"path": "/data/x.parquet"}`, "local", "", 0},
		{"s3://bucket/x.csv", "s3", "", 0},
	} {
		refs := TableRefs(DatasetInput{Dataset: Dataset{Name: "d", Digest: "x", SourceType: tc.sourceType, Source: tc.source}})
		if tc.table == "" {
			require.Empty(t, refs, tc.source)
			continue
		}
		require.Len(t, refs, 1, tc.source)
		require.Equal(t, tc.table, refs[0].Table)
		require.Equal(t, tc.version, refs[0].Version)
	}
}
