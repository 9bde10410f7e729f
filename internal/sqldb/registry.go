package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/registry"
	"github.com/lakebox/lakebox/internal/tracking"
)

// RegistryStore implements registry.Store: the MLflow registry's extras,
// with reads and searches joined to the catalog's model tables.
type RegistryStore struct{ db *DB }

var _ registry.Store = (*RegistryStore)(nil)

// NewRegistryStore returns the registry store on db.
func NewRegistryStore(db *DB) *RegistryStore { return &RegistryStore{db: db} }

const modelRowCols = `s.id, s.full_name, s.comment, s.owner, s.created_at, s.updated_at`

const liveModels = `s.type = 'registered_model' AND s.dropped_at = 0`

func scanModelRow(sc interface{ Scan(...any) error }) (registry.ModelRow, error) {
	var m registry.ModelRow
	err := sc.Scan(&m.ID, &m.FullName, &m.Comment, &m.Owner, &m.CreatedAt, &m.UpdatedAt)
	return m, translate(err)
}

// ModelByName implements registry.Store.
func (s *RegistryStore) ModelByName(ctx context.Context, fullName string) (registry.ModelRow, error) {
	m, err := scanModelRow(s.db.queryRow(ctx, s.db.sql, `SELECT `+modelRowCols+` FROM uc_securables s WHERE `+liveModels+` AND s.full_name = ?`, fullName))
	if errs.Is(err, errs.NotFound) {
		return m, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=%s not found", fullName)
	}
	return m, err
}

var modelAttrCols = map[string]string{"full_name": "s.full_name", "name": "s.name", "creation_timestamp": "s.created_at", "last_updated_timestamp": "s.updated_at"}

// SearchModels implements registry.Store.
func (s *RegistryStore) SearchModels(ctx context.Context, q registry.ModelQuery) ([]registry.ModelRow, bool, error) {
	ts := &TrackingStore{db: s.db}
	conds := []string{liveModels}
	var args []any
	for _, c := range q.Filter {
		var cond string
		var a []any
		switch {
		case c.Entity == tracking.EntityTag && c.Op == "!=":
			// MLflow's registry reads tag != v as "no tag with value v" (so
			// the client's prompt exclusion keeps untagged models).
			cond, a = "s.id NOT IN (SELECT model_id FROM mlflow_registered_model_tags WHERE key = ? AND value = ?)", []any{c.Key, c.Str}
		case c.Entity == tracking.EntityTag:
			cond, a = ts.kvCond("mlflow_registered_model_tags", "model_id", "s.id", c)
		case c.IsNum:
			cond, a = numCond(modelAttrCols[c.Key], c)
		default:
			cond, a = strCond(s.db.dialect, modelAttrCols[c.Key], c)
		}
		conds, args = append(conds, cond), append(args, a...)
	}
	var order []string
	for _, o := range q.OrderBy {
		col := modelAttrCols[o.Key]
		if o.Key == "name" {
			col = "s.full_name"
		}
		if col == "" || o.Entity != tracking.EntityAttribute {
			continue
		}
		if o.Desc {
			col += " DESC"
		}
		order = append(order, col)
	}
	order = append(order, "s.full_name ASC")
	args = append(args, q.MaxResults+1, q.Offset)
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+modelRowCols+` FROM uc_securables s WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY `+strings.Join(order, ", ")+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []registry.ModelRow
	for rows.Next() {
		m, err := scanModelRow(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, translate(err)
	}
	more := len(out) > q.MaxResults
	if more {
		out = out[:q.MaxResults]
	}
	return out, more, nil
}

// ModelTags implements registry.Store.
func (s *RegistryStore) ModelTags(ctx context.Context, keys []string) (map[string][]registry.Tag, error) {
	out := map[string][]registry.Tag{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.db.query(ctx, s.db.sql, `SELECT model_id, key, value FROM mlflow_registered_model_tags WHERE model_id IN (`+placeholders(len(keys))+`) ORDER BY key`, strArgs(keys)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t registry.Tag
		if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
			return nil, translate(err)
		}
		out[id] = append(out[id], t)
	}
	return out, translate(rows.Err())
}

// SetModelTag implements registry.Store.
func (s *RegistryStore) SetModelTag(ctx context.Context, key, tag string, value *string) error {
	if value == nil {
		res, err := s.db.exec(ctx, s.db.sql, `DELETE FROM mlflow_registered_model_tags WHERE model_id = ? AND key = ?`, key, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "Registered model tag '%s' not found", tag)
		}
		return nil
	}
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO mlflow_registered_model_tags (model_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value`, key, tag, *value)
	return err
}

// Aliases implements registry.Store.
func (s *RegistryStore) Aliases(ctx context.Context, keys []string) (map[string][]registry.Alias, error) {
	out := map[string][]registry.Alias{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.db.query(ctx, s.db.sql, `SELECT model_id, alias, version FROM mlflow_model_aliases WHERE model_id IN (`+placeholders(len(keys))+`) ORDER BY alias`, strArgs(keys)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a registry.Alias
		var v int64
		if err := rows.Scan(&id, &a.Alias, &v); err != nil {
			return nil, translate(err)
		}
		a.Version = strconv.FormatInt(v, 10)
		out[id] = append(out[id], a)
	}
	return out, translate(rows.Err())
}

// SetAlias implements registry.Store.
func (s *RegistryStore) SetAlias(ctx context.Context, key, alias string, version int64) error {
	if version == 0 {
		res, err := s.db.exec(ctx, s.db.sql, `DELETE FROM mlflow_model_aliases WHERE model_id = ? AND alias = ?`, key, alias)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "alias %s not found", alias)
		}
		return nil
	}
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO mlflow_model_aliases (model_id, alias, version) VALUES (?, ?, ?)
		ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version`, key, alias, version)
	return err
}

