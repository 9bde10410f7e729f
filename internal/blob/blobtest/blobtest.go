// Package blobtest is the conformance suite every blob.Bucket backend runs.
//
// A backend's test calls Run with a factory that returns a fresh, empty
// bucket. Backends that claim put-if-absent is atomic across processes also
// run RunProcessRace, which re-executes the test binary; their TestMain must
// call MaybeRunChild first. Bench holds the shared benchmarks.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// Run runs the conformance suite against buckets made by newBucket, which is
// called once per subtest and must return an empty bucket.
func Run(t *testing.T, newBucket func(t *testing.T) blob.Bucket) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newBucket(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, newBucket(t)) })
	t.Run("Range", func(t *testing.T) { testRange(t, newBucket(t)) })
	t.Run("IfAbsent", func(t *testing.T) { testIfAbsent(t, newBucket(t)) })
	t.Run("Head", func(t *testing.T) { testHead(t, newBucket(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newBucket(t)) })
	t.Run("List", func(t *testing.T) { testList(t, newBucket(t)) })
	t.Run("ListNested", func(t *testing.T) { testListNested(t, newBucket(t)) })
	t.Run("InvalidKey", func(t *testing.T) { testInvalidKey(t, newBucket(t)) })
	t.Run("EmptyObject", func(t *testing.T) { testEmptyObject(t, newBucket(t)) })
	t.Run("LargeObject", func(t *testing.T) { testLargeObject(t, newBucket(t)) })
	t.Run("ConcurrentIfAbsent", func(t *testing.T) { testConcurrentIfAbsent(t, newBucket(t)) })
	t.Run("CanceledContext", func(t *testing.T) { testCanceled(t, newBucket(t)) })
	t.Run("Prefixed", func(t *testing.T) { testPrefixed(t, newBucket(t)) })
}

// requireKind fails the test unless err is classified with kind.
func requireKind(t testing.TB, err error, kind errs.Kind, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equal(t, kind.String(), errs.KindOf(err).String(), append([]any{"error: %v", err}, msgAndArgs...)...)
}

func mustPut(t testing.TB, b blob.Bucket, key string, data []byte) {
	t.Helper()
	require.NoError(t, blob.PutBytes(context.Background(), b, key, data, blob.PutOptions{}), "put %q", key)
}

func mustGet(t testing.TB, b blob.Bucket, key string, rng *blob.Range) []byte {
	t.Helper()
	rc, err := b.Get(context.Background(), key, rng)
	require.NoError(t, err, "get %q %+v", key, rng)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	return data
}

func keysOf(as []blob.Attrs) []string {
	ks := make([]string, 0, len(as))
	for _, a := range as {
		ks = append(ks, a.Key)
	}
	return ks
}

func mustList(t testing.TB, b blob.Bucket, opts blob.ListOptions) []string {
	t.Helper()
	as, err := b.List(context.Background(), opts)
	require.NoError(t, err, "list %+v", opts)
	return keysOf(as)
}

func testRoundTrip(t *testing.T, b blob.Bucket) {
	for _, tc := range []struct {
		name, key string
		data      []byte
	}{
		{"OK", "hello.txt", []byte("hello, world")},
		{"Binary", "bin/data.bin", []byte{0, 1, 2, 0xff, 0, '\n', '\r'}},
		{"Nested", "a/b/c/d/e.json", []byte(`{"x":1}`)},
		{"Unicode", "données/日本語/😀.txt", []byte("ünïcödé")},
		{"Spaces", "with space/and+plus=eq&amp%.txt", []byte("odd characters")},
		{"HiddenLike", ".hidden/.file", []byte("dot files are ordinary keys")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustPut(t, b, tc.key, tc.data)
			got, err := blob.ReadAll(context.Background(), b, tc.key)
			require.NoError(t, err)
			require.Equal(t, tc.data, got)
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := b.Get(context.Background(), "missing/key", nil)
		requireKind(t, err, errs.NotFound)
		_, err = b.Get(context.Background(), "hello.txt/below-a-file", nil)
		requireKind(t, err, errs.NotFound)
	})
}

func testOverwrite(t *testing.T, b blob.Bucket) {
	mustPut(t, b, "k", []byte("first version, longer"))
	mustPut(t, b, "k", []byte("second"))
	require.Equal(t, []byte("second"), mustGet(t, b, "k", nil))
	a, err := b.Head(context.Background(), "k")
	require.NoError(t, err)
	require.EqualValues(t, len("second"), a.Size)
	require.Equal(t, []string{"k"}, mustList(t, b, blob.ListOptions{}))
}

