package delta

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// tri is SQL three-valued logic.
type tri int8

const (
	triFalse tri = iota
	triTrue
	triNull
)

func triNot(x tri) tri {
	switch x {
	case triTrue:
		return triFalse
	case triFalse:
		return triTrue
	}
	return triNull
}

// compilePredicate turns a bound predicate into a row evaluator with SQL
// semantics (NULL operands give NULL; NOT/AND/OR three-valued).
func compilePredicate(schema *StructType, p Predicate) (func(Row) tri, error) {
	get := func(col string) (func(Row) any, error) {
		parts := strings.Split(col, ".")
		var idx []int
		st := schema
		for i, name := range parts {
			j := st.FieldIndex(name)
			if j < 0 {
				return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "column %q does not exist in the table schema (columns: %s)", col, fieldNames(schema))
			}
			idx = append(idx, j)
			if i < len(parts)-1 {
				s, ok := st.Fields[j].Type.(*StructType)
				if !ok {
					return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "column %q: %q is not a struct", col, name)
				}
				st = s
			}
		}
		return func(r Row) any {
			var v any = r
			for _, j := range idx {
				row, ok := v.(Row)
				if !ok || j >= len(row) {
					return nil
				}
				v = row[j]
			}
			return v
		}, nil
	}
	switch x := p.(type) {
	case nil:
		return func(Row) tri { return triTrue }, nil
	case *Comparison:
		g, err := get(x.Column)
		if err != nil {
			return nil, err
		}
		return func(r Row) tri {
			v := g(r)
			if v == nil || x.Value == nil {
				return triNull
			}
			c, ok := CompareValues(v, x.Value)
			if !ok {
				return triNull
			}
			if opHolds(x.Op, c) {
				return triTrue
			}
			return triFalse
		}, nil
	case *IsNull:
		g, err := get(x.Column)
		if err != nil {
			return nil, err
		}
		return func(r Row) tri {
			if (g(r) == nil) != x.Not {
				return triTrue
			}
			return triFalse
		}, nil
	case *In:
		g, err := get(x.Column)
		if err != nil {
			return nil, err
		}
		return func(r Row) tri {
			v := g(r)
			if v == nil {
				return triNull
			}
			res := triFalse
			for _, l := range x.Values {
				if l == nil {
					res = triNull
					continue
				}
				if c, ok := CompareValues(v, l); ok && c == 0 {
					return triTrue
				}
			}
			return res
		}, nil
	case *Not:
		f, err := compilePredicate(schema, x.Pred)
		if err != nil {
			return nil, err
		}
		return func(r Row) tri { return triNot(f(r)) }, nil
	case *And, *Or:
		var ps []Predicate
		_, isAnd := x.(*And)
		if isAnd {
			ps = x.(*And).Preds
		} else {
			ps = x.(*Or).Preds
		}
		fs := make([]func(Row) tri, len(ps))
		for i, q := range ps {
			f, err := compilePredicate(schema, q)
			if err != nil {
				return nil, err
			}
			fs[i] = f
		}
		if isAnd {
			return func(r Row) tri {
				res := triTrue
				for _, f := range fs {
					switch f(r) {
					case triFalse:
						return triFalse
					case triNull:
						res = triNull
					}
				}
				return res
			}, nil
		}
		return func(r Row) tri {
			res := triFalse
			for _, f := range fs {
				switch f(r) {
				case triTrue:
					return triTrue
				case triNull:
					res = triNull
				}
			}
			return res
		}, nil
	}
	return nil, errs.E(errs.Invalid, ReasonInvalidPredicate, "unsupported predicate %T", p)
}

// predicateColumns lists the columns a predicate references.
func predicateColumns(p Predicate) []string {
	var out []string
	var walk func(Predicate)
	walk = func(p Predicate) {
		switch x := p.(type) {
		case *Comparison:
			out = append(out, x.Column)
		case *IsNull:
			out = append(out, x.Column)
		case *In:
			out = append(out, x.Column)
		case *Not:
			walk(x.Pred)
		case *And:
			for _, q := range x.Preds {
				walk(q)
			}
		case *Or:
			for _, q := range x.Preds {
				walk(q)
			}
		}
	}
	walk(p)
	return out
}

