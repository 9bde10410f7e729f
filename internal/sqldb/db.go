package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/lakebox/lakebox/internal/errs"
)

// Dialect names the SQL dialect of a DB.
type Dialect int

// The supported dialects.
const (
	SQLite Dialect = iota
	Postgres
)

// DB is a metadata database.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	// redacted is the URL without its password, for messages.
	redacted string

	// stmts caches prepared statements by (rebound) query text: SQLite
	// otherwise parses every statement on every call, which dominated the
	// cost of an authenticated request. nStmts bounds the cache so that
	// queries built with varying text cannot grow it without limit.
	stmts  sync.Map // string → *sql.Stmt
	nStmts atomic.Int64
}

// maxCachedStmts bounds the prepared-statement cache.
const maxCachedStmts = 2000

// Open connects to the database named by rawURL ("sqlite:///abs/path.db",
// "sqlite://relative.db", "sqlite::memory:" or "postgres://…"), checks that it
// answers and applies pending migrations.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	db, err := open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func open(ctx context.Context, rawURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		return openSQLite(ctx, rawURL)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	default:
		return nil, errs.E(errs.Invalid, "INVALID_METASTORE_URL",
			"unsupported metastore URL %q: use sqlite:///path/to/metastore.db or postgres://user@host:5432/db", Redact(rawURL))
	}
}

// SQLitePath returns the file path of a sqlite: URL ("" for in-memory).
func SQLitePath(rawURL string) (string, error) {
	rest := strings.TrimPrefix(rawURL, "sqlite:")
	switch {
	case rest == ":memory:" || rest == "//:memory:":
		return "", nil
	case strings.HasPrefix(rest, "///"):
		return rest[2:], nil
	case strings.HasPrefix(rest, "//"):
		return rest[2:], nil
	case rest != "":
		return rest, nil
	}
	return "", errs.E(errs.Invalid, "INVALID_METASTORE_URL", "sqlite URL %q has no path: use sqlite:///path/to/metastore.db", rawURL)
}

func openSQLite(ctx context.Context, rawURL string) (*DB, error) {
	path, err := SQLitePath(rawURL)
	if err != nil {
		return nil, err
	}
	dsn := "file::memory:?mode=memory&cache=shared"
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, errs.Wrap(errs.Invalid, "INVALID_METASTORE_URL", err, "cannot create the directory for metastore %s", path)
		}
		dsn = "file:" + path
	}
	dsn += sep(dsn) + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if path == "" {
		sdb.SetMaxOpenConns(1)
	} else {
		// database/sql keeps 2 idle connections by default: under
		// concurrent requests (token checks) the others were closed and
		// reopened, pragmas included, on every use.
		sdb.SetMaxIdleConns(16)
		sdb.SetConnMaxIdleTime(5 * time.Minute)
	}
	db := &DB{sql: sdb, dialect: SQLite, redacted: rawURL}
	if err := pingSQLite(ctx, sdb); err != nil {
		sdb.Close()
		return nil, errs.Wrap(errs.Unavailable, "METASTORE_UNAVAILABLE", err, "cannot open SQLite metastore %s (is the directory writable?)", path)
	}
	return db, nil
}

// pingSQLite opens the first connection. Switching a new file to WAL mode
// takes an exclusive lock that SQLite's busy handler does not wait for, so
// replicas opening a fresh file together retry on SQLITE_BUSY.
func pingSQLite(ctx context.Context, sdb *sql.DB) error {
	deadline := time.Now().Add(15 * time.Second)
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		err := sdb.PingContext(ctx)
		if err == nil || !errs.Is(translate(err), errs.Unavailable) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

func sep(dsn string) string {
	if strings.Contains(dsn, "?") {
		return "&"
	}
	return "?"
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errs.E(errs.Invalid, "INVALID_METASTORE_URL", "malformed PostgreSQL URL %q: use postgres://user:password@host:5432/dbname", Redact(rawURL))
	}
	sdb, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "INVALID_METASTORE_URL", err, "malformed PostgreSQL URL %q", Redact(rawURL))
	}
	sdb.SetMaxOpenConns(32)
	sdb.SetMaxIdleConns(8)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sdb.PingContext(pctx); err != nil {
		sdb.Close()
		return nil, errs.Wrap(errs.Unavailable, "METASTORE_UNAVAILABLE", errors.New(redactErr(err, u)),
			"cannot connect to PostgreSQL at %s (is it running, and does database %q exist?)", u.Host, strings.TrimPrefix(u.Path, "/"))
	}
	return &DB{sql: sdb, dialect: Postgres, redacted: Redact(rawURL)}, nil
}

func redactErr(err error, u *url.URL) string {
	msg := err.Error()
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}

// Redact returns rawURL with any password replaced.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Close closes the cached statements and the database.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return db.sql.Close()
}

// Dialect returns the database's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL returns the underlying *sql.DB (for stores in this package).
func (db *DB) SQL() *sql.DB { return db.sql }

// String describes the database without secrets.
func (db *DB) String() string { return db.redacted }

// Ping checks the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// rebind turns "?" placeholders into "$n" for PostgreSQL.
func (db *DB) rebind(q string) string {
	if db.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// querier is satisfied by *sql.DB and *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// prepared returns a statement for query bound to q (the pool or a
// transaction), from the cache when possible. It returns nil, nil when the
// statement should run unprepared: q is neither *sql.DB nor *sql.Tx, the
// cache is full, or preparing failed (the unprepared call then reports the
// error in context).
func (db *DB) prepared(ctx context.Context, q querier, query string) *sql.Stmt {
	var st *sql.Stmt
	if v, ok := db.stmts.Load(query); ok {
		st = v.(*sql.Stmt)
	} else {
		if db.nStmts.Load() >= maxCachedStmts {
			return nil
		}
		p, err := db.sql.PrepareContext(ctx, query)
		if err != nil {
			return nil
		}
		if v, loaded := db.stmts.LoadOrStore(query, p); loaded {
			p.Close()
			st = v.(*sql.Stmt)
		} else {
			db.nStmts.Add(1)
			st = p
		}
	}
	switch t := q.(type) {
	case *sql.DB:
		return st
	case *sql.Tx:
		return t.StmtContext(ctx, st)
	}
	return nil
}

func (db *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	query = db.rebind(query)
	if st := db.prepared(ctx, q, query); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, translate(err)
	}
	res, err := q.ExecContext(ctx, query, args...)
	return res, translate(err)
}

func (db *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	query = db.rebind(query)
	if st := db.prepared(ctx, q, query); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, translate(err)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	return rows, translate(err)
}

func (db *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	query = db.rebind(query)
	if st := db.prepared(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

// inTx runs fn in a transaction, committing if it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return translate(tx.Commit())
}

// translate maps driver errors to errs kinds; other errors pass through.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Wrap(errs.NotFound, "NOT_FOUND", err, "not found")
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return errs.Wrap(errs.AlreadyExists, "ALREADY_EXISTS", err, "already exists")
		case "23503":
			return errs.Wrap(errs.NotFound, "NOT_FOUND", err, "referenced object does not exist")
		case "40001", "40P01":
			return errs.Wrap(errs.Conflict, "CONFLICT", err, "concurrent update; retry")
		}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return errs.Wrap(errs.AlreadyExists, "ALREADY_EXISTS", err, "already exists")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return errs.Wrap(errs.NotFound, "NOT_FOUND", err, "referenced object does not exist")
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return errs.Wrap(errs.Unavailable, "METASTORE_BUSY", err, "metastore is busy; retry")
		}
	}
	return err
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
