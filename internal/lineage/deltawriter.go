package lineage

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/delta"
)

// DeltaWriterOptions configure OpenDeltaWriter.
type DeltaWriterOptions struct {
	// DataDir holds the spools (<DataDir>/spool/lineage-table and
	// <DataDir>/spool/lineage-column).
	DataDir   string
	Warehouse blob.Bucket
	// BatchSize and Interval as in audit.BatcherOptions.
	BatchSize int
	Interval  time.Duration
	// AccountID, MetastoreID and WorkspaceID fill the columns of the same
	// names (defaults "lakebox", "lakebox", "0").
	AccountID, MetastoreID, WorkspaceID string
	Logger                              *slog.Logger
}

// DeltaWriter spools edges and commits them in batches, exactly once, to
// system.access.table_lineage (table-level edges) and
// system.access.column_lineage (column edges). It implements Sink.
type DeltaWriter struct {
	spools   [2]*audit.Spool
	batchers [2]*audit.Batcher
	tables   [2]*delta.Table
}

var _ Sink = (*DeltaWriter)(nil)

// OpenDeltaWriter opens the spools and starts the flushers. Errors: those of
// audit.OpenSpool.
func OpenDeltaWriter(o DeltaWriterOptions) (*DeltaWriter, error) {
	if o.AccountID == "" {
		o.AccountID = "lakebox"
	}
	if o.MetastoreID == "" {
		o.MetastoreID = "lakebox"
	}
	if o.WorkspaceID == "" {
		o.WorkspaceID = "0"
	}
	w := &DeltaWriter{}
	for i, name := range []string{"system.access.table_lineage", "system.access.column_lineage"} {
		st, _ := audit.SystemTableByName(name)
		sp, err := audit.OpenSpool(audit.SpoolDir(o.DataDir, []string{"lineage-table", "lineage-column"}[i]), audit.SpoolOptions{Logger: o.Logger})
		if err != nil {
			w.Close()
			return nil, err
		}
		w.spools[i] = sp
		w.tables[i] = delta.NewTable(o.Warehouse, st.Location)
		schema := st.Schema
		withCols := i == 1
		w.batchers[i] = audit.NewBatcher(audit.BatcherOptions{
			Spool: sp, Table: w.tables[i], Create: st.CreateOptions(), BatchSize: o.BatchSize, Interval: o.Interval, Logger: o.Logger,
			ToRows: func(r audit.Record) ([]delta.Row, error) {
				var edges []Edge
				if err := json.Unmarshal(r.Payload, &edges); err != nil {
					return nil, err
				}
				rows := make([]delta.Row, 0, len(edges))
				for i := range edges {
					rows = append(rows, edgeRow(schema, &edges[i], withCols, o))
				}
				return rows, nil
			},
		})
		w.batchers[i].Start()
	}
	return w, nil
}

// Write spools edges durably (table-level and column edges to their own
// spools). Errors: errs.Unavailable from the spool.
func (w *DeltaWriter) Write(edges []Edge) error {
	var parts [2][]Edge
	for _, e := range edges {
		i := 0
		if e.SourceColumn != "" {
			i = 1
		}
		parts[i] = append(parts[i], e)
	}
	for i, p := range parts {
		if len(p) == 0 {
			continue
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := w.spools[i].Append(b); err != nil {
			return err
		}
		w.batchers[i].Notify()
	}
	return nil
}

// Flush commits everything spooled now.
func (w *DeltaWriter) Flush(ctx context.Context) error {
	var errsOut []error
	for _, b := range w.batchers {
		if b != nil {
			errsOut = append(errsOut, b.Flush(ctx))
		}
	}
	return errors.Join(errsOut...)
}

// Tables returns the table-lineage and column-lineage Delta tables.
func (w *DeltaWriter) Tables() (tableLineage, columnLineage *delta.Table) {
	return w.tables[0], w.tables[1]
}

// Close stops the flushers after a final flush (30 s at most) and closes the
// spools; what could not be flushed stays spooled for the next start.
func (w *DeltaWriter) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errsOut []error
	for i := range w.batchers {
		if w.batchers[i] != nil {
			errsOut = append(errsOut, w.batchers[i].Stop(ctx))
		}
		if w.spools[i] != nil {
			errsOut = append(errsOut, w.spools[i].Close())
		}
	}
	return errors.Join(errsOut...)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nodeCols returns full name, catalog, schema, name, path, type of a node:
// TABLE nodes fill the table columns; any other node's name goes to path.
func nodeCols(n Node) []any {
	if n.Type == Table {
		parts := strings.SplitN(n.Name, ".", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		return []any{n.Name, nullable(parts[0]), nullable(parts[1]), nullable(parts[2]), nil, string(n.Type)}
	}
	return []any{nil, nil, nil, nil, nullable(n.Name), string(n.Type)}
}

func edgeRow(schema *delta.StructType, e *Edge, withCols bool, o DeltaWriterOptions) delta.Row {
	t := e.Event.Time.UTC()
	var meta any
	if len(e.Event.Metadata) > 0 {
		keys := make([]string, 0, len(e.Event.Metadata))
		for k := range e.Event.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := make([]delta.MapEntry, 0, len(keys))
		for _, k := range keys {
			m = append(m, delta.MapEntry{Key: k, Value: e.Event.Metadata[k]})
		}
		meta = m
	}
	row := delta.Row{o.AccountID, o.MetastoreID, o.WorkspaceID, nullable(e.Event.EntityType), nullable(e.Event.EntityID), nullable(e.Event.EntityRunID), meta}
	row = append(row, nodeCols(e.Source)...)
	if withCols {
		row = append(row, nullable(e.SourceColumn))
	}
	row = append(row, nodeCols(e.Target)...)
	if withCols {
		row = append(row, nullable(e.TargetColumn))
	}
	row = append(row, nullable(e.Event.CreatedBy), t, time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC),
		e.ID, nullable(e.Event.EventID), nullable(e.Event.StatementID))
	if len(row) != len(schema.Fields) {
		panic("lineage: edge row does not match the system table schema")
	}
	return row
}
