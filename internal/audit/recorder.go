package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/delta"
)

// Options configure a Recorder.
type Options struct {
	// SpoolDir is the spool directory (app: <data-dir>/spool/audit).
	SpoolDir string
	// Warehouse holds the audit table at AuditTableRoot.
	Warehouse blob.Bucket
	// BatchSize and FlushInterval bound how long an event waits before
	// it is committed to the table (defaults 1000 events, 2 seconds).
	BatchSize     int
	FlushInterval time.Duration
	// AccountID and WorkspaceID fill the columns of the same names
	// (defaults "lakebox" and "0").
	AccountID, WorkspaceID string
	Logger                 *slog.Logger
	// NoSync disables fsync (benchmarks of the non-durable baseline only).
	NoSync bool
}

// Recorder records audit events: durably into its spool on Record, then in
// batches into system.access.audit. It is safe for concurrent use.
type Recorder struct {
	spool   *Spool
	batcher *Batcher
	table   *delta.Table
	o       Options
	log     *slog.Logger
}

// Open opens the spool (replaying what a crashed process left) and starts
// the flusher. Errors: those of OpenSpool.
func Open(o Options) (*Recorder, error) {
	if o.AccountID == "" {
		o.AccountID = "lakebox"
	}
	if o.WorkspaceID == "" {
		o.WorkspaceID = "0"
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sp, err := OpenSpool(o.SpoolDir, SpoolOptions{Logger: log, NoSync: o.NoSync})
	if err != nil {
		return nil, err
	}
	st, _ := SystemTableByName("system.access.audit")
	tbl := delta.NewTable(o.Warehouse, st.Location)
	r := &Recorder{spool: sp, table: tbl, o: o, log: log}
	r.batcher = NewBatcher(BatcherOptions{
		Spool: sp, Table: tbl, Create: st.CreateOptions(), ToRows: auditRows,
		BatchSize: o.BatchSize, Interval: o.FlushInterval, Logger: log,
	})
	r.batcher.Start()
	return r, nil
}

// SpoolDir returns the conventional spool directory for name under a data
// directory: <dataDir>/spool/<name>.
func SpoolDir(dataDir, name string) string { return filepath.Join(dataDir, "spool", name) }

// Table returns the audit Delta table.
func (r *Recorder) Table() *delta.Table { return r.table }

// Record validates ev, fills account/workspace/version defaults and appends
// it to the spool; it returns once the event is on disk. Errors:
// errs.Invalid for an invalid event; errs.Unavailable when the spool cannot
// be written.
func (r *Recorder) Record(ctx context.Context, ev *Event) error {
	if ev.AccountID == "" {
		ev.AccountID = r.o.AccountID
	}
	if ev.WorkspaceID == "" {
		ev.WorkspaceID = r.o.WorkspaceID
	}
	if ev.AuditLevel == "" {
		ev.AuditLevel = WorkspaceLevel
	}
	if err := ev.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode audit event: %w", err)
	}
	if _, err := r.spool.Append(b); err != nil {
		return err
	}
	r.batcher.Notify()
	return nil
}

// Flush commits every spooled event to the table now.
func (r *Recorder) Flush(ctx context.Context) error { return r.batcher.Flush(ctx) }

// Pending returns how many events are spooled but not yet committed.
func (r *Recorder) Pending() int { return r.spool.Len() }

// Close stops the flusher, flushes what is pending (up to 30 seconds) and
// closes the spool. Unflushed events stay in the spool for the next start.
func (r *Recorder) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ferr := r.batcher.Stop(ctx)
	if ferr != nil {
		r.log.Warn("audit flush at shutdown failed; events stay spooled", "pending", r.spool.Len(), "err", ferr.Error())
	}
	return r.spool.Close()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func auditRows(rec Record) ([]delta.Row, error) {
	var e Event
	if err := json.Unmarshal(rec.Payload, &e); err != nil {
		return nil, err
	}
	return []delta.Row{EventRow(&e)}, nil
}

// EventRow converts an event to a row of AuditSchema.
func EventRow(e *Event) delta.Row {
	t := e.EventTime.UTC()
	var params any
	if len(e.RequestParams) > 0 {
		keys := make([]string, 0, len(e.RequestParams))
		for k := range e.RequestParams {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := make([]delta.MapEntry, 0, len(keys))
		for _, k := range keys {
			m = append(m, delta.MapEntry{Key: k, Value: e.RequestParams[k]})
		}
		params = m
	}
	var secType, secName any
	if e.Securable != nil {
		secType, secName = e.Securable.Type, e.Securable.FullName
	}
	return delta.Row{
		nullable(e.AccountID), nullable(e.WorkspaceID), SchemaVersion, t,
		time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC),
		nullable(e.SourceIP), nullable(e.UserAgent), nullable(e.SessionID),
		delta.Row{nullable(e.Identity.Email), nullable(e.Identity.SubjectName), nullable(e.Identity.PrincipalID), nullable(e.Identity.PrincipalType)},
		e.ServiceName, e.ActionName, nullable(e.RequestID), params,
		delta.Row{int32(e.Response.StatusCode), nullable(e.Response.ErrorCode), nullable(e.Response.ErrorMessage), nullable(e.Response.Result)},
		nullable(e.AuditLevel), e.EventID,
		delta.Row{nullable(e.IdentityRunBy), nullable(e.IdentityRunAs), nullable(e.ActingResource)},
		secType, secName, e.LatencyMS, nullable(e.HTTPMethod), nullable(e.Path),
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// RowEvent converts a row read with schema (AuditSchema or a superset)
// back to an Event.
func RowEvent(schema *delta.StructType, row delta.Row) Event {
	get := func(name string) any {
		if i := schema.FieldIndex(name); i >= 0 && i < len(row) {
			return row[i]
		}
		return nil
	}
	var e Event
	e.AccountID, e.WorkspaceID = str(get("account_id")), str(get("workspace_id"))
	if t, ok := get("event_time").(time.Time); ok {
		e.EventTime = t
	}
	e.SourceIP, e.UserAgent, e.SessionID = str(get("source_ip_address")), str(get("user_agent")), str(get("session_id"))
	if id, ok := get("user_identity").(delta.Row); ok && len(id) >= 4 {
		e.Identity = Identity{Email: str(id[0]), SubjectName: str(id[1]), PrincipalID: str(id[2]), PrincipalType: str(id[3])}
	}
	e.ServiceName, e.ActionName, e.RequestID = str(get("service_name")), str(get("action_name")), str(get("request_id"))
	if m, ok := get("request_params").([]delta.MapEntry); ok {
		e.RequestParams = make(map[string]string, len(m))
		for _, kv := range m {
			e.RequestParams[str(kv.Key)] = str(kv.Value)
		}
	}
	if resp, ok := get("response").(delta.Row); ok && len(resp) >= 4 {
		code, _ := resp[0].(int32)
		e.Response = Response{StatusCode: int(code), ErrorCode: str(resp[1]), ErrorMessage: str(resp[2]), Result: str(resp[3])}
	}
	e.AuditLevel, e.EventID = str(get("audit_level")), str(get("event_id"))
	if im, ok := get("identity_metadata").(delta.Row); ok && len(im) >= 3 {
		e.IdentityRunBy, e.IdentityRunAs, e.ActingResource = str(im[0]), str(im[1]), str(im[2])
	}
	if t := str(get("securable_type")); t != "" {
		e.Securable = &Securable{Type: t, FullName: str(get("securable_full_name"))}
	}
	e.LatencyMS, _ = get("latency_ms").(float64)
	e.HTTPMethod, e.Path = str(get("http_method")), str(get("path"))
	return e
}
