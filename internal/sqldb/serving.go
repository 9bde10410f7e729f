package sqldb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"sync/atomic"

	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/serving"
)

// ServingStore implements serving.Store (tables serving_endpoints and
// serving_endpoint_events, migration 0500).
type ServingStore struct {
	db  *DB
	seq atomic.Int64
}

var _ serving.Store = (*ServingStore)(nil)

// NewServingStore returns the serving store on db.
func NewServingStore(db *DB) *ServingStore { return &ServingStore{db: db} }

// spec is the JSON-encoded part of an endpoint.
type servingSpec struct {
	Config      serving.EndpointConfig `json:"config"`
	Tags        []serving.Tag          `json:"tags,omitempty"`
	RateLimits  []serving.RateLimit    `json:"rate_limits,omitempty"`
	Description string                 `json:"description,omitempty"`
}

func encodeSpec(e *serving.Endpoint) (string, error) {
	b, err := json.Marshal(servingSpec{Config: e.Config, Tags: e.Tags, RateLimits: e.RateLimits, Description: e.Description})
	return string(b), err
}

// CreateEndpoint implements serving.Store.
func (s *ServingStore) CreateEndpoint(ctx context.Context, e *serving.Endpoint) error {
	spec, err := encodeSpec(e)
	if err != nil {
		return err
	}
	_, err = s.db.exec(ctx, s.db.sql, `INSERT INTO serving_endpoints (name, id, creator, created_at, updated_at, config_version, config_update, spec)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.Name, e.ID, e.Creator, e.CreatedMs, e.UpdatedMs, e.ConfigVersion, e.ConfigUpdate, spec)
	if errs.Is(err, errs.AlreadyExists) {
		return errs.Wrap(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", err, "serving endpoint %q already exists", e.Name)
	}
	return err
}

const servingCols = `name, id, creator, created_at, updated_at, config_version, config_update, spec`

func scanEndpoint(row interface{ Scan(...any) error }) (*serving.Endpoint, error) {
	var e serving.Endpoint
	var spec string
	if err := row.Scan(&e.Name, &e.ID, &e.Creator, &e.CreatedMs, &e.UpdatedMs, &e.ConfigVersion, &e.ConfigUpdate, &spec); err != nil {
		return nil, err
	}
	var sp servingSpec
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		return nil, err
	}
	e.Config, e.Tags, e.RateLimits, e.Description = sp.Config, sp.Tags, sp.RateLimits, sp.Description
	return &e, nil
}

// GetEndpoint implements serving.Store.
func (s *ServingStore) GetEndpoint(ctx context.Context, name string) (*serving.Endpoint, error) {
	e, err := scanEndpoint(s.db.queryRow(ctx, s.db.sql, `SELECT `+servingCols+` FROM serving_endpoints WHERE name = ?`, name))
	if err != nil {
		if errs.Is(translate(err), errs.NotFound) {
			return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "serving endpoint %q does not exist", name)
		}
		return nil, err
	}
	return e, nil
}

// ListEndpoints implements serving.Store.
func (s *ServingStore) ListEndpoints(ctx context.Context) ([]*serving.Endpoint, error) {
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+servingCols+` FROM serving_endpoints ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*serving.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// UpdateEndpoint implements serving.Store.
func (s *ServingStore) UpdateEndpoint(ctx context.Context, e *serving.Endpoint, prevVersion int64) error {
	spec, err := encodeSpec(e)
	if err != nil {
		return err
	}
	res, err := s.db.exec(ctx, s.db.sql, `UPDATE serving_endpoints SET updated_at = ?, config_version = ?, config_update = ?, spec = ?
		WHERE name = ? AND config_version = ?`, e.UpdatedMs, e.ConfigVersion, e.ConfigUpdate, spec, e.Name, prevVersion)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.GetEndpoint(ctx, e.Name); err != nil {
			return err
		}
		return errs.E(errs.Conflict, "RESOURCE_CONFLICT", "serving endpoint %q was changed concurrently; reload it and retry", e.Name)
	}
	return nil
}

// DeleteEndpoint implements serving.Store.
func (s *ServingStore) DeleteEndpoint(ctx context.Context, name string) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.db.exec(ctx, tx, `DELETE FROM serving_endpoints WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "serving endpoint %q does not exist", name)
		}
		_, err = s.db.exec(ctx, tx, `DELETE FROM serving_endpoint_events WHERE endpoint = ?`, name)
		return err
	})
}

// AddEvent implements serving.Store.
func (s *ServingStore) AddEvent(ctx context.Context, endpoint string, ev serving.Event) error {
	var b [12]byte
	rand.Read(b[:])
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO serving_endpoint_events (id, endpoint, ts, seq, event_type, served_name, message)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, hex.EncodeToString(b[:]), endpoint, ev.TimestampMs, s.seq.Add(1), ev.Type, ev.ServedName, ev.Message)
	return err
}

// Events implements serving.Store.
func (s *ServingStore) Events(ctx context.Context, endpoint string, limit int) ([]serving.Event, error) {
	rows, err := s.db.query(ctx, s.db.sql, `SELECT ts, event_type, served_name, message FROM serving_endpoint_events
		WHERE endpoint = ? ORDER BY ts DESC, seq DESC LIMIT ?`, endpoint, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []serving.Event
	for rows.Next() {
		var ev serving.Event
		if err := rows.Scan(&ev.TimestampMs, &ev.Type, &ev.ServedName, &ev.Message); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}
