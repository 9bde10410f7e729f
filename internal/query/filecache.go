package query

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// fileCache is the local read-through cache that lets DuckDB (which has no
// object-store access here) read and write tables on remote buckets (S3).
// Each remote table location gets a local mirror directory
// <root>/<hash of location>; a data file of the table is materialised at
// <mirror>/<key> before DuckDB is given its path, and files DuckDB writes
// into the mirror are uploaded to the bucket before the Delta commit.
//
// Entries are keyed by local path (location + blob key) and size: Delta
// data files are immutable once written, so a file of the same key and
// size is the same file. The cache holds at most max bytes of unpinned
// files, evicting the least recently used; a statement pins the files it
// uses until it ends, so eviction never removes a file DuckDB is reading.
// The cache is emptied when the engine starts (it is only a cache).
type fileCache struct {
	root string
	max  int64

	mu      sync.Mutex
	entries map[string]*cacheEntry
	lru     *list.List // front = most recently used; ready entries only
	size    int64      // bytes of ready entries
}

type cacheEntry struct {
	path  string
	size  int64
	pins  int
	ready chan struct{}
	err   error
	elem  *list.Element
}

func newFileCache(root string, max int64) (*fileCache, error) {
	if err := os.RemoveAll(root); err != nil {
		return nil, fmt.Errorf("clear SQL file cache: %w", err)
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("create SQL file cache: %w", err)
	}
	return &fileCache{root: root, max: max, entries: map[string]*cacheEntry{}, lru: list.New()}, nil
}

// dirFor returns the mirror directory of a remote storage location.
func (c *fileCache) dirFor(location string) (string, error) {
	h := sha256.Sum256([]byte(location))
	dir := filepath.Join(c.root, hex.EncodeToString(h[:12]))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create cache directory: %w", err)
	}
	return dir, nil
}

// fetch makes dir/key a local copy of key in b (size bytes) and pins it;
// the caller calls release when DuckDB is done with it. Errors: the
// bucket's (errs.NotFound for a missing data file); errs.Invalid for a
// key that is not a valid blob key (it could escape the mirror).
func (c *fileCache) fetch(ctx context.Context, b blob.Bucket, dir, key string, size int64) (release func(), err error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	path := dir + "/" + key
	for {
		c.mu.Lock()
		e := c.entries[path]
		if e == nil {
			e = &cacheEntry{path: path, size: size, pins: 1, ready: make(chan struct{})}
			c.entries[path] = e
			c.mu.Unlock()
			derr := download(ctx, b, key, path, size)
			c.mu.Lock()
			if derr != nil {
				e.err = derr
				delete(c.entries, path)
			} else {
				e.elem = c.lru.PushFront(e)
				c.size += size
				c.evict()
			}
			close(e.ready)
			c.mu.Unlock()
			if derr != nil {
				return nil, derr
			}
			return c.releaser(e), nil
		}
		if e.size != size && e.pins == 0 && e.elem != nil {
			c.drop(e) // another object under the same key: fetch it again
			c.mu.Unlock()
			continue
		}
		e.pins++
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			c.releaser(e)()
			return nil, ctx.Err()
		}
		if e.err != nil {
			c.releaser(e)()
			return nil, e.err
		}
		c.mu.Lock()
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		return c.releaser(e), nil
	}
}

// stage uploads the local file dir/key (written by DuckDB) to key in b and
// keeps it in the cache, pinned until release. Errors: the bucket's.
func (c *fileCache) stage(ctx context.Context, b blob.Bucket, dir, key string, size int64) (release func(), err error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	path := dir + "/" + key
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open written file: %w", err)
	}
	err = b.Put(ctx, key, f, blob.PutOptions{})
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", key, err)
	}
	e := &cacheEntry{path: path, size: size, pins: 1, ready: make(chan struct{})}
	close(e.ready)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[path]; old != nil && old.elem != nil {
		c.lru.Remove(old.elem)
		c.size -= old.size
	}
	c.entries[path] = e
	e.elem = c.lru.PushFront(e)
	c.size += size
	c.evict()
	return c.releaser(e), nil
}

func (c *fileCache) releaser(e *cacheEntry) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			e.pins--
			c.evict()
			c.mu.Unlock()
		})
	}
}

// evict removes least recently used unpinned files while the cache holds
// more than max bytes. Callers hold c.mu.
func (c *fileCache) evict() {
	for el := c.lru.Back(); el != nil && c.size > c.max; {
		e := el.Value.(*cacheEntry)
		prev := el.Prev()
		if e.pins == 0 {
			c.drop(e)
		}
		el = prev
	}
}

// drop removes an unpinned ready entry and its file. Callers hold c.mu.
func (c *fileCache) drop(e *cacheEntry) {
	c.lru.Remove(e.elem)
	e.elem = nil
	c.size -= e.size
	if c.entries[e.path] == e {
		delete(c.entries, e.path)
	}
	os.Remove(e.path)
}

// download copies key to path through a temporary file, so that a
// reader never sees a partial file. Errors: the bucket's; errs.Internal
// when the object's size is not the expected one.
func download(ctx context.Context, b blob.Bucket, key, path string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create cache directory: %w", err)
	}
	rc, err := b.Get(ctx, key, nil)
	if err != nil {
		return err
	}
	defer rc.Close()
	tmp := path + ".tmp-" + uuid.NewString()
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("create cache file: %w", err)
	}
	n, err := io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && size >= 0 && n != size {
		err = errs.E(errs.Internal, "DELTA_CORRUPT_DATA_FILE", "data file %s has %d bytes, the Delta log says %d", key, n, size)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("download %s: %w", key, err)
	}
	return nil
}
