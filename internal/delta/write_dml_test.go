package delta

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
)

func dmlSchema() *StructType {
	return &StructType{Fields: []*StructField{field("id", TypeLong), field("part", TypeString), field("v", TypeString), field("n", TypeInteger)}}
}

// mustDMLTable creates a table partitioned by part with rows id 0..n-1
// spread over parts a, b, c, in one file per partition and append.
func mustDMLTable(t *testing.T, conf map[string]string, appends int) *Table {
	t.Helper()
	tbl := mustMemTable(t)
	mustCreate(t, tbl, dmlSchema(), []string{"part"}, conf)
	id := 0
	for a := 0; a < appends; a++ {
		var rows []Row
		for i := 0; i < 9; i++ {
			rows = append(rows, Row{int64(id), string(rune('a' + id%3)), fmt.Sprintf("v%d", id), int32(id % 5)})
			id++
		}
		mustAppend(t, tbl, rows)
	}
	return tbl
}

func ids(rows []Row) []int64 {
	var out []int64
	for _, r := range rows {
		out = append(out, r[0].(int64))
	}
	return out
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 2) // 18 rows, 6 files
		res, err := tbl.Delete(ctx, &Comparison{Column: "n", Op: OpEq, Value: 0}, DMLOptions{})
		require.NoError(t, err)
		require.True(t, res.Committed)
		require.Equal(t, int64(4), res.RowsDeleted) // ids 0,5,10,15
		got := wReadAll(t, tbl)
		require.Len(t, got, 14)
		for _, r := range got {
			require.NotEqual(t, int32(0), r[3])
		}
		// Only files holding a matching row were rewritten.
		require.LessOrEqual(t, res.FilesRemoved, 4)
	})
	t.Run("WholePartitionWithoutRewrite", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 2)
		res, err := tbl.Delete(ctx, &Comparison{Column: "part", Op: OpEq, Value: "a"}, DMLOptions{})
		require.NoError(t, err)
		require.Equal(t, 2, res.FilesRemoved)
		require.Equal(t, 0, res.FilesAdded)
		require.Equal(t, int64(6), res.RowsDeleted)
		require.Len(t, wReadAll(t, tbl), 12)
	})
	t.Run("NoMatchNoCommit", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		res, err := tbl.Delete(ctx, &Comparison{Column: "id", Op: OpGt, Value: 1000}, DMLOptions{})
		require.NoError(t, err)
		require.False(t, res.Committed)
		s, _ := tbl.Latest(ctx)
		require.Equal(t, int64(1), s.Version())
	})
	t.Run("ErrUnknownColumn", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		_, err := tbl.Delete(ctx, &Comparison{Column: "nope", Op: OpEq, Value: 1}, DMLOptions{})
		require.Equal(t, errs.Invalid, errs.KindOf(err))
		require.Contains(t, err.Error(), "nope")
		s, _ := tbl.Latest(ctx)
		require.Equal(t, int64(1), s.Version())
	})
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	tbl := mustDMLTable(t, map[string]string{"delta.enableChangeDataFeed": "true"}, 2)
	res, err := tbl.Update(ctx, UpdateSpec{Where: &Comparison{Column: "id", Op: OpLt, Value: 3}, Set: map[string]any{"v": "updated"}}, DMLOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(3), res.RowsUpdated)
	require.Greater(t, res.ChangeFiles, 0)
	got := wReadAll(t, tbl)
	require.Len(t, got, 18)
	n := 0
	for _, r := range got {
		if r[2] == "updated" {
			n++
			require.Less(t, r[0].(int64), int64(3))
		}
	}
	require.Equal(t, 3, n)
	// The change data feed shows pre- and post-images.
	cf, err := tbl.ChangeDataFeed(ctx, res.Version, res.Version)
	require.NoError(t, err)
	kinds := map[string]int{}
	require.NoError(t, cf.Rows(ctx, func(r Row) error {
		kinds[r[len(dmlSchema().Fields)].(string)]++
		return nil
	}))
	require.Equal(t, map[string]int{"update_preimage": 3, "update_postimage": 3}, kinds)

	t.Run("ErrSchemaMismatch", func(t *testing.T) {
		_, err := tbl.Update(ctx, UpdateSpec{Set: map[string]any{"n": "not a number"}}, DMLOptions{})
		require.Equal(t, errs.Invalid, errs.KindOf(err))
		require.Contains(t, err.Error(), "n")
		_, err = tbl.Update(ctx, UpdateSpec{Set: map[string]any{"zzz": 1}}, DMLOptions{})
		require.Equal(t, errs.Invalid, errs.KindOf(err))
		require.Contains(t, err.Error(), "zzz")
		s, _ := tbl.Latest(ctx)
		require.Equal(t, res.Version, s.Version())
	})
}