// PutVersionExtra implements registry.Store.
func (s *RegistryStore) PutVersionExtra(ctx context.Context, x registry.VersionExtra, tables []tracking.TableRef) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_model_versions (model_id, version, stage, source, run_id, run_link, logged_model_id, user_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model_id, version) DO UPDATE SET stage = excluded.stage, source = excluded.source,
			run_id = excluded.run_id, run_link = excluded.run_link, logged_model_id = excluded.logged_model_id, user_id = excluded.user_id`,
			x.ModelKey, x.Version, x.Stage, x.Source, x.RunID, x.RunLink, x.LoggedModelID, x.UserID); err != nil {
			return err
		}
		for _, t := range tables {
			if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_model_version_tables (model_id, version, run_id, table_name, table_version, dataset_name, dataset_digest, context)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model_id, version, table_name, table_version, dataset_digest) DO NOTHING`,
				x.ModelKey, x.Version, t.RunID, t.Table, t.Version, t.DatasetName, t.Digest, t.Context); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetStage implements registry.Store.
func (s *RegistryStore) SetStage(ctx context.Context, key string, version int64, stage string, archiveOthers bool) ([]int64, error) {
	var changed []int64
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_model_versions (model_id, version) VALUES (?, ?) ON CONFLICT (model_id, version) DO NOTHING`, key, version); err != nil {
			return err
		}
		if _, err := s.db.exec(ctx, tx, `UPDATE mlflow_model_versions SET stage = ? WHERE model_id = ? AND version = ?`, stage, key, version); err != nil {
			return err
		}
		changed = append(changed, version)
		if !archiveOthers {
			return nil
		}
		rows, err := s.db.query(ctx, tx, `SELECT version FROM mlflow_model_versions WHERE model_id = ? AND stage = ? AND version != ?`, key, stage, version)
		if err != nil {
			return err
		}
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return translate(err)
			}
			changed = append(changed, v)
		}
		rows.Close()
		_, err = s.db.exec(ctx, tx, `UPDATE mlflow_model_versions SET stage = ? WHERE model_id = ? AND stage = ? AND version != ?`,
			registry.StageArchived, key, stage, version)
		return err
	})
	return changed, err
}

const versionRowCols = `v.model_id, v.version, v.status, v.body, v.created_at, v.updated_at, v.created_by, s.full_name,
	COALESCE(x.stage, 'None'), COALESCE(x.source, ''), COALESCE(x.run_id, ''), COALESCE(x.run_link, ''), COALESCE(x.logged_model_id, ''), COALESCE(x.user_id, '')`

const versionFrom = ` FROM uc_model_versions v JOIN uc_securables s ON s.id = v.model_id
	LEFT JOIN mlflow_model_versions x ON x.model_id = v.model_id AND x.version = v.version`

func scanVersionRows(rows *sql.Rows) ([]registry.VersionRow, error) {
	defer rows.Close()
	var out []registry.VersionRow
	for rows.Next() {
		var r registry.VersionRow
		var body string
		if err := rows.Scan(&r.ModelKey, &r.Version, &r.Status, &body, &r.CreatedAt, &r.UpdatedAt, &r.CatalogUser, &r.FullName,
			&r.Stage, &r.Source, &r.RunID, &r.RunLink, &r.LoggedModelID, &r.UserID); err != nil {
			return nil, translate(err)
		}
		var b struct {
			Source  string `json:"source"`
			RunID   string `json:"run_id"`
			Comment string `json:"comment"`
		}
		json.Unmarshal([]byte(body), &b)
		r.Comment = b.Comment
		if r.Source == "" {
			r.Source = b.Source
		}
		if r.RunID == "" {
			r.RunID = b.RunID
		}
		out = append(out, r)
	}
	return out, translate(rows.Err())
}

// Versions implements registry.Store.
func (s *RegistryStore) Versions(ctx context.Context, key string, versions []int64) ([]registry.VersionRow, error) {
	q := `SELECT ` + versionRowCols + versionFrom + ` WHERE v.model_id = ?`
	args := []any{key}
	if versions != nil {
		if len(versions) == 0 {
			return nil, nil
		}
		q += ` AND v.version IN (` + placeholders(len(versions)) + `)`
		for _, v := range versions {
			args = append(args, v)
		}
	}
	rows, err := s.db.query(ctx, s.db.sql, q+` ORDER BY v.version`, args...)
	if err != nil {
		return nil, err
	}
	return scanVersionRows(rows)
}

var versionAttrCols = map[string]string{
	"full_name": "s.full_name", "name": "s.name", "run_id": "x.run_id", "source_path": "x.source", "current_stage": "COALESCE(x.stage, 'None')",
	"version_number": "v.version", "creation_timestamp": "v.created_at", "last_updated_timestamp": "v.updated_at",
}

// SearchVersions implements registry.Store.
func (s *RegistryStore) SearchVersions(ctx context.Context, q registry.VersionQuery) ([]registry.VersionRow, bool, error) {
	conds := []string{liveModels}
	var args []any
	for _, c := range q.Filter {
		var cond string
		var a []any
		switch {
		case c.Entity == tracking.EntityTag:
			sub := `SELECT 1 FROM mlflow_model_version_tags t WHERE t.model_id = v.model_id AND t.version = v.version AND t.key = ?`
			switch c.Op {
			case "IS NULL":
				cond, a = `NOT EXISTS (`+sub+`)`, []any{c.Key}
			case "IS NOT NULL":
				cond, a = `EXISTS (`+sub+`)`, []any{c.Key}
			case "!=":
				cond, a = `NOT EXISTS (`+sub+` AND t.value = ?)`, []any{c.Key, c.Str}
			default:
				vc, va := strCond(s.db.dialect, "t.value", c)
				cond, a = `EXISTS (`+sub+` AND `+vc+`)`, append([]any{c.Key}, va...)
			}
		case c.IsNum:
			cond, a = numCond(versionAttrCols[c.Key], c)
		default:
			cond, a = strCond(s.db.dialect, versionAttrCols[c.Key], c)
		}
		conds, args = append(conds, cond), append(args, a...)
	}
	var order []string
	for _, o := range q.OrderBy {
		col := versionAttrCols[o.Key]
		if o.Key == "name" {
			col = "s.full_name"
		}
		if col == "" || o.Entity != tracking.EntityAttribute {
			continue
		}
		if o.Desc {
			col += " DESC"
		}
		order = append(order, col)
	}
	order = append(order, "s.full_name ASC", "v.version DESC")
	args = append(args, q.MaxResults+1, q.Offset)
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+versionRowCols+versionFrom+` WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY `+strings.Join(order, ", ")+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, false, err
	}
	out, err := scanVersionRows(rows)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > q.MaxResults
	if more {
		out = out[:q.MaxResults]
	}
	return out, more, nil
}

// VersionTags implements registry.Store.
func (s *RegistryStore) VersionTags(ctx context.Context, key string, versions []int64) (map[int64][]registry.Tag, error) {
	out := map[int64][]registry.Tag{}
	if len(versions) == 0 {
		return out, nil
	}
	args := []any{key}
	for _, v := range versions {
		args = append(args, v)
	}
	rows, err := s.db.query(ctx, s.db.sql, `SELECT version, key, value FROM mlflow_model_version_tags WHERE model_id = ? AND version IN (`+
		placeholders(len(versions))+`) ORDER BY key`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		var t registry.Tag
		if err := rows.Scan(&v, &t.Key, &t.Value); err != nil {
			return nil, translate(err)
		}
		out[v] = append(out[v], t)
	}
	return out, translate(rows.Err())
}

// SetVersionTag implements registry.Store.
func (s *RegistryStore) SetVersionTag(ctx context.Context, key string, version int64, tag string, value *string) error {
	if value == nil {
		res, err := s.db.exec(ctx, s.db.sql, `DELETE FROM mlflow_model_version_tags WHERE model_id = ? AND version = ? AND key = ?`, key, version, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "Model version tag '%s' not found", tag)
		}
		return nil
	}
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO mlflow_model_version_tags (model_id, version, key, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (model_id, version, key) DO UPDATE SET value = excluded.value`, key, version, tag, *value)
	return err
}

