package query

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// allowedTableFunctions are the table functions user SQL may call: they
// generate rows and touch no file or setting.
var allowedTableFunctions = map[string]bool{"range": true, "generate_series": true, "unnest": true}

// volumeReaders are the file-reading table functions allowed on volume
// paths (/Volumes/catalog/schema/volume/...) the caller may read.
var volumeReaders = map[string]bool{"read_csv": true, "read_csv_auto": true, "read_parquet": true, "parquet_scan": true,
	"read_json": true, "read_json_auto": true, "read_ndjson": true, "read_ndjson_auto": true}

// deniedFunctions are scalar functions that expose the environment or
// configuration.
var deniedFunctions = map[string]bool{"getenv": true, "current_setting": true, "getvariable": true, "set_variable": true,
	"read_text": true, "read_blob": true, "glob": true, "sql_auto_complete": true, "duckdb_secrets": true,
	"which_secret": true, "enable_profiling": true, "current_database": true, "current_catalog": true}

// sessionMacros are Lakebox's definitions of identity functions, created in
// every statement's DuckDB for the invoking user.
var sessionMacros = map[string]bool{"current_user": true, "session_user": true, "user": true,
	"is_account_group_member": true, "is_member": true, "current_catalog": true, "current_schema": true, "current_database": true}

// scope is the naming context of SQL being bound: the defaults for
// unqualified names and the identity (in ctx) whose rights apply.
type scope struct {
	ctx     context.Context
	catalog string
	schema  string
	depth   int // view/function nesting
}

// tableRef is one table reference found in an AST.
type tableRef struct {
	parts []string // as written (lower-cased), 1-3 parts
	alias string
	loc   int
	at    *atClause
	preds []delta.Predicate // conjuncts pushed down for pruning
}

type atClause struct {
	unit  string // VERSION or TIMESTAMP
	value string
}

// fnRef is a call of a catalog (UC) function.
type fnRef struct {
	parts []string
	loc   int
}

// volRef is a constant volume path argument of a file reader.
type volRef struct {
	path string
	loc  int
}

// astInfo is what binding needs from an AST.
type astInfo struct {
	tables []*tableRef
	funcs  []*fnRef
	vols   []*volRef
	ctes   map[string]bool
	compat []string // Databricks functions defined as macros (compatMacros)
}

// analyze walks a statement's AST: it collects table references, catalog
// function calls and CTE names, refuses forbidden table and scalar
// functions, and finds WHERE conjuncts to push into scans.
func (e *Engine) analyze(node any) (*astInfo, error) {
	info := &astInfo{ctes: map[string]bool{}}
	byLoc := map[int]*tableRef{}
	var walk func(n any) error
	walk = func(n any) error {
		switch x := n.(type) {
		case []any:
			for _, c := range x {
				if err := walk(c); err != nil {
					return err
				}
			}
		case map[string]any:
			if cm, ok := x["cte_map"].(map[string]any); ok {
				if list, ok := cm["map"].([]any); ok {
					for _, it := range list {
						if kv, ok := it.(map[string]any); ok {
							if k, ok := kv["key"].(string); ok {
								info.ctes[strings.ToLower(k)] = true
							}
						}
					}
				}
			}
			typ, _ := x["type"].(string)
			class, _ := x["class"].(string)
			switch {
			case typ == "BASE_TABLE":
				r := &tableRef{loc: loc(x), alias: str(x, "alias")}
				for _, k := range []string{"catalog_name", "schema_name", "table_name"} {
					if v := str(x, k); v != "" {
						r.parts = append(r.parts, strings.ToLower(v))
					}
				}
				if ac, ok := x["at_clause"].(map[string]any); ok {
					r.at = &atClause{unit: strings.ToUpper(str(ac, "unit"))}
					c, ok := constValue(ac["expr"])
					if !ok {
						return errs.E(errs.Invalid, "INVALID_TIME_TRAVEL_SPEC", "time travel needs a constant version or timestamp")
					}
					r.at.value = fmt.Sprint(c)
				}
				info.tables = append(info.tables, r)
				byLoc[r.loc] = r
			case typ == "TABLE_FUNCTION":
				fn, _ := x["function"].(map[string]any)
				name := strings.ToLower(str(fn, "function_name"))
				if str(fn, "schema") != "" || str(fn, "catalog") != "" {
					return denied("table function %s is not allowed: query tables by name", name)
				}
				if volumeReaders[name] {
					args, _ := fn["children"].([]any)
					if len(args) == 0 {
						return denied("%s needs a /Volumes/<catalog>/<schema>/<volume>/... path", name)
					}
					p, ok := constValue(args[0])
					ps, _ := p.(string)
					if !ok || !strings.HasPrefix(ps, "/Volumes/") {
						return denied("%s may only read files in a volume (/Volumes/<catalog>/<schema>/<volume>/...); query tables by name", name)
					}
					a0, _ := args[0].(map[string]any)
					info.vols = append(info.vols, &volRef{path: ps, loc: loc(a0)})
					for _, a := range args[1:] {
						if err := walk(a); err != nil {
							return err
						}
					}
					return nil
				}
				if !allowedTableFunctions[name] {
					return denied("table function %s is not allowed: Lakebox SQL reads tables by name and files only through volumes", name)
				}
			case class == "FUNCTION":
				name := strings.ToLower(str(x, "function_name"))
				cat, sch := strings.ToLower(str(x, "catalog")), strings.ToLower(str(x, "schema"))
				// DuckDB's parser writes the functions behind literals
				// ([1, 2], {'a': 1}, MAP {…}, map(…)) as main.<builtin>:
				// they are built-ins, never catalog functions.
				if cat == "" && sch == "main" && e.builtins[name] {
					sch = ""
				}
				if cat == "" && sch == "" {
					if deniedFunctions[name] && !sessionMacros[name] {
						return denied("function %s is not allowed", name)
					}
					if _, ok := compatMacros[name]; ok && !e.builtins[name] {
						info.compat = append(info.compat, name)
					} else if !e.builtins[name] && !sessionMacros[name] {
						info.funcs = append(info.funcs, &fnRef{parts: []string{name}, loc: loc(x)})
					}
				} else {
					var parts []string
					if cat != "" {
						parts = append(parts, cat)
					}
					parts = append(parts, sch, name)
					info.funcs = append(info.funcs, &fnRef{parts: parts, loc: loc(x)})
				}
			}
			if typ == "SELECT_NODE" {
				pushdown(x, byLoc)
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if err := walk(x[k]); err != nil {
					return err
				}
			}
			if typ == "SELECT_NODE" {
				pushdown(x, byLoc)
			}
		}
		return nil
	}
	if err := walk(node); err != nil {
		return nil, err
	}
	return info, nil
}

