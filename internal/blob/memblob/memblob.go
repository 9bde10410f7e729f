// Package memblob implements blob.Bucket in memory, for unit tests and
// throw-away tools. It is safe for concurrent use; objects are lost when the
// Bucket is garbage collected.
package memblob

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// Bucket is an in-memory blob.Bucket. The zero value is not usable; call New.
type Bucket struct {
	now func() time.Time

	mu   sync.RWMutex
	objs map[string]object
	keys []string // sorted; kept in step with objs
}

var _ blob.Bucket = (*Bucket)(nil)

type object struct {
	data    []byte // never modified after it is stored
	modTime time.Time
	etag    string
}

// Option configures a Bucket.
type Option func(*Bucket)

// WithClock makes the bucket stamp objects with times from now instead of
// time.Now.
func WithClock(now func() time.Time) Option { return func(b *Bucket) { b.now = now } }

// New returns an empty bucket.
func New(opts ...Option) *Bucket {
	b := &Bucket{now: time.Now, objs: make(map[string]object)}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Get implements blob.Bucket.
func (b *Bucket) Get(ctx context.Context, key string, rng *blob.Range) (io.ReadCloser, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.RLock()
	o, ok := b.objs[key]
	b.mu.RUnlock()
	if !ok {
		return nil, errs.E(errs.NotFound, blob.ReasonNotFound, "blob %q not found", key)
	}
	off, n, err := blob.ValidateRange(rng, int64(len(o.data)))
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(o.data[off : off+n])), nil
}

// Put implements blob.Bucket.
func (b *Bucket) Put(ctx context.Context, key string, data io.Reader, opts blob.PutOptions) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	buf, err := io.ReadAll(data)
	if err != nil {
		return fmt.Errorf("memblob put %q: read: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sum := md5.Sum(buf)
	o := object{data: buf, modTime: b.now(), etag: hex.EncodeToString(sum[:])}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, exists := b.objs[key]; !exists {
		i, _ := slices.BinarySearch(b.keys, key)
		b.keys = slices.Insert(b.keys, i, key)
	} else if opts.IfAbsent {
		return errs.E(errs.Conflict, blob.ReasonExists, "blob %q already exists", key)
	}
	b.objs[key] = o
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
	b.mu.RLock()
	defer b.mu.RUnlock()
	from := max(opts.Prefix, opts.StartAfter)
	i, found := slices.BinarySearch(b.keys, from)
	if found && from == opts.StartAfter {
		i++
	}
	var out []blob.Attrs
	for ; i < len(b.keys); i++ {
		k := b.keys[i]
		if !strings.HasPrefix(k, opts.Prefix) || (opts.Limit > 0 && len(out) == opts.Limit) {
			break
		}
		out = append(out, attrs(k, b.objs[k]))
	}
	return out, nil
}

func attrs(key string, o object) blob.Attrs {
	return blob.Attrs{Key: key, Size: int64(len(o.data)), ModTime: o.modTime, ETag: o.etag}
}

// Head implements blob.Bucket.
func (b *Bucket) Head(ctx context.Context, key string) (blob.Attrs, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Attrs{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Attrs{}, err
	}
	b.mu.RLock()
	o, ok := b.objs[key]
	b.mu.RUnlock()
	if !ok {
		return blob.Attrs{}, errs.E(errs.NotFound, blob.ReasonNotFound, "blob %q not found", key)
	}
	return attrs(key, o), nil
}

// Delete implements blob.Bucket.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.objs[key]; ok {
		delete(b.objs, key)
		i, _ := slices.BinarySearch(b.keys, key)
		b.keys = slices.Delete(b.keys, i, i+1)
	}
	return nil
}