// VersionTables implements registry.Store.
func (s *RegistryStore) VersionTables(ctx context.Context, key string, version int64) ([]tracking.TableRef, error) {
	rows, err := s.db.query(ctx, s.db.sql, `SELECT run_id, table_name, table_version, dataset_name, dataset_digest, context
		FROM mlflow_model_version_tables WHERE model_id = ? AND version = ? ORDER BY table_name, table_version`, key, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tracking.TableRef
	for rows.Next() {
		var t tracking.TableRef
		if err := rows.Scan(&t.RunID, &t.Table, &t.Version, &t.DatasetName, &t.Digest, &t.Context); err != nil {
			return nil, translate(err)
		}
		out = append(out, t)
	}
	return out, translate(rows.Err())
}

// ---- webhooks ----

const webhookCols = `id, name, url, events, secret, description, status, model_name, created_at, updated_at`

func scanWebhook(sc interface{ Scan(...any) error }) (registry.Webhook, error) {
	var w registry.Webhook
	var events string
	err := sc.Scan(&w.ID, &w.Name, &w.URL, &events, &w.Secret, &w.Description, &w.Status, &w.ModelName, &w.CreatedAt, &w.UpdatedAt)
	for _, e := range strings.Split(events, ",") {
		if ent, act, ok := strings.Cut(e, "."); ok {
			w.Events = append(w.Events, registry.WebhookEvent{Entity: ent, Action: act})
		}
	}
	return w, translate(err)
}

func eventList(w registry.Webhook) string {
	ss := make([]string, len(w.Events))
	for i, e := range w.Events {
		ss[i] = e.String()
	}
	return strings.Join(ss, ",")
}

// CreateWebhook implements registry.WebhookStore.
func (s *RegistryStore) CreateWebhook(ctx context.Context, w registry.Webhook) error {
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO mlflow_webhooks (`+webhookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.Name, w.URL, eventList(w), w.Secret, w.Description, w.Status, w.ModelName, w.CreatedAt, w.UpdatedAt)
	return err
}

// GetWebhook implements registry.WebhookStore.
func (s *RegistryStore) GetWebhook(ctx context.Context, id string) (registry.Webhook, error) {
	w, err := scanWebhook(s.db.queryRow(ctx, s.db.sql, `SELECT `+webhookCols+` FROM mlflow_webhooks WHERE id = ?`, id))
	if errs.Is(err, errs.NotFound) {
		return w, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "Webhook with ID %s not found", id)
	}
	return w, err
}

// ListWebhooks implements registry.WebhookStore.
func (s *RegistryStore) ListWebhooks(ctx context.Context) ([]registry.Webhook, error) {
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+webhookCols+` FROM mlflow_webhooks ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []registry.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, translate(rows.Err())
}

// UpdateWebhook implements registry.WebhookStore.
func (s *RegistryStore) UpdateWebhook(ctx context.Context, w registry.Webhook) error {
	res, err := s.db.exec(ctx, s.db.sql, `UPDATE mlflow_webhooks SET name = ?, url = ?, events = ?, secret = ?, description = ?, status = ?, updated_at = ? WHERE id = ?`,
		w.Name, w.URL, eventList(w), w.Secret, w.Description, w.Status, w.UpdatedAt, w.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "Webhook with ID %s not found", w.ID)
	}
	return nil
}

// DeleteWebhook implements registry.WebhookStore.
func (s *RegistryStore) DeleteWebhook(ctx context.Context, id string) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.db.exec(ctx, tx, `DELETE FROM mlflow_webhook_deliveries WHERE webhook_id = ?`, id); err != nil {
			return err
		}
		res, err := s.db.exec(ctx, tx, `DELETE FROM mlflow_webhooks WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "Webhook with ID %s not found", id)
		}
		return nil
	})
}

const deliveryCols = `id, webhook_id, event, payload, status, attempts, next_attempt_at, last_error, last_status, created_at, delivered_at`

func scanDeliveries(rows *sql.Rows) ([]registry.Delivery, error) {
	defer rows.Close()
	var out []registry.Delivery
	for rows.Next() {
		var d registry.Delivery
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.Event, &d.Payload, &d.Status, &d.Attempts, &d.NextAttemptAt, &d.LastError, &d.LastStatus,
			&d.CreatedAt, &d.DeliveredAt); err != nil {
			return nil, translate(err)
		}
		out = append(out, d)
	}
	return out, translate(rows.Err())
}

// Enqueue implements registry.WebhookStore.
func (s *RegistryStore) Enqueue(ctx context.Context, ds []registry.Delivery) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		for _, d := range ds {
			if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_webhook_deliveries (`+deliveryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				d.ID, d.WebhookID, d.Event, d.Payload, d.Status, d.Attempts, d.NextAttemptAt, d.LastError, d.LastStatus, d.CreatedAt, d.DeliveredAt); err != nil {
				return err
			}
		}
		return nil
	})
}

