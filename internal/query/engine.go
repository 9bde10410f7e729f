package query

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// Options configure an Engine. Zero values take the defaults.
type Options struct {
	// MemoryLimit is DuckDB's memory_limit per statement (default "1GB").
	MemoryLimit string
	// Threads per statement (default 2).
	Threads int
	// Timeout bounds each statement (default 5 minutes).
	Timeout time.Duration
	// MaxConcurrent bounds statements running at once; others wait
	// (default 8).
	MaxConcurrent int
	// MaxResultRows bounds the rows a query may return (default 1,000,000).
	MaxResultRows int
	// TempDir is where DuckDB spills (default os.TempDir()/lakebox-duckdb).
	TempDir string
	// CacheDir, when set, lets the engine work on tables in remote buckets
	// (S3): their data files are cached there (emptied at start) and
	// written files are staged there before upload. Empty = tables on
	// local disk only (UNSUPPORTED_STORAGE otherwise).
	CacheDir string
	// CacheMaxBytes bounds the cached files not in use (default 10 GiB).
	CacheMaxBytes int64
	Lineage       LineageRecorder
	Audit         AuditRecorder
	Logger        *slog.Logger
	Now           func() time.Time
	NewID         func() string
}

// Engine runs SQL statements. It is safe for concurrent use.
type Engine struct {
	cat     Catalog
	storage Storage
	o       Options
	log     *slog.Logger
	sem     chan struct{}

	cache    *fileCache // nil = local tables only
	tables   tableCache // delta.Table per storage location, across statements
	parser   *sql.DB    // locked-down DuckDB used only to parse
	builtins map[string]bool
	mu       sync.Mutex

	// spares are fresh DuckDB instances created ahead of the statements
	// that will each use one (creating an instance is most of a small
	// statement's fixed cost). A spare has run nothing: open configures
	// and locks it exactly as a new one, and it serves one statement only.
	spareMu sync.Mutex
	spares  []*instance
	filling int
	closed  bool
	bg      sync.WaitGroup

	// beforeCommit, when set (tests), runs before each Delta commit.
	beforeCommit func()
}

// New returns an engine over a catalog and storage.
func New(cat Catalog, storage Storage, o Options) (*Engine, error) {
	if o.MemoryLimit == "" {
		o.MemoryLimit = "1GB"
	}
	if o.Threads <= 0 {
		o.Threads = 2
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 8
	}
	if o.MaxResultRows <= 0 {
		o.MaxResultRows = 1_000_000
	}
	if o.TempDir == "" {
		o.TempDir = filepath.Join(os.TempDir(), "lakebox-duckdb")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	if !validMemory.MatchString(o.MemoryLimit) {
		return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "invalid SQL memory limit %q: use a size such as 512MB or 4GB", o.MemoryLimit)
	}
	if err := os.MkdirAll(o.TempDir, 0o750); err != nil {
		return nil, fmt.Errorf("create DuckDB temp dir: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cat: cat, storage: storage, o: o, log: log, sem: make(chan struct{}, o.MaxConcurrent), builtins: map[string]bool{}}
	if o.CacheDir != "" {
		if o.CacheMaxBytes <= 0 {
			o.CacheMaxBytes = 10 << 30
		}
		var err error
		if e.cache, err = newFileCache(o.CacheDir, o.CacheMaxBytes); err != nil {
			return nil, err
		}
	}
	conn, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open DuckDB: %w", err)
	}
	e.parser = sql.OpenDB(conn)
	rows, err := e.parser.Query("SELECT DISTINCT lower(function_name), function_type FROM duckdb_functions()")
	if err != nil {
		return nil, fmt.Errorf("list DuckDB functions: %w", err)
	}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			rows.Close()
			return nil, err
		}
		if t != "table" && t != "table_macro" {
			e.builtins[n] = true
		}
	}
	rows.Close()
	for _, s := range []string{"SET enable_external_access=false", "SET lock_configuration=true"} {
		if _, err := e.parser.Exec(s); err != nil {
			return nil, fmt.Errorf("configure DuckDB parser: %w", err)
		}
	}
	e.spareMu.Lock()
	e.refillLocked()
	e.spareMu.Unlock()
	return e, nil
}

// maxSpares bounds the fresh DuckDB instances kept ready.
const maxSpares = 2

// newInstance creates an in-memory DuckDB database and its connection.
func newInstance(ctx context.Context) (*instance, error) {
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open DuckDB: %w", err)
	}
	db := sql.OpenDB(c)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open DuckDB connection: %w", err)
	}
	return &instance{db: db, conn: conn}, nil
}

