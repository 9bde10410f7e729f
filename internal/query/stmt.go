package query

import (
	"context"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
)

// stmt is one statement being run.
type stmt struct {
	e     *Engine
	sess  *Session
	text  string
	id    string
	who   *auth.Identity
	start time.Time

	kind    string   // statement kind for audit
	touched []string // securables named

	dirs    []string          // directories DuckDB may read/write
	setup   []string          // Lakebox statements run before locking
	macros  map[string]string // catalog function → macro
	compat  map[string]bool   // compatibility macros defined (compatMacros)
	nextID  int
	sources []string // tables read, with versions (lineage)
	closers []blob.Bucket
	// remote maps the local mirror directory of a table on a remote
	// bucket to that bucket (see fileCache); release unpins cached files.
	remote  map[string]blob.Bucket
	release []func()
	// lastInfo is the analysis of the last bound AST (DML reads the
	// target's pushed-down predicates from it).
	lastInfo *astInfo
}

func (st *stmt) scope(ctx context.Context) scope {
	return scope{ctx: ctx, catalog: st.sess.Catalog, schema: st.sess.Schema}
}

// run dispatches on the statement's leading keywords.
func (st *stmt) run(ctx context.Context) (*Result, error) {
	st.macros = map[string]string{}
	defer func() {
		closeAll(st.closers)
		for _, r := range st.release {
			r()
		}
	}()
	toks, err := lex(st.text)
	if err != nil {
		return nil, err
	}
	kw := func(i int) string {
		if i < len(toks) {
			return toks[i].upper()
		}
		return ""
	}
	st.kind = kw(0)
	switch kw(0) {
	case "SELECT", "WITH", "VALUES", "FROM", "TABLE", "(":
		st.kind = "SELECT"
		return st.runQuery(ctx)
	case "USE":
		return st.runUse(ctx, toks)
	case "CREATE":
		return st.runCreate(ctx, toks)
	case "DROP":
		return st.runDrop(ctx, toks)
	case "ALTER":
		st.kind = "ALTER " + kw(1)
		return st.runAlter(ctx, toks)
	case "COMMENT":
		return st.runComment(ctx, toks)
	case "INSERT":
		return st.runInsert(ctx, toks)
	case "DELETE", "UPDATE", "MERGE":
		return st.runDML(ctx, toks)
	case "TRUNCATE":
		return st.runTruncate(ctx, toks)
	case "COPY":
		if kw(1) == "INTO" {
			st.kind = "COPY INTO"
			return st.runCopyInto(ctx, toks)
		}
	case "DESCRIBE", "DESC":
		st.kind = "DESCRIBE"
		return st.runDescribe(ctx, toks)
	case "SHOW":
		st.kind = "SHOW " + kw(1)
		return st.runShow(ctx, toks)
	case "OPTIMIZE", "VACUUM":
		return st.runMaintenance(ctx, toks)
	case "RESTORE":
		return st.runRestore(ctx, toks)
	case "GRANT", "REVOKE":
		return st.runGrant(ctx, toks)
	case "EXPLAIN":
		return nil, errs.E(errs.Unimplemented, "UNSUPPORTED_STATEMENT", "EXPLAIN is not supported")
	}
	if len(toks) == 0 {
		return nil, errs.E(errs.Invalid, "PARSE_EMPTY_STATEMENT", "the statement is empty")
	}
	switch kw(0) {
	case "ATTACH", "DETACH", "INSTALL", "LOAD", "SET", "RESET", "PRAGMA", "CALL", "EXPORT", "IMPORT", "COPY", "CHECKPOINT",
		"FORCE", "UPDATE_EXTENSIONS", "BEGIN", "COMMIT", "ROLLBACK", "ABORT", "VACUUM_DUCK", "PREPARE", "EXECUTE", "DEALLOCATE", "SUMMARIZE", "PIVOT", "UNPIVOT":
		return nil, denied("%s statements are not allowed in Lakebox SQL", kw(0))
	}
	return nil, syntaxErr(st.text, toks[0].Pos, "unknown statement "+toks[0].Text+"; supported: SELECT, WITH, INSERT, UPDATE, DELETE, MERGE, COPY INTO, TRUNCATE, CREATE, DROP, ALTER, COMMENT ON, DESCRIBE, SHOW, USE, GRANT, REVOKE, OPTIMIZE, VACUUM, RESTORE")
}

// runQuery binds and runs a query.
func (st *stmt) runQuery(ctx context.Context) (*Result, error) {
	q, err := st.bindQuery(st.scope(ctx), st.text)
	if err != nil {
		return nil, err
	}
	in, err := st.open(ctx)
	if err != nil {
		return nil, err
	}
	defer in.close()
	return in.query(ctx, q, st.e.o.MaxResultRows)
}

// open starts the statement's DuckDB with its setup and whitelist.
func (st *stmt) open(ctx context.Context) (*instance, error) {
	groups := []string{}
	for _, g := range st.who.Groups {
		groups = append(groups, quoteString(g))
	}
	if st.who.Admin {
		groups = append(groups, quoteString(auth.AdminsGroup))
	}
	user := quoteString(st.who.Principal.Name)
	setup := []string{
		"CREATE MACRO current_user() AS " + user,
		"CREATE MACRO session_user() AS " + user,
		"CREATE MACRO user() AS " + user,
		"CREATE MACRO current_catalog() AS " + quoteString(st.sess.Catalog),
		"CREATE MACRO current_schema() AS " + quoteString(st.sess.Schema),
		"CREATE MACRO current_database() AS " + quoteString(st.sess.Schema),
		"CREATE MACRO is_account_group_member(g) AS list_contains([" + strings.Join(groups, ",") + "]::VARCHAR[], g)",
		"CREATE MACRO is_member(g) AS list_contains([" + strings.Join(groups, ",") + "]::VARCHAR[], g)",
	}
	setup = append(setup, st.setup...)
	return st.e.open(ctx, dedupe(st.dirs), setup)
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// runUse handles USE CATALOG c, USE SCHEMA s, USE [DATABASE] c.s.
func (st *stmt) runUse(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	what := "SCHEMA"
	switch p.peek().upper() {
	case "CATALOG":
		p.next()
		what = "CATALOG"
	case "SCHEMA", "DATABASE":
		p.next()
	}
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	switch {
	case what == "CATALOG":
		if len(parts) != 1 {
			return nil, errs.E(errs.Invalid, "INVALID_IDENTIFIER", "USE CATALOG takes a catalog name")
		}
		if err := st.e.cat.Authorize(ctx, catalog.TypeCatalog, parts[0], catalog.PrivUseCatalog); err != nil {
			return nil, err
		}
		st.sess.Catalog, st.sess.Schema = parts[0], "default"
	default:
		var full string
		switch len(parts) {
		case 1:
			full = st.sess.Catalog + "." + parts[0]
		case 2:
			full = parts[0] + "." + parts[1]
		default:
			return nil, errs.E(errs.Invalid, "INVALID_IDENTIFIER", "USE SCHEMA takes schema or catalog.schema")
		}
		if err := st.e.cat.Authorize(ctx, catalog.TypeSchema, full, catalog.PrivUseSchema); err != nil {
			return nil, err
		}
		c, s, _ := strings.Cut(full, ".")
		st.sess.Catalog, st.sess.Schema = c, s
	}
	return okResult(), nil
}

func okResult() *Result {
	return &Result{Columns: []Column{{Name: "result", Type: "STRING", TypeText: "string"}}, Rows: [][]any{{"OK"}}}
}
