package delta

import (
	"context"
	"fmt"

	"github.com/lakebox/lakebox/internal/errs"
)

// ReasonRestoreMissingFile: a file of the version to restore no longer
// exists, usually because VACUUM deleted it (errs.FailedPrecondition).
const ReasonRestoreMissingFile = "DELTA_RESTORE_MISSING_FILES"

// RestoreOptions configure Restore.
type RestoreOptions struct {
	Txn TransactionOptions
}

// RestoreResult reports what Restore changed.
type RestoreResult struct {
	CommitResult
	Committed      bool
	FilesRestored  int
	FilesRemoved   int
	BytesRestored  int64
	BytesRemoved   int64
	FilesAfter     int
	TableSizeAfter int64
}

// Restore makes the table's data what it was at version: files live then
// but not now are added back, files live now but not then are removed (both
// with dataChange=true), and the metadata of that version is restored
// (the protocol is never downgraded). The commit's operation is RESTORE.
// Errors: those of SnapshotAt for version; errs.FailedPrecondition
// DELTA_RESTORE_MISSING_FILES when a file to add back was vacuumed;
// errs.Conflict; storage errors.
func (t *Table) Restore(ctx context.Context, version int64, opts RestoreOptions) (RestoreResult, error) {
	txn, err := t.StartTransaction(ctx, opts.Txn)
	if err != nil {
		return RestoreResult{}, err
	}
	cur := txn.Snapshot()
	if version < 0 || version > cur.Version() {
		return RestoreResult{}, errs.E(errs.Invalid, ReasonInvalidArgument, "cannot restore to version %d: the table's versions are 0 to %d", version, cur.Version())
	}
	old, err := t.SnapshotAt(ctx, version)
	if err != nil {
		return RestoreResult{}, err
	}
	txn.ReadWholeTable()
	now := map[string]*Add{}
	for _, a := range cur.Files() {
		now[fileKey(a.Path, a.DeletionVector)] = a
	}
	then := map[string]bool{}
	res := RestoreResult{}
	for _, a := range old.Files() {
		k := fileKey(a.Path, a.DeletionVector)
		then[k] = true
		res.FilesAfter++
		res.TableSizeAfter += a.Size
		if now[k] != nil {
			continue
		}
		key, err := t.DataKey(a.Path)
		if err != nil {
			return RestoreResult{}, err
		}
		if _, err := t.bucket.Head(ctx, key); err != nil {
			if errs.Is(err, errs.NotFound) {
				return RestoreResult{}, errs.E(errs.FailedPrecondition, ReasonRestoreMissingFile,
					"cannot restore to version %d: data file %s no longer exists (was it vacuumed?)", version, a.Path)
			}
			return RestoreResult{}, fmt.Errorf("check %s: %w", key, err)
		}
		cp := *a
		cp.DataChange = true
		txn.adds = append(txn.adds, &cp)
		res.FilesRestored++
		res.BytesRestored += a.Size
	}
	for _, a := range cur.Files() {
		if !then[fileKey(a.Path, a.DeletionVector)] {
			txn.RemoveFiles(a)
			res.FilesRemoved++
			res.BytesRemoved += a.Size
		}
	}
	if old.Metadata().SchemaString != cur.Metadata().SchemaString || !sameConfig(old.Configuration(), cur.Configuration()) ||
		fmt.Sprint(old.PartitionColumns()) != fmt.Sprint(cur.PartitionColumns()) {
		md := *old.Metadata()
		if err := txn.SetMetadata(&md); err != nil {
			return RestoreResult{}, err
		}
		if txn.protocol != nil && mergeProtocol(cur.Protocol(), txn.protocol) == nil {
			txn.protocol = nil // never downgrade; only upgrade when needed
		}
	}
	cr, err := txn.Commit(ctx, Operation{Name: "RESTORE", Parameters: map[string]any{"version": version}, Metrics: map[string]int64{
		"numRestoredFiles": int64(res.FilesRestored), "numRemovedFiles": int64(res.FilesRemoved),
		"restoredFilesSize": res.BytesRestored, "removedFilesSize": res.BytesRemoved,
		"numOfFilesAfterRestore": int64(res.FilesAfter), "tableSizeAfterRestore": res.TableSizeAfter}})
	if err != nil {
		return RestoreResult{}, err
	}
	res.CommitResult, res.Committed = cr, true
	return res, nil
}

func sameConfig(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
