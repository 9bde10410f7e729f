package query

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// latest returns the latest snapshot of a table's Delta log.
func (st *stmt) latest(ctx context.Context, ti catalog.TableInfo) (*delta.Snapshot, error) {
	t, _, err := st.openTable(ctx, ti.StorageLocation)
	if err != nil {
		return nil, err
	}
	return t.Latest(ctx)
}

// describable resolves the table or view named by parts for DESCRIBE, SHOW
// COLUMNS and SHOW CREATE TABLE, which need SELECT on it.
func (st *stmt) describable(ctx context.Context, parts []string) (string, catalog.TableInfo, error) {
	full, err := st.scope(ctx).qualify(parts)
	if err != nil {
		return "", catalog.TableInfo{}, err
	}
	ti, err := st.resolveTable(ctx, full, catalog.PrivSelect)
	return full, ti, err
}

// showColumns handles SHOW COLUMNS {IN|FROM} t [{IN|FROM} schema] after
// COLUMNS: the names of t's columns (col_name), from the Delta schema as
// DESCRIBE lists them (a view's from the catalog). Needs what DESCRIBE
// needs: SELECT. A schema given both ways must agree.
func (st *stmt) showColumns(ctx context.Context, p *parser) (*Result, error) {
	if !p.accept("IN") && !p.accept("FROM") {
		return nil, syntaxErr(st.text, p.peek().Pos, "expected IN or FROM after SHOW COLUMNS, found "+tokText(p.peek()))
	}
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	if p.accept("IN") || p.accept("FROM") {
		sch, err := p.name()
		if err != nil {
			return nil, err
		}
		if len(sch) > 2 {
			return nil, errs.E(errs.Invalid, "INVALID_IDENTIFIER", "SHOW COLUMNS … IN takes schema or catalog.schema, got %s", strings.Join(sch, "."))
		}
		q := parts[:len(parts)-1]
		for i := 1; i <= min(len(q), len(sch)); i++ {
			if q[len(q)-i] != sch[len(sch)-i] {
				return nil, errs.E(errs.Invalid, "SHOW_COLUMNS_WITH_CONFLICT_NAMESPACE", "SHOW COLUMNS names two schemas: %s != %s; qualify the table or give IN schema, not both differently",
					strings.Join(q, "."), strings.Join(sch, "."))
			}
		}
		if len(sch) > len(q) {
			q = sch
		}
		parts = append(slices.Clone(q), parts[len(parts)-1])
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	_, ti, err := st.describable(ctx, parts)
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: strCols("col_name")}
	if ti.TableType == catalog.TableView {
		for _, c := range ti.Columns {
			res.Rows = append(res.Rows, []any{c.Name})
		}
		return res, nil
	}
	snap, err := st.latest(ctx, ti)
	if err != nil {
		return nil, err
	}
	for _, f := range snap.Schema().Fields {
		res.Rows = append(res.Rows, []any{f.Name})
	}
	return res, nil
}

// ddlIdent writes a name as SHOW CREATE TABLE does: bare when it is a
// lower-case identifier (which reads back unchanged), else `quoted`.
func ddlIdent(s string) string {
	plain := s != "" && !(s[0] >= '0' && s[0] <= '9')
	for _, c := range s {
		plain = plain && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')
	}
	if plain {
		return s
	}
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// ddlName writes a dotted name with ddlIdent parts.
func ddlName(full string) string {
	parts := strings.Split(full, ".")
	for i, s := range parts {
		parts[i] = ddlIdent(s)
	}
	return strings.Join(parts, ".")
}

func ddlIdents(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = ddlIdent(n)
	}
	return strings.Join(out, ", ")
}

