package query

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/memblob"
	"github.com/lakebox/lakebox/internal/errs"
)

func TestFileCache(t *testing.T) {
	ctx := context.Background()
	b := memblob.New()
	for _, k := range []string{"a.parquet", "p=1/b.parquet", "c.parquet"} {
		require.NoError(t, blob.PutBytes(ctx, b, k, []byte(strings.Repeat("x", 60)), blob.PutOptions{}))
	}
	c, err := newFileCache(filepath.Join(t.TempDir(), "cache"), 100)
	require.NoError(t, err)
	dir, err := c.dirFor("s3://bucket/t")
	require.NoError(t, err)
	exists := func(k string) bool { _, err := os.Stat(dir + "/" + k); return err == nil }

	t.Run("OK", func(t *testing.T) {
		relA, err := c.fetch(ctx, b, dir, "a.parquet", 60)
		require.NoError(t, err)
		relB, err := c.fetch(ctx, b, dir, "p=1/b.parquet", 60)
		require.NoError(t, err)
		require.True(t, exists("a.parquet") && exists("p=1/b.parquet"), "pinned files stay although the cache is over its size")
		relA()
		require.False(t, exists("a.parquet"), "the least recently used unpinned file is evicted")
		relB()
		relB() // releasing twice is harmless
		again, err := c.fetch(ctx, b, dir, "p=1/b.parquet", 60)
		require.NoError(t, err)
		again()
		require.True(t, exists("p=1/b.parquet"))
	})
	t.Run("Stage", func(t *testing.T) {
		require.NoError(t, os.WriteFile(dir+"/new.parquet", []byte("written"), 0o600))
		rel, err := c.stage(ctx, b, dir, "new.parquet", 7)
		require.NoError(t, err)
		rel()
		got, err := blob.ReadAll(ctx, b, "new.parquet")
		require.NoError(t, err)
		require.Equal(t, "written", string(got))
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := c.fetch(ctx, b, dir, "missing.parquet", 1)
		require.True(t, errs.Is(err, errs.NotFound), "%v", err)
	})
	t.Run("ErrSize", func(t *testing.T) {
		_, err := c.fetch(ctx, b, dir, "c.parquet", 61)
		require.Error(t, err)
		require.False(t, exists("c.parquet"))
	})
	t.Run("ErrTraversal", func(t *testing.T) {
		_, err := c.fetch(ctx, b, dir, "../../etc/passwd", 1)
		require.True(t, errs.Is(err, errs.Invalid), "%v", err)
	})
}
