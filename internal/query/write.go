package query

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// target is a table being written.
type target struct {
	full string
	info catalog.TableInfo
	t    *delta.Table
	dir  string
	snap *delta.Snapshot
}

// openTarget resolves a table for writing (MODIFY, and SELECT when the
// statement reads it too) and loads its latest snapshot.
func (st *stmt) openTarget(ctx context.Context, parts []string, read bool) (*target, error) {
	full, err := st.scope(ctx).qualify(parts)
	if err != nil {
		return nil, err
	}
	ti, err := st.resolveTable(ctx, full, catalog.PrivModify)
	if err != nil {
		return nil, err
	}
	if read {
		if err := st.e.cat.Authorize(ctx, catalog.TypeTable, full, catalog.PrivSelect); err != nil {
			return nil, err
		}
	}
	if ti.TableType == catalog.TableView {
		return nil, errs.E(errs.Invalid, "EXPECT_TABLE_NOT_VIEW", "%s is a view; write to its tables instead", full)
	}
	t, dir, err := st.openTable(ctx, ti.StorageLocation)
	if err != nil {
		return nil, err
	}
	snap, err := t.Latest(ctx)
	if err != nil {
		return nil, err
	}
	return &target{full: full, info: ti, t: t, dir: dir, snap: snap}, nil
}

// partitionExpr renders a partition value as Delta serializes it.
func partitionExpr(expr string, t delta.DataType) string {
	switch t {
	case delta.TypeDate:
		return "strftime(" + expr + ", '%Y-%m-%d')"
	case delta.TypeTimestamp, delta.TypeTimestampNTZ:
		return "strftime(" + expr + ", '%Y-%m-%d %H:%M:%S.%f')"
	}
	return "CAST(" + expr + " AS VARCHAR)"
}

// writeFiles makes DuckDB write the rows of src (a query whose columns are
// the table's columns, in order, by position) as Parquet files in the
// table's directory and returns their add actions with statistics.
func (st *stmt) writeFiles(ctx context.Context, in *instance, tg *target, src string) ([]*delta.Add, int64, error) {
	schema := tg.snap.Schema()
	mode := tg.snap.ColumnMappingMode()
	parts := map[string]bool{}
	for _, p := range tg.snap.PartitionColumns() {
		parts[strings.ToLower(p)] = true
	}
	var sel, pcols []string
	for i, f := range schema.Fields {
		col := fmt.Sprintf("__s.__c%d", i)
		if parts[strings.ToLower(f.Name)] {
			sel = append(sel, partitionExpr("CAST("+col+" AS "+duckType(f.Type)+")", f.Type)+" AS "+quoteIdent(f.PhysicalName(mode)))
			pcols = append(pcols, quoteIdent(f.PhysicalName(mode)))
			continue
		}
		sel = append(sel, "CAST("+col+" AS "+duckType(f.Type)+") AS "+quoteIdent(f.PhysicalName(mode)))
	}
	var aliases []string
	for i := range schema.Fields {
		aliases = append(aliases, fmt.Sprintf("__c%d", i))
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM (" + src + ") AS __s(" + strings.Join(aliases, ", ") + ")"
	writeID := st.e.o.NewID()
	var dest string
	opts := "FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1048576"
	if len(pcols) > 0 {
		dest = tg.dir + "/" + writeID
		opts += ", PARTITION_BY (" + strings.Join(pcols, ", ") + "), FILENAME_PATTERN 'part-{uuid}'"
	} else {
		dest = tg.dir + "/part-" + writeID + ".snappy.parquet"
	}
	if err := in.exec(ctx, "COPY ("+q+") TO "+quoteString(dest)+" ("+opts+")"); err != nil {
		return nil, 0, err
	}
	var files []string
	if len(pcols) > 0 {
		err := filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
				files = append(files, p)
			}
			return err
		})
		if err != nil && !os.IsNotExist(err) {
			return nil, 0, fmt.Errorf("list written files: %w", err)
		}
	} else {
		files = []string{dest}
	}
	return st.addsFor(ctx, in, tg, files)
}