func TestDeleteCDF(t *testing.T) {
	ctx := context.Background()
	tbl := mustDMLTable(t, map[string]string{"delta.enableChangeDataFeed": "true"}, 1)
	res, err := tbl.Delete(ctx, &Comparison{Column: "part", Op: OpEq, Value: "b"}, DMLOptions{})
	require.NoError(t, err)
	cf, err := tbl.ChangeDataFeed(ctx, res.Version, res.Version)
	require.NoError(t, err)
	var deleted []int64
	require.NoError(t, cf.Rows(ctx, func(r Row) error {
		require.Equal(t, "delete", r[4])
		deleted = append(deleted, r[0].(int64))
		return nil
	}))
	require.ElementsMatch(t, []int64{1, 4, 7}, deleted)
}

func TestMerge(t *testing.T) {
	ctx := context.Background()
	tbl := mustDMLTable(t, map[string]string{"delta.enableChangeDataFeed": "true"}, 1) // ids 0..8
	src := []Row{
		{int64(1), "b", "new1", int32(1)},  // update
		{int64(2), "c", "gone", int32(-1)}, // delete (n < 0)
		{int64(100), "a", "ins", int32(0)}, // insert
	}
	res, err := tbl.Merge(ctx, MergeSpec{Source: src, On: []string{"id"},
		MatchedDelete: func(_, s Row) bool { return s[3].(int32) < 0 }, UpdateAll: true, InsertNotMatched: true}, DMLOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(1), res.RowsUpdated)
	require.Equal(t, int64(1), res.RowsDeleted)
	require.Equal(t, int64(1), res.RowsInserted)
	got := wReadAll(t, tbl)
	m := map[int64]Row{}
	for _, r := range got {
		m[r[0].(int64)] = r
	}
	require.Len(t, m, 9)
	require.Equal(t, "new1", m[1][2])
	require.NotContains(t, m, int64(2))
	require.Equal(t, "ins", m[100][2])
	cf, err := tbl.ChangeDataFeed(ctx, res.Version, res.Version)
	require.NoError(t, err)
	kinds := map[string]int{}
	require.NoError(t, cf.Rows(ctx, func(r Row) error { kinds[r[4].(string)]++; return nil }))
	require.Equal(t, map[string]int{"update_preimage": 1, "update_postimage": 1, "delete": 1, "insert": 1}, kinds)

	t.Run("ErrDuplicateSourceKey", func(t *testing.T) {
		_, err := tbl.Merge(ctx, MergeSpec{Source: []Row{src[0], src[0]}, On: []string{"id"}, UpdateAll: true}, DMLOptions{})
		require.Equal(t, ReasonMergeMultipleMatches, errs.ReasonOf(err))
	})
}

