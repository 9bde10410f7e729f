// Package blob defines the object-store interface every Lakebox subsystem uses
// for bulk data: Delta tables, volumes, model artifacts, spools. Backends live
// in sub-packages (localfs, s3blob, memblob) and are chosen by URL in the
// composition root only; blobtest holds the conformance suite they all run.
//
// Keys are slash-separated, relative, and never start with "/" or contain "."
// or ".." segments; backends reject such keys with errs.Invalid. Keys are
// compared and listed as byte strings.
package blob

import (
	"context"
	"io"
	"time"
)

// Bucket is a flat, sorted key space of immutable-once-written objects.
type Bucket interface {
	// Get opens key for reading. With a non-nil rng only that byte range is
	// returned. Errors: errs.NotFound if key does not exist; errs.Invalid for
	// a bad key or a range starting past the end.
	Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, error)

	// Put stores data under key, replacing any existing object atomically
	// (readers see the old or the new object, never a partial one). With
	// opts.IfAbsent the write succeeds only if key does not exist, atomically
	// across processes and hosts; otherwise it returns errs.Conflict with
	// reason ReasonExists and writes nothing. Errors: errs.Invalid for a bad key.
	Put(ctx context.Context, key string, data io.Reader, opts PutOptions) error

	// List returns objects whose keys start with opts.Prefix and sort strictly
	// after opts.StartAfter, in ascending byte order, at most opts.Limit of
	// them (0 = no limit). Errors: errs.Invalid for a bad prefix.
	List(ctx context.Context, opts ListOptions) ([]Attrs, error)

	// Head returns the attributes of key. Errors: errs.NotFound.
	Head(ctx context.Context, key string) (Attrs, error)

	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// ReasonExists is the errs reason returned by Put with IfAbsent when the key
// already exists.
const ReasonExists = "BLOB_ALREADY_EXISTS"

// Range selects bytes [Offset, Offset+Length) of an object. Length < 0 means
// "to the end".
type Range struct {
	Offset int64
	Length int64
}

// PutOptions modify Put.
type PutOptions struct {
	// IfAbsent makes the write conditional on key not existing.
	IfAbsent bool
	// ContentType is stored where the backend supports it.
	ContentType string
}

// ListOptions select what List returns.
type ListOptions struct {
	Prefix     string
	StartAfter string
	Limit      int
}

// Attrs describe a stored object.
type Attrs struct {
	Key     string
	Size    int64
	ModTime time.Time
	ETag    string // opaque; may be empty on backends that do not have one
}
