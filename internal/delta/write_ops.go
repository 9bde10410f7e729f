package delta

import (
	"context"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// ReasonReplaceWhereMismatch: a row written by an overwrite with
// replaceWhere does not satisfy the predicate (errs.Invalid).
const ReasonReplaceWhereMismatch = "DELTA_REPLACE_WHERE_MISMATCH"

// Append writes rows in a new transaction and commits them as a blind
// append (operation WRITE, mode Append). Errors: those of WriteRows and
// Commit.
func (t *Table) Append(ctx context.Context, rows []Row, opts WriteOptions) (CommitResult, error) {
	txn, err := t.StartTransaction(ctx, opts.Txn)
	if err != nil {
		return CommitResult{}, err
	}
	if _, err := txn.WriteRows(ctx, rows, opts); err != nil {
		return CommitResult{}, err
	}
	return txn.Commit(ctx, Operation{Name: "WRITE", Parameters: map[string]any{"mode": "Append", "partitionBy": jsonString(orEmpty(nil))}})
}

// OverwriteOptions modify Overwrite.
type OverwriteOptions struct {
	WriteOptions
	// ReplaceWhere limits the overwrite to the rows matching this predicate
	// over partition columns (nil = the whole table). Every written row must
	// satisfy it.
	ReplaceWhere Predicate
}

// Overwrite replaces the table's data (or, with ReplaceWhere, the
// partitions matching the predicate) by rows in one commit (operation
// WRITE, mode Overwrite). Errors: errs.Invalid DELTA_INVALID_PREDICATE for
// a predicate on unknown or non-partition columns, DELTA_REPLACE_WHERE_MISMATCH
// for a row outside it; those of WriteRows and Commit.
func (t *Table) Overwrite(ctx context.Context, rows []Row, opts OverwriteOptions) (CommitResult, error) {
	txn, err := t.StartTransaction(ctx, opts.Txn)
	if err != nil {
		return CommitResult{}, err
	}
	snap := txn.Snapshot()
	params := map[string]any{"mode": "Overwrite", "partitionBy": jsonString(orEmpty(nil))}
	var match func(Row) tri
	if opts.ReplaceWhere != nil {
		bound, err := bindPredicate(snap.Schema(), opts.ReplaceWhere)
		if err != nil {
			return CommitResult{}, err
		}
		parts := partitionSet(snap)
		for _, c := range predicateColumns(bound) {
			if !parts[strings.Split(c, ".")[0]] {
				return CommitResult{}, errs.E(errs.Invalid, ReasonInvalidPredicate,
					"replaceWhere may only reference partition columns (%s); %q is not one", strings.Join(snap.PartitionColumns(), ", "), c)
			}
		}
		if match, err = compilePredicate(snap.Schema(), bound); err != nil {
			return CommitResult{}, err
		}
		if err := txn.ReadPredicate(opts.ReplaceWhere); err != nil {
			return CommitResult{}, err
		}
		params["predicate"] = jsonString([]string{predicateString(bound)})
		sc, err := snap.Scan(ScanOptions{Filter: opts.ReplaceWhere})
		if err != nil {
			return CommitResult{}, err
		}
		files, err := sc.Files(ctx)
		if err != nil {
			return CommitResult{}, err
		}
		for _, f := range files {
			row := partitionRow(snap, f.PartitionValues)
			if match(row) == triTrue {
				txn.RemoveFiles(f.Add)
			}
		}
	} else {
		txn.ReadWholeTable()
		txn.RemoveFiles(snap.Files()...)
	}
	if match != nil {
		checked := make([]Row, 0, len(rows))
		schema := snap.Schema()
		for _, r := range rows {
			full := r
			if opts.Schema != nil {
				full = make(Row, len(schema.Fields))
				for i, f := range opts.Schema.Fields {
					if j := schema.FieldIndex(f.Name); j >= 0 && i < len(r) {
						full[j] = r[i]
					}
				}
			}
			if match(full) != triTrue {
				return CommitResult{}, errs.E(errs.Invalid, ReasonReplaceWhereMismatch,
					"a written row does not satisfy replaceWhere %s: %s", predicateString(mustBind(schema, opts.ReplaceWhere)), formatRow(full))
			}
			checked = append(checked, r)
		}
		rows = checked
	}
	if _, err := txn.WriteRows(ctx, rows, opts.WriteOptions); err != nil {
		return CommitResult{}, err
	}
	return txn.Commit(ctx, Operation{Name: "WRITE", Parameters: params})
}

func mustBind(schema *StructType, p Predicate) Predicate {
	b, err := bindPredicate(schema, p)
	if err != nil {
		return p
	}
	return b
}

// partitionSet returns the logical partition column names.
func partitionSet(snap *Snapshot) map[string]bool {
	parts := map[string]bool{}
	for _, p := range snap.PartitionColumns() {
		if f := snap.Schema().Field(p); f != nil {
			parts[f.Name] = true
		}
	}
	return parts
}

// partitionRow is a row of the table schema holding only partition values
// (other columns NULL).
func partitionRow(snap *Snapshot, pv map[string]any) Row {
	r := make(Row, len(snap.Schema().Fields))
	for i, f := range snap.Schema().Fields {
		if v, ok := pv[f.Name]; ok {
			r[i] = v
		}
	}
	return r
}
