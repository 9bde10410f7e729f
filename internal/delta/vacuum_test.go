package delta

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
)

func TestVacuum(t *testing.T) {
	ctx := context.Background()
	tbl := mustDMLTable(t, nil, 2)
	_, err := tbl.Optimize(ctx, OptimizeOptions{})
	require.NoError(t, err)
	rows := wReadAll(t, tbl)
	t.Run("ErrRetentionTooShort", func(t *testing.T) {
		_, err := tbl.Vacuum(ctx, VacuumOptions{Retention: time.Hour})
		require.Equal(t, errs.FailedPrecondition, errs.KindOf(err))
		require.Equal(t, ReasonRetentionTooShort, errs.ReasonOf(err))
	})
	t.Run("RetentionHonoured", func(t *testing.T) {
		res, err := tbl.Vacuum(ctx, VacuumOptions{})
		require.NoError(t, err)
		require.Empty(t, res.Files, "files removed just now are within the 7-day window")
	})
	t.Run("DryRunThenDelete", func(t *testing.T) {
		later := func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
		res, err := tbl.Vacuum(ctx, VacuumOptions{DryRun: true, Clock: later})
		require.NoError(t, err)
		require.Len(t, res.Files, 6) // the six compacted files
		snap, _ := tbl.Latest(ctx)
		for _, f := range res.Files {
			for _, a := range snap.Files() {
				require.NotEqual(t, a.Path, f)
			}
			_, err := tbl.Bucket().Head(ctx, tbl.Root()+f)
			require.NoError(t, err, "dry run deletes nothing")
		}
		res, err = tbl.Vacuum(ctx, VacuumOptions{Clock: later})
		require.NoError(t, err)
		require.Len(t, res.Files, 6)
		require.Equal(t, rows, wReadAll(t, tbl))
		// The log is untouched.
		_, err = tbl.SnapshotAt(ctx, 0)
		require.NoError(t, err)
	})
	t.Run("Force", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		_, err := tbl.Delete(ctx, nil, DMLOptions{})
		require.NoError(t, err)
		res, err := tbl.Vacuum(ctx, VacuumOptions{Retention: time.Nanosecond, Force: true, Clock: func() time.Time { return time.Now().Add(time.Second) }})
		require.NoError(t, err)
		require.Len(t, res.Files, 3)
	})
}

func TestParseInterval(t *testing.T) {
	for in, want := range map[string]time.Duration{"interval 7 days": 7 * 24 * time.Hour, "interval 1 weeks": 7 * 24 * time.Hour, "168 hours": 168 * time.Hour, "INTERVAL 30 minutes": 30 * time.Minute} {
		got, err := ParseInterval(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := ParseInterval("7 fortnights")
	require.Error(t, err)
}