// DueDeliveries implements registry.WebhookStore.
func (s *RegistryStore) DueDeliveries(ctx context.Context, now int64, limit int) ([]registry.Delivery, error) {
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+deliveryCols+` FROM mlflow_webhook_deliveries WHERE status = 'PENDING' AND next_attempt_at <= ?
		ORDER BY next_attempt_at, created_at LIMIT ?`, now, limit)
	if err != nil {
		return nil, err
	}
	return scanDeliveries(rows)
}

// ClaimDelivery implements registry.WebhookStore.
func (s *RegistryStore) ClaimDelivery(ctx context.Context, id string, prev, until int64) (bool, error) {
	res, err := s.db.exec(ctx, s.db.sql, `UPDATE mlflow_webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'PENDING' AND next_attempt_at = ?`, until, id, prev)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishDelivery implements registry.WebhookStore.
func (s *RegistryStore) FinishDelivery(ctx context.Context, d registry.Delivery) error {
	_, err := s.db.exec(ctx, s.db.sql, `UPDATE mlflow_webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, last_status = ?, delivered_at = ?
		WHERE id = ?`, d.Status, d.Attempts, d.NextAttemptAt, d.LastError, d.LastStatus, d.DeliveredAt, d.ID)
	return err
}

// Deliveries implements registry.WebhookStore.
func (s *RegistryStore) Deliveries(ctx context.Context, webhookID string, limit int) ([]registry.Delivery, error) {
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+deliveryCols+` FROM mlflow_webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id LIMIT ?`, webhookID, limit)
	if err != nil {
		return nil, err
	}
	return scanDeliveries(rows)
}
