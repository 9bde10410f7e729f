package query

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// localDir returns the local directory of a storage location whose files
// DuckDB reads directly (volumes): remote buckets are not supported.
func (st *stmt) localDir(ctx context.Context, location string) (string, error) {
	_, dir, err := st.openTable(ctx, location)
	if err == nil && st.remote[dir] != nil {
		return "", errs.E(errs.Unimplemented, "UNSUPPORTED_STORAGE", "the SQL engine reads volume files on local disk only; %s is not", location)
	}
	return dir, err
}

// materialize makes a remote table's data file available at dir/key for
// DuckDB (no-op for local tables) and keeps it until the statement ends.
func (st *stmt) materialize(ctx context.Context, dir, key string, size int64) error {
	b := st.remote[dir]
	if b == nil {
		return nil
	}
	release, err := st.e.cache.fetch(ctx, b, dir, key, size)
	if err != nil {
		return err
	}
	st.release = append(st.release, release)
	return nil
}

// upload sends a file DuckDB wrote at dir/key to a remote table's bucket
// (no-op for local tables); it runs before the Delta commit names it.
func (st *stmt) upload(ctx context.Context, dir, key string, size int64) error {
	b := st.remote[dir]
	if b == nil {
		return nil
	}
	release, err := st.e.cache.stage(ctx, b, dir, key, size)
	if err != nil {
		return err
	}
	st.release = append(st.release, release)
	return nil
}

// ownerCtx returns ctx acting as the principal owner (views and functions
// run with their owner's rights).
func (st *stmt) ownerCtx(ctx context.Context, owner string) (context.Context, error) {
	cur := auth.IdentityFrom(ctx)
	if owner == "" || cur != nil && cur.Principal.Name == owner {
		return ctx, nil
	}
	id, err := st.e.cat.Principal(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("resolve owner %s: %w", owner, err)
	}
	return auth.WithIdentity(ctx, id), nil
}

func (st *stmt) touch(full string) {
	for _, t := range st.touched {
		if t == full {
			return
		}
	}
	st.touched = append(st.touched, full)
}

// lookupTable returns a table or view the caller may see, without
// checking a privilege on it (the catalog checks the operation's).
func (st *stmt) lookupTable(ctx context.Context, full string) (catalog.TableInfo, error) {
	ti, err := st.e.cat.ResolveTable(ctx, full)
	if errs.Is(err, errs.NotFound) {
		return ti, errs.E(errs.NotFound, "TABLE_OR_VIEW_NOT_FOUND", "table or view %s was not found", full)
	}
	return ti, err
}

// resolveTable resolves and authorizes a table or view.
func (st *stmt) resolveTable(ctx context.Context, full string, p catalog.Privilege) (catalog.TableInfo, error) {
	ti, err := st.lookupTable(ctx, full)
	if err != nil {
		return ti, err
	}
	if err := st.e.cat.Authorize(ctx, catalog.TypeTable, full, p); err != nil {
		return ti, err
	}
	st.touch(full)
	return ti, nil
}

// snapshotFor loads the snapshot a reference asks for.
func snapshotFor(ctx context.Context, t *delta.Table, at *atClause, full string) (*delta.Snapshot, error) {
	if at == nil {
		return t.Latest(ctx)
	}
	switch at.unit {
	case "VERSION":
		v, err := strconv.ParseInt(at.value, 10, 64)
		if err != nil || v < 0 {
			return nil, errs.E(errs.Invalid, "INVALID_TIME_TRAVEL_SPEC", "VERSION AS OF needs a non-negative integer, got %s", at.value)
		}
		s, err := t.SnapshotAt(ctx, v)
		if err != nil {
			return nil, errs.E(errs.KindOf(err), "VERSION_NOT_AVAILABLE", "version %d of %s is not available: %s", v, full, errs.Message(err))
		}
		return s, nil
	case "TIMESTAMP":
		ts, err := parseTimestamp(at.value)
		if err != nil {
			return nil, errs.E(errs.Invalid, "INVALID_TIME_TRAVEL_SPEC", "TIMESTAMP AS OF needs a timestamp such as '2024-01-31 12:00:00', got %q", at.value)
		}
		s, err := t.SnapshotAtTimestamp(ctx, ts)
		if err != nil {
			return nil, errs.E(errs.KindOf(err), "TIMESTAMP_NOT_AVAILABLE", "%s has no version at %s: %s", full, at.value, errs.Message(err))
		}
		return s, nil
	}
	return nil, errs.E(errs.Invalid, "INVALID_TIME_TRAVEL_SPEC", "unsupported time travel unit %s: use VERSION or TIMESTAMP", at.unit)
}

