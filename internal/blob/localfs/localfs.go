package localfs

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// StagingDir is the directory under root that holds temporary files of
// in-progress Puts. It is never listed, and keys inside it are rejected.
const StagingDir = ".lakebox-tmp"

// ReasonPathConflict is the errs reason for a Put whose key needs a directory
// where a file exists, or a file where a directory exists ("a" and "a/b").
const ReasonPathConflict = "BLOB_PATH_CONFLICT"

// maxInstallAttempts bounds retries of moving a temporary file into place
// when a concurrent Delete removes a freshly created parent directory.
const maxInstallAttempts = 8

// Bucket is a blob.Bucket stored in a local directory. It is safe for
// concurrent use by multiple goroutines and processes.
type Bucket struct {
	dir  string   // absolute path of the root directory
	root *os.Root // all access goes through root
}

var _ blob.Bucket = (*Bucket)(nil)

// New opens the bucket rooted at the directory root, creating it (and its
// staging directory) if missing. It fails with a clear error if root cannot be
// created, is not a directory, or is not writable.
func New(root string) (*Bucket, error) {
	if root == "" {
		return nil, errs.E(errs.Invalid, "BLOB_INVALID_ROOT", "localfs: root directory must not be empty")
	}
	dir, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("localfs: resolve root %q: %w", root, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("localfs: create root directory %q: %w", dir, err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("localfs: open root directory %q: %w", dir, err)
	}
	b := &Bucket{dir: dir, root: r}
	if err := r.Mkdir(StagingDir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		r.Close()
		return nil, fmt.Errorf("localfs: root directory %q is not writable: %w", dir, err)
	}
	// Probe that we can create files, so a read-only root fails here and not
	// on the first Put.
	name, f, err := b.createTemp()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("localfs: root directory %q is not writable: %w", dir, err)
	}
	f.Close()
	_ = r.Remove(name)
	return b, nil
}

// Dir returns the absolute path of the bucket's root directory.
func (b *Bucket) Dir() string { return b.dir }

// Close releases the bucket's handle on its root directory. The bucket must
// not be used afterwards.
func (b *Bucket) Close() error { return b.root.Close() }

// checkKey validates key for this backend.
func checkKey(key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if key == StagingDir || strings.HasPrefix(key, StagingDir+"/") {
		return errs.E(errs.Invalid, blob.ReasonInvalidKey, "blob key %q is inside the reserved directory %q", key, StagingDir)
	}
	return nil
}

// isEscape reports whether err is os.Root refusing a path that leaves the
// root (through ".." or a symbolic link). os.Root reports those with a
// *PathError or *LinkError whose cause is not an errno.
func isEscape(err error) bool {
	var cause error
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		cause = pe.Err
	case errors.As(err, &le):
		cause = le.Err
	default:
		return false
	}
	var errno syscall.Errno
	return !errors.As(cause, &errno)
}

func escapeErr(key string, err error) error {
	return errs.Wrap(errs.Invalid, blob.ReasonInvalidKey, err, "blob key %q resolves outside the bucket root", key)
}

func notFound(key string) error {
	return errs.E(errs.NotFound, blob.ReasonNotFound, "blob %q not found", key)
}

// mapOpenErr translates an error from opening or stat-ing key.
func mapOpenErr(op, key string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return notFound(key)
	case isEscape(err):
		return escapeErr(key, err)
	default:
		return fmt.Errorf("localfs %s %q: %w", op, key, err)
	}
}