func testRange(t *testing.T, b blob.Bucket) {
	data := []byte("0123456789")
	mustPut(t, b, "r", data)
	for _, tc := range []struct {
		name string
		rng  blob.Range
		want string
	}{
		{"Start", blob.Range{Offset: 0, Length: 3}, "012"},
		{"Middle", blob.Range{Offset: 4, Length: 3}, "456"},
		{"ToEnd", blob.Range{Offset: 6, Length: -1}, "6789"},
		{"WholeExplicit", blob.Range{Offset: 0, Length: 10}, "0123456789"},
		{"WholeToEnd", blob.Range{Offset: 0, Length: -1}, "0123456789"},
		{"LastByte", blob.Range{Offset: 9, Length: 1}, "9"},
		{"BeyondEndTruncated", blob.Range{Offset: 8, Length: 100}, "89"},
		{"ZeroLength", blob.Range{Offset: 3, Length: 0}, ""},
		{"AtEnd", blob.Range{Offset: 10, Length: -1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := tc.rng
			require.Equal(t, tc.want, string(mustGet(t, b, "r", &rng)))
		})
	}
	for _, tc := range []struct {
		name string
		rng  blob.Range
	}{
		{"ErrPastEnd", blob.Range{Offset: 11, Length: -1}},
		{"ErrFarPastEnd", blob.Range{Offset: 1 << 40, Length: 5}},
		{"ErrNegativeOffset", blob.Range{Offset: -1, Length: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := tc.rng
			rc, err := b.Get(context.Background(), "r", &rng)
			if err == nil {
				rc.Close()
			}
			requireKind(t, err, errs.Invalid)
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := b.Get(context.Background(), "missing", &blob.Range{Offset: 1, Length: 2})
		requireKind(t, err, errs.NotFound)
	})
}

func testIfAbsent(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	ifAbsent := blob.PutOptions{IfAbsent: true}
	t.Run("OK", func(t *testing.T) {
		require.NoError(t, blob.PutBytes(ctx, b, "log/0001.json", []byte("first"), ifAbsent))
		require.Equal(t, []byte("first"), mustGet(t, b, "log/0001.json", nil))
	})
	t.Run("ErrConflict", func(t *testing.T) {
		err := blob.PutBytes(ctx, b, "log/0001.json", []byte("second"), ifAbsent)
		requireKind(t, err, errs.Conflict)
		require.Equal(t, blob.ReasonExists, errs.ReasonOf(err))
		require.Equal(t, []byte("first"), mustGet(t, b, "log/0001.json", nil), "a losing put must not change the object")
		require.Equal(t, []string{"log/0001.json"}, mustList(t, b, blob.ListOptions{}), "a losing put must leave nothing behind")
	})
	t.Run("AfterDelete", func(t *testing.T) {
		require.NoError(t, b.Delete(ctx, "log/0001.json"))
		require.NoError(t, blob.PutBytes(ctx, b, "log/0001.json", []byte("third"), ifAbsent))
		require.Equal(t, []byte("third"), mustGet(t, b, "log/0001.json", nil))
	})
	t.Run("PlainPutStillOverwrites", func(t *testing.T) {
		mustPut(t, b, "log/0001.json", []byte("fourth"))
		require.Equal(t, []byte("fourth"), mustGet(t, b, "log/0001.json", nil))
	})
}

func testHead(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	before := time.Now()
	mustPut(t, b, "dir/h", []byte("12345"))
	after := time.Now()
	t.Run("OK", func(t *testing.T) {
		a, err := b.Head(ctx, "dir/h")
		require.NoError(t, err)
		require.Equal(t, "dir/h", a.Key)
		require.EqualValues(t, 5, a.Size)
		// Clocks of remote stores and second-granular timestamps: be lenient.
		require.WithinRange(t, a.ModTime, before.Add(-5*time.Second), after.Add(5*time.Second))
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := b.Head(ctx, "dir/missing")
		requireKind(t, err, errs.NotFound)
		_, err = b.Head(ctx, "dir")
		requireKind(t, err, errs.NotFound, "a key prefix is not an object")
	})
	t.Run("ListAgrees", func(t *testing.T) {
		a, err := b.Head(ctx, "dir/h")
		require.NoError(t, err)
		as, err := b.List(ctx, blob.ListOptions{Prefix: "dir/"})
		require.NoError(t, err)
		require.Len(t, as, 1)
		require.Equal(t, a.Key, as[0].Key)
		require.Equal(t, a.Size, as[0].Size)
	})
}

func testDelete(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	mustPut(t, b, "x/y/z", []byte("z"))
	mustPut(t, b, "x/keep", []byte("k"))
	t.Run("OK", func(t *testing.T) {
		require.NoError(t, b.Delete(ctx, "x/y/z"))
		_, err := b.Get(ctx, "x/y/z", nil)
		requireKind(t, err, errs.NotFound)
		_, err = b.Head(ctx, "x/y/z")
		requireKind(t, err, errs.NotFound)
		require.Equal(t, []string{"x/keep"}, mustList(t, b, blob.ListOptions{}))
	})
	t.Run("Missing", func(t *testing.T) {
		require.NoError(t, b.Delete(ctx, "x/y/z"))
		require.NoError(t, b.Delete(ctx, "never/existed"))
	})
	t.Run("PutAgain", func(t *testing.T) {
		mustPut(t, b, "x/y/z", []byte("again"))
		require.Equal(t, []byte("again"), mustGet(t, b, "x/y/z", nil))
	})
}

// listKeys are chosen so that a walk of a directory tree in name order gives
// the wrong answer: "a-b" < "a.b" < "a/b" < "a0" in byte order.
var listKeys = []string{
	"a-b", "a.b", "a/b", "a/c/d", "a0", "A", "b", "z", "~tilde",
	"é", "日本", "😀", "a/b0", "a/b-", "ab/c",
}

func testList(t *testing.T, b blob.Bucket) {
	for _, k := range listKeys {
		mustPut(t, b, k, []byte(k))
	}
	all := slices.Clone(listKeys)
	slices.Sort(all)
	// filter returns the keys of all with prefix p sorting after s.
	filter := func(p, s string) []string {
		var out []string
		for _, k := range all {
			if len(k) >= len(p) && k[:len(p)] == p && k > s {
				out = append(out, k)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		opts blob.ListOptions
		want []string
	}{
		{"All", blob.ListOptions{}, all},
		{"PrefixDir", blob.ListOptions{Prefix: "a/"}, []string{"a/b", "a/b-", "a/b0", "a/c/d"}},
		{"PrefixPartial", blob.ListOptions{Prefix: "a"}, filter("a", "")},
		{"PrefixPartialSegment", blob.ListOptions{Prefix: "a/b"}, []string{"a/b", "a/b-", "a/b0"}},
		{"PrefixDeep", blob.ListOptions{Prefix: "a/c"}, []string{"a/c/d"}},
		{"PrefixDash", blob.ListOptions{Prefix: "a-"}, []string{"a-b"}},
		{"PrefixUnicode", blob.ListOptions{Prefix: "日"}, []string{"日本"}},
		{"PrefixNone", blob.ListOptions{Prefix: "nope/"}, nil},
		{"PrefixIsKey", blob.ListOptions{Prefix: "a0"}, []string{"a0"}},
		{"StartAfterKey", blob.ListOptions{StartAfter: "a/b"}, filter("", "a/b")},
		{"StartAfterGap", blob.ListOptions{StartAfter: "a/bz"}, filter("", "a/bz")},
		{"StartAfterDirName", blob.ListOptions{StartAfter: "a/"}, filter("", "a/")},
		{"StartAfterBeforeAll", blob.ListOptions{StartAfter: "!"}, all},
		{"StartAfterAll", blob.ListOptions{StartAfter: "\U0010FFFF"}, nil},
		{"StartAfterWithPrefix", blob.ListOptions{Prefix: "a/", StartAfter: "a/b-"}, []string{"a/b0", "a/c/d"}},
		{"StartAfterBeforePrefix", blob.ListOptions{Prefix: "a/", StartAfter: "0"}, []string{"a/b", "a/b-", "a/b0", "a/c/d"}},
		{"StartAfterPastPrefix", blob.ListOptions{Prefix: "a/", StartAfter: "b"}, nil},
		{"Limit1", blob.ListOptions{Limit: 1}, all[:1]},
		{"Limit3", blob.ListOptions{Limit: 3}, all[:3]},
		{"LimitExact", blob.ListOptions{Limit: len(all)}, all},
		{"LimitMore", blob.ListOptions{Limit: len(all) + 5}, all},
		{"LimitWithPrefixAndStartAfter", blob.ListOptions{Prefix: "a/", StartAfter: "a/b", Limit: 2}, []string{"a/b-", "a/b0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustList(t, b, tc.opts)
			if len(tc.want) == 0 {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tc.want, got)
		})
	}
	t.Run("Paginate", func(t *testing.T) {
		var got []string
		after := ""
		for range len(all) + 1 {
			page := mustList(t, b, blob.ListOptions{StartAfter: after, Limit: 2})
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		require.Equal(t, all, got)
	})
	t.Run("Attrs", func(t *testing.T) {
		as, err := b.List(context.Background(), blob.ListOptions{Prefix: "a/c/"})
		require.NoError(t, err)
		require.Len(t, as, 1)
		require.Equal(t, "a/c/d", as[0].Key)
		require.EqualValues(t, len("a/c/d"), as[0].Size)
		require.False(t, as[0].ModTime.IsZero())
	})
	t.Run("ErrInvalidPrefix", func(t *testing.T) {
		for _, p := range []string{"/a", "a//", "../", "a\\b"} {
			_, err := b.List(context.Background(), blob.ListOptions{Prefix: p})
			requireKind(t, err, errs.Invalid, "prefix %q", p)
		}
	})
}

func testListNested(t *testing.T, b blob.Bucket) {
	keys := []string{"t/_delta_log/00000.json", "t/_delta_log/00001.json", "t/_delta_log/_last_checkpoint",
		"t/part-0.parquet", "t/p=1/part-1.parquet", "t/p=1/q=2/part-2.parquet", "t/p=10/part-3.parquet", "u/x"}
	for _, k := range keys {
		mustPut(t, b, k, []byte("x"))
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"t/_delta_log/", []string{"t/_delta_log/00000.json", "t/_delta_log/00001.json", "t/_delta_log/_last_checkpoint"}},
		{"t/_delta_log/0", []string{"t/_delta_log/00000.json", "t/_delta_log/00001.json"}},
		{"t/p=1/", []string{"t/p=1/part-1.parquet", "t/p=1/q=2/part-2.parquet"}},
		{"t/p=1", []string{"t/p=1/part-1.parquet", "t/p=1/q=2/part-2.parquet", "t/p=10/part-3.parquet"}},
		{"t/p=1/q=2/", []string{"t/p=1/q=2/part-2.parquet"}},
		{"t/", keys[:7]},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			want := slices.Clone(tc.want)
			slices.Sort(want)
			require.Equal(t, want, mustList(t, b, blob.ListOptions{Prefix: tc.prefix}))
		})
	}
}

// InvalidKeys are keys every backend must reject with errs.Invalid.
var InvalidKeys = []string{
	"", "/", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/./b", "../a", "a/..", "a/../b",
	"a\x00b", `a\b`, "\xff\xfe", string(make([]byte, blob.MaxKeyLen+1)),
}

func testInvalidKey(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	for _, key := range InvalidKeys {
		name := fmt.Sprintf("%.20q", key)
		t.Run(name, func(t *testing.T) {
			requireKind(t, blob.PutBytes(ctx, b, key, []byte("x"), blob.PutOptions{}), errs.Invalid, "put")
			requireKind(t, blob.PutBytes(ctx, b, key, []byte("x"), blob.PutOptions{IfAbsent: true}), errs.Invalid, "put if absent")
			_, err := b.Get(ctx, key, nil)
			requireKind(t, err, errs.Invalid, "get")
			_, err = b.Head(ctx, key)
			requireKind(t, err, errs.Invalid, "head")
			requireKind(t, b.Delete(ctx, key), errs.Invalid, "delete")
		})
	}
	require.Empty(t, mustList(t, b, blob.ListOptions{}), "rejected puts must store nothing")
}

func testEmptyObject(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	mustPut(t, b, "empty", nil)
	require.Empty(t, mustGet(t, b, "empty", nil))
	require.Empty(t, mustGet(t, b, "empty", &blob.Range{Offset: 0, Length: -1}))
	a, err := b.Head(ctx, "empty")
	require.NoError(t, err)
	require.EqualValues(t, 0, a.Size)
	require.NoError(t, blob.PutBytes(ctx, b, "empty2", []byte{}, blob.PutOptions{IfAbsent: true}))
	requireKind(t, blob.PutBytes(ctx, b, "empty2", []byte{}, blob.PutOptions{IfAbsent: true}), errs.Conflict)
	require.Equal(t, []string{"empty", "empty2"}, mustList(t, b, blob.ListOptions{}))
}

// largeSize is the size of the large-object test: above the 16 MiB part size
// at which S3 clients switch to multipart uploads.
const largeSize = 20 << 20

// onlyReader hides every method but Read, so backends cannot learn the size
// of the data up front.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func testLargeObject(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	data := make([]byte, largeSize)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(data); i += 8 {
		v := rnd.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	for _, tc := range []struct {
		name     string
		key      string
		reader   io.Reader
		ifAbsent bool
	}{
		{"SizedReader", "big/sized", bytes.NewReader(data), false},
		{"StreamIfAbsent", "big/stream", onlyReader{bytes.NewReader(data)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, b.Put(ctx, tc.key, tc.reader, blob.PutOptions{IfAbsent: tc.ifAbsent}))
			a, err := b.Head(ctx, tc.key)
			require.NoError(t, err)
			require.EqualValues(t, largeSize, a.Size)
			got := mustGet(t, b, tc.key, nil)
			require.Equal(t, sha256.Sum256(data), sha256.Sum256(got))
			mid := mustGet(t, b, tc.key, &blob.Range{Offset: 10<<20 + 3, Length: 1 << 20})
			require.Equal(t, data[10<<20+3:11<<20+3], mid)
		})
	}
	requireKind(t, b.Put(ctx, "big/stream", onlyReader{bytes.NewReader(data)}, blob.PutOptions{IfAbsent: true}), errs.Conflict)
}

