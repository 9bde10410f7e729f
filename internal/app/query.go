package app

import (
	"context"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/lineage"
	"github.com/lakebox/lakebox/internal/query"
	"github.com/lakebox/lakebox/internal/sqldb"
)

// QueryParts are the SQL engine and the registry of submitted statements.
type QueryParts struct {
	Engine     *query.Engine
	Statements *query.Statements
}

// openQuery builds the SQL engine on the catalog (--sql-memory-limit,
// --sql-timeout, --sql-max-concurrent; DuckDB spills under
// <data-dir>/tmp/duckdb and caches data files of tables on S3 under
// <data-dir>/cache/sql, at most 10 GiB not in use), records its lineage and an audit event per
// statement, and mounts the SQL Statement Execution API with statements,
// results and the link-signing key in the metastore, so that every replica
// answers for every statement.
func (a *App) openQuery(ctx context.Context) error {
	wh := warehouseURL(a.Config)
	storage := &catalogStorage{cfg: a.Config, warehouse: a.Warehouse, whURL: wh}
	o := query.Options{
		MemoryLimit: a.Config.SQLMemoryLimit, Timeout: a.Config.SQLTimeout, MaxConcurrent: a.Config.SQLMaxConcurrent,
		TempDir: filepath.Join(a.Config.DataDir, "tmp", "duckdb"), Logger: a.Log.With("subsystem", "query"),
		// Tables on S3: DuckDB reads cached copies of their data files and
		// writes into a local staging area uploaded before each commit.
		CacheDir: filepath.Join(a.Config.DataDir, "cache", "sql"),
	}
	if a.Audit.Lineage != nil {
		o.Lineage = sqlLineage{a.Audit.Lineage}
	}
	if a.Audit.Recorder != nil {
		o.Audit = sqlAudit{a.Audit.Recorder}
	}
	eng, err := query.New(query.ServiceCatalog{Service: a.Catalog, Directory: catalog.AuthDirectory{Auth: a.Auth}}, storage, o)
	if err != nil {
		return err
	}
	a.Query.Engine = eng
	a.closers = append(a.closers, eng.Close)
	key, err := sqldb.ServerKey(ctx, a.DB, "sql-result-links")
	if err != nil {
		return err
	}
	a.Query.Statements = query.NewStatements(eng, query.StatementsOptions{Logger: o.Logger,
		Store: sqldb.NewStatementStore(a.DB), Encode: httpapi.EncodeChunk})
	a.closers = append(a.closers, a.Query.Statements.Close)
	a.Handler.MountSQL(a.Query.Statements, httpapi.SQLOptions{LinkKey: key})
	return nil
}

// sqlLineage records the engine's lineage as table → table edges (and
// column edges where the engine derived them), the statement id as the
// event.
type sqlLineage struct{ svc *lineage.Service }

// RecordLineage implements query.LineageRecorder.
func (l sqlLineage) RecordLineage(ctx context.Context, ev query.LineageEvent) error {
	var sources []lineage.Node
	for _, s := range ev.Sources {
		name, _, _ := strings.Cut(s, "@")
		sources = append(sources, lineage.TableNode(name))
	}
	var cols []lineage.ColumnMapping
	targets := make([]string, 0, len(ev.Columns))
	for t := range ev.Columns {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		for _, src := range ev.Columns[t] {
			i := strings.LastIndexByte(src, '.')
			if i <= 0 {
				continue
			}
			cols = append(cols, lineage.ColumnMapping{Source: lineage.TableNode(src[:i]), SourceColumn: src[i+1:], TargetColumn: t})
		}
	}
	return l.svc.RecordTableLineage(ctx, sources, lineage.TableNode(ev.Target), cols, lineage.Event{
		EventID: ev.StatementID, EntityType: "SQL_STATEMENT", EntityID: ev.StatementID, StatementID: ev.StatementID,
		Metadata: map[string]string{"operation": ev.Operation, "target_version": strconv.FormatInt(ev.Version, 10)},
	})
}

// sqlAudit records every statement as a databrickssql.executeStatement
// audit event: the statement text with its literals but secrets redacted,
// the result and the latency.
type sqlAudit struct{ rec *audit.Recorder }

// RecordAudit implements query.AuditRecorder.
func (s sqlAudit) RecordAudit(ctx context.Context, ev query.AuditEvent) error {
	params := map[string]string{
		"commandText":    query.RedactStatement(ev.Statement, audit.Sensitive),
		"statement_id":   ev.StatementID,
		"statement_type": ev.Kind,
	}
	if len(ev.Tables) > 0 {
		params["tables"] = strings.Join(ev.Tables, ",")
	}
	resp := audit.Response{StatusCode: 200, Result: ev.Status}
	if ev.Status != "SUCCEEDED" {
		resp.ErrorCode = ev.ErrorCode
		switch ev.ErrorCode {
		case "PERMISSION_DENIED":
			resp.StatusCode = 403
		case "INTERNAL_ERROR", "INTERNAL":
			resp.StatusCode = 500
		default:
			resp.StatusCode = 400
		}
	}
	e := &audit.Event{
		EventID: uuid.NewString(), EventTime: time.Now().UTC().Add(-time.Duration(ev.DurationMS) * time.Millisecond),
		ServiceName: "databrickssql", ActionName: "executeStatement", RequestID: httpapi.RequestID(ctx),
		RequestParams: params, Response: resp, LatencyMS: float64(ev.DurationMS),
	}
	if id := auth.IdentityFrom(ctx); id != nil {
		p := id.Principal
		e.Identity = audit.Identity{Email: p.Email, SubjectName: p.Name, PrincipalID: p.ID, PrincipalType: string(p.Kind)}
		if e.Identity.Email == "" {
			e.Identity.Email = p.Name
		}
		e.IdentityRunBy = p.Name
	}
	if len(ev.Tables) > 0 && lineage.IsThreeLevel(ev.Tables[0]) {
		e.Securable = &audit.Securable{Type: "TABLE", FullName: ev.Tables[0]}
	}
	return s.rec.Record(ctx, e)
}
