package query

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// runCreate handles CREATE CATALOG/SCHEMA/TABLE/VIEW/FUNCTION.
func (st *stmt) runCreate(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	orReplace := p.accept("OR", "REPLACE")
	p.accept("TEMPORARY")
	kind := p.next().upper()
	if kind == "DATABASE" {
		kind = "SCHEMA"
	}
	st.kind = "CREATE " + kind
	ifNot := p.accept("IF", "NOT", "EXISTS")
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	exists := func(err error) (*Result, error) {
		if ifNot && errs.Is(err, errs.AlreadyExists) {
			return okResult(), nil
		}
		return nil, err
	}
	switch kind {
	case "CATALOG":
		comment, err := trailingComment(p)
		if err != nil {
			return nil, err
		}
		if len(parts) != 1 {
			return nil, errs.E(errs.Invalid, "INVALID_IDENTIFIER", "a catalog name has one part")
		}
		if _, err := st.e.cat.CreateCatalog(ctx, catalog.CreateCatalog{Name: parts[0], Comment: comment}); err != nil {
			return exists(err)
		}
		return okResult(), nil
	case "SCHEMA":
		comment, err := trailingComment(p)
		if err != nil {
			return nil, err
		}
		c, s := st.sess.Catalog, parts[0]
		if len(parts) == 2 {
			c, s = parts[0], parts[1]
		} else if len(parts) > 2 {
			return nil, errs.E(errs.Invalid, "INVALID_IDENTIFIER", "a schema name is schema or catalog.schema")
		}
		if _, err := st.e.cat.CreateSchema(ctx, catalog.CreateSchema{Name: s, CatalogName: c, Comment: comment}); err != nil {
			return exists(err)
		}
		return okResult(), nil
	case "TABLE":
		return st.createTable(ctx, p, parts, orReplace, ifNot)
	case "VIEW":
		return st.createView(ctx, p, parts, orReplace, ifNot)
	case "FUNCTION":
		return st.createFunction(ctx, p, parts, orReplace, ifNot)
	}
	return nil, syntaxErr(st.text, toks[1].Pos, "expected CATALOG, SCHEMA, TABLE, VIEW or FUNCTION after CREATE")
}

func trailingComment(p *parser) (string, error) {
	c := ""
	if p.accept("COMMENT") {
		s, err := p.str()
		if err != nil {
			return "", err
		}
		c = s
	}
	return c, p.end()
}

func (st *stmt) splitName(ctx context.Context, parts []string) (string, string, string, error) {
	full, err := st.scope(ctx).qualify(parts)
	if err != nil {
		return "", "", "", err
	}
	x := strings.Split(full, ".")
	return x[0], x[1], x[2], nil
}