func parseTimestamp(s string) (time.Time, error) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q", s)
}

// bindTable returns the governed subquery text of a table or view
// reference.
func (st *stmt) bindTable(sc scope, full string, at *atClause, preds []delta.Predicate) (string, error) {
	if sc.depth > 16 {
		return "", errs.E(errs.Invalid, "RECURSIVE_VIEW", "view %s nests too deeply (recursive view?)", full)
	}
	ti, err := st.resolveTable(sc.ctx, full, catalog.PrivSelect)
	if err != nil {
		return "", err
	}
	if ti.TableType == catalog.TableView {
		if at != nil {
			return "", errs.E(errs.Invalid, "UNSUPPORTED_TIME_TRAVEL", "%s is a view; time travel applies to tables", full)
		}
		octx, err := st.ownerCtx(sc.ctx, ti.Owner)
		if err != nil {
			return "", err
		}
		sub, err := st.bindQuery(scope{ctx: octx, catalog: ti.CatalogName, schema: ti.SchemaName, depth: sc.depth + 1}, ti.ViewDefinition)
		if err != nil {
			return "", fmt.Errorf("in view %s: %w", full, err)
		}
		return "(" + sub + ")", nil
	}
	t, dir, err := st.openTable(sc.ctx, ti.StorageLocation)
	if err != nil {
		return "", err
	}
	snap, err := snapshotFor(sc.ctx, t, at, full)
	if err != nil {
		return "", err
	}
	st.sources = append(st.sources, fmt.Sprintf("%s@v%d", full, snap.Version()))
	// Policies name the table's current columns; an older version is
	// matched to them through the latest schema (see policyColumn).
	latest := snap
	if at != nil && governed(ti) {
		if latest, err = t.Latest(sc.ctx); err != nil {
			return "", err
		}
	}
	filter, err := pruningFilter(&ti, snap, latest, preds)
	if err != nil {
		return "", err
	}
	scan, err := snap.Scan(delta.ScanOptions{Filter: filter})
	if err != nil {
		return "", err
	}
	files, err := scan.Files(sc.ctx)
	if err != nil {
		return "", err
	}
	raw, err := st.rawSQL(sc.ctx, t, dir, snap, files, false)
	if err != nil {
		return "", err
	}
	return st.govern(sc, &ti, snap, latest, raw)
}

func predColumn(p delta.Predicate) string {
	switch x := p.(type) {
	case *delta.Comparison:
		return x.Column
	case *delta.IsNull:
		return x.Column
	case *delta.In:
		return x.Column
	}
	return ""
}

// pruningFilter returns the conjunction of the pushed-down predicates
// that may skip files of snap (nil if none): predicates on masked columns
// are dropped, since file statistics hold raw values and the statement
// sees masked ones (pruning by them would leak and give wrong answers).
// latest is the table's latest snapshot (snap itself when snap is the
// latest).
func pruningFilter(ti *catalog.TableInfo, snap, latest *delta.Snapshot, preds []delta.Predicate) (delta.Predicate, error) {
	masks, err := maskedFields(ti, snap, latest)
	if err != nil {
		return nil, err
	}
	var keep []delta.Predicate
	for _, p := range preds {
		if col := predColumn(p); col != "" && masks[strings.ToLower(col)] == nil {
			if _, err := snap.Scan(delta.ScanOptions{Filter: p}); err == nil {
				keep = append(keep, p)
			}
		}
	}
	if len(keep) == 0 {
		return nil, nil
	}
	return &delta.And{Preds: keep}, nil
}

