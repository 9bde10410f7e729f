package delta

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

const defaultTargetFileSize = 128 << 20

// OptimizeOptions configure Optimize.
type OptimizeOptions struct {
	// Where restricts OPTIMIZE to partitions matching this predicate over
	// partition columns (nil = all).
	Where Predicate
	// TargetFileSize is the bin size in bytes (0 = table property
	// delta.targetFileSize, else 128 MiB).
	TargetFileSize int64
	// ZOrderBy sorts the rows of each partition by the Z-order (interleaved
	// bits of the rank) of these data columns; all files of a partition are
	// rewritten.
	ZOrderBy []string
	// Txn configures the transaction.
	Txn TransactionOptions
}

// OptimizeResult reports what Optimize did.
type OptimizeResult struct {
	CommitResult
	Committed         bool
	FilesRemoved      int
	FilesAdded        int
	BytesRemoved      int64
	BytesAdded        int64
	PartitionsTouched int
	Rows              int64
}

// Optimize compacts small files: per partition, files smaller than the
// target size are bin-packed into files of about the target size (with
// ZOrderBy, every file of the partition is rewritten in Z-order). Rows are
// unchanged; the commit (operation OPTIMIZE) has dataChange=false on every
// action and conflicts only with concurrent removal of the compacted
// files. Nothing is committed when there is nothing to compact. Errors:
// errs.Invalid DELTA_INVALID_PREDICATE (predicate not on partition
// columns), DELTA_INVALID_ARGUMENT (bad ZORDER column); errs.Conflict;
// storage errors.
func (t *Table) Optimize(ctx context.Context, opts OptimizeOptions) (OptimizeResult, error) {
	txn, err := t.StartTransaction(ctx, opts.Txn)
	if err != nil {
		return OptimizeResult{}, err
	}
	snap := txn.Snapshot()
	schema := snap.Schema()
	parts := partitionSet(snap)
	target := opts.TargetFileSize
	if target <= 0 {
		target = defaultTargetFileSize
		if v, ok := snap.Configuration()["delta.targetFileSize"]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return OptimizeResult{}, errs.E(errs.Invalid, ReasonInvalidArgument, "table property delta.targetFileSize=%q is not a positive number of bytes", v)
			}
			target = n
		}
	}
	var zIdx []int
	for _, c := range opts.ZOrderBy {
		i := schema.FieldIndex(c)
		if i < 0 {
			return OptimizeResult{}, errs.E(errs.Invalid, ReasonInvalidArgument, "ZORDER BY column %q does not exist (columns: %s)", c, fieldNames(schema))
		}
		if parts[schema.Fields[i].Name] {
			return OptimizeResult{}, errs.E(errs.Invalid, ReasonInvalidArgument, "ZORDER BY column %q is a partition column; Z-ordering applies to data columns", c)
		}
		switch schema.Fields[i].Type.(type) {
		case *PrimitiveType, *DecimalType:
		default:
			return OptimizeResult{}, errs.E(errs.Invalid, ReasonInvalidArgument, "ZORDER BY column %q has type %s; only primitive columns can be Z-ordered", c, schema.Fields[i].Type)
		}
		zIdx = append(zIdx, i)
	}
	var where Predicate
	if opts.Where != nil {
		b, err := bindPredicate(schema, opts.Where)
		if err != nil {
			return OptimizeResult{}, err
		}
		for _, c := range predicateColumns(b) {
			if !parts[strings.Split(c, ".")[0]] {
				return OptimizeResult{}, errs.E(errs.Invalid, ReasonInvalidPredicate, "OPTIMIZE WHERE may only reference partition columns (%s); %q is not one", strings.Join(snap.PartitionColumns(), ", "), c)
			}
		}
		where = opts.Where
	}
	sc, err := snap.Scan(ScanOptions{Filter: where})
	if err != nil {
		return OptimizeResult{}, err
	}
	files, err := sc.Files(ctx)
	if err != nil {
		return OptimizeResult{}, err
	}
	// Group by partition.
	groups := map[string][]ScanFile{}
	var order []string
	for _, f := range files {
		k := partitionDesc(f.Add.PartitionValues)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], f)
	}
	sort.Strings(order)
	var bins [][]ScanFile
	for _, k := range order {
		g := groups[k]
		if len(zIdx) > 0 {
			if len(g) > 1 || opts.ZOrderBy != nil {
				bins = append(bins, g)
			}
			continue
		}
		var small []ScanFile
		for _, f := range g {
			if f.Size < target || f.DeletionVector != nil {
				small = append(small, f)
			}
		}
		sort.SliceStable(small, func(i, j int) bool { return small[i].Size < small[j].Size })
		var cur []ScanFile
		var curSize int64
		flush := func() {
			if len(cur) > 1 || (len(cur) == 1 && cur[0].DeletionVector != nil) {
				bins = append(bins, cur)
			}
			cur, curSize = nil, 0
		}
		for _, f := range small {
			if curSize+f.Size > target && len(cur) > 0 {
				flush()
			}
			cur = append(cur, f)
			curSize += f.Size
		}
		flush()
	}
	res := OptimizeResult{}
	if len(bins) == 0 {
		return res, nil
	}
	md := snap.Metadata()
	touched := map[string]bool{}
	for _, bin := range bins {
		w, err := newDataWriter(ctx, dataWriterConfig{table: t, schema: schema, partition: md.PartitionColumns, config: md.Configuration,
			mode: snap.ColumnMappingMode(), targetSize: target, engine: txn.opts.EngineInfo, newID: txn.opts.NewID, now: txn.opts.Clock})
		if err != nil {
			return OptimizeResult{}, err
		}
		var rows []Row
		for _, f := range bin {
			err := sc.ReadFile(ctx, f, func(r Row) error {
				if len(zIdx) > 0 {
					rows = append(rows, r)
					return nil
				}
				res.Rows++
				return w.Write(r)
			})
			if err != nil {
				w.Abort()
				return OptimizeResult{}, err
			}
			txn.ReadFiles(f.Add)
			txn.removes = append(txn.removes, txn.removeOf(f.Add, false))
			res.FilesRemoved++
			res.BytesRemoved += f.Size
			touched[partitionDesc(f.Add.PartitionValues)] = true
		}
		if len(zIdx) > 0 {
			zorderSort(rows, zIdx)
			for _, r := range rows {
				res.Rows++
				if err := w.Write(r); err != nil {
					w.Abort()
					return OptimizeResult{}, err
				}
			}
		}
		if err := w.Close(); err != nil {
			w.Abort()
			return OptimizeResult{}, err
		}
		for _, a := range w.adds {
			a.DataChange = false
			res.FilesAdded++
			res.BytesAdded += a.Size
		}
		txn.adds = append(txn.adds, w.adds...)
	}
	res.PartitionsTouched = len(touched)
	pred := "[]"
	if where != nil {
		pred = jsonString([]string{predicateString(mustBind(schema, where))})
	}
	cr, err := txn.Commit(ctx, Operation{Name: "OPTIMIZE", Parameters: map[string]any{"predicate": pred, "zOrderBy": jsonString(orEmpty(opts.ZOrderBy)),
		"auto": "false"}, Metrics: map[string]int64{"numRemovedFiles": int64(res.FilesRemoved), "numAddedFiles": int64(res.FilesAdded),
		"numRemovedBytes": res.BytesRemoved, "numAddedBytes": res.BytesAdded, "numOutputRows": res.Rows,
		"partitionsOptimized": int64(res.PartitionsTouched)}})
	if err != nil {
		return OptimizeResult{}, err
	}
	res.CommitResult, res.Committed = cr, true
	return res, nil
}

