package blob

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
)

// ReadAll reads the whole object stored under key. Errors are those of
// Bucket.Get, plus read failures wrapped with the key.
func ReadAll(ctx context.Context, b Bucket, key string) ([]byte, error) {
	rc, err := b.Get(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read blob %q: %w", key, err)
	}
	return data, nil
}

// PutBytes stores data under key. Errors are those of Bucket.Put.
func PutBytes(ctx context.Context, b Bucket, key string, data []byte, opts PutOptions) error {
	return b.Put(ctx, key, bytes.NewReader(data), opts)
}

// Prefixed returns a view of the sub-tree of b under prefix: key k of the
// view is key prefix+"/"+k of b, and List results have the prefix stripped.
// Trailing slashes on prefix are ignored; an empty prefix returns b itself.
// If prefix is not a valid key, every method of the view returns errs.Invalid.
func Prefixed(b Bucket, prefix string) Bucket {
	prefix = strings.TrimRight(prefix, "/")
	if prefix == "" {
		return b
	}
	if pb, ok := b.(*prefixed); ok {
		err := pb.err
		if err == nil {
			err = ValidateKey(pb.prefix + prefix)
		}
		return &prefixed{b: pb.b, prefix: pb.prefix + prefix + "/", err: err}
	}
	return &prefixed{b: b, prefix: prefix + "/", err: ValidateKey(prefix)}
}

// prefixed is the Bucket returned by Prefixed. prefix ends with "/".
type prefixed struct {
	b      Bucket
	prefix string
	err    error // non-nil if the prefix is not a valid key
}

// key validates k relative to the view and returns the full key.
func (p *prefixed) key(k string) (string, error) {
	if p.err != nil {
		return "", p.err
	}
	if err := ValidateKey(k); err != nil {
		return "", err
	}
	return p.prefix + k, nil
}

func (p *prefixed) Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, error) {
	k, err := p.key(key)
	if err != nil {
		return nil, err
	}
	return p.b.Get(ctx, k, rng)
}

func (p *prefixed) Put(ctx context.Context, key string, data io.Reader, opts PutOptions) error {
	k, err := p.key(key)
	if err != nil {
		return err
	}
	return p.b.Put(ctx, k, data, opts)
}

func (p *prefixed) List(ctx context.Context, opts ListOptions) ([]Attrs, error) {
	if p.err != nil {
		return nil, p.err
	}
	if err := ValidatePrefix(opts.Prefix); err != nil {
		return nil, err
	}
	inner := opts
	inner.Prefix = p.prefix + opts.Prefix
	if opts.StartAfter != "" {
		inner.StartAfter = p.prefix + opts.StartAfter
	}
	as, err := p.b.List(ctx, inner)
	if err != nil {
		return nil, err
	}
	for i := range as {
		as[i].Key = strings.TrimPrefix(as[i].Key, p.prefix)
	}
	return as, nil
}

func (p *prefixed) Head(ctx context.Context, key string) (Attrs, error) {
	k, err := p.key(key)
	if err != nil {
		return Attrs{}, err
	}
	a, err := p.b.Head(ctx, k)
	a.Key = strings.TrimPrefix(a.Key, p.prefix)
	return a, err
}

func (p *prefixed) Delete(ctx context.Context, key string) error {
	k, err := p.key(key)
	if err != nil {
		return err
	}
	return p.b.Delete(ctx, k)
}