// policyColumn finds the field of snap that holds the table's current
// column name (a name in the catalog's policies), and whether that version
// has it. Renaming needs column mapping, so in an older version the
// column is the field with the same physical name as in latest; without
// column mapping names never change. A name that the latest schema does
// not have means the catalog and the table disagree (an ALTER TABLE whose
// catalog update failed): the policy cannot be applied, and the read is
// refused rather than done without it.
func policyColumn(ti *catalog.TableInfo, snap, latest *delta.Snapshot, name string) (string, bool, error) {
	cur := latest.Schema().Field(name)
	if cur == nil {
		return "", false, errs.E(errs.FailedPrecondition, "POLICY_COLUMN_MISSING",
			"a row filter or column mask of %s names column %s, which the table does not have (the catalog is out of step with the table; repeat the last ALTER TABLE to repair it)", ti.FullName, name)
	}
	if snap == latest || snap.Version() == latest.Version() {
		return cur.Name, true, nil
	}
	mode := latest.ColumnMappingMode()
	if mode == delta.ColumnMappingNone {
		if f := snap.Schema().Field(name); f != nil {
			return f.Name, true, nil
		}
		return "", false, nil
	}
	phys := cur.PhysicalName(mode)
	old := snap.ColumnMappingMode()
	for _, f := range snap.Schema().Fields {
		if f.PhysicalName(old) == phys {
			return f.Name, true, nil
		}
	}
	return "", false, nil
}

// maskedFields maps the lower-case names of snap's masked fields to their
// masks. A masked column that snap's version does not have yet needs no
// mask there.
func maskedFields(ti *catalog.TableInfo, snap, latest *delta.Snapshot) (map[string]*catalog.ColumnMask, error) {
	masks := map[string]*catalog.ColumnMask{}
	for i := range ti.Columns {
		if ti.Columns[i].Mask == nil {
			continue
		}
		name, ok, err := policyColumn(ti, snap, latest, ti.Columns[i].Name)
		if err != nil {
			return nil, err
		}
		if ok {
			masks[strings.ToLower(name)] = ti.Columns[i].Mask
		}
	}
	return masks, nil
}

// governed reports whether a table has a row filter or column masks.
func governed(ti catalog.TableInfo) bool {
	if ti.RowFilter != nil {
		return true
	}
	for _, c := range ti.Columns {
		if c.Mask != nil {
			return true
		}
	}
	return false
}

// policy is a table's row filter and column masks as SQL over its raw
// columns, qualified by __r.
type policy struct {
	cols   []string // per schema field: the mask call, or the raw column
	masked []bool   // per schema field: whether it has a mask
	filter string   // the row filter condition, "" without one
}

// policyOf builds the policy expressions of a governed table. Policy
// functions are resolved with the table owner's rights: readers and
// writers need no EXECUTE on them (Unity Catalog semantics).
func (st *stmt) policyOf(sc scope, ti *catalog.TableInfo, snap, latest *delta.Snapshot) (*policy, error) {
	octx, err := st.ownerCtx(sc.ctx, ti.Owner)
	if err != nil {
		return nil, err
	}
	sc = scope{ctx: octx, catalog: ti.CatalogName, schema: ti.SchemaName, depth: sc.depth + 1}
	masks, err := maskedFields(ti, snap, latest)
	if err != nil {
		return nil, err
	}
	// An argument of a policy function must exist in snap's version: a
	// policy that cannot be evaluated refuses the read.
	arg := func(n string) (string, error) {
		name, ok, err := policyColumn(ti, snap, latest, n)
		if err == nil && !ok {
			err = errs.E(errs.FailedPrecondition, "POLICY_COLUMN_MISSING",
				"version %d of %s has no column %s, which its row filter or a column mask needs; that version cannot be read under the table's policies", snap.Version(), ti.FullName, n)
		}
		return "__r." + quoteIdent(name), err
	}
	col := func(n string) string { return "__r." + quoteIdent(n) }
	pol := &policy{}
	for _, f := range snap.Schema().Fields {
		m := masks[strings.ToLower(f.Name)]
		pol.masked = append(pol.masked, m != nil)
		if m == nil {
			pol.cols = append(pol.cols, col(f.Name))
			continue
		}
		fn, err := st.policyFunction(sc, m.FunctionName)
		if err != nil {
			return nil, err
		}
		args := []string{col(f.Name)}
		for _, u := range m.UsingColumnNames {
			a, err := arg(u)
			if err != nil {
				return nil, err
			}
			args = append(args, a)
		}
		pol.cols = append(pol.cols, fmt.Sprintf("%s(%s)", fn, strings.Join(args, ", ")))
	}
	if ti.RowFilter != nil {
		fn, err := st.policyFunction(sc, ti.RowFilter.FunctionName)
		if err != nil {
			return nil, err
		}
		var args []string
		for _, c := range ti.RowFilter.InputColumnNames {
			a, err := arg(c)
			if err != nil {
				return nil, err
			}
			args = append(args, a)
		}
		pol.filter = fmt.Sprintf("(%s(%s)) IS TRUE", fn, strings.Join(args, ", "))
	}
	return pol, nil
}