// createTable handles CREATE TABLE with columns (NOT NULL, COMMENT, MASK
// fn [USING COLUMNS (…)]), PARTITIONED BY, COMMENT, TBLPROPERTIES, WITH
// ROW FILTER fn ON (…) and AS query; the row filter and masks are set
// before any row is written. The Delta table is created in a staging
// location first, then registered, so a failure leaves no catalog entry.
func (st *stmt) createTable(ctx context.Context, p *parser, parts []string, orReplace, ifNot bool) (*Result, error) {
	cat, sch, name, err := st.splitName(ctx, parts)
	if err != nil {
		return nil, err
	}
	full := cat + "." + sch + "." + name
	schema := &delta.StructType{}
	comments := map[string]string{}
	policies := catalog.TableUpdate{} // MASK and WITH ROW FILTER clauses
	if p.peek().Text == "(" {
		p.next()
		for {
			cn, err := p.ident()
			if err != nil {
				return nil, err
			}
			s, e := p.skipBalanced(func(t token) bool {
				u := t.upper()
				return t.Text == "," || u == "NOT" || u == "COMMENT" || u == "GENERATED" || u == "DEFAULT" || u == "MASK"
			})
			if s == e {
				return nil, syntaxErr(st.text, s, "expected a type for column "+cn)
			}
			dt, err := parseType(st.text[s:e], false)
			if err != nil {
				return nil, err
			}
			f := &delta.StructField{Name: cn, Type: dt, Nullable: true}
			for {
				if p.accept("NOT", "NULL") {
					f.Nullable = false
					continue
				}
				if p.accept("COMMENT") {
					c, err := p.str()
					if err != nil {
						return nil, err
					}
					comments[cn] = c
					continue
				}
				if p.accept("MASK") {
					m, err := st.maskClause(ctx, p)
					if err != nil {
						return nil, err
					}
					policies.Columns = append(policies.Columns, catalog.ColumnUpdate{Name: cn, Mask: m})
					continue
				}
				break
			}
			schema.Fields = append(schema.Fields, f)
			if p.peek().Text == "," {
				p.next()
				continue
			}
			break
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
	}
	var partCols []string
	comment := ""
	props := map[string]string{}
	asQuery := ""
	for !p.done() {
		switch {
		case p.accept("USING"):
			f, _ := p.ident()
			if f != "delta" {
				return nil, errs.E(errs.Unimplemented, "UNSUPPORTED_DATA_SOURCE", "USING %s is not supported: Lakebox tables are Delta tables", f)
			}
		case p.accept("PARTITIONED", "BY"):
			if partCols, err = p.identList(); err != nil {
				return nil, err
			}
		case p.accept("COMMENT"):
			if comment, err = p.str(); err != nil {
				return nil, err
			}
		case p.accept("TBLPROPERTIES"):
			if props, err = p.props(); err != nil {
				return nil, err
			}
		case p.accept("WITH", "ROW", "FILTER"):
			if policies.RowFilter, err = st.rowFilterClause(ctx, p); err != nil {
				return nil, err
			}
		case p.accept("AS"):
			asQuery = p.rest()
			p.i = len(p.toks)
		default:
			return nil, syntaxErr(st.text, p.peek().Pos, "unexpected "+tokText(p.peek())+"; expected USING, PARTITIONED BY, COMMENT, TBLPROPERTIES, WITH ROW FILTER or AS")
		}
	}
	var src string
	if asQuery != "" {
		st.kind = "CREATE TABLE AS SELECT"
		if src, err = st.bindQuery(st.scope(ctx), asQuery); err != nil {
			return nil, err
		}
		if len(schema.Fields) > 0 {
			return nil, errs.E(errs.Invalid, "UNSUPPORTED_CTAS", "CREATE TABLE AS SELECT takes its columns from the query; remove the column list")
		}
		d, err := st.describeQuery(ctx, src)
		if err != nil {
			return nil, err
		}
		schema = d
	}
	if len(schema.Fields) == 0 {
		return nil, errs.E(errs.Invalid, "MISSING_COLUMNS", "CREATE TABLE %s needs columns or AS query", full)
	}
	for _, c := range partCols {
		if schema.Field(c) == nil {
			return nil, errs.E(errs.Invalid, "UNRESOLVED_COLUMN", "partition column %s is not a column of %s (columns: %s)", c, full, fieldList(schema))
		}
	}
	if ti, err := st.e.cat.ResolveTable(ctx, full); err == nil {
		if ifNot {
			return okResult(), nil
		}
		if !orReplace {
			return nil, errs.E(errs.AlreadyExists, "TABLE_OR_VIEW_ALREADY_EXISTS", "table %s already exists", full)
		}
		if ti.TableType == catalog.TableView {
			return nil, errs.E(errs.AlreadyExists, "TABLE_OR_VIEW_ALREADY_EXISTS", "%s is a view; drop it first", full)
		}
		if err := st.e.cat.DeleteTable(ctx, full); err != nil {
			return nil, err
		}
	}
	staging, err := st.e.cat.CreateStagingTable(ctx, catalog.CreateStagingTable{Name: name, CatalogName: cat, SchemaName: sch})
	if err != nil {
		return nil, err
	}
	b, err := st.e.storage.Open(ctx, staging.StagingLocation)
	if err != nil {
		return nil, err
	}
	st.closers = append(st.closers, b)
	conf := map[string]string{}
	for k, v := range props {
		if strings.HasPrefix(k, "delta.") {
			conf[k] = v
		}
	}
	dt := delta.NewTable(b, "")
	snap, err := dt.CreateTable(ctx, delta.CreateTableOptions{Schema: schema, PartitionColumns: partCols, Configuration: conf, Name: full, Description: comment,
		Transaction: delta.TransactionOptions{Logger: st.e.log}})
	if err != nil {
		return nil, err
	}
	cols := catalogColumns(snap.Schema(), partCols, comments)
	if _, err := st.e.cat.CreateTable(ctx, catalog.CreateTable{Name: name, CatalogName: cat, SchemaName: sch, TableType: catalog.TableManaged,
		DataSourceFormat: catalog.FormatDelta, Columns: cols, StorageLocation: staging.StagingLocation, Comment: comment, Properties: props}); err != nil {
		return nil, err
	}
	// The policies apply before any row is written; a table whose policies
	// cannot be set is not left behind without them.
	if policies.RowFilter != nil || len(policies.Columns) > 0 {
		if _, err := st.e.cat.UpdateTable(ctx, full, policies); err != nil {
			st.e.cat.DeleteTable(context.WithoutCancel(ctx), full)
			return nil, err
		}
	}
	if src == "" {
		return okResult(), nil
	}
	tg, err := st.openTarget(ctx, []string{cat, sch, name}, false)
	if err != nil {
		return nil, err
	}
	n, err := st.insert(ctx, tg, src, nil, false, "CREATE TABLE AS SELECT")
	if err != nil {
		st.e.cat.DeleteTable(context.WithoutCancel(ctx), full)
		return nil, err
	}
	return affected(n, "num_inserted_rows", n), nil
}

// catalogColumns lists a Delta schema as catalog columns.
func catalogColumns(s *delta.StructType, parts []string, comments map[string]string) []catalog.ColumnInfo {
	var cols []catalog.ColumnInfo
	pidx := map[string]int{}
	for i, p := range parts {
		pidx[strings.ToLower(p)] = i
	}
	for i, f := range s.Fields {
		tj, _ := delta.MarshalDataType(f.Type)
		text := sqlTypeText(f.Type)
		name := strings.ToUpper(text)
		if j := strings.IndexAny(name, "<("); j > 0 {
			name = name[:j]
		}
		switch name {
		case "BIGINT":
			name = "LONG"
		case "SMALLINT":
			name = "SHORT"
		case "TINYINT":
			name = "BYTE"
		}
		nullable := f.Nullable
		c := catalog.ColumnInfo{Name: f.Name, TypeText: text, TypeJSON: fmt.Sprintf(`{"name":%q,"type":%s,"nullable":%t,"metadata":{}}`, f.Name, tj, f.Nullable),
			TypeName: name, Position: i, Comment: comments[f.Name], Nullable: &nullable}
		if d, ok := f.Type.(*delta.DecimalType); ok {
			c.TypePrecision, c.TypeScale = d.Precision, d.Scale
		}
		if j, ok := pidx[strings.ToLower(f.Name)]; ok {
			jj := j
			c.PartitionIndex = &jj
		}
		cols = append(cols, c)
	}
	return cols
}

// describeQuery returns the schema of a bound query's result.
func (st *stmt) describeQuery(ctx context.Context, src string) (*delta.StructType, error) {
	in, err := st.open(ctx)
	if err != nil {
		return nil, err
	}
	defer in.close()
	res, err := in.query(ctx, "DESCRIBE "+src, 0)
	if err != nil {
		return nil, err
	}
	s := &delta.StructType{}
	for _, r := range res.Rows {
		name, _ := r[0].(string)
		typ, _ := r[1].(string)
		if typ == `"NULL"` || typ == "NULL" {
			typ = "VARCHAR"
		}
		dt, err := parseType(typ, true)
		if err != nil {
			return nil, errs.E(errs.Invalid, "UNSUPPORTED_DATATYPE", "column %s of the query has type %s, which a Delta table cannot store", name, typ)
		}
		if s.Field(name) != nil {
			return nil, errs.E(errs.Invalid, "COLUMN_ALREADY_EXISTS", "the query produces column %s twice; alias the columns", name)
		}
		s.Fields = append(s.Fields, &delta.StructField{Name: name, Type: dt, Nullable: true})
	}
	return s, nil
}

// createView handles CREATE [OR REPLACE] VIEW v [COMMENT '...'] AS query.
func (st *stmt) createView(ctx context.Context, p *parser, parts []string, orReplace, ifNot bool) (*Result, error) {
	cat, sch, name, err := st.splitName(ctx, parts)
	if err != nil {
		return nil, err
	}
	full := cat + "." + sch + "." + name
	comment := ""
	if p.accept("COMMENT") {
		if comment, err = p.str(); err != nil {
			return nil, err
		}
	}
	if err := p.expect("AS"); err != nil {
		return nil, err
	}
	def := strings.TrimSpace(p.rest())
	// Bind as the creator: validates names, privileges and syntax.
	src, err := st.bindQuery(scope{ctx: ctx, catalog: cat, schema: sch}, def)
	if err != nil {
		return nil, err
	}
	d, err := st.describeQuery(ctx, src)
	if err != nil {
		return nil, err
	}
	if old, err := st.e.cat.ResolveTable(ctx, full); err == nil {
		if ifNot {
			return okResult(), nil
		}
		if !orReplace || old.TableType != catalog.TableView {
			return nil, errs.E(errs.AlreadyExists, "TABLE_OR_VIEW_ALREADY_EXISTS", "%s already exists", full)
		}
		if err := st.e.cat.DeleteTable(ctx, full); err != nil {
			return nil, err
		}
	}
	deps := &catalog.DependencyList{}
	for _, s := range dedupe(st.touched) {
		if s == full {
			continue
		}
		dep := catalog.Dependency{}
		dep.Table = &struct {
			TableFullName string `json:"table_full_name"`
		}{TableFullName: s}
		deps.Dependencies = append(deps.Dependencies, dep)
	}
	if _, err := st.e.cat.CreateTable(ctx, catalog.CreateTable{Name: name, CatalogName: cat, SchemaName: sch, TableType: catalog.TableView,
		Columns: catalogColumns(d, nil, nil), Comment: comment, ViewDefinition: def, ViewDependencies: deps}); err != nil {
		return nil, err
	}
	return okResult(), nil
}

// createFunction handles CREATE [OR REPLACE] FUNCTION f(p type, ...)
// RETURNS type [COMMENT '...'] RETURN expr.
func (st *stmt) createFunction(ctx context.Context, p *parser, parts []string, orReplace, ifNot bool) (*Result, error) {
	cat, sch, name, err := st.splitName(ctx, parts)
	if err != nil {
		return nil, err
	}
	full := cat + "." + sch + "." + name
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var params []catalog.FunctionParameterInfo
	for p.peek().Text != ")" {
		pn, err := p.ident()
		if err != nil {
			return nil, err
		}
		s, e := p.skipBalanced(func(t token) bool { return t.Text == "," })
		dt, err := parseType(st.text[s:e], false)
		if err != nil {
			return nil, err
		}
		text := sqlTypeText(dt)
		tn := strings.ToUpper(text)
		if j := strings.IndexAny(tn, "<("); j > 0 {
			tn = tn[:j]
		}
		tn = map[string]string{"BIGINT": "LONG", "SMALLINT": "SHORT", "TINYINT": "BYTE"}[tn] + tn
		if strings.HasPrefix(tn, "LONGBIGINT") || strings.HasPrefix(tn, "SHORTSMALLINT") || strings.HasPrefix(tn, "BYTETINYINT") {
			tn = map[string]string{"LONGBIGINT": "LONG", "SHORTSMALLINT": "SHORT", "BYTETINYINT": "BYTE"}[tn]
		}
		params = append(params, catalog.FunctionParameterInfo{Name: pn, TypeText: text, TypeName: tn, TypeJSON: fmt.Sprintf("%q", text), Position: len(params)})
		if p.peek().Text == "," {
			p.next()
		}
		if p.done() {
			return nil, syntaxErr(st.text, len(st.text), "unterminated parameter list")
		}
	}
	p.next()
	if err := p.expect("RETURNS"); err != nil {
		return nil, err
	}
	s, e := p.skipBalanced(func(t token) bool { u := t.upper(); return u == "RETURN" || u == "COMMENT" || u == "DETERMINISTIC" })
	rt, err := parseType(st.text[s:e], false)
	if err != nil {
		return nil, err
	}
	comment := ""
	for !p.done() && p.peek().upper() != "RETURN" {
		switch {
		case p.accept("COMMENT"):
			if comment, err = p.str(); err != nil {
				return nil, err
			}
		case p.accept("DETERMINISTIC"), p.accept("NOT", "DETERMINISTIC"), p.accept("CONTAINS", "SQL"), p.accept("READS", "SQL", "DATA"):
		default:
			return nil, syntaxErr(st.text, p.peek().Pos, "expected RETURN <expression>")
		}
	}
	if err := p.expect("RETURN"); err != nil {
		return nil, err
	}
	body := strings.TrimSpace(p.rest())
	if body == "" {
		return nil, syntaxErr(st.text, len(st.text), "RETURN needs an expression")
	}
	// Validate the body: it must parse and reference nothing forbidden.
	probeSQL := "SELECT (" + body + ")"
	ast, err := st.e.serialize(ctx, probeSQL)
	if err != nil {
		return nil, err
	}
	if _, err := st.e.analyze(ast); err != nil {
		return nil, err
	}
	if orReplace {
		if err := st.e.cat.DeleteFunction(ctx, full); err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
	}
	rtext := sqlTypeText(rt)
	dtName := strings.ToUpper(rtext)
	if j := strings.IndexAny(dtName, "<("); j > 0 {
		dtName = dtName[:j]
	}
	if v, ok := map[string]string{"BIGINT": "LONG", "SMALLINT": "SHORT", "TINYINT": "BYTE"}[dtName]; ok {
		dtName = v
	}
	fi := &catalog.FunctionInfo{Name: name, CatalogName: cat, SchemaName: sch, InputParams: &catalog.FunctionParameterInfos{Parameters: params},
		DataType: dtName, FullDataType: rtext, RoutineBody: "SQL", RoutineDefinition: body, ParameterStyle: "S", IsDeterministic: true,
		SQLDataAccess: "CONTAINS_SQL", SecurityType: "DEFINER", SpecificName: name, Comment: comment}
	if _, err := st.e.cat.CreateFunction(ctx, catalog.CreateFunctionRequest{FunctionInfo: fi}); err != nil {
		if ifNot && errs.Is(err, errs.AlreadyExists) {
			return okResult(), nil
		}
		return nil, err
	}
	return okResult(), nil
}

// runDrop handles DROP CATALOG/SCHEMA/TABLE/VIEW/FUNCTION [IF EXISTS].
func (st *stmt) runDrop(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	kind := p.next().upper()
	if kind == "DATABASE" {
		kind = "SCHEMA"
	}
	st.kind = "DROP " + kind
	ifExists := p.accept("IF", "EXISTS")
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	cascade := p.accept("CASCADE")
	p.accept("RESTRICT")
	if err := p.end(); err != nil {
		return nil, err
	}
	var derr error
	switch kind {
	case "CATALOG":
		derr = st.e.cat.DeleteCatalog(ctx, parts[0], cascade)
	case "SCHEMA":
		full := st.sess.Catalog + "." + parts[0]
		if len(parts) == 2 {
			full = parts[0] + "." + parts[1]
		}
		derr = st.e.cat.DeleteSchema(ctx, full, cascade)
	case "TABLE", "VIEW":
		full, err := st.scope(ctx).qualify(parts)
		if err != nil {
			return nil, err
		}
		ti, err := st.e.cat.ResolveTable(ctx, full)
		if err == nil {
			if err := objectType(ti, full, kind == "VIEW", "DROP"); err != nil {
				return nil, err
			}
		}
		derr = err
		if err == nil {
			derr = st.e.cat.DeleteTable(ctx, full)
		}
	case "FUNCTION":
		full, err := st.scope(ctx).qualify(parts)
		if err != nil {
			return nil, err
		}
		derr = st.e.cat.DeleteFunction(ctx, full)
	default:
		return nil, syntaxErr(st.text, toks[1].Pos, "expected CATALOG, SCHEMA, TABLE, VIEW or FUNCTION after DROP")
	}
	if derr != nil && !(ifExists && errs.Is(derr, errs.NotFound)) {
		return nil, derr
	}
	return okResult(), nil
}

// rowFilterClause parses "fn ON (col, ...)" after ROW FILTER (in ALTER TABLE
// … SET ROW FILTER and CREATE TABLE … WITH ROW FILTER).
func (st *stmt) rowFilterClause(ctx context.Context, p *parser) (*catalog.RowFilter, error) {
	fn, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.expect("ON"); err != nil {
		return nil, err
	}
	cols, err := p.identList()
	if err != nil {
		return nil, err
	}
	fnFull, err := st.scope(ctx).qualify(fn)
	if err != nil {
		return nil, err
	}
	return &catalog.RowFilter{FunctionName: fnFull, InputColumnNames: cols}, nil
}

// maskClause parses "fn [USING COLUMNS (col, ...)]" after MASK (in ALTER
// TABLE … ALTER COLUMN … SET MASK and a CREATE TABLE column).
func (st *stmt) maskClause(ctx context.Context, p *parser) (*catalog.ColumnMask, error) {
	fn, err := p.name()
	if err != nil {
		return nil, err
	}
	var using []string
	if p.accept("USING", "COLUMNS") {
		if using, err = p.identList(); err != nil {
			return nil, err
		}
	}
	fnFull, err := st.scope(ctx).qualify(fn)
	if err != nil {
		return nil, err
	}
	return &catalog.ColumnMask{FunctionName: fnFull, UsingColumnNames: using}, nil
}

// objectType refuses a view named where verb expects a table (view false)
// or a table where it expects a view, naming the statement to use instead.
func objectType(ti catalog.TableInfo, full string, view bool, verb string) error {
	if isView := ti.TableType == catalog.TableView; isView != view {
		is, use := "a table", "TABLE"
		if isView {
			is, use = "a view", "VIEW"
		}
		return errs.E(errs.Invalid, "WRONG_OBJECT_TYPE", "%s is %s; use %s %s", full, is, verb, use)
	}
	return nil
}

// runAlter handles ALTER TABLE … ADD COLUMN(S) / RENAME COLUMN / RENAME TO
// / SET|UNSET TBLPROPERTIES / SET|DROP ROW FILTER / ALTER COLUMN …
// SET|DROP MASK|COMMENT, and ALTER VIEW … RENAME TO.
func (st *stmt) runAlter(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	view := p.accept("VIEW")
	if !view && !p.accept("TABLE") {
		return nil, errs.E(errs.Unimplemented, "UNSUPPORTED_STATEMENT", "only ALTER TABLE and ALTER VIEW … RENAME TO are supported")
	}
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	full, err := st.scope(ctx).qualify(parts)
	if err != nil {
		return nil, err
	}
	if p.accept("RENAME", "TO") {
		return st.renameTable(ctx, p, full, view)
	}
	if view {
		return nil, syntaxErr(st.text, p.peek().Pos, "unsupported ALTER VIEW clause "+tokText(p.peek())+"; supported: RENAME TO")
	}
	switch {
	case p.accept("SET", "ROW", "FILTER"):
		rf, err := st.rowFilterClause(ctx, p)
		if err != nil {
			return nil, err
		}
		if _, err := st.e.cat.SetRowFilter(ctx, full, rf); err != nil {
			return nil, err
		}
		return okResult(), nil
	case p.accept("DROP", "ROW", "FILTER"):
		if _, err := st.e.cat.SetRowFilter(ctx, full, nil); err != nil {
			return nil, err
		}
		return okResult(), nil
	case p.accept("ALTER", "COLUMN") || p.accept("CHANGE", "COLUMN"):
		col, err := p.ident()
		if err != nil {
			return nil, err
		}
		switch {
		case p.accept("SET", "MASK"):
			m, err := st.maskClause(ctx, p)
			if err != nil {
				return nil, err
			}
			if _, err := st.e.cat.SetColumnMask(ctx, full, col, m); err != nil {
				return nil, err
			}
			return okResult(), nil
		case p.accept("DROP", "MASK"):
			if _, err := st.e.cat.SetColumnMask(ctx, full, col, nil); err != nil {
				return nil, err
			}
			return okResult(), nil
		case p.accept("COMMENT"):
			c, err := p.str()
			if err != nil {
				return nil, err
			}
			if err := p.end(); err != nil {
				return nil, err
			}
			if err := st.commentColumn(ctx, full, col, c); err != nil {
				return nil, err
			}
			return okResult(), nil
		}
		return nil, syntaxErr(st.text, p.peek().Pos, "expected SET MASK, DROP MASK or COMMENT")
	case p.accept("SET", "TBLPROPERTIES"):
		props, err := p.props()
		if err != nil {
			return nil, err
		}
		return st.alterDelta(ctx, parts, setProperties(props))
	case p.accept("UNSET", "TBLPROPERTIES"):
		ifExists := p.accept("IF", "EXISTS")
		keys, err := propKeys(p)
		if err != nil {
			return nil, err
		}
		if err := p.end(); err != nil {
			return nil, err
		}
		return st.alterDelta(ctx, parts, unsetProperties(full, keys, ifExists))
	case p.accept("ADD", "COLUMNS") || p.accept("ADD", "COLUMN"):
		paren := p.peek().Text == "("
		if paren {
			p.next()
		}
		var add []*delta.StructField
		comments := map[string]string{}
		for {
			cn, err := p.ident()
			if err != nil {
				return nil, err
			}
			s, e := p.skipBalanced(func(t token) bool { return t.Text == "," || t.upper() == "COMMENT" })
			dt, err := parseType(st.text[s:e], false)
			if err != nil {
				return nil, err
			}
			if p.accept("COMMENT") {
				if comments[cn], err = p.str(); err != nil {
					return nil, err
				}
			}
			add = append(add, &delta.StructField{Name: cn, Type: dt, Nullable: true})
			if p.peek().Text == "," {
				p.next()
				continue
			}
			break
		}
		if paren {
			if err := p.expectPunct(")"); err != nil {
				return nil, err
			}
		}
		return st.alterDelta(ctx, parts, alteration{op: "ADD COLUMNS", comments: comments,
			change: func(md *delta.Metadata, s *delta.StructType, cols []catalog.ColumnInfo) (*delta.StructType, error) {
				applied := true // every column in the Delta schema, none in the catalog
				for _, f := range add {
					old := s.Field(f.Name)
					applied = applied && old != nil && sqlTypeText(old.Type) == sqlTypeText(f.Type) && !hasColumn(cols, f.Name)
				}
				if applied {
					return nil, nil
				}
				ns := &delta.StructType{Fields: append([]*delta.StructField(nil), s.Fields...)}
				for _, f := range add {
					if ns.Field(f.Name) != nil {
						return nil, errs.E(errs.AlreadyExists, "COLUMN_ALREADY_EXISTS", "column %s already exists in %s", f.Name, full)
					}
					ns.Fields = append(ns.Fields, f)
				}
				return ns, nil
			}})
	case p.accept("RENAME", "COLUMN"):
		from, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect("TO"); err != nil {
			return nil, err
		}
		to, err := p.ident()
		if err != nil {
			return nil, err
		}
		return st.alterDelta(ctx, parts, alteration{op: "RENAME COLUMN", renamed: map[string]string{from: to},
			change: func(md *delta.Metadata, s *delta.StructType, cols []catalog.ColumnInfo) (*delta.StructType, error) {
				if s.Field(from) == nil && s.Field(to) != nil && hasColumn(cols, from) && !hasColumn(cols, to) {
					return nil, nil
				}
				if md.Configuration["delta.columnMapping.mode"] != "name" && md.Configuration["delta.columnMapping.mode"] != "id" {
					return nil, errs.E(errs.FailedPrecondition, "DELTA_UNSUPPORTED_RENAME_COLUMN", "renaming a column needs column mapping: ALTER TABLE %s SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name') first", full)
				}
				ns := &delta.StructType{}
				found := false
				for _, f := range s.Fields {
					nf := *f
					if strings.EqualFold(f.Name, from) {
						// Data files know the column by its physical name;
						// without one (mapping enabled on existing data), by
						// the name it had until now.
						nf.Metadata = withDefault(f.Metadata, delta.MetaColumnMappingName, f.PhysicalName(delta.ColumnMappingName))
						nf.Name, found = to, true
					} else if strings.EqualFold(f.Name, to) {
						return nil, errs.E(errs.AlreadyExists, "COLUMN_ALREADY_EXISTS", "column %s already exists in %s", to, full)
					}
					ns.Fields = append(ns.Fields, &nf)
				}
				if !found {
					return nil, errs.E(errs.Invalid, "UNRESOLVED_COLUMN", "column %s does not exist in %s (columns: %s)", from, full, fieldList(s))
				}
				return ns, nil
			}})
	}
	return nil, syntaxErr(st.text, p.peek().Pos, "unsupported ALTER TABLE clause "+tokText(p.peek())+"; supported: ADD COLUMNS, RENAME COLUMN, RENAME TO, SET/UNSET TBLPROPERTIES, SET/DROP ROW FILTER, ALTER COLUMN … SET/DROP MASK, ALTER COLUMN … COMMENT")
}

// mapColumns gives every field of ns (nested struct fields included) that
// lacks them a column mapping id and physical name when md has column
// mapping on, as the Delta protocol requires; the delta package does so
// for CREATE TABLE and for schema evolution on write, not for a metadata
// change. A field already in old keeps the name its data files use, its
// own (column mapping is being enabled on existing data); a new field gets
// a fresh one. It returns ns itself when nothing changes.
func mapColumns(old, ns *delta.StructType, md *delta.Metadata, newID func() string) *delta.StructType {
	if m := md.Configuration["delta.columnMapping.mode"]; m != "name" && m != "id" {
		return ns
	}
	maxID, _ := strconv.ParseInt(md.Configuration["delta.columnMapping.maxColumnId"], 10, 64)
	var scan func(st *delta.StructType)
	scan = func(st *delta.StructType) {
		for _, f := range st.Fields {
			if id, ok := f.FieldID(); ok {
				maxID = max(maxID, id)
			}
			if s, ok := f.Type.(*delta.StructType); ok {
				scan(s)
			}
		}
	}
	scan(ns)
	changed := false
	var walk func(st, prev *delta.StructType) *delta.StructType
	walk = func(st, prev *delta.StructType) *delta.StructType {
		out := &delta.StructType{Fields: make([]*delta.StructField, len(st.Fields))}
		for i, f := range st.Fields {
			cp := *f
			var pf *delta.StructField
			if prev != nil {
				pf = prev.Field(f.Name)
			}
			if _, ok := f.FieldID(); !ok {
				maxID++
				cp.Metadata, changed = withDefault(cp.Metadata, delta.MetaColumnMappingID, json.Number(strconv.FormatInt(maxID, 10))), true
			}
			if s, _ := f.Metadata[delta.MetaColumnMappingName].(string); s == "" {
				phys := "col-" + newID()
				if pf != nil {
					phys = f.Name
				}
				cp.Metadata, changed = withDefault(cp.Metadata, delta.MetaColumnMappingName, phys), true
			}
			if s, ok := f.Type.(*delta.StructType); ok {
				var ps *delta.StructType
				if pf != nil {
					ps, _ = pf.Type.(*delta.StructType)
				}
				cp.Type = walk(s, ps)
			}
			out.Fields[i] = &cp
		}
		return out
	}
	out := walk(ns, old)
	if !changed {
		return ns
	}
	conf := map[string]string{}
	for k, v := range md.Configuration {
		conf[k] = v
	}
	conf["delta.columnMapping.maxColumnId"] = strconv.FormatInt(maxID, 10)
	md.Configuration = conf
	return out
}

// withDefault returns a copy of m with k set to v unless m has k.
func withDefault(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for mk, mv := range m {
		out[mk] = mv
	}
	return out
}

func hasColumn(cols []catalog.ColumnInfo, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}

// alteration is one ALTER TABLE change of a table's Delta metadata and what
// its catalog entry learns from it.
type alteration struct {
	op string
	// change edits md and returns the new schema (s itself when the schema
	// is unchanged), or nil when the Delta log already holds the change (a
	// run whose catalog update failed, see alterDelta): then only the
	// catalog follows. cols are the catalog's columns.
	change   func(md *delta.Metadata, s *delta.StructType, cols []catalog.ColumnInfo) (*delta.StructType, error)
	comments map[string]string // comments of added columns, by name
	renamed  map[string]string // RENAME COLUMN: old name → new name
	// props, when set, returns the catalog's new properties from its
	// current ones (old) and the Delta configuration before the change
	// (conf); it runs before change.
	props func(old, conf map[string]string) (map[string]string, error)
}

// alterDelta commits a metadata change to the table's Delta log, then makes
// the catalog entry follow it: properties, and the column list (with
// comments, masks and the row filter carried over renames) rebuilt from
// the new Delta schema by catalogColumns, as CREATE TABLE builds it.
//
// The Delta log is the truth about the schema and its commit is the step
// that can lose a race, so it goes first. Everything the catalog checks
// (the column list; masks and the row filter naming existing columns) is
// checked before it, so that after the commit only an unavailable
// metastore or a concurrent catalog change can fail the catalog update.
// The statement then fails with CATALOG_OUT_OF_SYNC and, until repaired,
// the catalog names the old columns: new columns lack their comments; a
// row filter or mask USING a renamed column makes reads of the table fail
// (closed); but a mask ON a renamed column is not applied, since masks are
// matched to the Delta schema by name (as in the moment between the
// commit and the catalog update). Repair: running the statement again
// updates the catalog without a new Delta commit (change returns nil), and
// every ALTER sends the whole column list, so a lost ADD COLUMNS is also
// repaired by the next ALTER of the table, while one whose catalog would
// lose a mask fails before its commit, naming the column.
func (st *stmt) alterDelta(ctx context.Context, parts []string, a alteration) (*Result, error) {
	full, err := st.scope(ctx).qualify(parts)
	if err != nil {
		return nil, err
	}
	if err := st.e.cat.Authorize(ctx, catalog.TypeTable, full, catalog.PrivManage); err != nil {
		return nil, err
	}
	tg, err := st.openTarget(ctx, parts, false)
	if err != nil {
		return nil, err
	}
	txn, err := tg.snap.StartTransaction(delta.TransactionOptions{Logger: st.e.log})
	if err != nil {
		return nil, err
	}
	md := *txn.Metadata()
	var props map[string]string
	if a.props != nil {
		if props, err = a.props(tg.info.Properties, md.Configuration); err != nil {
			return nil, err
		}
	}
	ns, err := a.change(&md, tg.snap.Schema(), tg.info.Columns)
	if err != nil {
		return nil, err
	}
	commit := ns != nil
	if !commit {
		ns = tg.snap.Schema()
	} else {
		ns = mapColumns(tg.snap.Schema(), ns, &md, st.e.o.NewID)
	}
	u := catalog.TableUpdate{Properties: props,
		Schema: &catalog.SchemaChange{Columns: catalogColumns(ns, tg.snap.PartitionColumns(), a.comments), Renamed: a.renamed}}
	if err := u.Schema.Apply(&catalog.TableInfo{FullName: full, Columns: tg.info.Columns, RowFilter: tg.info.RowFilter}); err != nil {
		return nil, err
	}
	var version int64
	if commit {
		if ns != tg.snap.Schema() {
			b, err := json.Marshal(ns)
			if err != nil {
				return nil, err
			}
			md.SchemaString = string(b)
		}
		if err := txn.SetMetadata(&md); err != nil {
			return nil, err
		}
		txn.ReadWholeTable()
		if version, err = st.commit(ctx, tg, txn, delta.Operation{Name: a.op}, nil); err != nil {
			return nil, err
		}
	}
	// The Delta change is done: a caller giving up now must not stop the
	// catalog from following it.
	if _, err := st.e.cat.UpdateTable(context.WithoutCancel(ctx), full, u); err != nil {
		if !commit {
			return nil, err
		}
		return nil, errs.Wrap(errs.Unavailable, "CATALOG_OUT_OF_SYNC", err,
			"%s was committed to %s (Delta version %d) but the catalog entry was not updated (%s): it still lists the old columns, and a column mask on a renamed column does not apply until it is; run the statement again to update the catalog",
			a.op, full, version, errs.Message(err))
	}
	return okResult(), nil
}

// runComment handles COMMENT ON CATALOG|SCHEMA|TABLE name IS 'text'|NULL.
func (st *stmt) runComment(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	if err := p.expect("ON"); err != nil {
		return nil, err
	}
	kind := p.next().upper()
	st.kind = "COMMENT ON " + kind
	var parts []string
	var err error
	if kind == "COLUMN" {
		parts, err = columnRef(p)
	} else {
		parts, err = p.name()
	}
	if err != nil {
		return nil, err
	}
	if err := p.expect("IS"); err != nil {
		return nil, err
	}
	c := ""
	if !p.accept("NULL") {
		if c, err = p.str(); err != nil {
			return nil, err
		}
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	switch kind {
	case "CATALOG":
		_, err = st.e.cat.UpdateCatalog(ctx, parts[0], catalog.Update{Comment: &c})
	case "SCHEMA", "DATABASE":
		full := st.sess.Catalog + "." + parts[0]
		if len(parts) == 2 {
			full = parts[0] + "." + parts[1]
		}
		_, err = st.e.cat.UpdateSchema(ctx, full, catalog.Update{Comment: &c})
	case "TABLE":
		full, qerr := st.scope(ctx).qualify(parts)
		if qerr != nil {
			return nil, qerr
		}
		_, err = st.e.cat.UpdateTable(ctx, full, catalog.TableUpdate{Comment: &c})
	case "COLUMN":
		full, qerr := st.scope(ctx).qualify(parts[:len(parts)-1])
		if qerr != nil {
			return nil, qerr
		}
		err = st.commentColumn(ctx, full, parts[len(parts)-1], c)
	default:
		return nil, syntaxErr(st.text, toks[2].Pos, "expected CATALOG, SCHEMA, TABLE or COLUMN after COMMENT ON")
	}
	if err != nil {
		return nil, err
	}
	return okResult(), nil
}

func strCols(names ...string) []Column {
	var cs []Column
	for _, n := range names {
		cs = append(cs, Column{Name: n, Type: "STRING", TypeText: "string"})
	}
	return cs
}

// runDescribe handles DESCRIBE [TABLE] [EXTENDED] t, DESCRIBE DETAIL t and
// DESCRIBE HISTORY t.
func (st *stmt) runDescribe(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	mode := "TABLE"
	switch {
	case p.accept("DETAIL"):
		mode = "DETAIL"
	case p.accept("HISTORY"):
		mode = "HISTORY"
	case p.accept("QUERY"), p.peek().upper() == "SELECT":
		return nil, errs.E(errs.Unimplemented, "UNSUPPORTED_STATEMENT", "DESCRIBE QUERY is not supported")
	}
	p.accept("TABLE")
	p.accept("EXTENDED")
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	full, ti, err := st.describable(ctx, parts)
	if err != nil {
		return nil, err
	}
	if ti.TableType == catalog.TableView {
		if mode != "TABLE" {
			return nil, errs.E(errs.Invalid, "EXPECT_TABLE_NOT_VIEW", "%s is a view; DESCRIBE %s applies to tables", full, mode)
		}
		res := &Result{Columns: strCols("col_name", "data_type", "comment")}
		for _, c := range ti.Columns {
			res.Rows = append(res.Rows, []any{c.Name, c.TypeText, nullable(c.Comment)})
		}
		return res, nil
	}
	t, _, err := st.openTable(ctx, ti.StorageLocation)
	if err != nil {
		return nil, err
	}
	switch mode {
	case "HISTORY":
		limit := 0
		if p.accept("LIMIT") {
			limit, _ = strconv.Atoi(p.next().Text)
		}
		hist, err := t.History(ctx, limit)
		if err != nil {
			return nil, err
		}
		res := &Result{Columns: []Column{{Name: "version", Type: "LONG", TypeText: "bigint"}, {Name: "timestamp", Type: "TIMESTAMP", TypeText: "timestamp"},
			{Name: "operation", Type: "STRING", TypeText: "string"}, {Name: "operationParameters", Type: "STRING", TypeText: "string"},
			{Name: "operationMetrics", Type: "STRING", TypeText: "string"}, {Name: "engineInfo", Type: "STRING", TypeText: "string"}}}
		for _, h := range hist {
			var op, params, metrics, engine any
			if h.Info != nil {
				op = h.Info.Operation
				if r, ok := h.Info.Other["operationParameters"]; ok {
					params = string(r)
				}
				if r, ok := h.Info.Other["operationMetrics"]; ok {
					metrics = string(r)
				}
				engine = h.Info.EngineInfo
			}
			res.Rows = append(res.Rows, []any{h.Version, h.Timestamp.UTC(), op, params, metrics, engine})
		}
		return res, nil
	case "DETAIL":
		snap, err := t.Latest(ctx)
		if err != nil {
			return nil, err
		}
		var size int64
		for _, f := range snap.Files() {
			size += f.Size
		}
		props, _ := json.Marshal(snap.Configuration())
		pc, _ := json.Marshal(snap.PartitionColumns())
		res := &Result{Columns: []Column{{Name: "format", Type: "STRING", TypeText: "string"}, {Name: "id", Type: "STRING", TypeText: "string"},
			{Name: "name", Type: "STRING", TypeText: "string"}, {Name: "location", Type: "STRING", TypeText: "string"},
			{Name: "partitionColumns", Type: "STRING", TypeText: "string"}, {Name: "numFiles", Type: "LONG", TypeText: "bigint"},
			{Name: "sizeInBytes", Type: "LONG", TypeText: "bigint"}, {Name: "properties", Type: "STRING", TypeText: "string"},
			{Name: "minReaderVersion", Type: "INT", TypeText: "int"}, {Name: "minWriterVersion", Type: "INT", TypeText: "int"},
			{Name: "version", Type: "LONG", TypeText: "bigint"}}}
		res.Rows = [][]any{{"delta", snap.Metadata().ID, full, ti.StorageLocation, string(pc), int64(len(snap.Files())), size, string(props),
			snap.Protocol().MinReaderVersion, snap.Protocol().MinWriterVersion, snap.Version()}}
		return res, nil
	}
	snap, err := t.Latest(ctx)
	if err != nil {
		return nil, err
	}
	comments := map[string]string{}
	for _, c := range ti.Columns {
		comments[strings.ToLower(c.Name)] = c.Comment
	}
	res := &Result{Columns: strCols("col_name", "data_type", "comment")}
	for _, f := range snap.Schema().Fields {
		res.Rows = append(res.Rows, []any{f.Name, sqlTypeText(f.Type), nullable(comments[strings.ToLower(f.Name)])})
	}
	if pcs := snap.PartitionColumns(); len(pcs) > 0 {
		res.Rows = append(res.Rows, []any{"# Partition Information", "", nil}, []any{"# col_name", "data_type", "comment"})
		for _, pc := range pcs {
			if f := snap.Schema().Field(pc); f != nil {
				res.Rows = append(res.Rows, []any{f.Name, sqlTypeText(f.Type), nullable(comments[strings.ToLower(f.Name)])})
			}
		}
	}
	return res, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// allPages calls list with each page token in turn, from the first page
// until list returns no next token.
func allPages(list func(catalog.Page) (next string, err error)) error {
	page := catalog.Page{}
	for {
		next, err := list(page)
		if err != nil || next == "" {
			return err
		}
		page.Token = next
	}
}

// runShow handles SHOW CATALOGS, SHOW SCHEMAS [IN c], SHOW TABLES [IN c.s],
// SHOW GRANTS [principal] ON <type> name, SHOW COLUMNS, SHOW CREATE TABLE
// and SHOW FUNCTIONS (see show.go).
func (st *stmt) runShow(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	switch {
	case p.accept("COLUMNS"):
		return st.showColumns(ctx, p)
	case p.accept("CREATE", "TABLE"):
		st.kind = "SHOW CREATE TABLE"
		return st.showCreateTable(ctx, p)
	case p.accept("FUNCTIONS"), p.accept("USER", "FUNCTIONS"), p.accept("ALL", "FUNCTIONS"):
		st.kind = "SHOW FUNCTIONS"
		return st.showFunctions(ctx, p)
	case p.accept("SYSTEM", "FUNCTIONS"):
		return nil, errs.E(errs.Unimplemented, "UNSUPPORTED_STATEMENT", "SHOW SYSTEM FUNCTIONS is not supported: Lakebox lists the catalog's SQL functions (SHOW USER FUNCTIONS), not the built-in ones")
	case p.accept("CATALOGS"):
		res := &Result{Columns: strCols("catalog")}
		if err := allPages(func(page catalog.Page) (string, error) {
			l, err := st.e.cat.ListCatalogs(ctx, page)
			for _, c := range l.Catalogs {
				res.Rows = append(res.Rows, []any{c.Name})
			}
			return l.NextPageToken, err
		}); err != nil {
			return nil, err
		}
		return res, nil
	case p.accept("SCHEMAS"), p.accept("DATABASES"):
		c := st.sess.Catalog
		if p.accept("IN") || p.accept("FROM") {
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			c = n[0]
		}
		res := &Result{Columns: strCols("databaseName")}
		if err := allPages(func(page catalog.Page) (string, error) {
			l, err := st.e.cat.ListSchemas(ctx, c, page)
			for _, s := range l.Schemas {
				res.Rows = append(res.Rows, []any{s.Name})
			}
			return l.NextPageToken, err
		}); err != nil {
			return nil, err
		}
		return res, nil
	case p.accept("TABLES"), p.accept("VIEWS"):
		c, s := st.sess.Catalog, st.sess.Schema
		if p.accept("IN") || p.accept("FROM") {
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			if len(n) == 2 {
				c, s = n[0], n[1]
			} else {
				s = n[0]
			}
		}
		res := &Result{Columns: []Column{{Name: "database", Type: "STRING", TypeText: "string"}, {Name: "tableName", Type: "STRING", TypeText: "string"}, {Name: "isTemporary", Type: "BOOLEAN", TypeText: "boolean"}}}
		if err := allPages(func(page catalog.Page) (string, error) {
			l, err := st.e.cat.ListTables(ctx, c, s, page)
			for _, t := range l.Tables {
				res.Rows = append(res.Rows, []any{s, t.Name, false})
			}
			return l.NextPageToken, err
		}); err != nil {
			return nil, err
		}
		return res, nil
	case p.accept("GRANTS"), p.accept("GRANT"):
		principal := ""
		if p.peek().upper() != "ON" {
			t := p.next()
			principal = t.ident()
			if t.Kind == tkString {
				principal = t.strValue()
			}
		}
		if err := p.expect("ON"); err != nil {
			return nil, err
		}
		typ, full, err := st.securable(ctx, p)
		if err != nil {
			return nil, err
		}
		pl, err := st.e.cat.GetPermissions(ctx, typ, full, principal)
		if err != nil {
			return nil, err
		}
		res := &Result{Columns: strCols("principal", "action_type", "object_type", "object_key")}
		for _, a := range pl.PrivilegeAssignments {
			ps := make([]string, 0, len(a.Privileges))
			for _, pv := range a.Privileges {
				ps = append(ps, string(pv))
			}
			sort.Strings(ps)
			for _, pv := range ps {
				res.Rows = append(res.Rows, []any{a.Principal, pv, strings.ToUpper(string(typ)), full})
			}
		}
		return res, nil
	}
	return nil, syntaxErr(st.text, p.peek().Pos, "expected CATALOGS, SCHEMAS, TABLES, GRANTS, COLUMNS, CREATE TABLE or FUNCTIONS after SHOW")
}

// securable parses "<type> name" after ON in GRANT/REVOKE/SHOW GRANTS.
func (st *stmt) securable(ctx context.Context, p *parser) (catalog.SecurableType, string, error) {
	kind := p.next().upper()
	parts, err := p.name()
	if err != nil {
		return "", "", err
	}
	switch kind {
	case "CATALOG":
		return catalog.TypeCatalog, parts[0], nil
	case "SCHEMA", "DATABASE":
		if len(parts) == 1 {
			return catalog.TypeSchema, st.sess.Catalog + "." + parts[0], nil
		}
		return catalog.TypeSchema, parts[0] + "." + parts[1], nil
	case "TABLE", "VIEW", "FUNCTION", "VOLUME":
		full, err := st.scope(ctx).qualify(parts)
		t := map[string]catalog.SecurableType{"TABLE": catalog.TypeTable, "VIEW": catalog.TypeTable, "FUNCTION": catalog.TypeFunction, "VOLUME": catalog.TypeVolume}[kind]
		return t, full, err
	}
	return "", "", errs.E(errs.Invalid, "INVALID_SECURABLE", "unknown securable type %s; accepted: CATALOG, SCHEMA, TABLE, VIEW, FUNCTION, VOLUME", kind)
}

// runGrant handles GRANT privs ON <type> name TO principal and REVOKE …
// FROM principal.
func (st *stmt) runGrant(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	grant := toks[0].upper() == "GRANT"
	st.kind = toks[0].upper()
	var privs []catalog.Privilege
	for {
		var words []string
		for !p.done() && p.peek().Text != "," && p.peek().upper() != "ON" {
			words = append(words, p.next().Text)
		}
		if len(words) == 0 {
			return nil, syntaxErr(st.text, p.peek().Pos, "expected a privilege")
		}
		pv, err := catalog.ParsePrivilege(strings.Join(words, " "))
		if err != nil {
			return nil, err
		}
		privs = append(privs, pv)
		if p.peek().Text == "," {
			p.next()
			continue
		}
		break
	}
	if err := p.expect("ON"); err != nil {
		return nil, err
	}
	typ, full, err := st.securable(ctx, p)
	if err != nil {
		return nil, err
	}
	if grant {
		err = p.expect("TO")
	} else {
		err = p.expect("FROM")
	}
	if err != nil {
		return nil, err
	}
	t := p.next()
	principal := t.ident()
	if t.Kind == tkString {
		principal = t.strValue()
	}
	if t.Kind == tkWord {
		principal = t.Text
	}
	if principal == "" {
		return nil, syntaxErr(st.text, t.Pos, "expected a principal")
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	ch := catalog.PermissionsChange{Principal: principal}
	if grant {
		ch.Add = privs
	} else {
		ch.Remove = privs
	}
	if _, err := st.e.cat.UpdatePermissions(ctx, typ, full, catalog.UpdatePermissions{Changes: []catalog.PermissionsChange{ch}}); err != nil {
		return nil, err
	}
	st.touch(full)
	return okResult(), nil
}

// runMaintenance handles OPTIMIZE t [ZORDER BY (cols)] and VACUUM t
// [RETAIN n HOURS] [DRY RUN].
func (st *stmt) runMaintenance(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	verb := toks[0].upper()
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	full, err := st.scope(ctx).qualify(parts)
	if err != nil {
		return nil, err
	}
	ti, err := st.resolveTable(ctx, full, catalog.PrivModify)
	if err != nil {
		return nil, err
	}
	t, _, err := st.openTable(ctx, ti.StorageLocation)
	if err != nil {
		return nil, err
	}
	if verb == "OPTIMIZE" {
		var z []string
		if p.accept("ZORDER", "BY") {
			if z, err = p.identList(); err != nil {
				return nil, err
			}
		}
		if err := p.end(); err != nil {
			return nil, err
		}
		r, err := t.Optimize(ctx, delta.OptimizeOptions{ZOrderBy: z})
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(r)
		return &Result{Columns: strCols("path", "metrics"), Rows: [][]any{{full, string(b)}}}, nil
	}
	var retain *time.Duration
	if p.accept("RETAIN") {
		n, err := strconv.ParseFloat(p.next().Text, 64)
		if err != nil || !p.accept("HOURS") {
			return nil, syntaxErr(st.text, p.peek().Pos, "expected RETAIN <n> HOURS")
		}
		d := time.Duration(n * float64(time.Hour))
		retain = &d
	}
	dry := p.accept("DRY", "RUN")
	if err := p.end(); err != nil {
		return nil, err
	}
	opts := delta.VacuumOptions{DryRun: dry, Force: retain != nil}
	if retain != nil {
		opts.Retention = *retain
	}
	r, err := t.Vacuum(ctx, opts)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(r)
	return &Result{Columns: strCols("path", "metrics"), Rows: [][]any{{full, string(b)}}}, nil
}

// runRestore handles RESTORE [TABLE] t TO VERSION AS OF n | TIMESTAMP AS OF 'ts'.
func (st *stmt) runRestore(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	p.accept("TABLE")
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.expect("TO"); err != nil {
		return nil, err
	}
	full, err := st.scope(ctx).qualify(parts)
	if err != nil {
		return nil, err
	}
	ti, err := st.resolveTable(ctx, full, catalog.PrivModify)
	if err != nil {
		return nil, err
	}
	t, _, err := st.openTable(ctx, ti.StorageLocation)
	if err != nil {
		return nil, err
	}
	var version int64
	switch {
	case p.accept("VERSION", "AS", "OF"):
		if version, err = strconv.ParseInt(p.next().Text, 10, 64); err != nil {
			return nil, syntaxErr(st.text, p.peek().Pos, "expected a version number")
		}
	case p.accept("TIMESTAMP", "AS", "OF"):
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		snap, err := snapshotFor(ctx, t, &atClause{unit: "TIMESTAMP", value: s}, full)
		if err != nil {
			return nil, err
		}
		version = snap.Version()
	default:
		return nil, syntaxErr(st.text, p.peek().Pos, "expected VERSION AS OF or TIMESTAMP AS OF")
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	r, err := t.Restore(ctx, version, delta.RestoreOptions{})
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(r)
	return &Result{Columns: strCols("table", "metrics"), Rows: [][]any{{full, string(b)}}}, nil
}

// runCopyInto handles COPY INTO t FROM '/Volumes/...' FILEFORMAT = CSV|JSON|PARQUET
// [FORMAT_OPTIONS ('header' = 'true', ...)].
func (st *stmt) runCopyInto(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 2}
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.expect("FROM"); err != nil {
		return nil, err
	}
	path, err := p.str()
	if err != nil {
		return nil, err
	}
	if err := p.expect("FILEFORMAT"); err != nil {
		return nil, err
	}
	if p.peek().Text == "=" {
		p.next()
	}
	format := p.next().upper()
	opts := map[string]string{}
	for !p.done() {
		switch {
		case p.accept("FORMAT_OPTIONS"), p.accept("COPY_OPTIONS"):
			o, err := p.props()
			if err != nil {
				return nil, err
			}
			for k, v := range o {
				opts[strings.ToLower(k)] = v
			}
		default:
			return nil, syntaxErr(st.text, p.peek().Pos, "expected FORMAT_OPTIONS or COPY_OPTIONS")
		}
	}
	local, err := st.bindVolumePath(st.scope(ctx), path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(local, "/") || !strings.Contains(local[strings.LastIndex(local, "/"):], ".") {
		local = strings.TrimRight(local, "/") + "/*"
	}
	var reader string
	switch format {
	case "CSV":
		header := "true"
		if v, ok := opts["header"]; ok {
			header = v
		}
		reader = "read_csv(" + quoteString(local) + ", header=" + map[bool]string{true: "true", false: "false"}[header == "true"]
		if d, ok := opts["delimiter"]; ok {
			reader += ", delim=" + quoteString(d)
		} else if d, ok := opts["sep"]; ok {
			reader += ", delim=" + quoteString(d)
		}
		reader += ")"
	case "JSON":
		reader = "read_json_auto(" + quoteString(local) + ")"
	case "PARQUET":
		reader = "read_parquet(" + quoteString(local) + ", union_by_name=true)"
	default:
		return nil, errs.E(errs.Invalid, "INVALID_FILEFORMAT", "unsupported FILEFORMAT %s; accepted: CSV, JSON, PARQUET", format)
	}
	tg, err := st.openTarget(ctx, parts, false)
	if err != nil {
		return nil, err
	}
	in, err := st.openFor(ctx, tg)
	if err != nil {
		return nil, err
	}
	defer in.close()
	desc, err := in.query(ctx, "DESCRIBE SELECT * FROM "+reader, 0)
	if err != nil {
		return nil, err
	}
	have := map[string]string{}
	for _, r := range desc.Rows {
		n, _ := r[0].(string)
		have[strings.ToLower(n)] = n
	}
	var sel []string
	matched := 0
	for _, f := range tg.snap.Schema().Fields {
		if n, ok := have[strings.ToLower(f.Name)]; ok {
			sel = append(sel, "TRY_CAST("+quoteIdent(n)+" AS "+duckType(f.Type)+")")
			matched++
		} else {
			sel = append(sel, "NULL")
		}
	}
	if matched == 0 {
		return nil, errs.E(errs.Invalid, "COPY_INTO_SCHEMA_MISMATCH", "no column of the files matches a column of %s (files have: %s)", tg.full, strings.Join(sortedKeys(have), ", "))
	}
	n, err := st.insertIn(ctx, in, tg, "SELECT "+strings.Join(sel, ", ")+" FROM "+reader, nil, false, "COPY INTO")
	if err != nil {
		return nil, err
	}
	return affected(n, "num_inserted_rows", n), nil
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