func testConcurrentIfAbsent(t *testing.T, b blob.Bucket) {
	const n = 32
	ctx := context.Background()
	for round := range 3 {
		key := fmt.Sprintf("race/%d", round)
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			results = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-start
				results[i] = blob.PutBytes(ctx, b, key, []byte(fmt.Sprintf("writer %d", i)), blob.PutOptions{IfAbsent: true})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range results {
			if err == nil {
				require.Equal(t, -1, winner, "round %d: writers %d and %d both won", round, winner, i)
				winner = i
				continue
			}
			requireKind(t, err, errs.Conflict, "round %d writer %d", round, i)
			require.Equal(t, blob.ReasonExists, errs.ReasonOf(err))
		}
		require.NotEqual(t, -1, winner, "round %d: nobody won", round)
		require.Equal(t, fmt.Sprintf("writer %d", winner), string(mustGet(t, b, key, nil)))
	}
	require.Len(t, mustList(t, b, blob.ListOptions{}), 3)
}

func testCanceled(t *testing.T, b blob.Bucket) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, blob.PutBytes(ctx, b, "canceled", []byte("x"), blob.PutOptions{}))
	_, err := b.Head(context.Background(), "canceled")
	requireKind(t, err, errs.NotFound, "a canceled put must store nothing")
	_, err = b.List(ctx, blob.ListOptions{})
	require.Error(t, err)
}

