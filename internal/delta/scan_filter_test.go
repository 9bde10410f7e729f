package delta

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScanFilterRows checks that a scan's filter selects rows, not only
// files, with SQL NULL semantics, also when the filtered column is not
// projected.
func TestScanFilterRows(t *testing.T) {
	ctx := context.Background()
	tbl := mustMemTable(t)
	schema := &StructType{Fields: []*StructField{field("part", TypeString), field("id", TypeLong), field("name", TypeString)}}
	mustCreate(t, tbl, schema, []string{"part"}, nil)
	mustAppend(t, tbl, []Row{{"a", int64(1), "one"}, {"a", int64(2), nil}, {"b", int64(3), "three"}, {"b", nil, "null id"}})
	snap, err := tbl.Latest(ctx)
	require.NoError(t, err)
	read := func(t *testing.T, cols []string, p Predicate) []string {
		t.Helper()
		sc, err := snap.Scan(ScanOptions{Columns: cols, Filter: p})
		require.NoError(t, err)
		require.Equal(t, len(cols), len(sc.Schema().Fields))
		var out []string
		require.NoError(t, sc.Rows(ctx, func(r Row) error {
			require.Len(t, r, len(cols))
			out = append(out, formatRow(r))
			return nil
		}))
		return out
	}
	t.Run("DataColumnNotProjected", func(t *testing.T) {
		got := read(t, []string{"name"}, &Comparison{Column: "id", Op: ">=", Value: int64(2)})
		require.ElementsMatch(t, []string{formatRow(Row{nil}), formatRow(Row{"three"})}, got)
	})
	t.Run("PartitionAndData", func(t *testing.T) {
		got := read(t, []string{"id"}, &And{Preds: []Predicate{&Comparison{Column: "part", Op: "=", Value: "b"}, &IsNull{Column: "id", Not: true}}})
		require.Equal(t, []string{formatRow(Row{int64(3)})}, got)
	})
	t.Run("NullIsNotTrue", func(t *testing.T) {
		got := read(t, []string{"part", "id"}, &Comparison{Column: "id", Op: "!=", Value: int64(1)})
		require.ElementsMatch(t, []string{formatRow(Row{"a", int64(2)}), formatRow(Row{"b", int64(3)})}, got)
	})
}