func TestOverwrite(t *testing.T) {
	ctx := context.Background()
	t.Run("Whole", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 2)
		_, err := tbl.Overwrite(ctx, []Row{{int64(7), "z", "x", int32(1)}}, OverwriteOptions{})
		require.NoError(t, err)
		require.Equal(t, []int64{7}, ids(wReadAll(t, tbl)))
	})
	t.Run("ReplaceWhere", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		_, err := tbl.Overwrite(ctx, []Row{{int64(50), "a", "x", int32(1)}}, OverwriteOptions{ReplaceWhere: &Comparison{Column: "part", Op: OpEq, Value: "a"}})
		require.NoError(t, err)
		require.ElementsMatch(t, []int64{1, 2, 4, 5, 7, 8, 50}, ids(wReadAll(t, tbl)))
	})
	t.Run("ErrReplaceWhereMismatch", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		_, err := tbl.Overwrite(ctx, []Row{{int64(50), "b", "x", int32(1)}}, OverwriteOptions{ReplaceWhere: &Comparison{Column: "part", Op: OpEq, Value: "a"}})
		require.Equal(t, ReasonReplaceWhereMismatch, errs.ReasonOf(err))
		_, err = tbl.Overwrite(ctx, nil, OverwriteOptions{ReplaceWhere: &Comparison{Column: "id", Op: OpEq, Value: 1}})
		require.Equal(t, ReasonInvalidPredicate, errs.ReasonOf(err))
		require.Len(t, wReadAll(t, tbl), 9)
	})
}

func TestSchemaEnforcement(t *testing.T) {
	ctx := context.Background()
	tbl := mustDMLTable(t, nil, 1)
	check := func(t *testing.T, err error, col string) {
		t.Helper()
		require.Equal(t, errs.Invalid, errs.KindOf(err), "%v", err)
		require.Equal(t, ReasonSchemaMismatch, errs.ReasonOf(err))
		require.Contains(t, err.Error(), col)
		s, _ := tbl.Latest(ctx)
		require.Equal(t, int64(1), s.Version())
	}
	t.Run("ErrWrongType", func(t *testing.T) {
		_, err := tbl.Append(ctx, []Row{{int64(1), "a", 42, int32(1)}}, WriteOptions{})
		check(t, err, "column v")
	})
	t.Run("ErrWrongArity", func(t *testing.T) {
		_, err := tbl.Append(ctx, []Row{{int64(1), "a"}}, WriteOptions{})
		check(t, err, "id, part, v, n")
	})
	t.Run("ErrMissingColumn", func(t *testing.T) {
		s := &StructType{Fields: []*StructField{field("id", TypeLong), field("part", TypeString), field("v", TypeString)}}
		_, err := tbl.Append(ctx, []Row{{int64(1), "a", "x"}}, WriteOptions{Schema: s})
		check(t, err, "column n")
	})
	t.Run("ErrNewColumnWithoutMergeSchema", func(t *testing.T) {
		s := &StructType{Fields: append(append([]*StructField{}, dmlSchema().Fields...), field("extra", TypeDouble))}
		_, err := tbl.Append(ctx, []Row{{int64(1), "a", "x", int32(1), 1.5}}, WriteOptions{Schema: s})
		check(t, err, "extra")
	})
	t.Run("ErrIncompatibleType", func(t *testing.T) {
		s := &StructType{Fields: []*StructField{field("id", TypeString), field("part", TypeString), field("v", TypeString), field("n", TypeInteger)}}
		_, err := tbl.Append(ctx, []Row{{"1", "a", "x", int32(1)}}, WriteOptions{Schema: s, MergeSchema: true})
		check(t, err, "column id")
	})
	t.Run("MergeSchema", func(t *testing.T) {
		s := &StructType{Fields: []*StructField{field("extra", TypeDouble), field("id", TypeLong), field("part", TypeString), field("v", TypeString), field("n", TypeInteger)}}
		_, err := tbl.Append(ctx, []Row{{2.5, int64(99), "a", "x", int32(1)}}, WriteOptions{Schema: s, MergeSchema: true})
		require.NoError(t, err)
		snap, err := tbl.Latest(ctx)
		require.NoError(t, err)
		require.Equal(t, "extra", snap.Schema().Fields[4].Name)
		rows := wReadSnap(t, snap)
		require.Len(t, rows, 10)
		for _, r := range rows {
			if r[0] == int64(99) {
				require.Equal(t, 2.5, r[4])
			} else {
				require.Nil(t, r[4])
			}
		}
	})
}
