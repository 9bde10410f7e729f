package app

import (
	"context"
	"time"

	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/lineage"
	"github.com/lakebox/lakebox/internal/sqldb"
)

// AuditParts are the audit log and the lineage graph.
type AuditParts struct {
	// Recorder spools every API call's audit event and commits them to
	// system.access.audit.
	Recorder *audit.Recorder
	// Lineage records and answers lineage; other subsystems call its
	// Record* methods. openCatalog installs its Visibility
	// (lineageVisibility: what the catalog, tracking and serving let the
	// caller see).
	Lineage *lineage.Service
	// LineageTables writes system.access.table_lineage / column_lineage.
	LineageTables *lineage.DeltaWriter
}

// auditFlushInterval bounds how long an audit event or lineage edge waits in
// its spool before it is committed to its system table.
const auditFlushInterval = 2 * time.Second

// openAudit opens the audit and lineage spools under the data directory
// (spool/audit, spool/lineage-*) and starts their flushers. It runs before
// the HTTP server is built, so the server can audit from the first request.
func (a *App) openAudit(_ context.Context) error {
	rec, err := audit.Open(audit.Options{
		SpoolDir: audit.SpoolDir(a.Config.DataDir, "audit"), Warehouse: a.Warehouse,
		FlushInterval: auditFlushInterval, Logger: a.Log,
	})
	if err != nil {
		return err
	}
	a.Audit.Recorder = rec
	a.closers = append(a.closers, rec.Close)
	lw, err := lineage.OpenDeltaWriter(lineage.DeltaWriterOptions{
		DataDir: a.Config.DataDir, Warehouse: a.Warehouse, Interval: auditFlushInterval, Logger: a.Log,
	})
	if err != nil {
		return err
	}
	a.Audit.LineageTables = lw
	a.closers = append(a.closers, lw.Close)
	a.Audit.Lineage = lineage.NewService(sqldb.NewLineageStore(a.DB), lineage.Options{Sink: lw, Logger: a.Log})
	return nil
}

// auditor returns the recorder as an httpapi.Auditor (nil when auditing is
// not open, so the interface is nil too).
func (a *App) auditor() httpapi.Auditor {
	if a.Audit.Recorder == nil {
		return nil
	}
	return a.Audit.Recorder
}

// mountAudit registers the audit and lineage endpoints.
func (a *App) mountAudit() {
	a.Handler.MountAudit(a.Audit.Recorder, time.Now)
	a.Handler.MountLineage(a.Audit.Lineage)
}