// fresh returns a DuckDB instance that has run nothing: a spare when one
// is ready, else a new one.
func (e *Engine) fresh(ctx context.Context) (*instance, error) {
	e.spareMu.Lock()
	var in *instance
	if n := len(e.spares); n > 0 {
		in = e.spares[n-1]
		e.spares = e.spares[:n-1]
	}
	e.spareMu.Unlock()
	if in != nil {
		in.e = e
		return in, nil
	}
	in, err := newInstance(ctx)
	if err != nil {
		return nil, err
	}
	in.e = e
	return in, nil
}

// refillLocked starts creating spares up to maxSpares (e.spareMu held).
func (e *Engine) refillLocked() {
	for !e.closed && len(e.spares)+e.filling < maxSpares {
		e.filling++
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			in, err := newInstance(context.Background())
			e.spareMu.Lock()
			e.filling--
			if err == nil && !e.closed {
				e.spares = append(e.spares, in)
				in = nil
			}
			e.spareMu.Unlock()
			if err != nil {
				e.log.Warn("create spare DuckDB instance", "error", err)
			} else if in != nil {
				in.closeNow()
			}
		}()
	}
}

var validMemory = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

// Close releases the engine. It waits for instances being created or
// closed in the background.
func (e *Engine) Close() error {
	e.spareMu.Lock()
	e.closed = true
	e.spareMu.Unlock()
	e.bg.Wait()
	e.spareMu.Lock()
	spares := e.spares
	e.spares = nil
	e.spareMu.Unlock()
	for _, in := range spares {
		in.closeNow()
	}
	e.tables.close()
	return e.parser.Close()
}

// Session is the mutable state of a SQL session: the current catalog and
// schema (USE CATALOG / USE SCHEMA). The zero value means main.default.
type Session struct {
	Catalog string
	Schema  string
}

func (s *Session) defaults() {
	if s.Catalog == "" {
		s.Catalog = "main"
	}
	if s.Schema == "" {
		s.Schema = "default"
	}
}

// Column describes a result column.
type Column struct {
	Name string
	// Type is the Databricks type name (INT, BIGINT, STRING, ...); TypeText
	// the full type text (DECIMAL(10,2), ARRAY<INT>, ...).
	Type     string
	TypeText string
}

// Result is the outcome of a statement: columns and rows (statements
// without a result set return a one-row summary such as num_affected_rows).
type Result struct {
	StatementID string
	Columns     []Column
	Rows        [][]any
}

// Exec runs a script of one or more statements separated by semicolons as
// the identity in ctx and returns the result of the last one. Statements
// before a failing one stay committed (each statement is its own
// transaction). Errors: errs.Invalid (syntax, unknown column, type),
// errs.NotFound (TABLE_OR_VIEW_NOT_FOUND and friends),
// errs.PermissionDenied, errs.Conflict (a concurrent commit won),
// errs.Canceled (timeout or cancel), errs.ResourceExhausted, errs.TooLarge.
func (e *Engine) Exec(ctx context.Context, sess *Session, script string) (*Result, error) {
	sess.defaults()
	stmts, err := splitStatements(script)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return nil, errs.E(errs.Invalid, "PARSE_EMPTY_STATEMENT", "the statement is empty")
	}
	var res *Result
	for _, st := range stmts {
		if res, err = e.execOne(ctx, sess, st); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (e *Engine) execOne(ctx context.Context, sess *Session, text string) (*Result, error) {
	id := auth.IdentityFrom(ctx)
	if id == nil {
		return nil, errs.E(errs.Unauthenticated, "UNAUTHENTICATED", "running SQL needs an authenticated caller")
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, errs.Wrap(errs.Canceled, "CANCELED", ctx.Err(), "the statement was canceled while waiting to run")
	}
	defer func() { <-e.sem }()
	ctx, cancel := context.WithTimeout(ctx, e.o.Timeout)
	defer cancel()
	sid, _ := ctx.Value(statementIDKey{}).(string)
	if sid == "" {
		sid = e.o.NewID()
	}
	st := &stmt{e: e, sess: sess, text: text, id: sid, who: id, start: e.o.Now()}
	res, err := st.run(ctx)
	if err != nil && ctx.Err() != nil && errs.KindOf(err) != errs.Conflict {
		if errs.KindOf(err) == errs.Internal || errs.KindOf(err) == errs.Canceled {
			err = errs.Wrap(errs.Canceled, "QUERY_TIMEOUT_OR_CANCELED", err, "the statement was canceled or ran longer than the %s timeout", e.o.Timeout)
		}
	}
	e.audit(ctx, st, err)
	if err != nil {
		return nil, err
	}
	res.StatementID = st.id
	return res, nil
}

type statementIDKey struct{}

// WithStatementID returns ctx in which Exec gives its statements the id
// id (the SQL Statement Execution API's statement_id) instead of a fresh
// one, so audit events and lineage name the id the caller sees.
func WithStatementID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, statementIDKey{}, id)
}

