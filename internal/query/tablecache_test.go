package query

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/memblob"
	"github.com/lakebox/lakebox/internal/delta"
)

// closeCounter is a bucket that counts its Close calls.
type closeCounter struct {
	blob.Bucket
	closed *atomic.Int32
}

func (c closeCounter) Close() error { c.closed.Add(1); return nil }

// TestTableCache: one table per location, reused; beyond the bound idle
// entries are closed least recently used first, entries in use never.
func TestTableCache(t *testing.T) {
	var c tableCache
	var opened, closed atomic.Int32
	open := func() (*cachedTable, error) {
		opened.Add(1)
		b := closeCounter{memblob.New(), &closed}
		return &cachedTable{t: delta.NewTable(b, ""), b: b}, nil
	}
	first, releaseFirst, err := c.acquire("loc-0", open)
	require.NoError(t, err)
	again, releaseAgain, err := c.acquire("loc-0", open)
	require.NoError(t, err)
	require.Same(t, first, again)
	require.EqualValues(t, 1, opened.Load())
	releaseAgain()
	releaseAgain() // idempotent

	for i := 1; i <= maxCachedTables+10; i++ {
		_, release, err := c.acquire(fmt.Sprintf("loc-%d", i), open)
		require.NoError(t, err)
		release()
	}
	require.Len(t, c.m, maxCachedTables)
	require.EqualValues(t, 11, closed.Load(), "the 11 oldest idle entries")
	require.Contains(t, c.m, "loc-0", "in use: kept although the oldest")
	require.NotContains(t, c.m, "loc-1")
	releaseFirst()
	c.close()
	require.Empty(t, c.m)
	require.EqualValues(t, maxCachedTables+11, closed.Load())
}