// govern wraps a table's raw subquery with its row filter and column
// masks.
func (st *stmt) govern(sc scope, ti *catalog.TableInfo, snap, latest *delta.Snapshot, raw string) (string, error) {
	if !governed(*ti) {
		return raw, nil
	}
	pol, err := st.policyOf(sc, ti, snap, latest)
	if err != nil {
		return "", err
	}
	var outs []string
	for i, f := range snap.Schema().Fields {
		outs = append(outs, pol.cols[i]+" AS "+quoteIdent(f.Name))
	}
	q := "(SELECT " + strings.Join(outs, ", ") + " FROM " + raw + " AS __r"
	if pol.filter != "" {
		q += " WHERE " + pol.filter
	}
	return q + ")", nil
}

// policyFunction defines a row filter or mask function (no EXECUTE check:
// policies run with their owner's rights for every reader).
func (st *stmt) policyFunction(sc scope, name string) (string, error) {
	parts := strings.Split(strings.ToLower(name), ".")
	full, err := sc.qualify(parts)
	if err != nil {
		return "", err
	}
	return st.defineFunction(sc, full)
}

// footerCache remembers the top-level column names of data files (by
// path and size) so that repeated scans do not re-read footers.
var footerCache sync.Map

func fileColumns(path string, size int64) (map[string]bool, error) {
	key := path + "\x00" + strconv.FormatInt(size, 10)
	if v, ok := footerCache.Load(key); ok {
		return v.(map[string]bool), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, err
	}
	cols := map[string]bool{}
	for _, fl := range pf.Schema().Fields() {
		cols[fl.Name()] = true
	}
	footerCache.Store(key, cols)
	return cols, nil
}

