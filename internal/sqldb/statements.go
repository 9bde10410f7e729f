package sqldb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/query/stmtstore"
)

// StatementStore implements stmtstore.Store (tables sql_statements and
// sql_statement_chunks, migration 0600).
type StatementStore struct{ db *DB }

var _ stmtstore.Store = (*StatementStore)(nil)

// NewStatementStore returns the SQL statement store on db.
func NewStatementStore(db *DB) *StatementStore { return &StatementStore{db: db} }

func statementNotFound(id string) error {
	return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "statement %q does not exist (or has expired)", id)
}

// Create implements stmtstore.Store.
func (s *StatementStore) Create(ctx context.Context, r stmtstore.Record) error {
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO sql_statements (id, owner, state, created_at, finished_at, heartbeat_at, cancel_requested, meta)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Owner, r.State, r.CreatedMs, r.FinishedMs, r.HeartbeatMs, boolInt(r.CancelRequested), string(r.Meta))
	if errs.Is(err, errs.AlreadyExists) {
		return errs.Wrap(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", err, "statement %q exists already", r.ID)
	}
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Finish implements stmtstore.Store.
func (s *StatementStore) Finish(ctx context.Context, r stmtstore.Record, chunks [][]byte) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.db.exec(ctx, tx, `UPDATE sql_statements SET state = ?, finished_at = ?, meta = ? WHERE id = ? AND finished_at = 0`,
			r.State, r.FinishedMs, string(r.Meta), r.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := s.db.queryRow(ctx, tx, `SELECT 1 FROM sql_statements WHERE id = ?`, r.ID).Scan(&one); err != nil {
				if errs.Is(translate(err), errs.NotFound) {
					return statementNotFound(r.ID)
				}
				return translate(err)
			}
			return nil // finished already
		}
		for i, c := range chunks {
			if _, err := s.db.exec(ctx, tx, `INSERT INTO sql_statement_chunks (statement_id, chunk_index, data) VALUES (?, ?, ?)`, r.ID, i, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// Get implements stmtstore.Store.
func (s *StatementStore) Get(ctx context.Context, id string) (stmtstore.Record, error) {
	var r stmtstore.Record
	var cancel int
	var meta string
	err := s.db.queryRow(ctx, s.db.sql, `SELECT id, owner, state, created_at, finished_at, heartbeat_at, cancel_requested, meta
		FROM sql_statements WHERE id = ?`, id).Scan(&r.ID, &r.Owner, &r.State, &r.CreatedMs, &r.FinishedMs, &r.HeartbeatMs, &cancel, &meta)
	if err != nil {
		if err = translate(err); errs.Is(err, errs.NotFound) {
			return stmtstore.Record{}, statementNotFound(id)
		}
		return stmtstore.Record{}, err
	}
	r.CancelRequested, r.Meta = cancel != 0, []byte(meta)
	return r, nil
}

// Chunk implements stmtstore.Store.
func (s *StatementStore) Chunk(ctx context.Context, id string, n int) ([]byte, error) {
	var b []byte
	err := s.db.queryRow(ctx, s.db.sql, `SELECT data FROM sql_statement_chunks WHERE statement_id = ? AND chunk_index = ?`, id, n).Scan(&b)
	if err != nil {
		if err = translate(err); errs.Is(err, errs.NotFound) {
			return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "statement %q has no result chunk %d (or it expired)", id, n)
		}
		return nil, err
	}
	return b, nil
}

// Heartbeat implements stmtstore.Store.
func (s *StatementStore) Heartbeat(ctx context.Context, ids []string, nowMs int64) ([]string, error) {
	var cancel []string
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 512)]
		ids = ids[len(batch):]
		// Pad the id list to a power of two (repeating an id) so that few
		// distinct statements reach the prepared-statement cache.
		n := 1
		for n < len(batch) {
			n *= 2
		}
		for len(batch) < n {
			batch = append(batch[:len(batch):len(batch)], batch[0])
		}
		args := append([]any{nowMs}, anys(batch)...)
		if _, err := s.db.exec(ctx, s.db.sql, `UPDATE sql_statements SET state = 'RUNNING', heartbeat_at = ?
			WHERE finished_at = 0 AND id IN (`+inList(len(batch))+`)`, args...); err != nil {
			return nil, err
		}
		rows, err := s.db.query(ctx, s.db.sql, `SELECT id FROM sql_statements WHERE cancel_requested = 1 AND finished_at = 0 AND id IN (`+inList(len(batch))+`)`, args[1:]...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			cancel = append(cancel, id)
		}
		if err := rows.Close(); err != nil {
			return nil, translate(err)
		}
	}
	return cancel, nil
}

// RequestCancel implements stmtstore.Store.
func (s *StatementStore) RequestCancel(ctx context.Context, id string) error {
	res, err := s.db.exec(ctx, s.db.sql, `UPDATE sql_statements SET cancel_requested = 1 WHERE id = ? AND finished_at = 0`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		_, err := s.Get(ctx, id)
		return err
	}
	return nil
}

// Expire implements stmtstore.Store.
func (s *StatementStore) Expire(ctx context.Context, dropBeforeMs, forgetBeforeMs int64) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.db.exec(ctx, tx, `DELETE FROM sql_statement_chunks WHERE statement_id IN
			(SELECT id FROM sql_statements WHERE finished_at > 0 AND finished_at < ?)`, dropBeforeMs); err != nil {
			return err
		}
		_, err := s.db.exec(ctx, tx, `DELETE FROM sql_statements WHERE finished_at > 0 AND finished_at < ?`, forgetBeforeMs)
		return err
	})
}

// ServerKey returns the secret key named name that every replica on this
// metastore shares, creating a random 32-byte one if there is none yet
// (concurrent first calls agree on one key).
func ServerKey(ctx context.Context, db *DB, name string) ([]byte, error) {
	var key []byte
	err := db.queryRow(ctx, db.sql, `SELECT value FROM server_keys WHERE name = ?`, name).Scan(&key)
	if err == nil {
		return key, nil
	}
	if err = translate(err); !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	key = make([]byte, 32)
	rand.Read(key)
	if _, err := db.exec(ctx, db.sql, `INSERT INTO server_keys (name, value, created_at) VALUES (?, ?, ?)`, name, key, time.Now().UnixMilli()); err != nil && !errs.Is(err, errs.AlreadyExists) {
		return nil, err
	}
	err = db.queryRow(ctx, db.sql, `SELECT value FROM server_keys WHERE name = ?`, name).Scan(&key)
	return key, translate(err)
}