func (e *Engine) audit(ctx context.Context, st *stmt, err error) {
	if e.o.Audit == nil {
		return
	}
	ev := AuditEvent{StatementID: st.id, Principal: st.who.Principal.Name, Statement: st.text, Kind: st.kind,
		Tables: st.touched, Status: "SUCCEEDED", DurationMS: e.o.Now().Sub(st.start).Milliseconds()}
	if err != nil {
		ev.Status, ev.ErrorCode = "FAILED", errorCode(err)
	}
	if aerr := e.o.Audit.RecordAudit(context.WithoutCancel(ctx), ev); aerr != nil {
		e.log.Warn("record audit event", "statement_id", st.id, "error", aerr)
	}
}

// errorCode returns the reason of err or its kind in Databricks spelling.
func errorCode(err error) string {
	if r := errs.ReasonOf(err); r != "" {
		return r
	}
	return strings.ToUpper(errs.KindOf(err).String())
}

// instance is one statement's DuckDB database.
type instance struct {
	db   *sql.DB
	conn *sql.Conn
	e    *Engine // set once handed to a statement
}

// open starts a fresh in-memory DuckDB (one that has run nothing), runs
// setup (Lakebox's own statements), whitelists dirs and locks the
// configuration.
func (e *Engine) open(ctx context.Context, dirs []string, setup []string) (*instance, error) {
	in, err := e.fresh(ctx)
	if err != nil {
		return nil, err
	}
	conn := in.conn
	var allowed []string
	for _, d := range dirs {
		allowed = append(allowed, quoteString(strings.TrimRight(d, "/")+"/"))
	}
	cfg := []string{
		"SET memory_limit=" + quoteString(e.o.MemoryLimit),
		fmt.Sprintf("SET threads=%d", e.o.Threads),
		"SET temp_directory=" + quoteString(filepath.Join(e.o.TempDir, e.o.NewID())),
		"SET TimeZone='UTC'",
		"SET autoinstall_known_extensions=false",
		"SET autoload_known_extensions=false",
		"SET allow_community_extensions=false",
	}
	cfg = append(cfg, setup...)
	cfg = append(cfg,
		"SET allowed_directories=["+strings.Join(allowed, ",")+"]",
		"SET enable_external_access=false",
		"SET lock_configuration=true")
	// One round trip: the statements run in order, the lock last.
	if _, err := conn.ExecContext(ctx, strings.Join(cfg, ";\n")); err != nil {
		in.close()
		return nil, duckErr(err, "")
	}
	return in, nil
}

// close releases a statement's instance in the background (it is never
// reused) and starts creating a spare in its place.
func (in *instance) close() {
	e := in.e
	if e == nil {
		in.closeNow()
		return
	}
	e.spareMu.Lock()
	defer e.spareMu.Unlock()
	if e.closed {
		in.closeNow()
		return
	}
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		in.closeNow()
		e.spareMu.Lock()
		e.refillLocked()
		e.spareMu.Unlock()
	}()
}

func (in *instance) closeNow() {
	in.conn.Close()
	in.db.Close()
}

// query runs a statement and collects its rows.
func (in *instance) query(ctx context.Context, q string, limit int) (*Result, error) {
	rows, err := in.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, duckErr(err, q)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, duckErr(err, q)
	}
	res := &Result{}
	for _, ct := range cts {
		t, tt := databricksType(ct.DatabaseTypeName())
		res.Columns = append(res.Columns, Column{Name: ct.Name(), Type: t, TypeText: tt})
	}
	for rows.Next() {
		if limit > 0 && len(res.Rows) >= limit {
			return nil, errs.E(errs.TooLarge, "RESULT_TOO_LARGE", "the result has more than %d rows; add a LIMIT or aggregate", limit)
		}
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, duckErr(err, q)
		}
		for i, v := range vals {
			vals[i] = normalize(v)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, duckErr(err, q)
	}
	return res, nil
}

// exec runs a statement without a result.
func (in *instance) exec(ctx context.Context, q string) error {
	if _, err := in.conn.ExecContext(ctx, q); err != nil {
		return duckErr(err, q)
	}
	return nil
}

// normalize turns DuckDB driver values into plain Go values for rendering.
func normalize(v any) any {
	switch x := v.(type) {
	case duckdb.Decimal:
		return x.String()
	case duckdb.UUID:
		return x.String()
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d us", x.Months, x.Days, x.Micros)
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	case duckdb.Map:
		m := map[string]any{}
		for k, val := range x {
			m[fmt.Sprint(normalize(k))] = normalize(val)
		}
		return m
	case duckdb.OrderedMap:
		return normalizeMap(&x)
	case *duckdb.OrderedMap:
		return normalizeMap(x)
	case driver.Valuer:
		if dv, err := x.Value(); err == nil {
			return dv
		}
	}
	return v
}