// addsFor builds add actions with statistics (from the Parquet footers) for
// files DuckDB wrote; files without rows are deleted.
func (st *stmt) addsFor(ctx context.Context, in *instance, tg *target, files []string) ([]*delta.Add, int64, error) {
	if len(files) == 0 {
		return nil, 0, nil
	}
	schema := tg.snap.Schema()
	mode := tg.snap.ColumnMappingMode()
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quoteString(f)
	}
	res, err := in.query(ctx, "SELECT file_name, path_in_schema, row_group_id, row_group_num_rows, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata(["+strings.Join(quoted, ",")+"])", 0)
	if err != nil {
		return nil, 0, err
	}
	type colAgg struct {
		min, max any
		nulls    int64
		noStats  bool
	}
	type fileAgg struct {
		rgs  map[int64]int64
		cols map[string]*colAgg
	}
	aggs := map[string]*fileAgg{}
	types := map[string]delta.DataType{}
	for _, f := range schema.Fields {
		types[f.PhysicalName(mode)] = f.Type
	}
	for _, r := range res.Rows {
		fn, _ := r[0].(string)
		path, _ := r[1].(string)
		fa := aggs[fn]
		if fa == nil {
			fa = &fileAgg{rgs: map[int64]int64{}, cols: map[string]*colAgg{}}
			aggs[fn] = fa
		}
		fa.rgs[toInt64(r[2])] = toInt64(r[3])
		dt, ok := types[path]
		if !ok {
			continue // nested leaf: no statistics
		}
		ca := fa.cols[path]
		if ca == nil {
			ca = &colAgg{}
			fa.cols[path] = ca
		}
		if r[6] == nil {
			ca.noStats = true
		} else {
			ca.nulls += toInt64(r[6])
		}
		mn, ok1 := statValue(dt, r[4], false)
		mx, ok2 := statValue(dt, r[5], true)
		if !ok1 || !ok2 {
			if r[4] != nil || r[5] != nil {
				ca.noStats = true
			}
			continue
		}
		if ca.min == nil || lessStat(mn, ca.min) {
			ca.min = mn
		}
		if ca.max == nil || lessStat(ca.max, mx) {
			ca.max = mx
		}
	}
	var adds []*delta.Add
	var total int64
	now := st.e.o.Now().UnixMilli()
	for _, f := range files {
		fa := aggs[f]
		var n int64
		if fa != nil {
			for _, c := range fa.rgs {
				n += c
			}
		}
		if n == 0 {
			os.Remove(f)
			continue
		}
		total += n
		fi, err := os.Stat(f)
		if err != nil {
			return nil, 0, fmt.Errorf("stat written file: %w", err)
		}
		rel, _ := filepath.Rel(tg.dir, f)
		rel = filepath.ToSlash(rel)
		if err := st.upload(ctx, tg.dir, rel, fi.Size()); err != nil {
			return nil, 0, err
		}
		pv := delta.PartitionValues{}
		for _, seg := range strings.Split(rel, "/") {
			k, v, ok := strings.Cut(seg, "=")
			if !ok {
				continue
			}
			k, _ = url.PathUnescape(k)
			v, _ = url.PathUnescape(v)
			if v == "NULL" || v == "__HIVE_DEFAULT_PARTITION__" {
				pv[k] = nil
			} else {
				vv := v
				pv[k] = &vv
			}
		}
		stats := map[string]any{"numRecords": n}
		mins, maxs, nulls := map[string]any{}, map[string]any{}, map[string]any{}
		if fa != nil {
			for col, ca := range fa.cols {
				nulls[col] = ca.nulls
				if ca.noStats || ca.min == nil {
					continue
				}
				mins[col], maxs[col] = ca.min, ca.max
			}
		}
		stats["minValues"], stats["maxValues"], stats["nullCount"] = mins, maxs, nulls
		sj, _ := json.Marshal(stats)
		adds = append(adds, &delta.Add{Path: delta.EncodeLogPath(rel), PartitionValues: pv, Size: fi.Size(), ModificationTime: now, DataChange: true, Stats: string(sj)})
	}
	return adds, total, nil
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

// statValue converts a Parquet footer statistic (as DuckDB renders it) to
// the JSON value Delta stores; ok is false when the type has no usable
// statistics.
func statValue(t delta.DataType, v any, upper bool) (any, bool) {
	s, isStr := v.(string)
	if !isStr {
		return nil, false
	}
	switch x := t.(type) {
	case *delta.DecimalType:
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return nil, false
		}
		return json.Number(s), true
	case *delta.PrimitiveType:
		switch x {
		case delta.TypeByte, delta.TypeShort, delta.TypeInteger, delta.TypeLong:
			n, err := strconv.ParseInt(s, 10, 64)
			return n, err == nil
		case delta.TypeFloat, delta.TypeDouble:
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, false
			}
			return f, true
		case delta.TypeString:
			if len(s) > 32 {
				if upper {
					return nil, false
				}
				s = s[:32]
			}
			return s, true
		case delta.TypeDate:
			if _, err := time.Parse("2006-01-02", s); err != nil {
				return nil, false
			}
			return s, true
		case delta.TypeTimestamp, delta.TypeTimestampNTZ:
			ts, err := parseDuckTimestamp(s)
			if err != nil {
				return nil, false
			}
			tr := ts.Truncate(time.Millisecond)
			if upper && !tr.Equal(ts) {
				tr = tr.Add(time.Millisecond)
			}
			return tr.UTC().Format("2006-01-02T15:04:05.000Z07:00"), true
		}
	}
	return nil, false
}

func parseDuckTimestamp(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05-07", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q", s)
}

func lessStat(a, b any) bool {
	switch x := a.(type) {
	case int64:
		return x < b.(int64)
	case float64:
		return x < b.(float64)
	case string:
		return x < b.(string)
	case json.Number:
		fa, _ := x.Float64()
		fb, _ := b.(json.Number).Float64()
		return fa < fb
	}
	return false
}

