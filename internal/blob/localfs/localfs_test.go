package localfs_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/blobtest"
	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/errs"
)

// raceRootEnv passes the bucket directory to process-race children.
const raceRootEnv = "LAKEBOX_LOCALFS_RACE_ROOT"

func TestMain(m *testing.M) {
	blobtest.MaybeRunChild(func() (blob.Bucket, error) {
		return localfs.New(os.Getenv(raceRootEnv))
	})
	os.Exit(m.Run())
}

func newBucket(t testing.TB) *localfs.Bucket {
	t.Helper()
	b, err := localfs.New(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Bucket { return newBucket(t) })
}

func TestProcessRace(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	b := newBucket(t)
	blobtest.RunProcessRace(t, b, map[string]string{raceRootEnv: b.Dir()}, blobtest.ProcessRaceOptions{Procs: 8, Rounds: 20})
}

func TestNew(t *testing.T) {
	t.Run("CreatesRoot", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b", "warehouse")
		b, err := localfs.New(dir)
		require.NoError(t, err)
		defer b.Close()
		require.DirExists(t, dir)
		require.Equal(t, dir, b.Dir())
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		_, err := localfs.New("")
		require.True(t, errs.Is(err, errs.Invalid), "%v", err)
	})
	t.Run("ErrRootIsFile", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
		_, err := localfs.New(file)
		require.ErrorContains(t, err, file)
		_, err = localfs.New(filepath.Join(file, "below"))
		require.ErrorContains(t, err, "create root directory")
	})
	t.Run("ErrNotWritable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions")
		}
		dir := filepath.Join(t.TempDir(), "ro")
		require.NoError(t, os.Mkdir(dir, 0o555))
		_, err := localfs.New(dir)
		require.ErrorContains(t, err, "not writable")
		_, err = localfs.New(filepath.Join(dir, "sub"))
		require.ErrorContains(t, err, "create root directory")
	})
	t.Run("ErrNotWritableProc", func(t *testing.T) {
		// /proc refuses mkdir even for root, which covers the unwritable
		// case when the tests run as root.
		if _, err := os.Stat("/proc/self"); err != nil {
			t.Skip("no /proc")
		}
		_, err := localfs.New("/proc/self/lakebox-warehouse")
		require.Error(t, err)
		require.ErrorContains(t, err, "/proc/self/lakebox-warehouse")
	})
}

func TestSymlinkEscape(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t)
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(b.Dir(), "escape")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(b.Dir(), "secretlink")))
	require.NoError(t, blob.PutBytes(ctx, b, "inside/ok", []byte("ok"), blob.PutOptions{}))

	t.Run("ErrGet", func(t *testing.T) {
		for _, key := range []string{"escape/secret", "secretlink"} {
			_, err := b.Get(ctx, key, nil)
			require.True(t, errs.Is(err, errs.Invalid), "get %q: %v", key, err)
			_, err = b.Head(ctx, key)
			require.True(t, errs.Is(err, errs.Invalid), "head %q: %v", key, err)
		}
	})
	t.Run("ErrPut", func(t *testing.T) {
		for _, opts := range []blob.PutOptions{{}, {IfAbsent: true}} {
			err := blob.PutBytes(ctx, b, "escape/new", []byte("x"), opts)
			require.True(t, errs.Is(err, errs.Invalid), "put %+v: %v", opts, err)
		}
		require.NoFileExists(t, filepath.Join(outside, "new"))
	})
	t.Run("ErrDelete", func(t *testing.T) {
		err := b.Delete(ctx, "escape/secret")
		require.True(t, errs.Is(err, errs.Invalid), "%v", err)
		require.FileExists(t, filepath.Join(outside, "secret"))
	})
	t.Run("ListSkipsSymlinks", func(t *testing.T) {
		as, err := b.List(ctx, blob.ListOptions{})
		require.NoError(t, err)
		require.Len(t, as, 1)
		require.Equal(t, "inside/ok", as[0].Key)
		_, err = b.List(ctx, blob.ListOptions{Prefix: "escape/"})
		require.True(t, errs.Is(err, errs.Invalid) || err == nil, "%v", err)
	})
}

func TestCrashMidPut(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t)
	require.NoError(t, blob.PutBytes(ctx, b, "k", []byte("committed"), blob.PutOptions{}))
	// A writer that died after writing its temporary file but before the
	// rename or link leaves only this behind.
	require.NoError(t, os.WriteFile(filepath.Join(b.Dir(), localfs.StagingDir, "deadbeef.tmp"), []byte("partial"), 0o644))

	as, err := b.List(ctx, blob.ListOptions{})
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.Equal(t, "k", as[0].Key)
	as, err = b.List(ctx, blob.ListOptions{Prefix: localfs.StagingDir + "/"})
	require.NoError(t, err)
	require.Empty(t, as)
	got, err := blob.ReadAll(ctx, b, "k")
	require.NoError(t, err)
	require.Equal(t, "committed", string(got))
	_, err = b.Get(ctx, localfs.StagingDir+"/deadbeef.tmp", nil)
	require.True(t, errs.Is(err, errs.Invalid), "%v", err)
	// A fresh bucket on the same root still works.
	b2, err := localfs.New(b.Dir())
	require.NoError(t, err)
	defer b2.Close()
	require.NoError(t, blob.PutBytes(ctx, b2, "k2", []byte("v"), blob.PutOptions{IfAbsent: true}))
}

func TestPathConflict(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t)
	require.NoError(t, blob.PutBytes(ctx, b, "a/b", []byte("x"), blob.PutOptions{}))
	for _, key := range []string{"a", "a/b/c"} {
		for _, opts := range []blob.PutOptions{{}, {IfAbsent: true}} {
			err := blob.PutBytes(ctx, b, key, []byte("y"), opts)
			require.True(t, errs.Is(err, errs.FailedPrecondition), "put %q %+v: %v", key, opts, err)
		}
	}
	require.NoError(t, b.Delete(ctx, "a"), "a directory is not an object")
	require.FileExists(t, filepath.Join(b.Dir(), "a", "b"))
}

func TestDeletePrunesDirectories(t *testing.T) {
	ctx := context.Background()
	b := newBucket(t)
	require.NoError(t, blob.PutBytes(ctx, b, "x/y/z/k", []byte("x"), blob.PutOptions{}))
	require.NoError(t, blob.PutBytes(ctx, b, "x/keep", []byte("x"), blob.PutOptions{}))
	require.NoError(t, b.Delete(ctx, "x/y/z/k"))
	require.NoDirExists(t, filepath.Join(b.Dir(), "x", "y"))
	require.FileExists(t, filepath.Join(b.Dir(), "x", "keep"))
	require.DirExists(t, b.Dir())
}

// BenchmarkBaselineWriteFsync is the floor for a durable Put on this disk:
// os.WriteFile of 1 KiB plus fsync of the file, no rename or directory sync.
func BenchmarkBaselineWriteFsync(b *testing.B) {
	dir := b.TempDir()
	payload := make([]byte, 1024)
	i := 0
	for b.Loop() {
		f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(payload); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		i++
	}
}

func BenchmarkBucket(b *testing.B) {
	blobtest.Bench(b, func(b *testing.B) blob.Bucket { return newBucket(b) })
}

func TestConformancePrefixed(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Bucket { return blob.Prefixed(newBucket(t), "warehouse/main") })
}
