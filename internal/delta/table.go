package delta

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// Table addresses a Delta table: a bucket and the key prefix of the table
// root. Creating a Table does no I/O; every read goes through a Snapshot.
type Table struct {
	bucket blob.Bucket
	root   string // "" or ends with "/"
	cache  snapshotCache
}

// NewTable returns the table rooted at root ("" = the bucket root) in b.
func NewTable(b blob.Bucket, root string) *Table {
	root = strings.Trim(root, "/")
	if root != "" {
		root += "/"
	}
	return &Table{bucket: b, root: root}
}

// Bucket returns the bucket holding the table.
func (t *Table) Bucket() blob.Bucket { return t.bucket }

// Root returns the key prefix of the table root ("" or ending in "/").
func (t *Table) Root() string { return t.root }

func (t *Table) logPrefix() string { return t.root + "_delta_log/" }

// LogPrefix returns the key prefix of the table's _delta_log/ directory.
func (t *Table) LogPrefix() string { return t.logPrefix() }

// DataKey returns the bucket key of a path from an add/remove/cdc action
// (percent-decoded and resolved against the table root). Absolute paths
// ("/x", "file:///x") are returned without their leading "/" only when they
// cannot be made relative; callers reading such files need a bucket rooted
// at "/".
func (t *Table) DataKey(logPath string) (string, error) {
	p, err := DecodePath(logPath)
	if err != nil {
		return "", errs.E(errs.Invalid, ReasonCorruptLog, "%v", err)
	}
	if strings.Contains(p, "://") || strings.HasPrefix(p, "file:") || strings.HasPrefix(p, "/") {
		c := CanonicalPath(logPath)
		return "", errs.E(errs.Unimplemented, ReasonInvalidArgument, "data file path %q is absolute (%s); only paths relative to the table root are readable", logPath, c)
	}
	return t.root + p, nil
}

// readObject reads a whole object. Errors: errs.NotFound with reason
// DELTA_FILE_NOT_FOUND naming the key.
func (t *Table) readObject(ctx context.Context, key string) ([]byte, error) {
	rc, err := t.bucket.Get(ctx, key, nil)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, errs.Wrap(errs.NotFound, ReasonFileNotFound, err, "file %s does not exist", key)
		}
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}