// normalizeMap renders a MAP as a JSON object (keys as text), as
// Databricks' JSON_ARRAY results do.
func normalizeMap(om *duckdb.OrderedMap) map[string]any {
	m := make(map[string]any, om.Len())
	vals := om.Values()
	for i, k := range om.Keys() {
		m[fmt.Sprint(normalize(k))] = normalize(vals[i])
	}
	return m
}

// duckErr classifies a DuckDB error: parser errors → Invalid with the
// position, catalog/binder errors → Invalid/NotFound naming the object,
// permission errors → PermissionDenied, interrupts → Canceled.
func duckErr(err error, q string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	first := strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
	var de *duckdb.Error
	kind := errs.Invalid
	reason := "SQL_ERROR"
	if ok := asDuck(err, &de); ok {
		switch de.Type {
		case duckdb.ErrorTypeParser:
			reason = "PARSE_SYNTAX_ERROR"
		case duckdb.ErrorTypeCatalog:
			reason = "UNRESOLVED_OBJECT"
			if strings.Contains(first, "does not exist") {
				kind = errs.NotFound
			}
		case duckdb.ErrorTypeBinder:
			reason = "UNRESOLVED_COLUMN"
		case duckdb.ErrorTypeConversion, duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeInvalidType:
			reason = "DATATYPE_MISMATCH"
		case duckdb.ErrorTypeOutOfRange:
			reason = "ARITHMETIC_OVERFLOW"
		case duckdb.ErrorTypeDivideByZero:
			reason = "DIVIDE_BY_ZERO"
		case duckdb.ErrorTypeConstraint:
			reason = "CONSTRAINT_VIOLATION"
		case duckdb.ErrorTypePermission:
			kind, reason = errs.PermissionDenied, "PERMISSION_DENIED"
		case duckdb.ErrorTypeInterrupt:
			kind, reason = errs.Canceled, "QUERY_CANCELED"
		case duckdb.ErrorTypeOutOfMemory:
			kind, reason = errs.ResourceExhausted, "OUT_OF_MEMORY"
		case duckdb.ErrorTypeInvalidInput:
			reason = "INVALID_INPUT"
		case duckdb.ErrorTypeIO, duckdb.ErrorTypeInternal, duckdb.ErrorTypeFatal:
			kind, reason = errs.Internal, "INTERNAL_ERROR"
		}
	}
	// Show the first lines only: the LINE excerpt is of Lakebox's rewritten
	// statement, not the user's, and may name internal paths.
	if i := strings.Index(msg, "\nLINE "); i >= 0 {
		msg = msg[:i]
	}
	shown := pathRE.ReplaceAllString(msg, "<file>")
	shown = strings.Join(strings.Fields(shown), " ")
	return errs.E(kind, reason, "%s", shown)
}

var pathRE = regexp.MustCompile(`'?/[^\s'",\]]*\.parquet'?`)

func asDuck(err error, target **duckdb.Error) bool {
	for e := err; e != nil; {
		if d, ok := e.(*duckdb.Error); ok {
			*target = d
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// serialize returns DuckDB's JSON AST of a SELECT statement. Errors:
// errs.Invalid PARSE_SYNTAX_ERROR with line and position.
func (e *Engine) serialize(ctx context.Context, text string) (map[string]any, error) {
	var raw string
	if err := e.parser.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql($1::VARCHAR) AS VARCHAR)", text).Scan(&raw); err != nil {
		return nil, duckErr(err, text)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("decode DuckDB AST: %w", err)
	}
	if b, _ := m["error"].(bool); b {
		msg, _ := m["error_message"].(string)
		// DuckDB reports the position as a string ("28"); accept a number too.
		switch p := m["position"].(type) {
		case float64:
			return nil, syntaxErr(text, int(p), msg)
		case string:
			if n, err := strconv.Atoi(p); err == nil {
				return nil, syntaxErr(text, n, msg)
			}
		}
		if strings.Contains(msg, "Only SELECT") {
			return nil, errs.E(errs.Invalid, "PARSE_SYNTAX_ERROR", "expected a query (SELECT, WITH, VALUES, TABLE)")
		}
		return nil, errs.E(errs.Invalid, "PARSE_SYNTAX_ERROR", "%s", msg)
	}
	sts, _ := m["statements"].([]any)
	if len(sts) != 1 {
		return nil, errs.E(errs.Invalid, "PARSE_SYNTAX_ERROR", "expected exactly one statement")
	}
	node, _ := sts[0].(map[string]any)
	return node, nil
}