// predicateString renders a predicate in SQL-like form for commitInfo.
func predicateString(p Predicate) string {
	lit := func(v any) string {
		switch x := v.(type) {
		case nil:
			return "NULL"
		case string:
			return "'" + strings.ReplaceAll(x, "'", "''") + "'"
		}
		return formatValue(v)
	}
	switch x := p.(type) {
	case nil:
		return "true"
	case *Comparison:
		return fmt.Sprintf("(%s %s %s)", x.Column, x.Op, lit(x.Value))
	case *IsNull:
		if x.Not {
			return fmt.Sprintf("(%s IS NOT NULL)", x.Column)
		}
		return fmt.Sprintf("(%s IS NULL)", x.Column)
	case *In:
		vs := make([]string, len(x.Values))
		for i, v := range x.Values {
			vs[i] = lit(v)
		}
		return fmt.Sprintf("(%s IN (%s))", x.Column, strings.Join(vs, ", "))
	case *Not:
		return "(NOT " + predicateString(x.Pred) + ")"
	case *And:
		ps := make([]string, len(x.Preds))
		for i, q := range x.Preds {
			ps[i] = predicateString(q)
		}
		return "(" + strings.Join(ps, " AND ") + ")"
	case *Or:
		ps := make([]string, len(x.Preds))
		for i, q := range x.Preds {
			ps[i] = predicateString(q)
		}
		return "(" + strings.Join(ps, " OR ") + ")"
	}
	return fmt.Sprint(p)
}

// DMLOptions configure Delete, Update and Merge.
type DMLOptions struct {
	Txn TransactionOptions
	// Snapshot, when set, is the snapshot the operation reads (default: the
	// latest). Commit still lands on the newest version if no conflict.
	Snapshot *Snapshot
}

func (t *Table) startDML(ctx context.Context, opts DMLOptions) (*Transaction, error) {
	if opts.Snapshot != nil {
		return opts.Snapshot.StartTransaction(opts.Txn)
	}
	return t.StartTransaction(ctx, opts.Txn)
}

// DMLResult reports what a DML operation changed.
type DMLResult struct {
	CommitResult
	// Committed is false when nothing matched and no commit was made.
	Committed     bool
	RowsDeleted   int64
	RowsUpdated   int64
	RowsInserted  int64
	RowsCopied    int64 // unchanged rows rewritten with their file
	FilesRemoved  int
	FilesAdded    int
	FilesScanned  int
	FilesSkipped  int
	ChangeFiles   int
	TotalFiles    int
	TouchedFiles  []string
	ReadPredicate string
}

// rewriter runs copy-on-write DML over a snapshot: files are read, each row
// is passed to a decision function, and touched files are replaced.
type rewriter struct {
	ctx    context.Context
	txn    *Transaction
	snap   *Snapshot
	data   *dataWriter
	cdc    *dataWriter
	cdcRow Row
	res    DMLResult
}

func newRewriter(ctx context.Context, txn *Transaction) (*rewriter, error) {
	snap := txn.Snapshot()
	md := snap.Metadata()
	w := &rewriter{ctx: ctx, txn: txn, snap: snap}
	var err error
	w.data, err = newDataWriter(ctx, dataWriterConfig{table: txn.table, schema: snap.Schema(), partition: md.PartitionColumns,
		config: md.Configuration, mode: txn.mode(), targetSize: txn.opts.TargetFileSize, engine: txn.opts.EngineInfo,
		newID: txn.opts.NewID, now: txn.opts.Clock})
	if err != nil {
		return nil, err
	}
	if configBool(md.Configuration, "delta.enableChangeDataFeed") {
		cs := &StructType{Fields: append(append([]*StructField{}, snap.Schema().Fields...),
			&StructField{Name: ChangeTypeColumn, Type: TypeString, Nullable: true})}
		w.cdc, err = newDataWriter(ctx, dataWriterConfig{table: txn.table, schema: cs, partition: md.PartitionColumns,
			config: map[string]string{"delta.dataSkippingNumIndexedCols": "0"}, mode: txn.mode(), cdc: true,
			engine: txn.opts.EngineInfo, newID: txn.opts.NewID, now: txn.opts.Clock})
		if err != nil {
			return nil, err
		}
		w.cdcRow = make(Row, len(cs.Fields))
	}
	return w, nil
}

func (w *rewriter) change(r Row, kind string) error {
	if w.cdc == nil {
		return nil
	}
	copy(w.cdcRow, r)
	w.cdcRow[len(w.cdcRow)-1] = kind
	return w.cdc.Write(w.cdcRow)
}