// commit commits a transaction and records lineage.
func (st *stmt) commit(ctx context.Context, tg *target, txn *delta.Transaction, op delta.Operation, cols map[string][]string) (int64, error) {
	if st.e.beforeCommit != nil {
		st.e.beforeCommit()
	}
	res, err := txn.Commit(ctx, op)
	if err != nil {
		if errs.Is(err, errs.Conflict) {
			return 0, errs.Wrap(errs.Conflict, "DELTA_CONCURRENT_MODIFICATION", err,
				"%s on %s lost to a concurrent commit: %s; nothing was changed, retry the statement", op.Name, tg.full, errs.Message(err))
		}
		return 0, err
	}
	if st.e.o.Lineage != nil {
		ev := LineageEvent{StatementID: st.id, Principal: st.who.Principal.Name, Operation: op.Name,
			Sources: dedupe(st.sources), Target: tg.full, Version: res.Version, Columns: cols}
		if err := st.e.o.Lineage.RecordLineage(context.WithoutCancel(ctx), ev); err != nil {
			st.e.log.Warn("record lineage", "statement_id", st.id, "error", err)
		}
	}
	return res.Version, nil
}

func affected(n int64, extra ...any) *Result {
	r := &Result{Columns: []Column{{Name: "num_affected_rows", Type: "LONG", TypeText: "bigint"}}, Rows: [][]any{{n}}}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Columns = append(r.Columns, Column{Name: extra[i].(string), Type: "LONG", TypeText: "bigint"})
		r.Rows[0] = append(r.Rows[0], extra[i+1])
	}
	return r
}

// runInsert handles INSERT INTO|OVERWRITE [TABLE] t [(cols)] query.
func (st *stmt) runInsert(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	overwrite := false
	switch {
	case p.accept("INTO"):
	case p.accept("OVERWRITE"):
		overwrite = true
	default:
		return nil, syntaxErr(st.text, p.peek().Pos, "expected INSERT INTO or INSERT OVERWRITE")
	}
	p.accept("TABLE")
	st.kind = "INSERT"
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	var cols []string
	if p.peek().Text == "(" {
		// a column list, unless this is a parenthesised query
		if n := p.toks[p.i+1]; n.upper() != "SELECT" && n.upper() != "WITH" && n.upper() != "VALUES" {
			if cols, err = p.identList(); err != nil {
				return nil, err
			}
		}
	}
	if p.accept("BY", "NAME") {
		return nil, errs.E(errs.Unimplemented, "UNSUPPORTED_INSERT", "INSERT BY NAME is not supported; list the columns")
	}
	if p.done() {
		return nil, syntaxErr(st.text, len(st.text), "INSERT needs a query or VALUES")
	}
	tg, err := st.openTarget(ctx, parts, false)
	if err != nil {
		return nil, err
	}
	srcText := p.rest()
	src, err := st.bindQuery(st.scope(ctx), srcText)
	if err != nil {
		return nil, err
	}
	n, err := st.insert(ctx, tg, src, cols, overwrite, "WRITE")
	if err != nil {
		return nil, err
	}
	return affected(n, "num_inserted_rows", n), nil
}

// insert writes the rows of a bound query into tg (by position, or into
// cols) and commits an append or overwrite.
func (st *stmt) insert(ctx context.Context, tg *target, src string, cols []string, overwrite bool, opName string) (int64, error) {
	in, err := st.openFor(ctx, tg)
	if err != nil {
		return 0, err
	}
	defer in.close()
	return st.insertIn(ctx, in, tg, src, cols, overwrite, opName)
}

// openFor opens the statement's DuckDB with the target's directory
// writable.
func (st *stmt) openFor(ctx context.Context, tg *target) (*instance, error) {
	st.dirs = append(st.dirs, tg.dir)
	return st.open(ctx)
}