// showCreateTable handles SHOW CREATE TABLE name after TABLE: one row,
// createtab_stmt, holding a statement that re-creates the table in
// Lakebox and in Databricks: columns with types, NOT NULL, comments and
// masks, USING delta, PARTITIONED BY, WITH ROW FILTER, COMMENT and
// TBLPROPERTIES (the catalog's properties with the Delta configuration,
// less the entries the Delta writer maintains itself; unlike Databricks,
// the protocol versions are not listed, as CREATE TABLE derives them). For
// a view, CREATE VIEW name [COMMENT] AS its definition. Needs SELECT, as
// DESCRIBE.
func (st *stmt) showCreateTable(ctx context.Context, p *parser) (*Result, error) {
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	full, ti, err := st.describable(ctx, parts)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	comment := func() {
		if ti.Comment != "" {
			b.WriteString("\nCOMMENT " + quoteString(ti.Comment))
		}
	}
	if ti.TableType == catalog.TableView {
		b.WriteString("CREATE VIEW " + ddlName(full))
		comment()
		b.WriteString("\nAS " + ti.ViewDefinition)
		return &Result{Columns: strCols("createtab_stmt"), Rows: [][]any{{b.String()}}}, nil
	}
	snap, err := st.latest(ctx, ti)
	if err != nil {
		return nil, err
	}
	cols := map[string]catalog.ColumnInfo{}
	for _, c := range ti.Columns {
		cols[strings.ToLower(c.Name)] = c
	}
	b.WriteString("CREATE TABLE " + ddlName(full) + " (")
	for i, f := range snap.Schema().Fields {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  " + ddlIdent(f.Name) + " " + ddlTypeText(f.Type))
		if !f.Nullable {
			b.WriteString(" NOT NULL")
		}
		c := cols[strings.ToLower(f.Name)]
		if c.Comment != "" {
			b.WriteString(" COMMENT " + quoteString(c.Comment))
		}
		if m := c.Mask; m != nil {
			b.WriteString(" MASK " + ddlName(m.FunctionName))
			if len(m.UsingColumnNames) > 0 {
				b.WriteString(" USING COLUMNS (" + ddlIdents(m.UsingColumnNames) + ")")
			}
		}
	}
	b.WriteString(")\nUSING delta")
	if pc := snap.PartitionColumns(); len(pc) > 0 {
		b.WriteString("\nPARTITIONED BY (" + ddlIdents(pc) + ")")
	}
	if rf := ti.RowFilter; rf != nil {
		b.WriteString("\nWITH ROW FILTER " + ddlName(rf.FunctionName) + " ON (" + ddlIdents(rf.InputColumnNames) + ")")
	}
	comment()
	conf := snap.Configuration()
	if keys := tableProperties(ti.Properties, conf); len(keys) > 0 {
		b.WriteString("\nTBLPROPERTIES (")
		for i, k := range keys {
			v, ok := conf[k]
			if !ok || !strings.HasPrefix(k, "delta.") {
				v = ti.Properties[k]
			}
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n  " + quoteString(k) + " = " + quoteString(v))
		}
		b.WriteString(")")
	}
	return &Result{Columns: strCols("createtab_stmt"), Rows: [][]any{{b.String()}}}, nil
}

// showFunctions handles SHOW [USER|ALL] FUNCTIONS [{IN|FROM} schema]
// [[LIKE] pattern|name] after FUNCTIONS: the SQL functions of the schema
// (the current one by default) that the caller may see, by three-part
// name, in column "function", sorted. Databricks also lists its built-in
// functions (with SHOW SYSTEM FUNCTIONS, and by default); Lakebox lists
// the catalog's functions only: its built-ins are DuckDB's, which have no
// catalog entries. The pattern is Databricks's: case-insensitive, '*'
// matches any characters, '|' separates alternatives, the rest is a
// regular expression matched against the whole function name.
func (st *stmt) showFunctions(ctx context.Context, p *parser) (*Result, error) {
	c, s := st.sess.Catalog, st.sess.Schema
	inSchema := p.accept("IN") || p.accept("FROM")
	if inSchema {
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		switch len(n) {
		case 1:
			s = n[0]
		case 2:
			c, s = n[0], n[1]
		default:
			return nil, errs.E(errs.Invalid, "INVALID_IDENTIFIER", "SHOW FUNCTIONS IN takes schema or catalog.schema, got %s", strings.Join(n, "."))
		}
	}
	match := func(string) bool { return true }
	p.accept("LIKE")
	switch t := p.peek(); {
	case t.Kind == tkString:
		p.next()
		re, err := functionPattern(t.strValue())
		if err != nil {
			return nil, err
		}
		match = re.MatchString
	case t.ident() != "":
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		if len(n) > 1 && inSchema {
			return nil, errs.E(errs.Invalid, "INVALID_IDENTIFIER", "SHOW FUNCTIONS names the schema twice: give IN schema or a qualified function name, not both")
		}
		if len(n) == 2 {
			s = n[0]
		} else if len(n) == 3 {
			c, s = n[0], n[1]
		}
		match = func(f string) bool { return strings.EqualFold(f, n[len(n)-1]) }
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	var names []string
	if err := allPages(func(page catalog.Page) (string, error) {
		l, err := st.e.cat.ListFunctions(ctx, c, s, page)
		for _, f := range l.Functions {
			if match(f.Name) {
				names = append(names, c+"."+s+"."+f.Name)
			}
		}
		return l.NextPageToken, err
	}); err != nil {
		return nil, err
	}
	slices.Sort(names)
	res := &Result{Columns: strCols("function")}
	for _, n := range names {
		res.Rows = append(res.Rows, []any{n})
	}
	return res, nil
}

// functionPattern compiles a SHOW FUNCTIONS pattern (see showFunctions).
func functionPattern(pat string) (*regexp.Regexp, error) {
	alts := strings.Split(strings.TrimSpace(pat), "|")
	for i, a := range alts {
		alts[i] = "(?:" + strings.ReplaceAll(a, "*", ".*") + ")"
	}
	re, err := regexp.Compile("(?i)^(?:" + strings.Join(alts, "|") + ")$")
	if err != nil {
		return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "SHOW FUNCTIONS pattern %q is not valid: %s; use * for any characters and | between alternatives, e.g. 'mask_*|eng*'", pat, err)
	}
	return re, nil
}