func (w *rewriter) abort() {
	w.data.Abort()
	if w.cdc != nil {
		w.cdc.Abort()
	}
}

// decision is what happens to one existing row.
type decision struct {
	keep    bool // copy unchanged
	deleted bool
	updated Row // new value
}

// rewriteFile reads f and applies decide to each row; when any row changes
// the file is removed and its surviving rows are rewritten.
func (w *rewriter) rewriteFile(f ScanFile, decide func(Row) (decision, error)) error {
	sc, err := w.snap.Scan(ScanOptions{})
	if err != nil {
		return err
	}
	var rows []Row
	var decs []decision
	changed := false
	err = sc.ReadFile(w.ctx, f, func(r Row) error {
		d, err := decide(r)
		if err != nil {
			return err
		}
		if !d.keep {
			changed = true
		}
		rows = append(rows, r)
		decs = append(decs, d)
		return nil
	})
	if err != nil {
		return err
	}
	w.res.FilesScanned++
	if !changed {
		return nil
	}
	w.txn.RemoveFiles(f.Add)
	w.res.FilesRemoved++
	w.res.TouchedFiles = append(w.res.TouchedFiles, f.Path)
	for i, r := range rows {
		d := decs[i]
		switch {
		case d.keep:
			w.res.RowsCopied++
			if err := w.data.Write(r); err != nil {
				return err
			}
		case d.deleted:
			w.res.RowsDeleted++
			if err := w.change(r, "delete"); err != nil {
				return err
			}
		default:
			w.res.RowsUpdated++
			if err := w.data.Write(d.updated); err != nil {
				return err
			}
			if err := w.change(r, "update_preimage"); err != nil {
				return err
			}
			if err := w.change(d.updated, "update_postimage"); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeWhole removes a file every row of which is deleted, without
// rewriting; with the change data feed on its rows are read for the feed.
func (w *rewriter) removeWhole(f ScanFile) error {
	w.txn.RemoveFiles(f.Add)
	w.res.FilesRemoved++
	w.res.TouchedFiles = append(w.res.TouchedFiles, f.Path)
	if w.cdc == nil {
		if st := f.Stats; st != nil && st.HasRecords {
			n := st.NumRecords
			if f.DeletionVector != nil {
				n -= f.DeletionVector.Cardinality
			}
			w.res.RowsDeleted += n
		}
		return nil
	}
	sc, err := w.snap.Scan(ScanOptions{})
	if err != nil {
		return err
	}
	return sc.ReadFile(w.ctx, f, func(r Row) error {
		w.res.RowsDeleted++
		return w.change(r, "delete")
	})
}

// finish closes the writers and stages their actions.
func (w *rewriter) finish() error {
	if err := w.data.Close(); err != nil {
		return err
	}
	w.txn.adds = append(w.txn.adds, w.data.adds...)
	w.res.FilesAdded += len(w.data.adds)
	if w.cdc != nil {
		if err := w.cdc.Close(); err != nil {
			return err
		}
		w.txn.cdcs = append(w.txn.cdcs, w.cdc.cdcs...)
		w.res.ChangeFiles = len(w.cdc.cdcs)
	}
	return nil
}

// candidates binds p, records it as the read predicate, and returns the
// files that may hold matching rows.
func (w *rewriter) candidates(p Predicate) ([]ScanFile, func(Row) tri, func(Row) tri, error) {
	bound, err := bindPredicate(w.snap.Schema(), p)
	if err != nil {
		return nil, nil, nil, err
	}
	match, err := compilePredicate(w.snap.Schema(), bound)
	if err != nil {
		return nil, nil, nil, err
	}
	var partOnly func(Row) tri
	parts := partitionSet(w.snap)
	only := bound != nil
	for _, c := range predicateColumns(bound) {
		only = only && parts[strings.Split(c, ".")[0]]
	}
	if only {
		partOnly = match
	}
	if bound == nil {
		w.txn.ReadWholeTable()
	} else if err := w.txn.ReadPredicate(p); err != nil {
		return nil, nil, nil, err
	}
	sc, err := w.snap.Scan(ScanOptions{Filter: p})
	if err != nil {
		return nil, nil, nil, err
	}
	files, err := sc.Files(w.ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	w.res.TotalFiles = len(w.snap.Files())
	w.res.FilesSkipped = w.res.TotalFiles - len(files)
	w.res.ReadPredicate = predicateString(bound)
	for _, f := range files {
		w.txn.ReadFiles(f.Add)
	}
	return files, match, partOnly, nil
}

// Delete removes the rows matching where (nil = all rows) by copy-on-write:
// files without matching rows are untouched, files where every row matches
// are removed, other touched files are rewritten without the matching rows.
// With delta.enableChangeDataFeed the deleted rows go to cdc files. Nothing
// is committed when no row matches. Errors: errs.Invalid
// DELTA_INVALID_PREDICATE (unknown column, bad literal); errs.Conflict from
// Commit; storage errors.
func (t *Table) Delete(ctx context.Context, where Predicate, opts DMLOptions) (DMLResult, error) {
	txn, err := t.startDML(ctx, opts)
	if err != nil {
		return DMLResult{}, err
	}
	w, err := newRewriter(ctx, txn)
	if err != nil {
		return DMLResult{}, err
	}
	files, match, partOnly, err := w.candidates(where)
	if err != nil {
		return DMLResult{}, err
	}
	for _, f := range files {
		if where == nil || (partOnly != nil && partOnly(partitionRow(w.snap, f.PartitionValues)) == triTrue) {
			err = w.removeWhole(f)
		} else {
			err = w.rewriteFile(f, func(r Row) (decision, error) {
				if match(r) == triTrue {
					return decision{deleted: true}, nil
				}
				return decision{keep: true}, nil
			})
		}
		if err != nil {
			w.abort()
			return DMLResult{}, err
		}
	}
	return w.commit(ctx, txn, func(r DMLResult) Operation {
		return Operation{Name: "DELETE", Parameters: map[string]any{"predicate": jsonString([]string{r.ReadPredicate})}, Metrics: map[string]int64{
			"numDeletedRows": r.RowsDeleted, "numCopiedRows": r.RowsCopied, "numRemovedFiles": int64(r.FilesRemoved),
			"numAddedFiles": int64(r.FilesAdded), "numAddedChangeFiles": int64(r.ChangeFiles)}}
	})
}

// commit finishes the rewriter's files and commits them as the operation op
// builds from the final counts. Nothing is committed when no file changed.
func (w *rewriter) commit(ctx context.Context, txn *Transaction, op func(DMLResult) Operation) (DMLResult, error) {
	if err := w.finish(); err != nil {
		w.abort()
		return DMLResult{}, err
	}
	if w.res.FilesRemoved == 0 && w.res.FilesAdded == 0 {
		return w.res, nil
	}
	res, err := txn.Commit(ctx, op(w.res))
	if err != nil {
		return DMLResult{}, err
	}
	w.res.CommitResult, w.res.Committed = res, true
	return w.res, nil
}

// UpdateSpec describes an UPDATE.
type UpdateSpec struct {
	// Where selects the rows to update (nil = all rows).
	Where Predicate
	// Set assigns constant values to columns (top-level, by name).
	Set map[string]any
	// Func, when set, computes the new row from the old one (after Set is
	// applied); it must return a row of the table schema.
	Func func(old Row) (Row, error)
}

// Update rewrites the rows matching spec.Where by copy-on-write (only files
// holding matching rows are rewritten). With the change data feed on,
// update_preimage/update_postimage rows go to cdc files. Errors:
// errs.Invalid DELTA_INVALID_PREDICATE / DELTA_SCHEMA_MISMATCH (unknown
// column in Set, value that does not fit); errs.Conflict; storage errors.
func (t *Table) Update(ctx context.Context, spec UpdateSpec, opts DMLOptions) (DMLResult, error) {
	txn, err := t.startDML(ctx, opts)
	if err != nil {
		return DMLResult{}, err
	}
	schema := txn.Snapshot().Schema()
	setIdx := map[int]any{}
	for _, k := range sortedKeys(spec.Set) {
		i := schema.FieldIndex(k)
		if i < 0 {
			return DMLResult{}, errs.E(errs.Invalid, ReasonSchemaMismatch, "UPDATE sets column %q which does not exist (columns: %s)", k, fieldNames(schema))
		}
		setIdx[i] = spec.Set[k]
	}
	if len(setIdx) == 0 && spec.Func == nil {
		return DMLResult{}, errs.E(errs.Invalid, ReasonInvalidArgument, "UPDATE needs Set or Func")
	}
	w, err := newRewriter(ctx, txn)
	if err != nil {
		return DMLResult{}, err
	}
	files, match, _, err := w.candidates(spec.Where)
	if err != nil {
		return DMLResult{}, err
	}
	for _, f := range files {
		err := w.rewriteFile(f, func(r Row) (decision, error) {
			if match(r) != triTrue {
				return decision{keep: true}, nil
			}
			nr := append(Row{}, r...)
			for i, v := range setIdx {
				nr[i] = v
			}
			if spec.Func != nil {
				var err error
				if nr, err = spec.Func(nr); err != nil {
					return decision{}, err
				}
			}
			return decision{updated: nr}, nil
		})
		if err != nil {
			w.abort()
			return DMLResult{}, err
		}
	}
	return w.commit(ctx, txn, func(r DMLResult) Operation {
		return Operation{Name: "UPDATE", Parameters: map[string]any{"predicate": jsonString([]string{r.ReadPredicate})}, Metrics: map[string]int64{
			"numUpdatedRows": r.RowsUpdated, "numCopiedRows": r.RowsCopied, "numRemovedFiles": int64(r.FilesRemoved),
			"numAddedFiles": int64(r.FilesAdded), "numAddedChangeFiles": int64(r.ChangeFiles)}}
	})
}

// ReasonMergeMultipleMatches: several source rows match one target row in
// MERGE (errs.Invalid).
const ReasonMergeMultipleMatches = "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE"

// MergeSpec describes a MERGE (upsert) keyed on equal columns.
type MergeSpec struct {
	// Source rows, in the table schema.
	Source []Row
	// On are the key columns: a target row matches a source row when all
	// are equal (NULL never matches).
	On []string
	// MatchedDelete, when set and true for a matched pair, deletes the
	// target row (checked before updates).
	MatchedDelete func(target, source Row) bool
	// UpdateAll replaces a matched target row by its source row.
	UpdateAll bool
	// MatchedUpdate, when set (and UpdateAll is false), computes the new
	// target row of a matched pair.
	MatchedUpdate func(target, source Row) (Row, error)
	// InsertNotMatched inserts source rows that match no target row.
	InsertNotMatched bool
}

// Merge applies spec: matched target rows are deleted or updated by
// copy-on-write of the files holding them; unmatched source rows are
// inserted. With the change data feed on, changes go to cdc files. Errors:
// errs.Invalid DELTA_INVALID_ARGUMENT (unknown key column),
// DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE,
// DELTA_SCHEMA_MISMATCH; errs.Conflict; storage errors.
func (t *Table) Merge(ctx context.Context, spec MergeSpec, opts DMLOptions) (DMLResult, error) {
	txn, err := t.startDML(ctx, opts)
	if err != nil {
		return DMLResult{}, err
	}
	schema := txn.Snapshot().Schema()
	if len(spec.On) == 0 {
		return DMLResult{}, errs.E(errs.Invalid, ReasonInvalidArgument, "MERGE needs at least one key column")
	}
	keyIdx := make([]int, len(spec.On))
	for i, k := range spec.On {
		keyIdx[i] = schema.FieldIndex(k)
		if keyIdx[i] < 0 {
			return DMLResult{}, errs.E(errs.Invalid, ReasonInvalidArgument, "MERGE key column %q does not exist (columns: %s)", k, fieldNames(schema))
		}
	}
	keyOf := func(r Row) (string, bool) {
		var b strings.Builder
		for _, i := range keyIdx {
			if i >= len(r) || r[i] == nil {
				return "", false
			}
			b.WriteString(formatValue(r[i]))
			b.WriteByte(0)
		}
		return b.String(), true
	}
	src := map[string]int{}
	inValues := make([][]any, len(keyIdx))
	for n, r := range spec.Source {
		if len(r) != len(schema.Fields) {
			return DMLResult{}, errs.E(errs.Invalid, ReasonSchemaMismatch, "MERGE source row %d has %d values but the table has %d columns (%s)", n, len(r), len(schema.Fields), fieldNames(schema))
		}
		k, ok := keyOf(r)
		if !ok {
			continue
		}
		if _, dup := src[k]; dup {
			return DMLResult{}, errs.E(errs.Invalid, ReasonMergeMultipleMatches, "MERGE source has several rows with key %s; a target row may match at most one source row", formatRow(keyRow(r, keyIdx)))
		}
		src[k] = n
		for j, i := range keyIdx {
			inValues[j] = append(inValues[j], r[i])
		}
	}
	w, err := newRewriter(ctx, txn)
	if err != nil {
		return DMLResult{}, err
	}
	matched := make([]bool, len(spec.Source))
	changesMatched := spec.MatchedDelete != nil || spec.UpdateAll || spec.MatchedUpdate != nil
	if len(src) > 0 {
		var preds []Predicate
		for j, i := range keyIdx {
			preds = append(preds, &In{Column: schema.Fields[i].Name, Values: dedupe(inValues[j])})
		}
		var where Predicate = &And{Preds: preds}
		files, _, _, err := w.candidates(where)
		if err != nil {
			return DMLResult{}, err
		}
		for _, f := range files {
			err := w.rewriteFile(f, func(r Row) (decision, error) {
				k, ok := keyOf(r)
				if !ok {
					return decision{keep: true}, nil
				}
				n, hit := src[k]
				if !hit {
					return decision{keep: true}, nil
				}
				matched[n] = true
				s := spec.Source[n]
				switch {
				case spec.MatchedDelete != nil && spec.MatchedDelete(r, s):
					return decision{deleted: true}, nil
				case spec.UpdateAll:
					return decision{updated: s}, nil
				case spec.MatchedUpdate != nil:
					nr, err := spec.MatchedUpdate(r, s)
					if err != nil {
						return decision{}, err
					}
					return decision{updated: nr}, nil
				}
				return decision{keep: true}, nil
			})
			if err != nil {
				w.abort()
				return DMLResult{}, err
			}
		}
	} else {
		w.txn.ReadWholeTable()
	}
	_ = changesMatched
	if spec.InsertNotMatched {
		for n, r := range spec.Source {
			if matched[n] {
				continue
			}
			if err := w.data.Write(r); err != nil {
				w.abort()
				return DMLResult{}, err
			}
			if err := w.change(r, "insert"); err != nil {
				w.abort()
				return DMLResult{}, err
			}
			w.res.RowsInserted++
		}
	}
	return w.commit(ctx, txn, func(r DMLResult) Operation {
		params := map[string]any{"predicate": jsonString([]string{"keys: " + strings.Join(spec.On, ", ")}),
			"matchedPredicates": jsonString(mergeClauses(spec)), "notMatchedPredicates": jsonString(notMatchedClauses(spec))}
		return Operation{Name: "MERGE", Parameters: params, Metrics: map[string]int64{
			"numTargetRowsUpdated": r.RowsUpdated, "numTargetRowsDeleted": r.RowsDeleted, "numTargetRowsInserted": r.RowsInserted,
			"numTargetRowsCopied": r.RowsCopied, "numSourceRows": int64(len(spec.Source)), "numTargetFilesRemoved": int64(r.FilesRemoved),
			"numTargetFilesAdded": int64(r.FilesAdded), "numTargetChangeFilesAdded": int64(r.ChangeFiles)}}
	})
}

func keyRow(r Row, idx []int) Row {
	out := make(Row, len(idx))
	for j, i := range idx {
		out[j] = r[i]
	}
	return out
}

func dedupe(vs []any) []any {
	seen := map[string]bool{}
	var out []any
	for _, v := range vs {
		k := formatValue(v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { c, _ := CompareValues(out[i], out[j]); return c < 0 })
	return out
}

func mergeClauses(s MergeSpec) []map[string]string {
	var out []map[string]string
	if s.MatchedDelete != nil {
		out = append(out, map[string]string{"actionType": "delete"})
	}
	if s.UpdateAll || s.MatchedUpdate != nil {
		out = append(out, map[string]string{"actionType": "update"})
	}
	return out
}

func notMatchedClauses(s MergeSpec) []map[string]string {
	if s.InsertNotMatched {
		return []map[string]string{{"actionType": "insert"}}
	}
	return []map[string]string{}
}

// formatRow renders a row for messages and keys.
func formatRow(r Row) string {
	var b strings.Builder
	for i, v := range r {
		if i > 0 {
			b.WriteString("|")
		}
		b.WriteString(formatValue(v))
	}
	return b.String()
}

// formatValue renders a value for messages and keys (type-tagged so that
// values of different types never collide).
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case Row:
		return "{" + formatRow(x) + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case []MapEntry:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e.Key) + "=>" + formatValue(e.Value)
		}
		return "map[" + strings.Join(parts, ",") + "]"
	case Decimal:
		return x.String()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return fmt.Sprintf("X'%x'", x)
	case string:
		return x
	}
	return fmt.Sprintf("%v", v)
}
