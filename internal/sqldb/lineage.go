package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/lakebox/lakebox/internal/lineage"
)

// LineageStore implements lineage.Store (table lineage_edges, migration 0200).
type LineageStore struct{ db *DB }

var _ lineage.Store = (*LineageStore)(nil)

// NewLineageStore returns the lineage store on db.
func NewLineageStore(db *DB) *LineageStore { return &LineageStore{db: db} }

const edgeCols = `id, source_type, source_name, source_column, target_type, target_name, target_column,
	event_id, event_time, created_by, created_by_id, entity_type, entity_id, entity_run_id, statement_id, entity_metadata`

// AddEdges implements lineage.Store.
func (s *LineageStore) AddEdges(ctx context.Context, edges []lineage.Edge) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range edges {
			meta := "{}"
			if len(e.Event.Metadata) > 0 {
				b, err := json.Marshal(e.Event.Metadata)
				if err != nil {
					return err
				}
				meta = string(b)
			}
			if _, err := s.db.exec(ctx, tx, `INSERT INTO lineage_edges (`+edgeCols+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				e.ID, string(e.Source.Type), e.Source.Name, e.SourceColumn, string(e.Target.Type), e.Target.Name, e.TargetColumn,
				e.Event.EventID, ms(e.Event.Time), e.Event.CreatedBy, e.Event.CreatedByID, e.Event.EntityType, e.Event.EntityID,
				e.Event.EntityRunID, e.Event.StatementID, meta); err != nil {
				return err
			}
		}
		return nil
	})
}

// Adjacent implements lineage.Store.
func (s *LineageStore) Adjacent(ctx context.Context, n lineage.Node, dir lineage.Direction, column string) ([]lineage.Edge, error) {
	side := "target"
	if dir == lineage.Downstream {
		side = "source"
	}
	q := `SELECT ` + edgeCols + ` FROM lineage_edges WHERE ` + side + `_type = ? AND ` + side + `_name = ? AND ` + side + `_column = ?`
	if column == "" {
		q += ` AND source_column = '' AND target_column = ''`
	}
	q += ` ORDER BY event_time DESC, id`
	rows, err := s.db.query(ctx, s.db.sql, q, string(n.Type), n.Name, column)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []lineage.Edge
	for rows.Next() {
		var e lineage.Edge
		var st, tt, meta string
		var t int64
		if err := rows.Scan(&e.ID, &st, &e.Source.Name, &e.SourceColumn, &tt, &e.Target.Name, &e.TargetColumn,
			&e.Event.EventID, &t, &e.Event.CreatedBy, &e.Event.CreatedByID, &e.Event.EntityType, &e.Event.EntityID,
			&e.Event.EntityRunID, &e.Event.StatementID, &meta); err != nil {
			return nil, translate(err)
		}
		e.Source.Type, e.Target.Type = lineage.NodeType(st), lineage.NodeType(tt)
		e.Event.Time = fromMS(t)
		if meta != "" && meta != "{}" {
			json.Unmarshal([]byte(meta), &e.Event.Metadata)
		}
		out = append(out, e)
	}
	return out, translate(rows.Err())
}