func testPrefixed(t *testing.T, b blob.Bucket) {
	ctx := context.Background()
	mustPut(t, b, "wh/other", []byte("outside"))
	mustPut(t, b, "wh/t1-x", []byte("sibling with a dash"))
	p := blob.Prefixed(b, "wh/t1/")
	t.Run("OK", func(t *testing.T) {
		mustPut(t, p, "_delta_log/0.json", []byte("commit"))
		mustPut(t, p, "data/f.parquet", []byte("rows"))
		require.Equal(t, []byte("commit"), mustGet(t, b, "wh/t1/_delta_log/0.json", nil))
		require.Equal(t, []byte("rows"), mustGet(t, p, "data/f.parquet", nil))
		require.Equal(t, []string{"_delta_log/0.json", "data/f.parquet"}, mustList(t, p, blob.ListOptions{}))
		require.Equal(t, []string{"data/f.parquet"}, mustList(t, p, blob.ListOptions{StartAfter: "_delta_log/0.json"}))
		require.Equal(t, []string{"_delta_log/0.json"}, mustList(t, p, blob.ListOptions{Prefix: "_delta_log/"}))
		a, err := p.Head(ctx, "data/f.parquet")
		require.NoError(t, err)
		require.Equal(t, "data/f.parquet", a.Key)
	})
	t.Run("Nested", func(t *testing.T) {
		pp := blob.Prefixed(p, "_delta_log")
		require.Equal(t, []string{"0.json"}, mustList(t, pp, blob.ListOptions{}))
		requireKind(t, blob.PutBytes(ctx, pp, "0.json", []byte("again"), blob.PutOptions{IfAbsent: true}), errs.Conflict)
	})
	t.Run("Delete", func(t *testing.T) {
		require.NoError(t, p.Delete(ctx, "data/f.parquet"))
		_, err := b.Head(ctx, "wh/t1/data/f.parquet")
		requireKind(t, err, errs.NotFound)
	})
	t.Run("ErrInvalidKey", func(t *testing.T) {
		requireKind(t, blob.PutBytes(ctx, p, "../other", []byte("x"), blob.PutOptions{}), errs.Invalid)
		requireKind(t, blob.PutBytes(ctx, blob.Prefixed(b, "../x"), "k", []byte("x"), blob.PutOptions{}), errs.Invalid)
		_, err := blob.Prefixed(b, "/abs").List(ctx, blob.ListOptions{})
		requireKind(t, err, errs.Invalid)
	})
}
