package delta

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
)

func TestOptimize(t *testing.T) {
	ctx := context.Background()
	t.Run("BinPack", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 5) // 15 small files in 3 partitions
		before := wReadAll(t, tbl)
		s0, _ := tbl.Latest(ctx)
		res, err := tbl.Optimize(ctx, OptimizeOptions{})
		require.NoError(t, err)
		require.True(t, res.Committed)
		require.Equal(t, 15, res.FilesRemoved)
		require.Equal(t, 3, res.FilesAdded)
		s1, _ := tbl.Latest(ctx)
		require.Len(t, s0.Files(), 15)
		require.Len(t, s1.Files(), 3)
		for _, f := range s1.Files() {
			require.False(t, f.DataChange)
		}
		require.Equal(t, before, wReadAll(t, tbl))
		require.Equal(t, "OPTIMIZE", s1.LatestCommitInfo().Operation)
		// Nothing left to do.
		res, err = tbl.Optimize(ctx, OptimizeOptions{})
		require.NoError(t, err)
		require.False(t, res.Committed)
	})
	t.Run("ZOrder", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 4)
		before := wReadAll(t, tbl)
		res, err := tbl.Optimize(ctx, OptimizeOptions{ZOrderBy: []string{"id", "n"}, Where: &Comparison{Column: "part", Op: OpEq, Value: "b"}})
		require.NoError(t, err)
		require.Equal(t, 4, res.FilesRemoved)
		require.Equal(t, 1, res.PartitionsTouched)
		require.Equal(t, before, wReadAll(t, tbl))
	})
	t.Run("ErrBadArguments", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 2)
		_, err := tbl.Optimize(ctx, OptimizeOptions{ZOrderBy: []string{"nope"}})
		require.Equal(t, errs.Invalid, errs.KindOf(err))
		require.Contains(t, err.Error(), "nope")
		_, err = tbl.Optimize(ctx, OptimizeOptions{Where: &Comparison{Column: "id", Op: OpEq, Value: 1}})
		require.Equal(t, ReasonInvalidPredicate, errs.ReasonOf(err))
	})
	t.Run("ZorderSortInterleaves", func(t *testing.T) {
		var rows []Row
		for x := 3; x >= 0; x-- {
			for y := 3; y >= 0; y-- {
				rows = append(rows, Row{int64(x), int64(y)})
			}
		}
		zorderSort(rows, []int{0, 1})
		require.Equal(t, Row{int64(0), int64(0)}, rows[0])
		require.Equal(t, Row{int64(0), int64(1)}, rows[1])
		require.Equal(t, Row{int64(1), int64(0)}, rows[2])
		require.Equal(t, Row{int64(1), int64(1)}, rows[3])
		require.Equal(t, Row{int64(3), int64(3)}, rows[15])
	})
}