func (st *stmt) insertIn(ctx context.Context, in *instance, tg *target, src string, cols []string, overwrite bool, opName string) (int64, error) {
	schema := tg.snap.Schema()
	desc, err := in.query(ctx, "DESCRIBE "+src, 0)
	if err != nil {
		return 0, err
	}
	nsrc := len(desc.Rows)
	var exprs []string
	if cols == nil {
		if nsrc != len(schema.Fields) {
			return 0, errs.E(errs.Invalid, "INSERT_COLUMN_ARITY_MISMATCH", "cannot write to %s: the table has %d columns but the query produces %d", tg.full, len(schema.Fields), nsrc)
		}
		for i := range schema.Fields {
			exprs = append(exprs, fmt.Sprintf("__q.__i%d", i))
		}
	} else {
		if len(cols) != nsrc {
			return 0, errs.E(errs.Invalid, "INSERT_COLUMN_ARITY_MISMATCH", "cannot write to %s: %d columns are listed but the query produces %d", tg.full, len(cols), nsrc)
		}
		pos := map[string]int{}
		for i, c := range cols {
			f := schema.Field(c)
			if f == nil {
				return 0, errs.E(errs.Invalid, "UNRESOLVED_COLUMN", "column %s does not exist in %s (columns: %s)", c, tg.full, fieldList(schema))
			}
			pos[strings.ToLower(f.Name)] = i
		}
		for _, f := range schema.Fields {
			if i, ok := pos[strings.ToLower(f.Name)]; ok {
				exprs = append(exprs, fmt.Sprintf("__q.__i%d", i))
			} else {
				exprs = append(exprs, "NULL")
			}
		}
	}
	var al []string
	for i := 0; i < nsrc; i++ {
		al = append(al, fmt.Sprintf("__i%d", i))
	}
	for i, f := range schema.Fields {
		if !f.Nullable {
			exprs[i] = fmt.Sprintf("CASE WHEN %s IS NULL THEN error('NOT NULL constraint violated: column %s of %s cannot be NULL') ELSE %s END", exprs[i], strings.ReplaceAll(f.Name, "'", "''"), tg.full, exprs[i])
		}
	}
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM (" + src + ") AS __q(" + strings.Join(al, ", ") + ")"
	adds, n, err := st.writeFiles(ctx, in, tg, q)
	if err != nil {
		return 0, err
	}
	txn, err := tg.snap.StartTransaction(delta.TransactionOptions{Logger: st.e.log})
	if err != nil {
		return 0, err
	}
	txn.AddFiles(adds...)
	mode := "Append"
	if overwrite {
		mode = "Overwrite"
		txn.ReadWholeTable()
		txn.RemoveFiles(tg.snap.Files()...)
	}
	if len(adds) == 0 && !overwrite {
		return 0, nil
	}
	if _, err := st.commit(ctx, tg, txn, delta.Operation{Name: opName, Parameters: map[string]any{"mode": mode},
		Metrics: map[string]int64{"numFiles": int64(len(adds)), "numOutputRows": n}}, nil); err != nil {
		return 0, err
	}
	return n, nil
}

func fieldList(s *delta.StructType) string {
	var n []string
	for _, f := range s.Fields {
		n = append(n, f.Name)
	}
	return strings.Join(n, ", ")
}

