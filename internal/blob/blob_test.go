package blob_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/blobtest"
	"github.com/lakebox/lakebox/internal/blob/memblob"
	"github.com/lakebox/lakebox/internal/errs"
)

func TestValidateKey(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, key := range []string{"a", "a/b", ".hidden", "a/.b", "a..b", "...", "a b/c+d=e", "日本/😀", "_delta_log/00000000000000000000.json"} {
			require.NoError(t, blob.ValidateKey(key), key)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, key := range blobtest.InvalidKeys {
			err := blob.ValidateKey(key)
			require.True(t, errs.Is(err, errs.Invalid), "%q: %v", key, err)
			require.Equal(t, blob.ReasonInvalidKey, errs.ReasonOf(err))
		}
	})
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "a/b", "a/.", "a/..", "日"} {
		require.NoError(t, blob.ValidatePrefix(p), p)
	}
	for _, p := range []string{"/", "/a", "a//", "a/./", "../", "a\\", "a\x00"} {
		require.True(t, errs.Is(blob.ValidatePrefix(p), errs.Invalid), p)
	}
}

func TestValidateRange(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rng         *blob.Range
		size        int64
		off, n      int64
		wantInvalid bool
	}{
		{"Nil", nil, 10, 0, 10, false},
		{"ToEnd", &blob.Range{Offset: 3, Length: -1}, 10, 3, 7, false},
		{"Truncated", &blob.Range{Offset: 8, Length: 5}, 10, 8, 2, false},
		{"AtEnd", &blob.Range{Offset: 10, Length: 5}, 10, 10, 0, false},
		{"ErrPastEnd", &blob.Range{Offset: 11, Length: 1}, 10, 0, 0, true},
		{"ErrNegative", &blob.Range{Offset: -1, Length: 1}, 10, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off, n, err := blob.ValidateRange(tc.rng, tc.size)
			if tc.wantInvalid {
				require.True(t, errs.Is(err, errs.Invalid), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, [2]int64{tc.off, tc.n}, [2]int64{off, n})
		})
	}
}

func TestPrefixed(t *testing.T) {
	ctx := context.Background()
	base := memblob.New()
	p := blob.Prefixed(base, "wh/t")
	require.NoError(t, blob.PutBytes(ctx, p, "k", []byte("v"), blob.PutOptions{}))
	got, err := blob.ReadAll(ctx, base, "wh/t/k")
	require.NoError(t, err)
	require.Equal(t, "v", string(got))
	require.Same(t, base, blob.Prefixed(base, "").(*memblob.Bucket), "an empty prefix is the bucket itself")
	_, err = blob.Prefixed(blob.Prefixed(base, "/bad"), "x").Head(ctx, "k")
	require.True(t, errs.Is(err, errs.Invalid), "a bad outer prefix poisons nested views: %v", err)
}

func TestMemblobConformanceThroughPrefixed(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Bucket { return blob.Prefixed(memblob.New(), "some/root") })
}