// zorderSort sorts rows by the Z-order of the given columns: each column
// value is replaced by its rank among the rows (scaled to 32 bits, NULLs
// first), and the ranks' bits are interleaved, most significant first.
func zorderSort(rows []Row, cols []int) {
	n := len(rows)
	if n < 2 {
		return
	}
	ranks := make([][]uint32, len(cols))
	idx := make([]int, n)
	for c, ci := range cols {
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			x, y := rows[idx[a]][ci], rows[idx[b]][ci]
			if x == nil || y == nil {
				return x == nil && y != nil
			}
			r, _ := CompareValues(x, y)
			return r < 0
		})
		ranks[c] = make([]uint32, n)
		rank := 0
		for pos, i := range idx {
			if pos > 0 {
				prev := rows[idx[pos-1]][ci]
				cur := rows[i][ci]
				if prev == nil != (cur == nil) {
					rank = pos
				} else if prev != nil {
					if r, _ := CompareValues(prev, cur); r != 0 {
						rank = pos
					}
				}
			}
			ranks[c][i] = uint32((uint64(rank) << 32) / uint64(n))
		}
	}
	keys := make([][]byte, n)
	k := len(cols)
	for i := 0; i < n; i++ {
		key := make([]byte, 4*k)
		bit := 0
		for b := 31; b >= 0; b-- {
			for c := 0; c < k; c++ {
				if ranks[c][i]>>uint(b)&1 == 1 {
					key[bit/8] |= 0x80 >> uint(bit%8)
				}
				bit++
			}
		}
		keys[i] = key
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	sort.SliceStable(perm, func(a, b int) bool { return string(keys[perm[a]]) < string(keys[perm[b]]) })
	sorted := make([]Row, n)
	for i, p := range perm {
		sorted[i] = rows[p]
	}
	copy(rows, sorted)
}