// runDML handles DELETE, UPDATE and MERGE by copy-on-write: the target's
// candidate files are loaded into a DuckDB temp table with their file
// names, DuckDB runs the statement on it, and the files it touched are
// replaced by new files holding their remaining rows. On a table with a
// row filter or column masks the statement acts on the table as the caller
// sees it (see dmlWorkspace).
func (st *stmt) runDML(ctx context.Context, toks []token) (*Result, error) {
	pre, err := preprocess(st.text)
	if err != nil {
		return nil, err
	}
	st.text = pre
	if toks, err = lex(pre); err != nil {
		return nil, err
	}
	p := &parser{st: st, toks: toks, i: 1}
	verb := toks[0].upper()
	st.kind = verb
	if err := refuseInternalNames(toks, verb); err != nil {
		return nil, err
	}
	switch verb {
	case "DELETE":
		if err := p.expect("FROM"); err != nil {
			return nil, err
		}
	case "MERGE":
		if err := p.expect("INTO"); err != nil {
			return nil, err
		}
	}
	nameStart := p.peek().Pos
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	nameEnd := p.toks[p.i-1].End
	alias := ""
	if p.accept("AS") {
		if alias, err = p.ident(); err != nil {
			return nil, err
		}
	} else if t := p.peek(); t.ident() != "" && !isClauseKeyword(t.upper()) {
		alias = t.ident()
		p.next()
	}
	targetEnd := p.toks[p.i-1].End
	tg, err := st.openTarget(ctx, parts, true)
	if err != nil {
		return nil, err
	}
	schema := tg.snap.Schema()
	// On a governed table the statement runs on the table as the user sees
	// it (see dmlWorkspace); an assignment to a masked column also sets the
	// column's flag, so that its new value, not the raw one, is written.
	var pol *policy
	setFlag := func([]string) string { return "" }
	if governed(tg.info) {
		if pol, err = st.policyOf(st.scope(ctx), &tg.info, tg.snap, tg.snap); err != nil {
			return nil, err
		}
		setFlag = func(col []string) string {
			for i, f := range schema.Fields {
				if pol.masked[i] && strings.EqualFold(f.Name, col[len(col)-1]) {
					return fmt.Sprintf(", __lbx_set_%d = true", i)
				}
			}
			return ""
		}
	}
	binding := alias
	if binding == "" {
		binding = parts[len(parts)-1]
	}
	// The probe: a SELECT over the same text that DuckDB can parse, to find
	// every other table and function reference and the pushed-down filter.
	pr := &probe{}
	var edits []edit
	edits = append(edits, edit{nameStart, nameEnd, "__lbx_tgt"})
	if alias == "" {
		edits = append(edits, edit{nameEnd, nameEnd, " AS " + quoteIdent(binding)})
	}
	readWhole := verb == "MERGE"
	// MERGE: the source and ON spans, and whether a clause acts on target
	// rows without a match (which rules out pruning target files).
	var mergeSrc, mergeOn edit
	bySource := false
	switch verb {
	case "DELETE":
		pr.lit("SELECT 1 FROM ")
		pr.orig(pre, nameStart, len(pre))
	case "UPDATE":
		if err := p.expect("SET"); err != nil {
			return nil, err
		}
		pr.lit("SELECT ")
		first := true
		for {
			col, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expectPunct("="); err != nil {
				return nil, err
			}
			s, e := p.skipBalanced(func(t token) bool { return t.Text == "," || t.upper() == "WHERE" || t.upper() == "FROM" })
			if s == e {
				return nil, syntaxErr(pre, s, "expected an expression after '='")
			}
			edits = append(edits, edit{e, e, setFlag(col)})
			if !first {
				pr.lit(", ")
			}
			first = false
			pr.lit("(")
			pr.orig(pre, s, e)
			pr.lit(")")
			if p.peek().Text == "," {
				p.next()
				continue
			}
			break
		}
		pr.lit(" FROM ")
		pr.orig(pre, nameStart, targetEnd)
		if p.accept("FROM") {
			pr.lit(", ")
			s, e := p.skipBalanced(func(t token) bool { return t.upper() == "WHERE" })
			pr.orig(pre, s, e)
		}
		if !p.done() {
			if err := p.expect("WHERE"); err != nil {
				return nil, err
			}
			pr.lit(" WHERE ")
			pr.orig(pre, p.peek().Pos, len(pre))
		}
	case "MERGE":
		if err := p.expect("USING"); err != nil {
			return nil, err
		}
		ss, se := p.skipBalanced(func(t token) bool { return t.upper() == "ON" })
		mergeSrc = edit{Pos: ss, End: se}
		srcAlias := ""
		if se > ss {
			last := p.toks[p.i-1]
			srcAlias = last.ident()
		}
		if err := p.expect("ON"); err != nil {
			return nil, err
		}
		os_, oe := p.skipBalanced(func(t token) bool { return t.upper() == "WHEN" })
		mergeOn = edit{Pos: os_, End: oe}
		var items []edit // spans of expressions to include in the probe
		for p.accept("WHEN") {
			notMatched := p.accept("NOT")
			if err := p.expect("MATCHED"); err != nil {
				return nil, err
			}
			if p.accept("BY") {
				bySource = bySource || p.next().upper() == "SOURCE"
			}
			if p.accept("AND") {
				s, e := p.skipBalanced(func(t token) bool { return t.upper() == "THEN" })
				items = append(items, edit{Pos: s, End: e})
			}
			if err := p.expect("THEN"); err != nil {
				return nil, err
			}
			switch {
			case p.accept("DELETE"):
			case p.accept("DO", "NOTHING"):
			case p.accept("UPDATE", "SET"):
				if t := p.peek(); t.Text == "*" {
					var sets []string
					for _, f := range schema.Fields {
						sets = append(sets, quoteIdent(f.Name)+" = "+quoteIdent(srcAlias)+"."+quoteIdent(f.Name)+setFlag([]string{f.Name}))
					}
					edits = append(edits, edit{t.Pos, t.End, strings.Join(sets, ", ")})
					p.next()
					break
				}
				for {
					col, err := p.name()
					if err != nil {
						return nil, err
					}
					if err := p.expectPunct("="); err != nil {
						return nil, err
					}
					s, e := p.skipBalanced(func(t token) bool { return t.Text == "," || t.upper() == "WHEN" })
					items = append(items, edit{Pos: s, End: e})
					edits = append(edits, edit{e, e, setFlag(col)})
					if p.peek().Text == "," {
						p.next()
						continue
					}
					break
				}
			case p.accept("INSERT"):
				if !notMatched {
					return nil, syntaxErr(pre, p.peek().Pos, "INSERT is only allowed in WHEN NOT MATCHED")
				}
				if t := p.peek(); t.Text == "*" {
					var names, vals []string
					for _, f := range schema.Fields {
						names = append(names, quoteIdent(f.Name))
						vals = append(vals, quoteIdent(srcAlias)+"."+quoteIdent(f.Name))
					}
					edits = append(edits, edit{t.Pos, t.End, "(" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"})
					p.next()
					break
				}
				if p.peek().Text == "(" {
					if _, err := p.identList(); err != nil {
						return nil, err
					}
				}
				if err := p.expect("VALUES"); err != nil {
					return nil, err
				}
				if err := p.expectPunct("("); err != nil {
					return nil, err
				}
				for {
					s, e := p.skipBalanced(func(t token) bool { return t.Text == "," || t.Text == ")" })
					items = append(items, edit{Pos: s, End: e})
					if p.peek().Text == "," {
						p.next()
						continue
					}
					break
				}
				if err := p.expectPunct(")"); err != nil {
					return nil, err
				}
			default:
				return nil, syntaxErr(pre, p.peek().Pos, "expected UPDATE SET, DELETE, INSERT or DO NOTHING after THEN")
			}
		}
		if err := p.end(); err != nil {
			return nil, err
		}
		pr.lit("SELECT 1")
		for _, it := range items {
			pr.lit(", (")
			pr.orig(pre, it.Pos, it.End)
			pr.lit(")")
		}
		pr.lit(" FROM ")
		pr.orig(pre, nameStart, targetEnd)
		pr.lit(", ")
		pr.orig(pre, ss, se)
		pr.lit(" WHERE ")
		pr.orig(pre, os_, oe)
	}
	ast, err := st.e.serialize(ctx, pr.b.String())
	if err != nil {
		if e := errs.As(err); e != nil && e.Reason == "PARSE_SYNTAX_ERROR" {
			return nil, errs.E(errs.Invalid, "PARSE_SYNTAX_ERROR", "syntax error in %s: %s", verb, strings.TrimPrefix(e.Msg, "syntax error at "))
		}
		return nil, err
	}
	info, err := st.e.analyze(ast)
	if err != nil {
		return nil, err
	}
	var preds []delta.Predicate
	for _, r := range info.tables {
		if pr.mapPos(r.loc) == nameStart {
			preds = r.preds
		}
	}
	more, err := st.statementEdits(ctx, pre, ast, pr, nameStart)
	if err != nil {
		return nil, err
	}
	edits = append(edits, more...)
	dml := applyEdits(pre, edits) + " RETURNING __lbx_file"

	in, err := st.openFor(ctx, tg)
	if err != nil {
		return nil, err
	}
	defer in.close()
	// Candidate files.
	var filter delta.Predicate
	if !readWhole {
		if filter, err = pruningFilter(&tg.info, tg.snap, tg.snap, preds); err != nil {
			return nil, err
		}
	} else if verb == "MERGE" && !bySource {
		if filter, err = st.mergeKeyFilter(ctx, in, tg, pre, binding, mergeSrc, mergeOn, edits); err != nil {
			return nil, err
		}
	}
	scan, err := tg.snap.Scan(delta.ScanOptions{Filter: filter})
	if err != nil {
		return nil, err
	}
	files, err := scan.Files(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := st.rawSQL(ctx, tg.t, tg.dir, tg.snap, files, true)
	if err != nil {
		return nil, err
	}
	load, rewrite := dmlWorkspace(schema, pol, raw)
	for _, q := range load {
		if err := in.exec(ctx, q); err != nil {
			return nil, err
		}
	}
	res, err := in.query(ctx, dml, 0)
	if err != nil {
		return nil, err
	}
	touched := map[string]bool{}
	for _, r := range res.Rows {
		if f, ok := r[0].(string); ok {
			touched[f] = true
		}
	}
	n := int64(len(res.Rows))
	if n == 0 {
		return affected(0), nil
	}
	byPath := map[string]*delta.Add{}
	for _, f := range files {
		byPath[tg.dir+"/"+f.Key] = f.Add
	}
	var removes []*delta.Add
	var list []string
	for _, f := range sortedStrings(touched) {
		if a := byPath[f]; a != nil {
			removes = append(removes, a)
			list = append(list, quoteString(f))
		}
	}
	if err := in.exec(ctx, "CREATE TEMP TABLE __lbx_touched AS SELECT unnest(["+strings.Join(append(list, "NULL"), ",")+"]::VARCHAR[]) AS f"); err != nil {
		return nil, err
	}
	adds, _, err := st.writeFiles(ctx, in, tg, rewrite)
	if err != nil {
		return nil, err
	}
	txn, err := tg.snap.StartTransaction(delta.TransactionOptions{Logger: st.e.log})
	if err != nil {
		return nil, err
	}
	if filter != nil {
		if err := txn.ReadPredicate(filter); err != nil {
			txn.ReadWholeTable()
		}
	} else {
		txn.ReadWholeTable()
	}
	txn.ReadFiles(removes...)
	txn.RemoveFiles(removes...)
	txn.AddFiles(adds...)
	if _, err := st.commit(ctx, tg, txn, delta.Operation{Name: verb, Metrics: map[string]int64{"numAffectedRows": n,
		"numRemovedFiles": int64(len(removes)), "numAddedFiles": int64(len(adds)),
		// Files read after pruning, of the table's files.
		"numFilesScanned": int64(len(files)), "numFilesInTable": int64(len(tg.snap.Files()))}}, nil); err != nil {
		return nil, err
	}
	return affected(n), nil
}

// dmlWorkspace returns the statements that load a DML statement's
// candidate rows (raw, a subquery with __lbx_file) into __lbx_tgt, the
// table the statement runs on, and the query of the rows that replace the
// files listed in __lbx_touched (rows the statement inserted have no
// __lbx_file).
//
// On a governed table (pol not nil) __lbx_tgt is the table as the user
// sees it: only the rows the row filter admits, masked columns holding
// their masked values, and, besides __lbx_file, __lbx_row (the row's key
// in __lbx_raw) and per masked column i a flag __lbx_set_<i> that the
// statement sets when it assigns the column. The raw rows stay in
// __lbx_raw, out of the statement's reach (its expressions never see an
// invisible row or a raw masked value): invisible rows of touched files
// are written back unchanged from there, and so is the raw value of each
// masked column a statement did not assign.
func dmlWorkspace(schema *delta.StructType, pol *policy, raw string) ([]string, string) {
	const touched = "__lbx_file IN (SELECT f FROM __lbx_touched)"
	var cols []string
	for _, f := range schema.Fields {
		cols = append(cols, quoteIdent(f.Name))
	}
	if pol == nil {
		return []string{"CREATE TEMP TABLE __lbx_tgt AS " + raw},
			"SELECT " + strings.Join(cols, ", ") + " FROM __lbx_tgt WHERE __lbx_file IS NULL OR " + touched
	}
	vis := "true"
	if pol.filter != "" {
		vis = pol.filter
	}
	var seen, flags, back, kept []string
	for i, c := range cols {
		seen = append(seen, pol.cols[i]+" AS "+c)
		kept = append(kept, "__r."+c)
		if !pol.masked[i] {
			back = append(back, "__t."+c)
			continue
		}
		flags = append(flags, fmt.Sprintf("false AS __lbx_set_%d", i))
		back = append(back, fmt.Sprintf("CASE WHEN __t.__lbx_file IS NULL OR __t.__lbx_set_%d THEN __t.%s ELSE __r.%s END", i, c, c))
	}
	load := []string{
		"CREATE TEMP TABLE __lbx_raw AS SELECT __r.*, " + vis + " AS __lbx_vis FROM " + raw + " AS __r",
		"CREATE TEMP TABLE __lbx_tgt AS SELECT " + strings.Join(append(seen, append([]string{"__r.__lbx_file", "__r.rowid AS __lbx_row"}, flags...)...), ", ") +
			" FROM __lbx_raw AS __r WHERE __r.__lbx_vis",
	}
	rewrite := "SELECT " + strings.Join(back, ", ") + " FROM __lbx_tgt AS __t LEFT JOIN __lbx_raw AS __r ON __r.rowid = __t.__lbx_row" +
		" WHERE __t.__lbx_file IS NULL OR __t." + touched +
		" UNION ALL SELECT " + strings.Join(kept, ", ") + " FROM __lbx_raw AS __r WHERE NOT __r.__lbx_vis AND __r." + touched
	return load, rewrite
}

// refuseInternalNames rejects identifiers beginning with __lbx, quoted or
// not: they name the columns and tables Lakebox adds to run a statement,
// which the statement itself must not reach.
func refuseInternalNames(toks []token, verb string) error {
	for _, t := range toks {
		if strings.HasPrefix(strings.ToLower(t.ident()), "__lbx") {
			return errs.E(errs.Invalid, "INVALID_IDENTIFIER", "%s may not refer to %s: names beginning with __lbx are reserved for Lakebox internals; refer to the table's own columns", verb, t.Text)
		}
	}
	return nil
}

// statementEdits computes, for the DML statement text, the edits binding
// its non-target table references and functions (positions mapped from
// the probe).
func (st *stmt) statementEdits(ctx context.Context, pre string, ast map[string]any, pr *probe, targetPos int) ([]edit, error) {
	info, err := st.e.analyze(ast)
	if err != nil {
		return nil, err
	}
	for _, n := range info.compat {
		st.useCompat(n)
	}
	toks, err := lex(pre)
	if err != nil {
		return nil, err
	}
	sc := st.scope(ctx)
	var edits []edit
	for _, r := range info.tables {
		pos := pr.mapPos(r.loc)
		if pos == targetPos || pos < 0 {
			continue
		}
		if len(r.parts) == 1 && info.ctes[r.parts[0]] && r.at == nil {
			continue
		}
		full, err := sc.qualify(r.parts)
		if err != nil {
			return nil, err
		}
		sub, err := st.bindTable(sc, full, r.at, r.preds)
		if err != nil {
			return nil, err
		}
		s, e, err := refSpan(pre, toks, pos)
		if err != nil {
			return nil, err
		}
		if r.alias == "" {
			sub += " AS " + quoteIdent(r.parts[len(r.parts)-1])
		}
		edits = append(edits, edit{s, e, sub})
	}
	for _, f := range info.funcs {
		pos := pr.mapPos(f.loc)
		if pos < 0 {
			continue
		}
		m, err := st.bindFunction(sc, f.parts)
		if err != nil {
			return nil, err
		}
		s, e, err := nameSpan(pre, toks, pos)
		if err != nil {
			return nil, err
		}
		edits = append(edits, edit{s, e, m})
	}
	if len(info.vols) > 0 {
		return nil, denied("volume files cannot be read inside %s; use COPY INTO", st.kind)
	}
	return edits, nil
}

func isClauseKeyword(k string) bool {
	switch k {
	case "WHERE", "SET", "USING", "ON", "WHEN", "FROM":
		return true
	}
	return false
}

var _ = sort.Strings

// mergeKeyFilter is dynamic file pruning for MERGE: for each conjunct of
// the ON condition of the form target.col = <expression over the source>,
// it runs the source once in the statement's DuckDB for the expression's
// minimum and maximum, and returns the predicate that keeps only target
// files whose statistics (or partition values) overlap every such range:
// no other file can hold a row that matches. Callers use it only without
// WHEN NOT MATCHED BY SOURCE (which acts on target rows outside the
// matches). Masked columns never prune (their statistics are raw values).
// It returns nil — read every file — when nothing applies or the source
// query fails (the statement then reports the error itself).
func (st *stmt) mergeKeyFilter(ctx context.Context, in *instance, tg *target, pre, binding string, src, on edit, edits []edit) (delta.Predicate, error) {
	toks, err := lex(pre[on.Pos:on.End])
	if err != nil {
		return nil, nil
	}
	masked, err := maskedFields(&tg.info, tg.snap, tg.snap)
	if err != nil {
		return nil, err
	}
	schema := tg.snap.Schema()
	var cols, exprs []string
	for _, c := range topLevelConjuncts(toks) {
		col, expr, ok := keyEquality(c, binding, pre[on.Pos:on.End])
		if !ok || schema.Field(col) == nil || masked[strings.ToLower(col)] != nil {
			continue
		}
		cols, exprs = append(cols, schema.Field(col).Name), append(exprs, expr)
	}
	if len(cols) == 0 {
		return nil, nil
	}
	// The source as bound for this statement: the edits inside its span.
	var local []edit
	for _, e := range edits {
		switch {
		case e.Pos >= src.Pos && e.End <= src.End:
			local = append(local, edit{e.Pos - src.Pos, e.End - src.Pos, e.Text})
		case e.End > src.Pos && e.Pos < src.End:
			return nil, nil // an edit straddles the source: leave it alone
		}
	}
	var sel []string
	for _, x := range exprs {
		sel = append(sel, "min("+x+")", "max("+x+")")
	}
	res, err := in.query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+applyEdits(pre[src.Pos:src.End], local), 1)
	if err != nil || len(res.Rows) != 1 {
		return nil, nil
	}
	var preds []delta.Predicate
	for i, c := range cols {
		lo, hi := normalize(res.Rows[0][2*i]), normalize(res.Rows[0][2*i+1])
		if lo == nil || hi == nil {
			continue
		}
		p := &delta.And{Preds: []delta.Predicate{
			&delta.Comparison{Column: c, Op: delta.OpGe, Value: lo},
			&delta.Comparison{Column: c, Op: delta.OpLe, Value: hi},
		}}
		if _, err := tg.snap.Scan(delta.ScanOptions{Filter: p}); err == nil {
			preds = append(preds, p)
		}
	}
	if len(preds) == 0 {
		return nil, nil
	}
	return &delta.And{Preds: preds}, nil
}

// topLevelConjuncts splits tokens at their top-level ANDs; a top-level OR
// makes the whole condition one conjunct.
func topLevelConjuncts(toks []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, t := range toks {
		switch t.Text {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		}
		if depth != 0 {
			continue
		}
		switch t.upper() {
		case "OR", "BETWEEN":
			return [][]token{toks}
		case "AND":
			out = append(out, toks[start:i])
			start = i + 1
		}
	}
	return append(out, toks[start:])
}

// keyEquality recognises "binding.col = expr" (either way round) where
// expr names no column of the target (binding) and calls no function; it
// returns col and expr's text (from text, which the tokens index).
func keyEquality(c []token, binding, text string) (string, string, bool) {
	eq := -1
	for i, t := range c {
		if t.Text == "=" {
			if eq >= 0 {
				return "", "", false
			}
			eq = i
		}
	}
	if eq <= 0 || eq == len(c)-1 {
		return "", "", false
	}
	targetCol := func(s []token) string {
		if len(s) == 3 && s[1].Text == "." && s[0].ident() == strings.ToLower(binding) && (s[2].Kind == tkWord || s[2].Kind == tkQIdent) {
			return s[2].ident()
		}
		return ""
	}
	sourceOnly := func(s []token) bool {
		for i, t := range s {
			if t.ident() == strings.ToLower(binding) && i+1 < len(s) && s[i+1].Text == "." {
				return false
			}
			if t.Text == "(" && i > 0 && (s[i-1].Kind == tkWord || s[i-1].Kind == tkQIdent) {
				return false
			}
			if u := t.upper(); u == "SELECT" || u == "CASE" {
				return false
			}
		}
		return true
	}
	l, r := c[:eq], c[eq+1:]
	if col := targetCol(l); col != "" && sourceOnly(r) {
		return col, text[r[0].Pos:r[len(r)-1].End], true
	}
	if col := targetCol(r); col != "" && sourceOnly(l) {
		return col, text[l[0].Pos:l[len(l)-1].End], true
	}
	return "", "", false
}