func denied(format string, args ...any) error {
	return errs.E(errs.PermissionDenied, "PERMISSION_DENIED", format, args...)
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func loc(m map[string]any) int {
	f, _ := m["query_location"].(float64)
	if f < 0 || f > 1<<40 {
		return -1
	}
	return int(f)
}

// constValue returns the Go value of a constant expression (or a cast of
// one): int64, float64, string, bool or nil.
func constValue(n any) (any, bool) {
	m, ok := n.(map[string]any)
	if !ok {
		return nil, false
	}
	switch str(m, "class") {
	case "CONSTANT":
		v, _ := m["value"].(map[string]any)
		if b, _ := v["is_null"].(bool); b {
			return nil, true
		}
		t, _ := v["type"].(map[string]any)
		switch str(t, "id") {
		case "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT", "UBIGINT", "HUGEINT":
			switch x := v["value"].(type) {
			case float64:
				return int64(x), true
			case map[string]any: // hugeint {upper, lower}
				if up, _ := x["upper"].(float64); up == 0 {
					lo, _ := x["lower"].(float64)
					return int64(lo), true
				}
			}
			return nil, false
		case "DOUBLE", "FLOAT":
			f, ok := v["value"].(float64)
			return f, ok
		case "DECIMAL":
			ti, _ := t["type_info"].(map[string]any)
			scale, _ := ti["scale"].(float64)
			switch x := v["value"].(type) {
			case float64:
				return strconv.FormatFloat(x/pow10(int(scale)), 'f', int(scale), 64), true
			}
			return nil, false
		case "VARCHAR":
			s, ok := v["value"].(string)
			return s, ok
		case "BOOLEAN":
			b, ok := v["value"].(bool)
			return b, ok
		}
	case "CAST":
		c, ok := constValue(m["child"])
		if !ok {
			return nil, false
		}
		if s, isStr := c.(string); isStr {
			return s, true
		}
		return c, true
	}
	return nil, false
}

func pow10(n int) float64 {
	f := 1.0
	for ; n > 0; n-- {
		f *= 10
	}
	return f
}

// pushdown finds the WHERE conjuncts of a SELECT node that compare a
// column of one of its (inner-joined) base tables with constants and
// attaches them to that table reference for file pruning.
func pushdown(sel map[string]any, byLoc map[int]*tableRef) {
	where, ok := sel["where_clause"].(map[string]any)
	if !ok {
		return
	}
	var tabs []*tableRef
	var collect func(n any) bool
	collect = func(n any) bool {
		m, ok := n.(map[string]any)
		if !ok {
			return false
		}
		switch str(m, "type") {
		case "BASE_TABLE":
			if r := byLoc[loc(m)]; r != nil {
				tabs = append(tabs, r)
				return true
			}
			return false
		case "JOIN":
			jt := str(m, "join_type")
			if jt != "INNER" && str(m, "ref_type") != "CROSS" {
				return false
			}
			return collect(m["left"]) && collect(m["right"])
		}
		return false
	}
	if !collect(sel["from_table"]) || len(tabs) == 0 {
		return
	}
	for _, r := range tabs {
		if r.preds != nil {
			return // already done (pushdown runs before and after the walk)
		}
	}
	var conj []any
	var flatten func(n any)
	flatten = func(n any) {
		m, _ := n.(map[string]any)
		if str(m, "class") == "CONJUNCTION" && str(m, "type") == "CONJUNCTION_AND" {
			for _, c := range m["children"].([]any) {
				flatten(c)
			}
			return
		}
		conj = append(conj, n)
	}
	flatten(where)
	target := func(n any) (*tableRef, string) {
		m, _ := n.(map[string]any)
		if str(m, "class") != "COLUMN_REF" {
			return nil, ""
		}
		names, _ := m["column_names"].([]any)
		switch len(names) {
		case 1:
			if len(tabs) == 1 {
				c, _ := names[0].(string)
				return tabs[0], c
			}
		case 2:
			q, _ := names[0].(string)
			c, _ := names[1].(string)
			for _, r := range tabs {
				b := r.alias
				if b == "" {
					b = r.parts[len(r.parts)-1]
				}
				if strings.EqualFold(b, q) {
					return r, c
				}
			}
		}
		return nil, ""
	}
	ops := map[string]delta.Op{"COMPARE_EQUAL": delta.OpEq, "COMPARE_NOTEQUAL": delta.OpNe, "COMPARE_LESSTHAN": delta.OpLt,
		"COMPARE_GREATERTHAN": delta.OpGt, "COMPARE_LESSTHANOREQUALTO": delta.OpLe, "COMPARE_GREATERTHANOREQUALTO": delta.OpGe}
	flip := map[delta.Op]delta.Op{delta.OpEq: delta.OpEq, delta.OpNe: delta.OpNe, delta.OpLt: delta.OpGt, delta.OpGt: delta.OpLt, delta.OpLe: delta.OpGe, delta.OpGe: delta.OpLe}
	for _, r := range tabs {
		r.preds = []delta.Predicate{}
	}
	for _, c := range conj {
		m, _ := c.(map[string]any)
		switch str(m, "class") {
		case "COMPARISON":
			op, ok := ops[str(m, "type")]
			if !ok {
				continue
			}
			if r, col := target(m["left"]); r != nil {
				if v, ok := constValue(m["right"]); ok && v != nil {
					r.preds = append(r.preds, &delta.Comparison{Column: col, Op: op, Value: v})
				}
			} else if r, col := target(m["right"]); r != nil {
				if v, ok := constValue(m["left"]); ok && v != nil {
					r.preds = append(r.preds, &delta.Comparison{Column: col, Op: flip[op], Value: v})
				}
			}
		case "BETWEEN":
			if r, col := target(m["input"]); r != nil {
				lo, ok1 := constValue(m["lower"])
				hi, ok2 := constValue(m["upper"])
				if ok1 && ok2 && lo != nil && hi != nil {
					r.preds = append(r.preds, &delta.Comparison{Column: col, Op: delta.OpGe, Value: lo}, &delta.Comparison{Column: col, Op: delta.OpLe, Value: hi})
				}
			}
		case "OPERATOR":
			ch, _ := m["children"].([]any)
			if len(ch) == 0 {
				continue
			}
			r, col := target(ch[0])
			if r == nil {
				continue
			}
			switch str(m, "type") {
			case "OPERATOR_IS_NULL":
				r.preds = append(r.preds, &delta.IsNull{Column: col})
			case "OPERATOR_IS_NOT_NULL":
				r.preds = append(r.preds, &delta.IsNull{Column: col, Not: true})
			case "COMPARE_IN":
				var vals []any
				ok := true
				for _, a := range ch[1:] {
					v, isC := constValue(a)
					if !isC || v == nil {
						ok = false
						break
					}
					vals = append(vals, v)
				}
				if ok && len(vals) > 0 {
					r.preds = append(r.preds, &delta.In{Column: col, Values: vals})
				}
			}
		}
	}
}

// qualify completes a 1-3 part name with the scope's defaults.
func (s scope) qualify(parts []string) (string, error) {
	switch len(parts) {
	case 1:
		return s.catalog + "." + s.schema + "." + parts[0], nil
	case 2:
		return s.catalog + "." + parts[0] + "." + parts[1], nil
	case 3:
		return strings.Join(parts, "."), nil
	}
	return "", errs.E(errs.Invalid, "INVALID_IDENTIFIER", "invalid name %q: use catalog.schema.name", strings.Join(parts, "."))
}

// bindQuery rewrites a query: each table reference becomes a governed
// subquery, each catalog function call a macro; the result is DuckDB SQL
// that touches only what Lakebox put in it.
func (st *stmt) bindQuery(sc scope, text string) (string, error) {
	pre, err := preprocess(text)
	if err != nil {
		return "", err
	}
	ast, err := st.e.serialize(sc.ctx, pre)
	if err != nil {
		return "", err
	}
	return st.bindAST(sc, pre, ast, nil, nil)
}

// bindAST rewrites pre (whose AST is ast). skip, when set, names table
// reference locations left alone (the target of a DML statement).
func (st *stmt) bindAST(sc scope, pre string, ast map[string]any, skip map[int]bool, mapPos func(int) int) (string, error) {
	info, err := st.e.analyze(ast)
	if err != nil {
		return "", err
	}
	if mapPos != nil {
		for _, r := range info.tables {
			r.loc = mapPos(r.loc)
		}
		for _, f := range info.funcs {
			f.loc = mapPos(f.loc)
		}
		for _, v := range info.vols {
			v.loc = mapPos(v.loc)
		}
	}
	st.lastInfo = info
	for _, n := range info.compat {
		st.useCompat(n)
	}
	toks, err := lex(pre)
	if err != nil {
		return "", err
	}
	var edits []edit
	for _, r := range info.tables {
		if skip[r.loc] {
			continue
		}
		if len(r.parts) == 1 && info.ctes[r.parts[0]] && r.at == nil {
			continue
		}
		full, err := sc.qualify(r.parts)
		if err != nil {
			return "", err
		}
		sub, err := st.bindTable(sc, full, r.at, r.preds)
		if err != nil {
			return "", err
		}
		start, end, err := refSpan(pre, toks, r.loc)
		if err != nil {
			return "", err
		}
		text := sub
		if r.alias == "" {
			text += " AS " + quoteIdent(r.parts[len(r.parts)-1])
		}
		edits = append(edits, edit{start, end, text})
	}
	for _, f := range info.funcs {
		macro, err := st.bindFunction(sc, f.parts)
		if err != nil {
			return "", err
		}
		start, end, err := nameSpan(pre, toks, f.loc)
		if err != nil {
			return "", err
		}
		edits = append(edits, edit{start, end, macro})
	}
	for _, v := range info.vols {
		local, err := st.bindVolumePath(sc, v.path)
		if err != nil {
			return "", err
		}
		i := tokenAt(toks, v.loc)
		if i < 0 || toks[i].Kind != tkString {
			return "", errs.E(errs.Invalid, "INVALID_PATH", "volume paths must be string literals")
		}
		edits = append(edits, edit{toks[i].Pos, toks[i].End, quoteString(local)})
	}
	return applyEdits(pre, edits), nil
}

func tokenAt(toks []token, pos int) int {
	for i, t := range toks {
		if t.Pos == pos {
			return i
		}
		if t.Pos > pos {
			break
		}
	}
	return -1
}

// nameSpan returns the span of a dotted name starting at pos.
func nameSpan(s string, toks []token, pos int) (int, int, error) {
	i := tokenAt(toks, pos)
	if i < 0 || (toks[i].Kind != tkWord && toks[i].Kind != tkQIdent) {
		return 0, 0, errs.E(errs.Internal, "INTERNAL_ERROR", "cannot locate name at %d in %q", pos, s)
	}
	end := toks[i].End
	for i+2 < len(toks) && toks[i+1].Text == "." && (toks[i+2].Kind == tkWord || toks[i+2].Kind == tkQIdent) {
		i += 2
		end = toks[i].End
	}
	return pos, end, nil
}

// refSpan returns the span of a table reference: its dotted name and an
// optional AT (...) clause.
func refSpan(s string, toks []token, pos int) (int, int, error) {
	start, end, err := nameSpan(s, toks, pos)
	if err != nil {
		return 0, 0, err
	}
	i := 0
	for i < len(toks) && toks[i].End != end {
		i++
	}
	if i+2 < len(toks) && toks[i+1].upper() == "AT" && toks[i+2].Text == "(" {
		depth := 0
		for j := i + 2; j < len(toks); j++ {
			switch toks[j].Text {
			case "(":
				depth++
			case ")":
				depth--
			}
			if depth == 0 {
				return start, toks[j].End, nil
			}
		}
	}
	return start, end, nil
}

// bindFunction resolves a catalog SQL function, checks EXECUTE and defines
// it as a macro in the statement's DuckDB; it returns the macro name.
func (st *stmt) bindFunction(sc scope, parts []string) (string, error) {
	full, err := sc.qualify(parts)
	if err != nil {
		return "", err
	}
	if len(parts) == 1 {
		if _, err := st.e.cat.GetFunction(sc.ctx, full); errs.Is(err, errs.NotFound) {
			return "", errs.E(errs.NotFound, "UNRESOLVED_ROUTINE", "function %s does not exist (searched %s and the built-in functions)", parts[0], full)
		}
	}
	if err := st.e.cat.Authorize(sc.ctx, catalog.TypeFunction, full, catalog.PrivExecute); err != nil {
		return "", err
	}
	return st.defineFunction(sc, full)
}

// defineFunction creates the macro for a catalog function (once per
// statement). The body is bound with the function owner's rights.
func (st *stmt) defineFunction(sc scope, full string) (string, error) {
	if m, ok := st.macros[full]; ok {
		return m, nil
	}
	if sc.depth > 8 {
		return "", errs.E(errs.Invalid, "RECURSIVE_DEFINITION", "function %s nests too deeply (recursive definition?)", full)
	}
	fi, err := st.e.cat.GetFunction(sc.ctx, full)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return "", errs.E(errs.NotFound, "UNRESOLVED_ROUTINE", "function %s does not exist", full)
		}
		return "", err
	}
	if !strings.EqualFold(fi.RoutineBody, "SQL") {
		return "", errs.E(errs.Unimplemented, "UNSUPPORTED_ROUTINE", "function %s is not a SQL function; only SQL functions can be called from SQL", full)
	}
	octx, err := st.ownerCtx(sc.ctx, fi.Owner)
	if err != nil {
		return "", err
	}
	var params []string
	if fi.InputParams != nil {
		for _, p := range fi.InputParams.Parameters {
			params = append(params, quoteIdent(strings.ToLower(p.Name)))
		}
	}
	st.nextID++
	name := fmt.Sprintf("lbx_fn_%d", st.nextID)
	st.macros[full] = name
	body, err := st.bindQuery(scope{ctx: octx, catalog: fi.CatalogName, schema: fi.SchemaName, depth: sc.depth + 1}, "SELECT ("+fi.RoutineDefinition+")")
	if err != nil {
		return "", fmt.Errorf("in function %s: %w", full, err)
	}
	ret := ""
	if fi.DataType != "" {
		if dt, err := duckTypeOfText(fi.FullDataType, fi.DataType); err == nil {
			ret = "::" + dt
		}
	}
	st.setup = append(st.setup, fmt.Sprintf("CREATE MACRO %s(%s) AS ((%s)%s)", name, strings.Join(params, ", "), strings.TrimPrefix(body, "SELECT "), ret))
	return name, nil
}

// bindVolumePath maps /Volumes/c/s/v/rest to the volume's local path after
// checking READ VOLUME.
func (st *stmt) bindVolumePath(sc scope, p string) (string, error) {
	parts := strings.SplitN(strings.TrimPrefix(p, "/Volumes/"), "/", 4)
	if len(parts) < 4 || strings.Contains(p, "..") {
		return "", errs.E(errs.Invalid, "INVALID_PATH", "invalid volume path %q: use /Volumes/<catalog>/<schema>/<volume>/<path>", p)
	}
	full := strings.ToLower(parts[0] + "." + parts[1] + "." + parts[2])
	if err := st.e.cat.Authorize(sc.ctx, catalog.TypeVolume, full, catalog.PrivReadVolume); err != nil {
		return "", err
	}
	vi, err := st.e.cat.ResolveVolume(sc.ctx, full)
	if err != nil {
		return "", err
	}
	dir, err := st.localDir(sc.ctx, vi.StorageLocation)
	if err != nil {
		return "", err
	}
	st.dirs = append(st.dirs, dir)
	st.touch(full)
	return dir + "/" + parts[3], nil
}