// rawSQL builds the ungoverned subquery of a snapshot's files: logical
// column names, partition values as constants, missing columns as NULL,
// deletion vectors applied. With withFile it adds __lbx_file.
func (st *stmt) rawSQL(ctx context.Context, t *delta.Table, dir string, snap *delta.Snapshot, files []delta.ScanFile, withFile bool) (string, error) {
	schema := snap.Schema()
	mode := snap.ColumnMappingMode()
	parts := map[string]bool{}
	for _, p := range snap.PartitionColumns() {
		parts[strings.ToLower(p)] = true
	}
	if len(files) == 0 {
		var cols []string
		for _, f := range schema.Fields {
			cols = append(cols, "CAST(NULL AS "+duckType(f.Type)+") AS "+quoteIdent(f.Name))
		}
		if withFile {
			cols = append(cols, "CAST(NULL AS VARCHAR) AS __lbx_file")
		}
		return "(SELECT " + strings.Join(cols, ", ") + " WHERE false)", nil
	}
	st.dirs = append(st.dirs, dir)
	paths := make([]string, len(files))
	present := map[string]int{}
	hasDV := false
	for i, f := range files {
		paths[i] = dir + "/" + f.Key
		if err := st.materialize(ctx, dir, f.Key, f.Size); err != nil {
			return "", errs.Wrap(errs.KindOf(err), "DELTA_DATA_FILE_UNAVAILABLE", err, "cannot fetch data file %s: %s", f.Path, errs.Message(err))
		}
		cols, err := fileColumns(paths[i], f.Size)
		if err != nil {
			return "", errs.Wrap(errs.Internal, "DELTA_CORRUPT_DATA_FILE", err, "cannot read data file %s", f.Path)
		}
		for c := range cols {
			present[c]++
		}
		if f.DeletionVector != nil {
			hasDV = true
		}
	}
	// Partition values: constant when all files agree, else joined by file.
	var pcols []*delta.StructField
	for _, f := range schema.Fields {
		if parts[strings.ToLower(f.Name)] {
			pcols = append(pcols, f)
		}
	}
	pconst := map[string]string{}
	multi := false
	pvText := func(file delta.ScanFile, f *delta.StructField) string {
		v := file.Add.PartitionValues[f.PhysicalName(mode)]
		if v == nil {
			if v2, ok := file.Add.PartitionValues[f.Name]; ok {
				v = v2
			}
		}
		if v == nil {
			return "CAST(NULL AS " + duckType(f.Type) + ")"
		}
		s := *v
		if f.Type == delta.TypeTimestamp || f.Type == delta.TypeTimestampNTZ {
			if ts, err := delta.ParseTimestamp(s); err == nil {
				s = ts.UTC().Format("2006-01-02 15:04:05.999999")
			}
		}
		return "CAST(" + quoteString(s) + " AS " + duckType(f.Type) + ")"
	}
	for _, f := range pcols {
		first := pvText(files[0], f)
		for _, file := range files[1:] {
			if pvText(file, f) != first {
				multi = true
			}
		}
		pconst[f.Name] = first
	}
	needFile := withFile || hasDV || multi
	var opts []string
	union := false
	var sel []string
	for _, f := range schema.Fields {
		if parts[strings.ToLower(f.Name)] {
			if multi {
				sel = append(sel, "__pv."+quoteIdent("p_"+f.Name)+" AS "+quoteIdent(f.Name))
			} else {
				sel = append(sel, pconst[f.Name]+" AS "+quoteIdent(f.Name))
			}
			continue
		}
		phys := f.PhysicalName(mode)
		switch n := present[phys]; {
		case n == 0:
			sel = append(sel, "CAST(NULL AS "+duckType(f.Type)+") AS "+quoteIdent(f.Name))
		default:
			if n < len(files) {
				union = true
			}
			sel = append(sel, "__d."+quoteIdent(phys)+" AS "+quoteIdent(f.Name))
		}
	}
	if withFile {
		sel = append(sel, "__d.filename AS __lbx_file")
	}
	if union {
		opts = append(opts, "union_by_name=true")
	}
	if needFile {
		opts = append(opts, "filename=true")
	}
	if hasDV {
		opts = append(opts, "file_row_number=true")
	}
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = quoteString(p)
	}
	src := "read_parquet([" + strings.Join(quoted, ", ") + "]"
	for _, o := range opts {
		src += ", " + o
	}
	src += ") AS __d"
	if multi {
		var rows []string
		for i, file := range files {
			r := []string{quoteString(paths[i])}
			for _, f := range pcols {
				r = append(r, pvText(file, f))
			}
			rows = append(rows, "("+strings.Join(r, ", ")+")")
		}
		names := []string{"__f"}
		for _, f := range pcols {
			names = append(names, quoteIdent("p_"+f.Name))
		}
		src += " JOIN (VALUES " + strings.Join(rows, ", ") + ") AS __pv(" + strings.Join(names, ", ") + ") ON __d.filename = __pv.__f"
	}
	if hasDV {
		st.nextID++
		tbl := fmt.Sprintf("lbx_dv_%d", st.nextID)
		st.setup = append(st.setup, "CREATE TEMP TABLE "+tbl+" (f VARCHAR, r BIGINT)")
		for i, file := range files {
			if file.DeletionVector == nil {
				continue
			}
			dv, err := t.LoadDeletionVector(ctx, file.DeletionVector)
			if err != nil {
				return "", err
			}
			rowsDel := dv.ToSlice()
			for len(rowsDel) > 0 {
				n := min(len(rowsDel), 5000)
				var b strings.Builder
				b.WriteString("INSERT INTO " + tbl + " SELECT " + quoteString(paths[i]) + ", unnest([")
				for j, r := range rowsDel[:n] {
					if j > 0 {
						b.WriteByte(',')
					}
					b.WriteString(strconv.FormatUint(r, 10))
				}
				b.WriteString("])")
				st.setup = append(st.setup, b.String())
				rowsDel = rowsDel[n:]
			}
		}
		src += " ANTI JOIN temp." + tbl + " AS __x ON __d.filename = __x.f AND __d.file_row_number = __x.r"
	}
	return "(SELECT " + strings.Join(sel, ", ") + " FROM " + src + ")", nil
}

// closeAll closes the buckets a statement opened.
func closeAll(cs []blob.Bucket) {
	for _, c := range cs {
		if cl, ok := c.(interface{ Close() error }); ok {
			cl.Close()
		}
	}
}

func sortedStrings(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
