package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
)

// CatalogStore implements catalog.Store.
type CatalogStore struct{ db *DB }

var _ catalog.Store = (*CatalogStore)(nil)

// NewCatalogStore returns the Unity Catalog store on db.
func NewCatalogStore(db *DB) *CatalogStore { return &CatalogStore{db: db} }

const secCols = `id, type, parent_id, name, full_name, owner, comment, location, managed, body, created_at, created_by, updated_at, updated_by, dropped_at`

func scanRecord(sc interface{ Scan(...any) error }) (catalog.Record, error) {
	var r catalog.Record
	var typ, body string
	var created, updated, dropped int64
	err := sc.Scan(&r.ID, &typ, &r.ParentID, &r.Name, &r.FullName, &r.Owner, &r.Comment, &r.Location, &r.Managed, &body,
		&created, &r.CreatedBy, &updated, &r.UpdatedBy, &dropped)
	r.Type, r.Body = catalog.SecurableType(typ), []byte(body)
	r.CreatedAt, r.UpdatedAt, r.DroppedAt = fromMS(created), fromMS(updated), fromMS(dropped)
	return r, translate(err)
}

func (s *CatalogStore) records(ctx context.Context, q querier, query string, args ...any) ([]catalog.Record, error) {
	rows, err := s.db.query(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, translate(rows.Err())
}

func recNotFound(t catalog.SecurableType, name string) error {
	return errs.E(errs.NotFound, "NOT_FOUND", "%s %q does not exist", t, name)
}

// Create implements catalog.Store.
func (s *CatalogStore) Create(ctx context.Context, r catalog.Record) error {
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO uc_securables (`+secCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, string(r.Type), r.ParentID, r.Name, r.FullName, r.Owner, r.Comment, r.Location, r.Managed, string(r.Body),
		ms(r.CreatedAt), r.CreatedBy, ms(r.UpdatedAt), r.UpdatedBy, ms(r.DroppedAt))
	if errs.Is(err, errs.AlreadyExists) {
		return errs.Wrap(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", err, "%s %q already exists", r.Type, r.FullName)
	}
	return err
}

// Get implements catalog.Store.
func (s *CatalogStore) Get(ctx context.Context, t catalog.SecurableType, fullName string) (catalog.Record, error) {
	r, err := scanRecord(s.db.queryRow(ctx, s.db.sql, `SELECT `+secCols+` FROM uc_securables WHERE type = ? AND full_name = ? AND dropped_at = 0`, string(t), fullName))
	if errs.Is(err, errs.NotFound) {
		return r, recNotFound(t, fullName)
	}
	return r, err
}

// GetByID implements catalog.Store.
func (s *CatalogStore) GetByID(ctx context.Context, id string) (catalog.Record, error) {
	r, err := scanRecord(s.db.queryRow(ctx, s.db.sql, `SELECT `+secCols+` FROM uc_securables WHERE id = ?`, id))
	if errs.Is(err, errs.NotFound) {
		return r, errs.E(errs.NotFound, "NOT_FOUND", "securable with id %q does not exist", id)
	}
	return r, err
}

// Lookup implements catalog.Store.
func (s *CatalogStore) Lookup(ctx context.Context, keys []catalog.Key) ([]catalog.Record, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var b strings.Builder
	args := make([]any, 0, 2*len(keys))
	b.WriteString(`SELECT ` + secCols + ` FROM uc_securables WHERE dropped_at = 0 AND (`)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("(type = ? AND full_name = ?)")
		args = append(args, string(k.Type), k.FullName)
	}
	b.WriteString(")")
	return s.records(ctx, s.db.sql, b.String(), args...)
}

// List implements catalog.Store.
func (s *CatalogStore) List(ctx context.Context, q catalog.ListQuery) ([]catalog.Record, error) {
	where, args := `type = ? AND full_name > ?`, []any{string(q.Type), q.After}
	if q.Dropped {
		where += ` AND dropped_at > 0`
	} else {
		where += ` AND dropped_at = 0`
	}
	if q.ParentID != "" {
		where += ` AND parent_id = ?`
		args = append(args, q.ParentID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	args = append(args, limit)
	return s.records(ctx, s.db.sql, `SELECT `+secCols+` FROM uc_securables WHERE `+where+` ORDER BY full_name, dropped_at DESC LIMIT ?`, args...)
}

// Update implements catalog.Store.
func (s *CatalogStore) Update(ctx context.Context, r catalog.Record) error {
	res, err := s.db.exec(ctx, s.db.sql, `UPDATE uc_securables SET owner = ?, comment = ?, location = ?, body = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
		r.Owner, r.Comment, r.Location, string(r.Body), ms(r.UpdatedAt), r.UpdatedBy, r.ID)
	if err != nil {
		return err
	}
	return mustAffect(res, recNotFound(r.Type, r.FullName))
}

// Rename implements catalog.Store.
func (s *CatalogStore) Rename(ctx context.Context, id, newName, newFullName string, at time.Time, by string) error {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		var old string
		if err := s.db.queryRow(ctx, tx, `SELECT full_name FROM uc_securables WHERE id = ?`, id).Scan(&old); err != nil {
			return translate(err)
		}
		if _, err := s.db.exec(ctx, tx, `UPDATE uc_securables SET name = ?, full_name = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
			newName, newFullName, ms(at), by, id); err != nil {
			return err
		}
		// Descendants: every record whose full name starts with old + ".",
		// below this one in the hierarchy (same id tree).
		prefix := old + "."
		_, err := s.db.exec(ctx, tx, `UPDATE uc_securables SET full_name = ? || substr(full_name, ?)
			WHERE substr(full_name, 1, ?) = ? AND type IN ('schema', 'table', 'volume', 'function', 'registered_model', 'staging_table')
			AND (parent_id = ? OR parent_id IN (SELECT id FROM uc_securables WHERE parent_id = ?))`,
			newFullName+".", len(prefix)+1, len(prefix), prefix, id, id)
		return err
	})
	if errs.Is(err, errs.AlreadyExists) {
		return errs.Wrap(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", err, "%q already exists", newFullName)
	}
	return err
}

func inList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// SetDropped implements catalog.Store.
func (s *CatalogStore) SetDropped(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.exec(ctx, s.db.sql, `UPDATE uc_securables SET dropped_at = ? WHERE id IN (`+inList(len(ids))+`)`, append([]any{ms(at)}, anys(ids)...)...)
	if errs.Is(err, errs.AlreadyExists) {
		return errs.Wrap(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", err, "a live securable with the same name exists")
	}
	return err
}

// Delete implements catalog.Store.
func (s *CatalogStore) Delete(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		// Explicit deletes, so PostgreSQL and SQLite agree even where
		// foreign keys are off.
		for _, t := range []string{"uc_grants", "uc_tags"} {
			if _, err := s.db.exec(ctx, tx, `DELETE FROM `+t+` WHERE securable_id IN (`+inList(len(ids))+`)`, anys(ids)...); err != nil {
				return err
			}
		}
		if _, err := s.db.exec(ctx, tx, `DELETE FROM uc_model_versions WHERE model_id IN (`+inList(len(ids))+`)`, anys(ids)...); err != nil {
			return err
		}
		_, err := s.db.exec(ctx, tx, `DELETE FROM uc_securables WHERE id IN (`+inList(len(ids))+`)`, anys(ids)...)
		return err
	})
}

// Children implements catalog.Store.
func (s *CatalogStore) Children(ctx context.Context, id string) ([]catalog.Record, error) {
	return s.records(ctx, s.db.sql, `SELECT `+secCols+` FROM uc_securables WHERE parent_id = ? ORDER BY full_name`, id)
}

// LatestDropped implements catalog.Store.
func (s *CatalogStore) LatestDropped(ctx context.Context, t catalog.SecurableType, fullName string) (catalog.Record, error) {
	r, err := scanRecord(s.db.queryRow(ctx, s.db.sql, `SELECT `+secCols+` FROM uc_securables WHERE type = ? AND full_name = ? AND dropped_at > 0
		ORDER BY dropped_at DESC LIMIT 1`, string(t), fullName))
	if errs.Is(err, errs.NotFound) {
		return r, errs.E(errs.NotFound, "NOT_FOUND", "no dropped %s named %q", t, fullName)
	}
	return r, err
}

// Expired implements catalog.Store.
func (s *CatalogStore) Expired(ctx context.Context, before time.Time, limit int) ([]catalog.Record, error) {
	return s.records(ctx, s.db.sql, `SELECT `+secCols+` FROM uc_securables WHERE dropped_at > 0 AND dropped_at < ? ORDER BY dropped_at LIMIT ?`, ms(before), limit)
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// Search implements catalog.Store.
func (s *CatalogStore) Search(ctx context.Context, q catalog.SearchQuery) ([]catalog.Record, error) {
	pat := likeEscape(q.Text)
	where := `s.dropped_at = 0 AND s.type <> 'staging_table' AND s.type <> 'metastore' AND (s.full_name > ? OR (s.full_name = ? AND s.type > ?))
		AND (LOWER(s.full_name) LIKE ? ESCAPE '\' OR LOWER(s.comment) LIKE ? ESCAPE '\' OR EXISTS (SELECT 1 FROM uc_tags t WHERE t.securable_id = s.id
		AND (LOWER(t.tag_key) LIKE ? ESCAPE '\' OR LOWER(t.tag_value) LIKE ? ESCAPE '\')))`
	args := []any{q.AfterName, q.AfterName, string(q.AfterType), pat, pat, pat, pat}
	if len(q.Types) > 0 {
		where += ` AND s.type IN (` + inList(len(q.Types)) + `)`
		for _, t := range q.Types {
			args = append(args, string(t))
		}
	}
	args = append(args, q.Limit)
	cols := strings.ReplaceAll("s."+secCols, ", ", ", s.")
	return s.records(ctx, s.db.sql, `SELECT `+cols+` FROM uc_securables s WHERE `+where+` ORDER BY s.full_name, s.type LIMIT ?`, args...)
}

// Grants implements catalog.Store.
func (s *CatalogStore) Grants(ctx context.Context, ids []string, principals []string) ([]catalog.Grant, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q := `SELECT securable_id, principal, privilege FROM uc_grants WHERE securable_id IN (` + inList(len(ids)) + `)`
	args := anys(ids)
	if principals != nil {
		if len(principals) == 0 {
			return nil, nil
		}
		q += ` AND principal IN (` + inList(len(principals)) + `)`
		args = append(args, anys(principals)...)
	}
	rows, err := s.db.query(ctx, s.db.sql, q+` ORDER BY principal, privilege`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.Grant
	for rows.Next() {
		var g catalog.Grant
		var p string
		if err := rows.Scan(&g.SecurableID, &g.Principal, &p); err != nil {
			return nil, translate(err)
		}
		g.Privilege = catalog.Privilege(p)
		out = append(out, g)
	}
	return out, translate(rows.Err())
}

// UpdateGrants implements catalog.Store.
func (s *CatalogStore) UpdateGrants(ctx context.Context, add, remove []catalog.Grant) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		for _, g := range remove {
			if _, err := s.db.exec(ctx, tx, `DELETE FROM uc_grants WHERE securable_id = ? AND principal = ? AND privilege = ?`,
				g.SecurableID, g.Principal, string(g.Privilege)); err != nil {
				return err
			}
		}
		for _, g := range add {
			if _, err := s.db.exec(ctx, tx, `INSERT INTO uc_grants (securable_id, principal, privilege) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				g.SecurableID, g.Principal, string(g.Privilege)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Tags implements catalog.Store.
func (s *CatalogStore) Tags(ctx context.Context, ids []string) ([]catalog.Tag, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.db.query(ctx, s.db.sql, `SELECT securable_id, column_name, tag_key, tag_value FROM uc_tags WHERE securable_id IN (`+
		inList(len(ids))+`) ORDER BY securable_id, column_name, tag_key`, anys(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.Tag
	for rows.Next() {
		var t catalog.Tag
		if err := rows.Scan(&t.SecurableID, &t.Column, &t.Key, &t.Value); err != nil {
			return nil, translate(err)
		}
		out = append(out, t)
	}
	return out, translate(rows.Err())
}

// SetTag implements catalog.Store.
func (s *CatalogStore) SetTag(ctx context.Context, t catalog.Tag, remove bool) error {
	if remove {
		_, err := s.db.exec(ctx, s.db.sql, `DELETE FROM uc_tags WHERE securable_id = ? AND column_name = ? AND tag_key = ?`, t.SecurableID, t.Column, t.Key)
		return err
	}
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO uc_tags (securable_id, column_name, tag_key, tag_value) VALUES (?, ?, ?, ?)
		ON CONFLICT (securable_id, column_name, tag_key) DO UPDATE SET tag_value = excluded.tag_value`, t.SecurableID, t.Column, t.Key, t.Value)
	return err
}

const mvCols = `model_id, version, id, status, location, body, created_at, created_by, updated_at, updated_by`

func scanMV(sc interface{ Scan(...any) error }) (catalog.ModelVersion, error) {
	var mv catalog.ModelVersion
	var body string
	var created, updated int64
	err := sc.Scan(&mv.ModelID, &mv.Version, &mv.ID, &mv.Status, &mv.Location, &body, &created, &mv.CreatedBy, &updated, &mv.UpdatedBy)
	mv.Body, mv.CreatedAt, mv.UpdatedAt = []byte(body), fromMS(created), fromMS(updated)
	return mv, translate(err)
}

// CreateModelVersion implements catalog.Store.
func (s *CatalogStore) CreateModelVersion(ctx context.Context, mv catalog.ModelVersion) (int64, error) {
	for attempt := 0; ; attempt++ {
		var v int64
		err := s.db.inTx(ctx, func(tx *sql.Tx) error {
			var cur sql.NullInt64
			if err := s.db.queryRow(ctx, tx, `SELECT MAX(version) FROM uc_model_versions WHERE model_id = ?`, mv.ModelID).Scan(&cur); err != nil {
				return translate(err)
			}
			v = cur.Int64 + 1
			_, err := s.db.exec(ctx, tx, `INSERT INTO uc_model_versions (`+mvCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				mv.ModelID, v, mv.ID, mv.Status, mv.Location, string(mv.Body), ms(mv.CreatedAt), mv.CreatedBy, ms(mv.UpdatedAt), mv.UpdatedBy)
			return err
		})
		if (errs.Is(err, errs.AlreadyExists) || errs.Is(err, errs.Conflict)) && attempt < 5 {
			continue
		}
		return v, err
	}
}

// GetModelVersion implements catalog.Store.
func (s *CatalogStore) GetModelVersion(ctx context.Context, modelID string, version int64) (catalog.ModelVersion, error) {
	mv, err := scanMV(s.db.queryRow(ctx, s.db.sql, `SELECT `+mvCols+` FROM uc_model_versions WHERE model_id = ? AND version = ?`, modelID, version))
	if errs.Is(err, errs.NotFound) {
		return mv, errs.E(errs.NotFound, "NOT_FOUND", "model version %d does not exist", version)
	}
	return mv, err
}

// ListModelVersions implements catalog.Store.
func (s *CatalogStore) ListModelVersions(ctx context.Context, modelID string, after int64, limit int) ([]catalog.ModelVersion, error) {
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+mvCols+` FROM uc_model_versions WHERE model_id = ? AND version > ? ORDER BY version LIMIT ?`, modelID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.ModelVersion
	for rows.Next() {
		mv, err := scanMV(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, mv)
	}
	return out, translate(rows.Err())
}

// UpdateModelVersion implements catalog.Store.
func (s *CatalogStore) UpdateModelVersion(ctx context.Context, mv catalog.ModelVersion) error {
	res, err := s.db.exec(ctx, s.db.sql, `UPDATE uc_model_versions SET status = ?, body = ?, updated_at = ?, updated_by = ? WHERE model_id = ? AND version = ?`,
		mv.Status, string(mv.Body), ms(mv.UpdatedAt), mv.UpdatedBy, mv.ModelID, mv.Version)
	if err != nil {
		return err
	}
	return mustAffect(res, errs.E(errs.NotFound, "NOT_FOUND", "model version %d does not exist", mv.Version))
}

// DeleteModelVersion implements catalog.Store.
func (s *CatalogStore) DeleteModelVersion(ctx context.Context, modelID string, version int64) error {
	res, err := s.db.exec(ctx, s.db.sql, `DELETE FROM uc_model_versions WHERE model_id = ? AND version = ?`, modelID, version)
	if err != nil {
		return err
	}
	return mustAffect(res, errs.E(errs.NotFound, "NOT_FOUND", "model version %d does not exist", version))
}