// Get implements blob.Bucket.
func (b *Bucket) Get(ctx context.Context, key string, rng *blob.Range) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := b.root.Open(key)
	if err != nil {
		return nil, mapOpenErr("get", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("localfs get %q: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, notFound(key)
	}
	if rng == nil {
		return f, nil
	}
	off, n, err := blob.ValidateRange(rng, fi.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	return &rangeReader{Reader: io.NewSectionReader(f, off, n), f: f}, nil
}

// rangeReader reads a section of an open file and closes the file.
type rangeReader struct {
	io.Reader
	f *os.File
}

func (r *rangeReader) Close() error { return r.f.Close() }

// createTemp creates a new, empty temporary file in the staging directory and
// returns its name relative to root.
func (b *Bucket) createTemp() (string, *os.File, error) {
	var buf [12]byte
	for {
		for i := range buf {
			buf[i] = byte(rand.Uint32())
		}
		name := StagingDir + "/" + hex.EncodeToString(buf[:]) + ".tmp"
		f, err := b.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if errors.Is(err, fs.ErrNotExist) {
			// Someone removed the staging directory; recreate it.
			if merr := b.root.Mkdir(StagingDir, 0o755); merr == nil || errors.Is(merr, fs.ErrExist) {
				continue
			}
		}
		return name, f, err
	}
}

// ctxReader fails reads once ctx is done, so a long copy can be canceled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Put implements blob.Bucket.
func (b *Bucket) Put(ctx context.Context, key string, data io.Reader, opts blob.PutOptions) (err error) {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, f, err := b.createTemp()
	if err != nil {
		return fmt.Errorf("localfs put %q: create temporary file: %w", key, err)
	}
	installed := false
	defer func() {
		if !installed || opts.IfAbsent {
			_ = b.root.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, data}); err != nil {
		f.Close()
		return fmt.Errorf("localfs put %q: write: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("localfs put %q: fsync: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("localfs put %q: close: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.install(tmp, key, opts.IfAbsent); err != nil {
		return err
	}
	installed = true
	b.syncDir(path.Dir(key))
	return nil
}

// install moves the temporary file tmp to key: by rename, or by link if
// ifAbsent. It creates missing parent directories, retrying if a concurrent
// Delete prunes them in between.
func (b *Bucket) install(tmp, key string, ifAbsent bool) error {
	for attempt := 0; ; attempt++ {
		var err error
		if ifAbsent {
			err = b.root.Link(tmp, key)
		} else {
			err = b.root.Rename(tmp, key)
		}
		switch {
		case err == nil:
			return nil
		case isEscape(err):
			return escapeErr(key, err)
		case errors.Is(err, fs.ErrExist) && ifAbsent:
			if fi, serr := b.root.Lstat(key); serr == nil && fi.IsDir() {
				return pathConflict(key, err)
			}
			return errs.E(errs.Conflict, blob.ReasonExists, "blob %q already exists", key)
		case errors.Is(err, fs.ErrExist), errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOTEMPTY),
			errors.Is(err, syscall.ENOTDIR):
			return pathConflict(key, err)
		case errors.Is(err, fs.ErrNotExist) && attempt < maxInstallAttempts:
			if err := b.mkdirAll(path.Dir(key)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("localfs put %q: %w", key, err)
		}
	}
}

func pathConflict(key string, cause error) error {
	return errs.Wrap(errs.FailedPrecondition, ReasonPathConflict, cause,
		"blob %q conflicts with an existing key: a local bucket cannot hold both \"a\" and \"a/b\"", key)
}

// mkdirAll creates dir and its missing parents, fsyncing the parent of each
// directory it creates so that the new entries are durable.
func (b *Bucket) mkdirAll(dir string) error {
	if dir == "." {
		return nil
	}
	parent := path.Dir(dir)
	err := b.root.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrNotExist) {
		if err := b.mkdirAll(parent); err != nil {
			return err
		}
		err = b.root.Mkdir(dir, 0o755)
	}
	switch {
	case err == nil:
		b.syncDir(parent)
		return nil
	case errors.Is(err, fs.ErrExist):
		if fi, serr := b.root.Stat(dir); serr == nil && !fi.IsDir() {
			return pathConflict(dir+"/...", err)
		}
		return nil
	case isEscape(err):
		return escapeErr(dir, err)
	case errors.Is(err, syscall.ENOTDIR):
		return pathConflict(dir+"/...", err)
	default:
		return fmt.Errorf("localfs: create directory %q: %w", dir, err)
	}
}

// syncDir fsyncs directory dir (relative to root), best effort.
func (b *Bucket) syncDir(dir string) {
	d, err := b.root.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}

// Head implements blob.Bucket.
func (b *Bucket) Head(ctx context.Context, key string) (blob.Attrs, error) {
	if err := checkKey(key); err != nil {
		return blob.Attrs{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Attrs{}, err
	}
	fi, err := b.root.Stat(key)
	if err != nil {
		return blob.Attrs{}, mapOpenErr("head", key, err)
	}
	if !fi.Mode().IsRegular() {
		return blob.Attrs{}, notFound(key)
	}
	return attrs(key, fi), nil
}

func attrs(key string, fi fs.FileInfo) blob.Attrs {
	return blob.Attrs{
		Key:     key,
		Size:    fi.Size(),
		ModTime: fi.ModTime(),
		ETag:    fmt.Sprintf("%x-%x", fi.ModTime().UnixNano(), fi.Size()),
	}
}

// Delete implements blob.Bucket. It also removes parent directories that
// became empty, up to the root (best effort).
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := b.root.Lstat(key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		if isEscape(err) {
			return escapeErr(key, err)
		}
		return fmt.Errorf("localfs delete %q: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a directory is not an object
	}
	if err := b.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		if isEscape(err) {
			return escapeErr(key, err)
		}
		return fmt.Errorf("localfs delete %q: %w", key, err)
	}
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if b.root.Remove(dir) != nil {
			break // not empty, or gone already
		}
	}
	return nil
}

// walk appends to out the regular files under dir whose keys start with
// prefix and sort after after. It reads directory names without stat-ing
// them (os.Root's ReadDir stats every entry, which made listing a 10,000-file
// _delta_log/ cost 11,000 lstat calls) and stats only entries that can still
// match: a file key inside [prefix, after), or a directory that may hold one.
func (b *Bucket) walk(ctx context.Context, dir, prefix, after string, out *[]blob.Attrs) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := b.root.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil // absent, or removed while we walked
		}
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		p := name
		if dir != "." {
			p = dir + "/" + name
		}
		if p == StagingDir {
			continue
		}
		asDir := p + "/"
		fileMay := strings.HasPrefix(p, prefix) && p > after
		dirMay := (strings.HasPrefix(asDir, prefix) || strings.HasPrefix(prefix, asDir)) &&
			(strings.HasPrefix(after, asDir) || asDir > after)
		if !fileMay && !dirMay {
			continue
		}
		fi, err := b.root.Lstat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		switch {
		case fi.IsDir():
			if dirMay {
				if err := b.walk(ctx, p, prefix, after, out); err != nil {
					return err
				}
			}
		case fi.Mode().IsRegular() && fileMay:
			*out = append(*out, attrs(p, fi))
		}
		// Symlinks and other non-regular files are not objects.
	}
	return nil
}

// List implements blob.Bucket.
func (b *Bucket) List(ctx context.Context, opts blob.ListOptions) ([]blob.Attrs, error) {
	if err := blob.ValidatePrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if opts.Limit < 0 {
		return nil, errs.E(errs.Invalid, "BLOB_INVALID_LIMIT", "list limit %d is negative; use 0 for no limit", opts.Limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prefix, after := opts.Prefix, opts.StartAfter
	if strings.HasPrefix(prefix, StagingDir+"/") {
		return nil, nil // no object can live in the staging directory
	}
	// Start at the deepest directory the prefix names completely.
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
	}
	var out []blob.Attrs
	err := b.walk(ctx, start, prefix, after, &out)
	if err != nil {
		if isEscape(err) {
			return nil, escapeErr(prefix, err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("localfs list %q: %w", prefix, err)
	}
	slices.SortFunc(out, func(x, y blob.Attrs) int { return strings.Compare(x.Key, y.Key) })
	if opts.Limit > 0 && len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out, nil
}
