package delta

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
)

func TestRestore(t *testing.T) {
	ctx := context.Background()
	tbl := mustDMLTable(t, nil, 2) // version 2
	at2 := wReadAll(t, tbl)
	_, err := tbl.Delete(ctx, &Comparison{Column: "n", Op: OpLt, Value: 3}, DMLOptions{}) // 3
	require.NoError(t, err)
	mustAppend(t, tbl, []Row{{int64(77), "q", "x", int32(1)}}) // 4
	require.NotEqual(t, at2, wReadAll(t, tbl))
	res, err := tbl.Restore(ctx, 2, RestoreOptions{})
	require.NoError(t, err)
	require.Equal(t, int64(5), res.Version)
	require.Greater(t, res.FilesRestored, 0)
	require.Greater(t, res.FilesRemoved, 0)
	require.Equal(t, at2, wReadAll(t, tbl))
	snap, _ := tbl.Latest(ctx)
	require.Equal(t, "RESTORE", snap.LatestCommitInfo().Operation)

	t.Run("ErrBadVersion", func(t *testing.T) {
		_, err := tbl.Restore(ctx, 99, RestoreOptions{})
		require.Equal(t, errs.Invalid, errs.KindOf(err))
	})
	t.Run("ErrVacuumed", func(t *testing.T) {
		_, err := tbl.Delete(ctx, nil, DMLOptions{})
		require.NoError(t, err)
		_, err = tbl.Vacuum(ctx, VacuumOptions{Clock: func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }})
		require.NoError(t, err)
		_, err = tbl.Restore(ctx, 2, RestoreOptions{})
		require.Equal(t, ReasonRestoreMissingFile, errs.ReasonOf(err))
	})
}
