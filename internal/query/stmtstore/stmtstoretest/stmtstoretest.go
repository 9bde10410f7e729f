// Package stmtstoretest is the conformance test of stmtstore.Store
// implementations.
package stmtstoretest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/query/stmtstore"
)

// Run checks a Store's contract on fresh stores from newStore.
func Run(t *testing.T, newStore func(t *testing.T) stmtstore.Store) {
	ctx := context.Background()
	rec := func(id string) stmtstore.Record {
		return stmtstore.Record{ID: id, Owner: "u1", State: "PENDING", CreatedMs: 1000, HeartbeatMs: 1000, Meta: []byte(`{"format":"JSON_ARRAY"}`)}
	}
	t.Run("Lifecycle", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, rec("a")))
		require.True(t, errs.Is(s.Create(ctx, rec("a")), errs.AlreadyExists))
		got, err := s.Get(ctx, "a")
		require.NoError(t, err)
		require.Equal(t, rec("a"), got)

		cancel, err := s.Heartbeat(ctx, []string{"a", "missing"}, 2000)
		require.NoError(t, err)
		require.Empty(t, cancel)
		got, _ = s.Get(ctx, "a")
		require.Equal(t, "RUNNING", got.State)
		require.Equal(t, int64(2000), got.HeartbeatMs)

		require.NoError(t, s.RequestCancel(ctx, "a"))
		cancel, err = s.Heartbeat(ctx, []string{"a"}, 3000)
		require.NoError(t, err)
		require.Equal(t, []string{"a"}, cancel)

		chunks := [][]byte{[]byte("zero"), {0, 1, 2, 255}, {}}
		require.NoError(t, s.Finish(ctx, stmtstore.Record{ID: "a", State: "CANCELED", FinishedMs: 4000, Meta: []byte(`{"x":1}`)}, chunks))
		got, _ = s.Get(ctx, "a")
		require.Equal(t, "CANCELED", got.State)
		require.Equal(t, int64(4000), got.FinishedMs)
		require.JSONEq(t, `{"x":1}`, string(got.Meta))
		for i, c := range chunks {
			b, err := s.Chunk(ctx, "a", i)
			require.NoError(t, err)
			require.Equal(t, len(c), len(b))
			if len(c) > 0 {
				require.Equal(t, c, b)
			}
		}
		_, err = s.Chunk(ctx, "a", 3)
		require.True(t, errs.Is(err, errs.NotFound))

		// A finished statement stays as it finished.
		require.NoError(t, s.Finish(ctx, stmtstore.Record{ID: "a", State: "SUCCEEDED", FinishedMs: 5000, Meta: []byte(`{}`)}, nil))
		require.NoError(t, s.RequestCancel(ctx, "a"))
		cancel, err = s.Heartbeat(ctx, []string{"a"}, 6000)
		require.NoError(t, err)
		require.Empty(t, cancel)
		got, _ = s.Get(ctx, "a")
		require.Equal(t, "CANCELED", got.State)
		require.Equal(t, int64(3000), got.HeartbeatMs, "heartbeats stop at the finish")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Get(ctx, "nope")
		require.True(t, errs.Is(err, errs.NotFound))
		require.True(t, errs.Is(s.Finish(ctx, stmtstore.Record{ID: "nope", State: "FAILED", FinishedMs: 1}, nil), errs.NotFound))
		require.True(t, errs.Is(s.RequestCancel(ctx, "nope"), errs.NotFound))
		_, err = s.Chunk(ctx, "nope", 0)
		require.True(t, errs.Is(err, errs.NotFound))
	})
	t.Run("Expire", func(t *testing.T) {
		s := newStore(t)
		for i, id := range []string{"old", "mid", "new", "running"} {
			require.NoError(t, s.Create(ctx, rec(id)))
			if id != "running" {
				require.NoError(t, s.Finish(ctx, stmtstore.Record{ID: id, State: "SUCCEEDED", FinishedMs: int64(1000 * (i + 1)), Meta: []byte(`{}`)}, [][]byte{[]byte(id)}))
			}
		}
		require.NoError(t, s.Expire(ctx, 2500, 1500))
		_, err := s.Get(ctx, "old")
		require.True(t, errs.Is(err, errs.NotFound), "forgotten")
		_, err = s.Get(ctx, "mid")
		require.NoError(t, err, "kept, its result dropped")
		_, err = s.Chunk(ctx, "mid", 0)
		require.True(t, errs.Is(err, errs.NotFound))
		b, err := s.Chunk(ctx, "new", 0)
		require.NoError(t, err)
		require.Equal(t, "new", string(b))
		_, err = s.Get(ctx, "running")
		require.NoError(t, err, "an unfinished statement never expires")
	})
	t.Run("ConcurrentFinish", func(t *testing.T) {
		// Racing finishes: exactly one outcome and one set of chunks.
		s := newStore(t)
		require.NoError(t, s.Create(ctx, rec("r")))
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Finish(ctx, stmtstore.Record{ID: "r", State: "SUCCEEDED", FinishedMs: int64(100 + i), Meta: []byte(`{}`)},
					[][]byte{{byte(i)}, {byte(i)}})
				if err != nil {
					require.True(t, errs.Is(err, errs.Conflict) || errs.Is(err, errs.Unavailable), "%v", err)
				}
			}()
		}
		wg.Wait()
		got, err := s.Get(ctx, "r")
		require.NoError(t, err)
		winner := byte(got.FinishedMs - 100)
		for n := range 2 {
			b, err := s.Chunk(ctx, "r", n)
			require.NoError(t, err)
			require.Equal(t, []byte{winner}, b)
		}
	})
}
