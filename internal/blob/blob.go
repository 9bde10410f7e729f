// Package blob defines the object-store interface every Lakebox subsystem uses
// for bulk data: Delta tables, volumes, model artifacts, spools. Backends live
// in sub-packages (localfs, s3blob, memblob) and are chosen by URL in the
// composition root only; blobtest holds the conformance suite they all run.
//
// Keys are slash-separated, relative, and never start with "/" or contain "."
// or ".." segments; backends reject such keys with errs.Invalid (see
// ValidateKey for the full rules). Keys are compared and listed as byte
// strings. ReadAll, PutBytes and Prefixed (a view of a sub-tree, e.g. a table
// root inside a warehouse bucket) work on any Bucket.
//
// Besides the kinds each method documents, any method may return
// errs.Unavailable or errs.PermissionDenied from a remote store, the
// context's error if ctx ends, or an unclassified (Internal) error for an
// unexpected I/O failure.
package blob

import (
	"context"
	"io"
	"time"
)

// Bucket is a flat, sorted key space of immutable-once-written objects.
type Bucket interface {
	// Get opens key for reading; the caller must Close the reader. With a
	// non-nil rng only that byte range is returned; a range reaching beyond
	// the end is truncated (as in S3), and one starting exactly at the end
	// yields no bytes. Errors: errs.NotFound if key does not exist;
	// errs.Invalid for a bad key, a negative offset, or an offset past the
	// end.
	Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, error)

	// Put stores data under key, replacing any existing object atomically
	// (readers see the old or the new object, never a partial one). With
	// opts.IfAbsent the write succeeds only if key does not exist, atomically
	// across processes and hosts; otherwise it returns errs.Conflict with
	// reason ReasonExists and writes nothing. data is read to EOF; if ctx
	// ends or data fails, nothing is stored. Errors: errs.Invalid for a bad
	// key; errs.Conflict for IfAbsent on an existing key; errs.FailedPrecondition
	// where a backend cannot store the key next to existing ones (localfs
	// cannot hold both "a" and "a/b").
	Put(ctx context.Context, key string, data io.Reader, opts PutOptions) error

	// List returns objects whose keys start with opts.Prefix and sort strictly
	// after opts.StartAfter, in ascending byte order, at most opts.Limit of
	// them (0 = no limit). Errors: errs.Invalid for a prefix that can never
	// match a valid key (see ValidatePrefix) or a negative limit.
	List(ctx context.Context, opts ListOptions) ([]Attrs, error)

	// Head returns the attributes of key. Errors: errs.NotFound if key does
	// not exist; errs.Invalid for a bad key.
	Head(ctx context.Context, key string) (Attrs, error)

	// Delete removes key. Deleting a missing key is not an error. Errors:
	// errs.Invalid for a bad key.
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
	// Prefix keeps only keys that start with it ("a/" for a directory, or
	// any partial key).
	Prefix string
	// StartAfter keeps only keys that sort strictly after it, for paging:
	// pass the last key of the previous page. It need not exist.
	StartAfter string
	// Limit caps the number of results; 0 means no limit.
	Limit int
}

// Attrs describe a stored object.
type Attrs struct {
	Key     string    // the object's key, relative to the bucket
	Size    int64     // length in bytes
	ModTime time.Time // when the object was last written, by the store's clock
	ETag    string    // opaque; changes when the object changes; may be empty on backends that do not have one
}
