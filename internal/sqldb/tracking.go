package sqldb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/tracking"
)

// TrackingStore implements tracking.Store on SQLite and PostgreSQL.
type TrackingStore struct{ db *DB }

var _ tracking.Store = (*TrackingStore)(nil)

// NewTrackingStore returns the tracking store on db.
func NewTrackingStore(db *DB) *TrackingStore { return &TrackingStore{db: db} }

// batchRows bounds the rows of one multi-row INSERT (9 columns × 500 stays
// far below SQLite's and PostgreSQL's bind-parameter limits).
const batchRows = 500

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func rowsPlaceholders(rows, cols int) string {
	one := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

func strArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func expID(id int64) string { return strconv.FormatInt(id, 10) }

func newHexID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ---- experiments ----

const expCols = `experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time`

func scanExperiment(sc interface{ Scan(...any) error }) (tracking.Experiment, error) {
	var e tracking.Experiment
	var id int64
	err := sc.Scan(&id, &e.Name, &e.ArtifactLocation, &e.LifecycleStage, &e.CreationTime, &e.LastUpdateTime)
	e.ExperimentID = expID(id)
	return e, translate(err)
}

// CreateExperiment implements tracking.ExperimentStore.
func (s *TrackingStore) CreateExperiment(ctx context.Context, e tracking.Experiment) (string, error) {
	for attempt := 0; ; attempt++ {
		var id int64
		err := s.db.inTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := s.db.queryRow(ctx, tx, `SELECT COUNT(*) FROM mlflow_experiments WHERE name = ?`, e.Name).Scan(&n); err != nil {
				return translate(err)
			}
			if n > 0 {
				return tracking.AlreadyExists("Experiment(name=%s) already exists.", e.Name)
			}
			if err := s.db.queryRow(ctx, tx, `SELECT COALESCE(MAX(experiment_id), 0) + 1 FROM mlflow_experiments`).Scan(&id); err != nil {
				return translate(err)
			}
			loc := strings.ReplaceAll(e.ArtifactLocation, "{id}", expID(id))
			if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_experiments (`+expCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
				id, e.Name, loc, e.LifecycleStage, e.CreationTime, e.LastUpdateTime); err != nil {
				return err
			}
			for _, t := range e.Tags {
				if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
					ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`, id, t.Key, t.Value); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return expID(id), nil
		}
		if errs.ReasonOf(err) == "ALREADY_EXISTS" && attempt < 5 {
			continue // a concurrent creator took the id (PostgreSQL); or the name: the check above says which
		}
		if errs.ReasonOf(err) == "ALREADY_EXISTS" {
			return "", tracking.AlreadyExists("Experiment(name=%s) already exists.", e.Name)
		}
		return "", err
	}
}

func (s *TrackingStore) experimentTags(ctx context.Context, q querier, ids []int64) (map[int64][]tracking.Tag, error) {
	out := map[int64][]tracking.Tag{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.query(ctx, q, `SELECT experiment_id, key, value FROM mlflow_experiment_tags WHERE experiment_id IN (`+placeholders(len(ids))+`) ORDER BY key`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t tracking.Tag
		if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
			return nil, translate(err)
		}
		out[id] = append(out[id], t)
	}
	return out, translate(rows.Err())
}

// GetExperiment implements tracking.ExperimentStore.
func (s *TrackingStore) GetExperiment(ctx context.Context, id int64) (tracking.Experiment, error) {
	e, err := scanExperiment(s.db.queryRow(ctx, s.db.sql, `SELECT `+expCols+` FROM mlflow_experiments WHERE experiment_id = ?`, id))
	if errs.Is(err, errs.NotFound) {
		return e, tracking.NotFound("No Experiment with id=%d exists", id)
	}
	if err != nil {
		return e, err
	}
	tags, err := s.experimentTags(ctx, s.db.sql, []int64{id})
	e.Tags = tags[id]
	return e, err
}

// GetExperimentByName implements tracking.ExperimentStore.
func (s *TrackingStore) GetExperimentByName(ctx context.Context, name string) (tracking.Experiment, error) {
	var id int64
	err := translate(s.db.queryRow(ctx, s.db.sql, `SELECT experiment_id FROM mlflow_experiments WHERE name = ?`, name).Scan(&id))
	if errs.Is(err, errs.NotFound) {
		return tracking.Experiment{}, tracking.NotFound("Experiment '%s' does not exist.", name)
	}
	if err != nil {
		return tracking.Experiment{}, err
	}
	return s.GetExperiment(ctx, id)
}

// strCond compiles a string comparison on col.
func (s *TrackingStore) strCond(col string, c tracking.Clause) (string, []any) {
	return strCond(s.db.dialect, col, c)
}

func strCond(d Dialect, col string, c tracking.Clause) (string, []any) {
	switch c.Op {
	case "=", "!=":
		return col + " " + c.Op + " ?", []any{c.Str}
	case "LIKE":
		if d == SQLite {
			return col + " GLOB ?", []any{tracking.LikeToGlob(c.Str)}
		}
		return col + " LIKE ?", []any{c.Str}
	case "ILIKE":
		if d == SQLite {
			return "LOWER(" + col + ") LIKE LOWER(?)", []any{c.Str}
		}
		return col + " ILIKE ?", []any{c.Str}
	case "IN":
		return col + " IN (" + placeholders(len(c.List)) + ")", strArgs(c.List)
	case "NOT IN":
		return col + " NOT IN (" + placeholders(len(c.List)) + ")", strArgs(c.List)
	}
	return "1 = 0", nil
}

func numCond(col string, c tracking.Clause) (string, []any) {
	return col + " " + c.Op + " ?", []any{c.Num}
}

// kvCond compiles a clause on a (key, value) table: params or tags. owner is
// the owning-id column of the outer query; idCol is that id in the kv table.
func (s *TrackingStore) kvCond(table, idCol, owner string, c tracking.Clause) (string, []any) {
	switch c.Op {
	case "IS NULL":
		return owner + " NOT IN (SELECT " + idCol + " FROM " + table + " WHERE key = ?)", []any{c.Key}
	case "IS NOT NULL":
		return owner + " IN (SELECT " + idCol + " FROM " + table + " WHERE key = ?)", []any{c.Key}
	case "=":
		// the prefix term lets both databases use the (key, substr(value)) index
		return owner + " IN (SELECT " + idCol + " FROM " + table + " WHERE key = ? AND substr(value, 1, 100) = substr(?, 1, 100) AND value = ?)",
			[]any{c.Key, c.Str, c.Str}
	}
	cond, args := s.strCond("value", c)
	return owner + " IN (SELECT " + idCol + " FROM " + table + " WHERE key = ? AND " + cond + ")", append([]any{c.Key}, args...)
}

func (s *TrackingStore) experimentWhere(q tracking.ExperimentQuery) (string, []any) {
	var conds []string
	var args []any
	switch q.ViewType {
	case tracking.ViewActiveOnly:
		conds, args = append(conds, "lifecycle_stage = ?"), append(args, tracking.StageActive)
	case tracking.ViewDeletedOnly:
		conds, args = append(conds, "lifecycle_stage = ?"), append(args, tracking.StageDeleted)
	}
	for _, c := range q.Filter {
		var cond string
		var a []any
		switch {
		case c.Entity == tracking.EntityTag:
			cond, a = s.kvCond("mlflow_experiment_tags", "experiment_id", "e.experiment_id", c)
		case c.Key == "experiment_id":
			cond, a = s.strCond("CAST(e.experiment_id AS TEXT)", c)
		case c.IsNum:
			cond, a = numCond("e."+c.Key, c)
		default:
			cond, a = s.strCond("e."+c.Key, c)
		}
		conds, args = append(conds, cond), append(args, a...)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// SearchExperiments implements tracking.ExperimentStore.
func (s *TrackingStore) SearchExperiments(ctx context.Context, q tracking.ExperimentQuery) ([]tracking.Experiment, bool, error) {
	where, args := s.experimentWhere(q)
	var order []string
	for _, o := range q.OrderBy {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		if o.Entity == tracking.EntityTag {
			continue
		}
		order = append(order, "e."+o.Key+dir)
	}
	order = append(order, "e.creation_time DESC", "e.experiment_id ASC")
	args = append(args, q.MaxResults+1, q.Offset)
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+prefixCols("e.", expCols)+` FROM mlflow_experiments e`+where+
		` ORDER BY `+strings.Join(order, ", ")+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []tracking.Experiment
	var ids []int64
	for rows.Next() {
		e, err := scanExperiment(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, e)
		n, _ := strconv.ParseInt(e.ExperimentID, 10, 64)
		ids = append(ids, n)
	}
	if err := rows.Err(); err != nil {
		return nil, false, translate(err)
	}
	rows.Close()
	more := len(out) > q.MaxResults
	if more {
		out, ids = out[:q.MaxResults], ids[:q.MaxResults]
	}
	tags, err := s.experimentTags(ctx, s.db.sql, ids)
	if err != nil {
		return nil, false, err
	}
	for i, id := range ids {
		out[i].Tags = tags[id]
	}
	return out, more, nil
}

func prefixCols(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// UpdateExperiment implements tracking.ExperimentStore.
func (s *TrackingStore) UpdateExperiment(ctx context.Context, id int64, name, stage string, now int64) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if name != "" {
			res, err = s.db.exec(ctx, tx, `UPDATE mlflow_experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?`, name, now, id)
			if errs.Is(err, errs.AlreadyExists) {
				return tracking.AlreadyExists("Experiment(name=%s) already exists.", name)
			}
		}
		if stage != "" && err == nil {
			res, err = s.db.exec(ctx, tx, `UPDATE mlflow_experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?`, stage, now, id)
			if err == nil {
				var del any
				if stage == tracking.StageDeleted {
					del = now
				}
				_, err = s.db.exec(ctx, tx, `UPDATE mlflow_runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ?`, stage, del, id)
			}
		}
		if err != nil {
			return err
		}
		if res != nil {
			if n, _ := res.RowsAffected(); n == 0 {
				return tracking.NotFound("No Experiment with id=%d exists", id)
			}
		}
		return nil
	})
}

// SetExperimentTag implements tracking.ExperimentStore.
func (s *TrackingStore) SetExperimentTag(ctx context.Context, id int64, key string, value *string) error {
	if value == nil {
		res, err := s.db.exec(ctx, s.db.sql, `DELETE FROM mlflow_experiment_tags WHERE experiment_id = ? AND key = ?`, id, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tracking.NotFound("No tag with name: %s in experiment with id %d", key, id)
		}
		return nil
	}
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO mlflow_experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`, id, key, *value)
	return err
}

// ---- runs ----

const runCols = `run_id, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage`

func scanRunInfo(sc interface{ Scan(...any) error }) (tracking.RunInfo, error) {
	var r tracking.RunInfo
	var exp int64
	var end sql.NullInt64
	err := sc.Scan(&r.RunID, &exp, &r.RunName, &r.UserID, &r.Status, &r.StartTime, &end, &r.ArtifactURI, &r.LifecycleStage)
	r.RunUUID, r.ExperimentID, r.EndTime = r.RunID, expID(exp), end.Int64
	return r, translate(err)
}

// CreateRun implements tracking.RunStore.
func (s *TrackingStore) CreateRun(ctx context.Context, r tracking.RunInfo, tags []tracking.Tag) error {
	exp, err := strconv.ParseInt(r.ExperimentID, 10, 64)
	if err != nil {
		return tracking.Invalid("Invalid experiment ID: '%s'", r.ExperimentID)
	}
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_runs (`+runCols+`) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
			r.RunID, exp, r.RunName, r.UserID, r.Status, r.StartTime, r.ArtifactURI, r.LifecycleStage); err != nil {
			if errs.Is(err, errs.AlreadyExists) {
				return tracking.AlreadyExists("Run with id=%s already exists", r.RunID)
			}
			return err
		}
		return s.upsertTags(ctx, tx, r.RunID, tags)
	})
}

func (s *TrackingStore) upsertTags(ctx context.Context, tx *sql.Tx, runID string, tags []tracking.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	last := map[string]string{}
	var keys []string
	for _, t := range tags {
		if _, ok := last[t.Key]; !ok {
			keys = append(keys, t.Key)
		}
		last[t.Key] = t.Value
	}
	args := make([]any, 0, 3*len(keys))
	for _, k := range keys {
		args = append(args, runID, k, last[k])
	}
	_, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_tags (run_id, key, value) VALUES `+rowsPlaceholders(len(keys), 3)+
		` ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`, args...)
	if err != nil {
		return err
	}
	if name, ok := last[tracking.TagRunName]; ok {
		_, err = s.db.exec(ctx, tx, `UPDATE mlflow_runs SET name = ? WHERE run_id = ?`, name, runID)
	}
	return err
}

// GetRunInfo implements tracking.RunStore.
func (s *TrackingStore) GetRunInfo(ctx context.Context, runID string) (tracking.RunInfo, error) {
	r, err := scanRunInfo(s.db.queryRow(ctx, s.db.sql, `SELECT `+runCols+` FROM mlflow_runs WHERE run_id = ?`, runID))
	if errs.Is(err, errs.NotFound) {
		return r, tracking.NotFound("Run with id=%s not found", runID)
	}
	return r, err
}

// GetRuns implements tracking.RunStore.
func (s *TrackingStore) GetRuns(ctx context.Context, ids []string) ([]tracking.Run, error) {
	out := make([]tracking.Run, 0, len(ids))
	for start := 0; start < len(ids); start += batchRows {
		chunk := ids[start:min(start+batchRows, len(ids))]
		runs, err := s.getRuns(ctx, chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, runs...)
	}
	return out, nil
}

func (s *TrackingStore) getRuns(ctx context.Context, ids []string) ([]tracking.Run, error) {
	in := `(` + placeholders(len(ids)) + `)`
	args := strArgs(ids)
	byID := make(map[string]*tracking.Run, len(ids))
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+runCols+` FROM mlflow_runs WHERE run_id IN `+in, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		info, err := scanRunInfo(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		byID[info.RunID] = &tracking.Run{Info: info}
	}
	rows.Close()
	if len(byID) == 0 {
		return nil, nil
	}
	// latest metrics
	rows, err = s.db.query(ctx, s.db.sql, `SELECT run_id, key, value, is_nan, ts, step FROM mlflow_latest_metrics WHERE run_id IN `+in+` ORDER BY key`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var m tracking.Metric
		var v float64
		var nan bool
		if err := rows.Scan(&id, &m.Key, &v, &nan, &m.Timestamp, &m.Step); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		m.Value = metricValue(v, nan)
		if r := byID[id]; r != nil {
			r.Data.Metrics = append(r.Data.Metrics, m)
		}
	}
	rows.Close()
	for _, kv := range []struct {
		table string
		add   func(r *tracking.Run, k, v string)
	}{
		{"mlflow_params", func(r *tracking.Run, k, v string) {
			r.Data.Params = append(r.Data.Params, tracking.Param{Key: k, Value: v})
		}},
		{"mlflow_tags", func(r *tracking.Run, k, v string) { r.Data.Tags = append(r.Data.Tags, tracking.Tag{Key: k, Value: v}) }},
	} {
		rows, err = s.db.query(ctx, s.db.sql, `SELECT run_id, key, value FROM `+kv.table+` WHERE run_id IN `+in+` ORDER BY key`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, k, v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			if r := byID[id]; r != nil {
				kv.add(r, k, v)
			}
		}
		rows.Close()
	}
	// dataset inputs
	rows, err = s.db.query(ctx, s.db.sql, `SELECT i.run_id, i.tags, d.name, d.digest, d.source_type, d.source, d.schema_json, d.profile
		FROM mlflow_run_inputs i JOIN mlflow_datasets d ON d.dataset_id = i.dataset_id WHERE i.run_id IN `+in+` ORDER BY d.name, d.digest`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, tags string
		var di tracking.DatasetInput
		d := &di.Dataset
		if err := rows.Scan(&id, &tags, &d.Name, &d.Digest, &d.SourceType, &d.Source, &d.Schema, &d.Profile); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		json.Unmarshal([]byte(tags), &di.Tags)
		if r := byID[id]; r != nil {
			r.Inputs.DatasetInputs = append(r.Inputs.DatasetInputs, di)
		}
	}
	rows.Close()
	rows, err = s.db.query(ctx, s.db.sql, `SELECT run_id, model_id FROM mlflow_run_model_inputs WHERE run_id IN `+in+` ORDER BY model_id`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, m string
		if err := rows.Scan(&id, &m); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		if r := byID[id]; r != nil {
			r.Inputs.ModelInputs = append(r.Inputs.ModelInputs, tracking.ModelInput{ModelID: m})
		}
	}
	rows.Close()
	rows, err = s.db.query(ctx, s.db.sql, `SELECT run_id, model_id, step FROM mlflow_run_outputs WHERE run_id IN `+in+` ORDER BY model_id`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var m tracking.ModelOutput
		if err := rows.Scan(&id, &m.ModelID, &m.Step); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		if r := byID[id]; r != nil {
			if r.Outputs == nil {
				r.Outputs = &tracking.RunOutputs{}
			}
			r.Outputs.ModelOutputs = append(r.Outputs.ModelOutputs, m)
		}
	}
	rows.Close()
	out := make([]tracking.Run, 0, len(byID))
	for _, id := range ids {
		if r := byID[id]; r != nil {
			out = append(out, *r)
		}
	}
	return out, nil
}

func metricValue(v float64, nan bool) tracking.Value {
	if nan {
		return tracking.Value(math.NaN())
	}
	return tracking.Value(v)
}

// UpdateRun implements tracking.RunStore.
func (s *TrackingStore) UpdateRun(ctx context.Context, runID string, u tracking.RunUpdate) error {
	var sets []string
	var args []any
	if u.Status != nil {
		sets, args = append(sets, "status = ?"), append(args, *u.Status)
	}
	if u.EndTime != nil {
		sets, args = append(sets, "end_time = ?"), append(args, *u.EndTime)
	}
	if u.RunName != nil {
		sets, args = append(sets, "name = ?"), append(args, *u.RunName)
	}
	if len(sets) == 0 {
		return nil
	}
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.db.exec(ctx, tx, `UPDATE mlflow_runs SET `+strings.Join(sets, ", ")+` WHERE run_id = ?`, append(args, runID)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tracking.NotFound("Run with id=%s not found", runID)
		}
		if u.RunName != nil {
			return s.upsertTags(ctx, tx, runID, []tracking.Tag{{Key: tracking.TagRunName, Value: *u.RunName}})
		}
		return nil
	})
}

// SetRunLifecycle implements tracking.RunStore.
func (s *TrackingStore) SetRunLifecycle(ctx context.Context, runID, stage string, now int64) error {
	var del any
	if stage == tracking.StageDeleted {
		del = now
	}
	res, err := s.db.exec(ctx, s.db.sql, `UPDATE mlflow_runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_id = ?`, stage, del, runID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tracking.NotFound("Run with id=%s not found", runID)
	}
	return nil
}

// later reports whether metric a is "later" than b by MLflow's latest rule:
// greater step, then timestamp, then value (NaN lowest).
func later(a, b tracking.Metric) bool {
	if a.Step != b.Step {
		return a.Step > b.Step
	}
	if a.Timestamp != b.Timestamp {
		return a.Timestamp > b.Timestamp
	}
	av, bv := float64(a.Value), float64(b.Value)
	if math.IsNaN(bv) {
		return true
	}
	return !math.IsNaN(av) && av >= bv
}

func dbValue(v tracking.Value) (float64, bool) {
	f := float64(v)
	if math.IsNaN(f) {
		return 0, true
	}
	return f, false
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LogBatch implements tracking.RunStore: one transaction with multi-row
// INSERTs for the metric history, an upsert of the latest value per key
// (guarded so an older point never replaces a newer one), params (checked for
// changed values first) and tags.
func (s *TrackingStore) LogBatch(ctx context.Context, runID string, metrics []tracking.Metric, params []tracking.Param, tags []tracking.Tag) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		if len(params) > 0 {
			if err := s.insertParams(ctx, tx, "mlflow_params", "run_id", runID, params, true); err != nil {
				return err
			}
		}
		if err := s.upsertTags(ctx, tx, runID, tags); err != nil {
			return err
		}
		if len(metrics) == 0 {
			return nil
		}
		extra := false // model or dataset links: 9 columns instead of 6
		for _, m := range metrics {
			extra = extra || m.ModelID != "" || m.DatasetName != "" || m.DatasetDigest != ""
		}
		cols, n := "run_id, key, step, ts, value, is_nan", 6
		if extra {
			cols, n = cols+", model_id, dataset_name, dataset_digest", 9
		}
		for start := 0; start < len(metrics); start += batchRows {
			chunk := metrics[start:min(start+batchRows, len(metrics))]
			args := make([]any, 0, n*len(chunk))
			for _, m := range chunk {
				v, nan := dbValue(m.Value)
				args = append(args, runID, m.Key, m.Step, m.Timestamp, v, nan)
				if extra {
					args = append(args, nullStr(m.ModelID), nullStr(m.DatasetName), nullStr(m.DatasetDigest))
				}
			}
			if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_metrics (`+cols+`) VALUES `+rowsPlaceholders(len(chunk), n), args...); err != nil {
				return err
			}
		}
		latest := map[string]tracking.Metric{}
		var keys []string
		for _, m := range metrics {
			cur, ok := latest[m.Key]
			if !ok {
				keys = append(keys, m.Key)
			}
			if !ok || later(m, cur) {
				latest[m.Key] = m
			}
		}
		for start := 0; start < len(keys); start += batchRows {
			chunk := keys[start:min(start+batchRows, len(keys))]
			args := make([]any, 0, 6*len(chunk))
			for _, k := range chunk {
				m := latest[k]
				v, nan := dbValue(m.Value)
				args = append(args, runID, k, m.Step, m.Timestamp, v, nan)
			}
			const t = "mlflow_latest_metrics"
			if _, err := s.db.exec(ctx, tx, `INSERT INTO `+t+` (run_id, key, step, ts, value, is_nan) VALUES `+rowsPlaceholders(len(chunk), 6)+
				` ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, ts = excluded.ts, value = excluded.value, is_nan = excluded.is_nan
				WHERE excluded.step > `+t+`.step OR (excluded.step = `+t+`.step AND (excluded.ts > `+t+`.ts OR (excluded.ts = `+t+`.ts AND
				(`+t+`.is_nan OR (NOT excluded.is_nan AND excluded.value >= `+t+`.value)))))`, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertParams adds params to a (owner, key, value) table. With immutable,
// a key already logged with another value is INVALID_PARAMETER_VALUE.
func (s *TrackingStore) insertParams(ctx context.Context, tx *sql.Tx, table, ownerCol, owner string, params []tracking.Param, immutable bool) error {
	uniq := map[string]string{}
	var keys []string
	for _, p := range params {
		if _, ok := uniq[p.Key]; !ok {
			keys = append(keys, p.Key)
		}
		uniq[p.Key] = p.Value
	}
	if immutable {
		rows, err := s.db.query(ctx, tx, `SELECT key, value FROM `+table+` WHERE `+ownerCol+` = ? AND key IN (`+placeholders(len(keys))+`)`,
			append([]any{owner}, strArgs(keys)...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				return translate(err)
			}
			if uniq[k] != v {
				return tracking.Invalid("Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run ID='%s'. Attempted logging new value '%s'.", k, v, owner, uniq[k])
			}
		}
		if err := rows.Err(); err != nil {
			return translate(err)
		}
		rows.Close()
	}
	args := make([]any, 0, 3*len(keys))
	for _, k := range keys {
		args = append(args, owner, k, uniq[k])
	}
	conflict := ` ON CONFLICT (` + ownerCol + `, key) DO NOTHING`
	if !immutable {
		conflict = ` ON CONFLICT (` + ownerCol + `, key) DO UPDATE SET value = excluded.value`
	}
	_, err := s.db.exec(ctx, tx, `INSERT INTO `+table+` (`+ownerCol+`, key, value) VALUES `+rowsPlaceholders(len(keys), 3)+conflict, args...)
	return err
}

// DeleteRunTag implements tracking.RunStore.
func (s *TrackingStore) DeleteRunTag(ctx context.Context, runID, key string) error {
	res, err := s.db.exec(ctx, s.db.sql, `DELETE FROM mlflow_tags WHERE run_id = ? AND key = ?`, runID, key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tracking.NotFound("No tag with name: %s in run with id %s", key, runID)
	}
	return nil
}

func scanMetrics(rows *sql.Rows, withRun bool) ([]tracking.Metric, error) {
	defer rows.Close()
	var out []tracking.Metric
	for rows.Next() {
		var m tracking.Metric
		var v float64
		var nan bool
		dest := []any{&m.Key, &v, &nan, &m.Timestamp, &m.Step}
		if withRun {
			dest = append(dest, &m.RunID)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, translate(err)
		}
		m.Value = metricValue(v, nan)
		out = append(out, m)
	}
	return out, translate(rows.Err())
}

// MetricHistory implements tracking.RunStore.
func (s *TrackingStore) MetricHistory(ctx context.Context, q tracking.HistoryQuery) ([]tracking.Metric, bool, error) {
	limit := q.MaxResults
	if limit <= 0 {
		limit = math.MaxInt32 - 1
	}
	rows, err := s.db.query(ctx, s.db.sql, `SELECT value, is_nan, ts, step FROM mlflow_metrics WHERE run_id = ? AND key = ?
		ORDER BY step, ts LIMIT ? OFFSET ?`, q.RunID, q.Key, limit+1, q.Offset)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	ms := make([]tracking.Metric, 0, min(limit+1, 1024))
	for rows.Next() {
		m := tracking.Metric{Key: q.Key}
		var v float64
		var nan bool
		if err := rows.Scan(&v, &nan, &m.Timestamp, &m.Step); err != nil {
			return nil, false, translate(err)
		}
		m.Value = metricValue(v, nan)
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, translate(err)
	}
	more := len(ms) > limit
	if more {
		ms = ms[:limit]
	}
	return ms, more, nil
}

// MetricHistoryRange implements tracking.RunStore.
func (s *TrackingStore) MetricHistoryRange(ctx context.Context, runIDs []string, key string, start, end int64) ([]tracking.Metric, error) {
	args := append(strArgs(runIDs), key, start, end)
	rows, err := s.db.query(ctx, s.db.sql, `SELECT key, value, is_nan, ts, step, run_id FROM mlflow_metrics
		WHERE run_id IN (`+placeholders(len(runIDs))+`) AND key = ? AND step >= ? AND step <= ? ORDER BY run_id, step, ts`, args...)
	if err != nil {
		return nil, err
	}
	return scanMetrics(rows, true)
}

// LogInputs implements tracking.RunStore.
func (s *TrackingStore) LogInputs(ctx context.Context, runID, experimentID string, inputs []tracking.DatasetInput, refs [][]tracking.TableRef, models []tracking.ModelInput) error {
	exp, _ := strconv.ParseInt(experimentID, 10, 64)
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		for i, in := range inputs {
			d := in.Dataset
			if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_datasets (dataset_id, experiment_id, name, digest, source_type, source, schema_json, profile)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (experiment_id, name, digest) DO NOTHING`,
				newHexID(), exp, d.Name, d.Digest, d.SourceType, d.Source, d.Schema, d.Profile); err != nil {
				return err
			}
			var dsID string
			if err := s.db.queryRow(ctx, tx, `SELECT dataset_id FROM mlflow_datasets WHERE experiment_id = ? AND name = ? AND digest = ?`, exp, d.Name, d.Digest).Scan(&dsID); err != nil {
				return translate(err)
			}
			context := ""
			for _, t := range in.Tags {
				if t.Key == tracking.TagDatasetContext {
					context = t.Value
				}
			}
			tags, _ := json.Marshal(in.Tags)
			if in.Tags == nil {
				tags = []byte("[]")
			}
			if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_run_inputs (run_id, dataset_id, context, tags) VALUES (?, ?, ?, ?)
				ON CONFLICT (run_id, dataset_id) DO UPDATE SET context = excluded.context, tags = excluded.tags`, runID, dsID, context, string(tags)); err != nil {
				return err
			}
			for _, r := range refs[i] {
				if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_dataset_tables (dataset_id, table_name, table_version) VALUES (?, ?, ?)
					ON CONFLICT (dataset_id, table_name, table_version) DO NOTHING`, dsID, r.Table, r.Version); err != nil {
					return err
				}
			}
		}
		for _, m := range models {
			if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_run_model_inputs (run_id, model_id) VALUES (?, ?) ON CONFLICT (run_id, model_id) DO NOTHING`, runID, m.ModelID); err != nil {
				return err
			}
		}
		return nil
	})
}

// LogOutputs implements tracking.RunStore.
func (s *TrackingStore) LogOutputs(ctx context.Context, runID string, models []tracking.ModelOutput) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		for _, m := range models {
			if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_run_outputs (run_id, model_id, step) VALUES (?, ?, ?)
				ON CONFLICT (run_id, model_id) DO UPDATE SET step = excluded.step`, runID, m.ModelID, m.Step); err != nil {
				return err
			}
		}
		return nil
	})
}

// RunTables implements tracking.RunStore.
func (s *TrackingStore) RunTables(ctx context.Context, runID string) ([]tracking.TableRef, error) {
	rows, err := s.db.query(ctx, s.db.sql, `SELECT d.name, d.digest, i.context, t.table_name, t.table_version
		FROM mlflow_run_inputs i JOIN mlflow_datasets d ON d.dataset_id = i.dataset_id
		JOIN mlflow_dataset_tables t ON t.dataset_id = d.dataset_id WHERE i.run_id = ? ORDER BY t.table_name, t.table_version`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tracking.TableRef
	for rows.Next() {
		r := tracking.TableRef{RunID: runID}
		if err := rows.Scan(&r.DatasetName, &r.Digest, &r.Context, &r.Table, &r.Version); err != nil {
			return nil, translate(err)
		}
		out = append(out, r)
	}
	return out, translate(rows.Err())
}

var runAttrCols = map[string]string{
	"run_id": "r.run_id", "run_name": "r.name", "status": "r.status", "user_id": "r.user_id", "artifact_uri": "r.artifact_uri",
	"lifecycle_stage": "r.lifecycle_stage", "start_time": "r.start_time", "end_time": "r.end_time", "experiment_id": "r.experiment_id",
}

// Thresholds of the search planner (see runFilter).
const (
	bigExperiment   = 5000 // runs above which clauses are probed for selectivity
	selectiveClause = 2000 // a clause matching at most this many rows drives the search
)

// clauseRows returns the subquery (selecting run_id) of the rows a clause
// matches, with its arguments, for clauses on metrics, params, tags and
// datasets; "" for attribute clauses.
func (s *TrackingStore) clauseRows(c tracking.Clause) (string, []any) {
	switch c.Entity {
	case tracking.EntityMetric:
		if c.Op == "!=" {
			return "SELECT run_id FROM mlflow_latest_metrics WHERE key = ? AND (is_nan OR value != ?)", []any{c.Key, c.Num}
		}
		return "SELECT run_id FROM mlflow_latest_metrics WHERE key = ? AND NOT is_nan AND value " + c.Op + " ?", []any{c.Key, c.Num}
	case tracking.EntityParam, tracking.EntityTag:
		table := "mlflow_params"
		if c.Entity == tracking.EntityTag {
			table = "mlflow_tags"
		}
		switch c.Op {
		case "IS NULL", "IS NOT NULL":
			return "SELECT run_id FROM " + table + " WHERE key = ?", []any{c.Key}
		case "=":
			// the prefix term lets both databases use the (key, substr(value)) index
			return "SELECT run_id FROM " + table + " WHERE key = ? AND substr(value, 1, 100) = substr(?, 1, 100) AND value = ?", []any{c.Key, c.Str, c.Str}
		}
		cond, args := s.strCond("value", c)
		return "SELECT run_id FROM " + table + " WHERE key = ? AND " + cond, append([]any{c.Key}, args...)
	case tracking.EntityDataset:
		col := "d." + c.Key
		if c.Key == "context" {
			col = "i.context"
		}
		cond, args := s.strCond(col, c)
		return "SELECT i.run_id FROM mlflow_run_inputs i JOIN mlflow_datasets d ON d.dataset_id = i.dataset_id WHERE " + cond, args
	}
	return "", nil
}

// countUpTo counts the rows of a query, stopping at limit+1.
func (s *TrackingStore) countUpTo(ctx context.Context, sub string, args []any, limit int) (int, error) {
	var n int
	err := s.db.queryRow(ctx, s.db.sql, `SELECT COUNT(*) FROM (`+sub+` LIMIT ?) x`, append(append([]any{}, args...), limit+1)...).Scan(&n)
	return n, translate(err)
}

// runFilter compiles run clauses to SQL conditions over alias r. Each
// clause on metrics, params, tags or datasets is either a correlated EXISTS
// probe of the (run_id, key) primary key — cheap per run, and with ORDER BY
// … LIMIT the scan stops as soon as the page is full — or, when it is
// selective (matches at most selectiveClause rows of an experiment set
// larger than bigExperiment), an IN over its (key, value) index that drives
// the search. So neither a broad filter nor a narrow one reads every run.
func (s *TrackingStore) runFilter(ctx context.Context, q tracking.RunQuery) (conds []string, args []any, drivers []driver, err error) {
	probe := false
	if len(q.Filter) > 0 {
		n, err := s.countUpTo(ctx, `SELECT 1 FROM mlflow_runs WHERE experiment_id IN (`+placeholders(len(q.ExperimentIDs))+`)`, int64Args(q.ExperimentIDs), bigExperiment)
		if err != nil {
			return nil, nil, nil, err
		}
		probe = n > bigExperiment
	}
	for _, c := range q.Filter {
		sub, a := s.clauseRows(c)
		if sub == "" {
			col := runAttrCols[c.Key]
			var cond string
			if c.IsNum {
				cond, a = numCond(col, c)
			} else {
				cond, a = s.strCond(col, c)
			}
			conds, args = append(conds, cond), append(args, a...)
			continue
		}
		negate := c.Op == "IS NULL"
		if probe && !negate {
			n, err := s.countUpTo(ctx, sub, a, selectiveClause)
			if err != nil {
				return nil, nil, nil, err
			}
			if n <= selectiveClause {
				drivers = append(drivers, driver{sub, a})
				continue
			}
		}
		// correlated form: the clause's subquery restricted to the outer run
		corr := strings.Replace(sub, " WHERE ", " WHERE run_id = r.run_id AND ", 1)
		if c.Entity == tracking.EntityDataset {
			corr = strings.Replace(sub, " WHERE ", " WHERE i.run_id = r.run_id AND ", 1)
		}
		if negate {
			conds = append(conds, "NOT EXISTS ("+corr+")")
		} else {
			conds = append(conds, "EXISTS ("+corr+")")
		}
		args = append(args, a...)
	}
	return conds, args, drivers, nil
}

// driver is a selective clause's subquery: its (deduplicated) run ids are
// the outer loop of the search.
type driver struct {
	sql  string
	args []any
}

func int64Args(ns []int64) []any {
	out := make([]any, len(ns))
	for i, n := range ns {
		out[i] = n
	}
	return out
}

// orderTerms compiles ORDER BY keys to LEFT JOINs (with their arguments)
// and ORDER BY expressions; missing values sort last, NaN metrics just
// before them.
func orderTerms(keys []tracking.OrderKey, first int) (joins []string, joinArgs []any, order []string) {
	for i, o := range keys {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		alias := "o" + strconv.Itoa(first+i)
		switch o.Entity {
		case tracking.EntityMetric:
			joins = append(joins, " LEFT JOIN mlflow_latest_metrics "+alias+" ON "+alias+".run_id = r.run_id AND "+alias+".key = ?")
			order = append(order, "CASE WHEN "+alias+".run_id IS NULL THEN 2 WHEN "+alias+".is_nan THEN 1 ELSE 0 END", alias+".value"+dir)
			joinArgs = append(joinArgs, o.Key)
		case tracking.EntityParam, tracking.EntityTag:
			table := "mlflow_params"
			if o.Entity == tracking.EntityTag {
				table = "mlflow_tags"
			}
			joins = append(joins, " LEFT JOIN "+table+" "+alias+" ON "+alias+".run_id = r.run_id AND "+alias+".key = ?")
			order = append(order, "CASE WHEN "+alias+".run_id IS NULL THEN 1 ELSE 0 END", alias+".value"+dir)
			joinArgs = append(joinArgs, o.Key)
		default:
			col := runAttrCols[o.Key]
			if o.Key == "end_time" {
				order = append(order, "CASE WHEN "+col+" IS NULL THEN 1 ELSE 0 END")
			}
			order = append(order, col+dir)
		}
	}
	return joins, joinArgs, append(order, "r.start_time DESC", "r.run_id ASC")
}

func (s *TrackingStore) queryIDs(ctx context.Context, query string, args []any) ([]string, error) {
	rows, err := s.db.query(ctx, s.db.sql, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search runs: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err)
		}
		ids = append(ids, id)
	}
	return ids, translate(rows.Err())
}

// SearchRuns implements tracking.RunStore. When the first ORDER BY key is a
// metric, the page is read in three segments — runs with a numeric value
// walked through the (key, value) index, then NaN values, then runs without
// the metric — so ordering never sorts the whole experiment.
func (s *TrackingStore) SearchRuns(ctx context.Context, q tracking.RunQuery) ([]string, bool, error) {
	conds := []string{"r.experiment_id IN (" + placeholders(len(q.ExperimentIDs)) + ")"}
	args := int64Args(q.ExperimentIDs)
	switch q.ViewType {
	case tracking.ViewActiveOnly:
		conds, args = append(conds, "r.lifecycle_stage = ?"), append(args, tracking.StageActive)
	case tracking.ViewDeletedOnly:
		conds, args = append(conds, "r.lifecycle_stage = ?"), append(args, tracking.StageDeleted)
	}
	fc, fa, drivers, err := s.runFilter(ctx, q)
	if err != nil {
		return nil, false, err
	}
	conds, args = append(conds, fc...), append(args, fa...)
	want := q.MaxResults + 1
	if len(drivers) > 0 {
		// Selective clauses: intersect their run ids and join the runs to
		// them (CROSS JOIN keeps that order in SQLite); only those few
		// runs are then probed and sorted.
		from := `SELECT run_id FROM (` + drivers[0].sql + `) d0`
		var dargs []any
		dargs = append(dargs, drivers[0].args...)
		for i, d := range drivers[1:] {
			from += ` WHERE run_id IN (` + d.sql + `)`
			if i > 0 {
				from = `SELECT run_id FROM (` + from + `) d` + strconv.Itoa(i+1)
			}
			dargs = append(dargs, d.args...)
		}
		joins, joinArgs, order := orderTerms(q.OrderBy, 0)
		ids, err := s.queryIDs(ctx, `SELECT r.run_id FROM (SELECT DISTINCT run_id FROM (`+from+`) dd) sel CROSS JOIN mlflow_runs r`+strings.Join(joins, "")+
			` WHERE r.run_id = sel.run_id AND `+strings.Join(conds, " AND ")+` ORDER BY `+strings.Join(order, ", ")+` LIMIT ? OFFSET ?`,
			append(append(append(dargs, joinArgs...), args...), want, q.Offset))
		if err != nil {
			return nil, false, err
		}
		return page(ids, q.MaxResults)
	}
	where := strings.Join(conds, " AND ")

	if len(q.OrderBy) == 0 || q.OrderBy[0].Entity != tracking.EntityMetric {
		joins, joinArgs, order := orderTerms(q.OrderBy, 0)
		ids, err := s.queryIDs(ctx, `SELECT r.run_id FROM mlflow_runs r`+strings.Join(joins, "")+` WHERE `+where+
			` ORDER BY `+strings.Join(order, ", ")+` LIMIT ? OFFSET ?`, append(append(joinArgs, args...), want, q.Offset))
		if err != nil {
			return nil, false, err
		}
		return page(ids, q.MaxResults)
	}

	m := q.OrderBy[0]
	dir := " ASC"
	if m.Desc {
		dir = " DESC"
	}
	joins, joinArgs, rest := orderTerms(q.OrderBy[1:], 1)
	j := strings.Join(joins, "")
	segments := []struct {
		sql  string
		args []any
	}{
		{`SELECT r.run_id FROM mlflow_latest_metrics o0 CROSS JOIN mlflow_runs r` + j + ` WHERE r.run_id = o0.run_id AND o0.key = ? AND NOT o0.is_nan AND ` + where +
			` ORDER BY o0.value` + dir + `, ` + strings.Join(rest, ", "), append(append(joinArgs, m.Key), args...)},
		{`SELECT r.run_id FROM mlflow_latest_metrics o0 JOIN mlflow_runs r ON r.run_id = o0.run_id` + j + ` WHERE o0.key = ? AND o0.is_nan AND ` + where +
			` ORDER BY ` + strings.Join(rest, ", "), append(append(joinArgs, m.Key), args...)},
		{`SELECT r.run_id FROM mlflow_runs r` + j + ` WHERE NOT EXISTS (SELECT 1 FROM mlflow_latest_metrics x WHERE x.run_id = r.run_id AND x.key = ?) AND ` + where +
			` ORDER BY ` + strings.Join(rest, ", "), append(append(append([]any{}, joinArgs...), m.Key), args...)},
	}
	var ids []string
	skip := q.Offset
	for _, seg := range segments {
		need := want - len(ids)
		if need <= 0 {
			break
		}
		got, err := s.queryIDs(ctx, seg.sql+` LIMIT ? OFFSET ?`, append(append([]any{}, seg.args...), need, skip))
		if err != nil {
			return nil, false, err
		}
		ids = append(ids, got...)
		if len(got) > 0 || skip == 0 {
			skip = 0
			continue
		}
		// the page starts past this segment: skip over its rows
		var n int
		if err := s.db.queryRow(ctx, s.db.sql, `SELECT COUNT(*) FROM (`+seg.sql+`) x`, seg.args...).Scan(&n); err != nil {
			return nil, false, translate(err)
		}
		skip = max(skip-n, 0)
	}
	return page(ids, q.MaxResults)
}

func page(ids []string, max int) ([]string, bool, error) {
	if len(ids) > max {
		return ids[:max], true, nil
	}
	return ids, false, nil
}

// ---- logged models ----

const lmCols = `model_id, experiment_id, name, artifact_uri, status, status_message, model_type, source_run_id, creator, lifecycle_stage, creation_timestamp, last_updated_timestamp`

func scanLoggedModel(sc interface{ Scan(...any) error }) (tracking.LoggedModel, error) {
	var m tracking.LoggedModel
	i := &m.Info
	var exp int64
	err := sc.Scan(&i.ModelID, &exp, &i.Name, &i.ArtifactURI, &i.Status, &i.StatusMessage, &i.ModelType, &i.SourceRunID, &i.Creator,
		&i.LifecycleStage, &i.CreationTimestampMS, &i.LastUpdatedTimestampMS)
	i.ExperimentID = expID(exp)
	return m, translate(err)
}

// CreateLoggedModel implements tracking.LoggedModelStore.
func (s *TrackingStore) CreateLoggedModel(ctx context.Context, m tracking.LoggedModel) error {
	i := m.Info
	exp, _ := strconv.ParseInt(i.ExperimentID, 10, 64)
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.db.exec(ctx, tx, `INSERT INTO mlflow_logged_models (`+lmCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			i.ModelID, exp, i.Name, i.ArtifactURI, i.Status, i.StatusMessage, i.ModelType, i.SourceRunID, i.Creator, i.LifecycleStage,
			i.CreationTimestampMS, i.LastUpdatedTimestampMS); err != nil {
			return err
		}
		if len(m.Data.Params) > 0 {
			if err := s.insertParams(ctx, tx, "mlflow_logged_model_params", "model_id", i.ModelID, m.Data.Params, false); err != nil {
				return err
			}
		}
		return s.setModelTags(ctx, tx, i.ModelID, i.Tags)
	})
}

func (s *TrackingStore) setModelTags(ctx context.Context, tx *sql.Tx, id string, tags []tracking.Tag) error {
	ps := make([]tracking.Param, len(tags))
	for i, t := range tags {
		ps[i] = tracking.Param(t)
	}
	if len(ps) == 0 {
		return nil
	}
	return s.insertParams(ctx, tx, "mlflow_logged_model_tags", "model_id", id, ps, false)
}

func (s *TrackingStore) loadModels(ctx context.Context, where string, args ...any) ([]tracking.LoggedModel, error) {
	rows, err := s.db.query(ctx, s.db.sql, `SELECT `+lmCols+` FROM mlflow_logged_models `+where, args...)
	if err != nil {
		return nil, err
	}
	var out []tracking.LoggedModel
	for rows.Next() {
		m, err := scanLoggedModel(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	idx := map[string]int{}
	ids := make([]string, len(out))
	for i, m := range out {
		idx[m.Info.ModelID], ids[i] = i, m.Info.ModelID
	}
	in := " WHERE model_id IN (" + placeholders(len(ids)) + ") ORDER BY key"
	for _, table := range []string{"mlflow_logged_model_tags", "mlflow_logged_model_params"} {
		rows, err := s.db.query(ctx, s.db.sql, `SELECT model_id, key, value FROM `+table+in, strArgs(ids)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, k, v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			m := &out[idx[id]]
			if table == "mlflow_logged_model_tags" {
				m.Info.Tags = append(m.Info.Tags, tracking.Tag{Key: k, Value: v})
			} else {
				m.Data.Params = append(m.Data.Params, tracking.Param{Key: k, Value: v})
			}
		}
		rows.Close()
	}
	rows, err = s.db.query(ctx, s.db.sql, `SELECT model_id, key, value, is_nan, ts, step, run_id FROM mlflow_metrics WHERE model_id IN (`+placeholders(len(ids))+`) ORDER BY key, step, ts`, strArgs(ids)...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var m tracking.Metric
		var v float64
		var nan bool
		if err := rows.Scan(&id, &m.Key, &v, &nan, &m.Timestamp, &m.Step, &m.RunID); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		m.Value, m.ModelID = metricValue(v, nan), id
		out[idx[id]].Data.Metrics = append(out[idx[id]].Data.Metrics, m)
	}
	rows.Close()
	return out, nil
}

// GetLoggedModel implements tracking.LoggedModelStore.
func (s *TrackingStore) GetLoggedModel(ctx context.Context, id string) (tracking.LoggedModel, error) {
	ms, err := s.loadModels(ctx, `WHERE model_id = ?`, id)
	if err != nil {
		return tracking.LoggedModel{}, err
	}
	if len(ms) == 0 {
		return tracking.LoggedModel{}, tracking.NotFound("Logged model with ID '%s' not found.", id)
	}
	return ms[0], nil
}

// UpdateLoggedModel implements tracking.LoggedModelStore.
func (s *TrackingStore) UpdateLoggedModel(ctx context.Context, id, status, stage string, now int64) error {
	sets, args := []string{"last_updated_timestamp = ?"}, []any{now}
	if status != "" {
		sets, args = append(sets, "status = ?"), append(args, status)
	}
	if stage != "" {
		sets, args = append(sets, "lifecycle_stage = ?"), append(args, stage)
	}
	res, err := s.db.exec(ctx, s.db.sql, `UPDATE mlflow_logged_models SET `+strings.Join(sets, ", ")+` WHERE model_id = ?`, append(args, id)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tracking.NotFound("Logged model with ID '%s' not found.", id)
	}
	return nil
}

// SetLoggedModelTags implements tracking.LoggedModelStore.
func (s *TrackingStore) SetLoggedModelTags(ctx context.Context, id string, tags []tracking.Tag, now int64) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.db.exec(ctx, tx, `UPDATE mlflow_logged_models SET last_updated_timestamp = ? WHERE model_id = ?`, now, id); err != nil {
			return err
		}
		return s.setModelTags(ctx, tx, id, tags)
	})
}

// DeleteLoggedModelTag implements tracking.LoggedModelStore.
func (s *TrackingStore) DeleteLoggedModelTag(ctx context.Context, id, key string) error {
	res, err := s.db.exec(ctx, s.db.sql, `DELETE FROM mlflow_logged_model_tags WHERE model_id = ? AND key = ?`, id, key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tracking.NotFound("No tag with key '%s' on logged model '%s'", key, id)
	}
	return nil
}

// LogLoggedModelParams implements tracking.LoggedModelStore.
func (s *TrackingStore) LogLoggedModelParams(ctx context.Context, id string, params []tracking.Param) error {
	if len(params) == 0 {
		return nil
	}
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		return s.insertParams(ctx, tx, "mlflow_logged_model_params", "model_id", id, params, false)
	})
}

var lmAttrCols = map[string]string{
	"name": "m.name", "model_id": "m.model_id", "status": "m.status", "source_run_id": "m.source_run_id", "model_type": "m.model_type",
	"creation_timestamp": "m.creation_timestamp", "last_updated_timestamp": "m.last_updated_timestamp",
}

// SearchLoggedModels implements tracking.LoggedModelStore.
func (s *TrackingStore) SearchLoggedModels(ctx context.Context, q tracking.LoggedModelQuery) ([]tracking.LoggedModel, bool, error) {
	conds := []string{"m.lifecycle_stage = ?"}
	args := []any{tracking.StageActive}
	if len(q.ExperimentIDs) > 0 {
		conds = append(conds, "m.experiment_id IN ("+placeholders(len(q.ExperimentIDs))+")")
		for _, id := range q.ExperimentIDs {
			args = append(args, id)
		}
	}
	for _, c := range q.Filter {
		var cond string
		var a []any
		switch c.Entity {
		case tracking.EntityTag:
			cond, a = s.kvCond("mlflow_logged_model_tags", "model_id", "m.model_id", c)
		case tracking.EntityParam:
			cond, a = s.kvCond("mlflow_logged_model_params", "model_id", "m.model_id", c)
		case tracking.EntityMetric:
			cond = "m.model_id IN (SELECT model_id FROM mlflow_metrics WHERE model_id IS NOT NULL AND key = ? AND NOT is_nan AND value " + c.Op + " ?)"
			a = []any{c.Key, c.Num}
		default:
			if c.IsNum {
				cond, a = numCond(lmAttrCols[c.Key], c)
			} else {
				cond, a = s.strCond(lmAttrCols[c.Key], c)
			}
		}
		conds, args = append(conds, cond), append(args, a...)
	}
	var order []string
	for _, o := range q.OrderBy {
		if col, ok := lmAttrCols[o.Key]; ok && o.Entity == tracking.EntityAttribute {
			dir := " ASC"
			if o.Desc {
				dir = " DESC"
			}
			order = append(order, col+dir)
		}
	}
	order = append(order, "m.creation_timestamp DESC", "m.model_id ASC")
	args = append(args, q.MaxResults+1, q.Offset)
	ms, err := s.loadModels(ctx, `m WHERE `+strings.Join(conds, " AND ")+` ORDER BY `+strings.Join(order, ", ")+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, false, err
	}
	more := len(ms) > q.MaxResults
	if more {
		ms = ms[:q.MaxResults]
	}
	return ms, more, nil
}

// ImportRuns bulk-inserts complete runs (info, tags, params and metrics,
// which become both history and latest values) in one transaction with
// multi-row INSERTs. It is the fast path for migrating runs from another
// tracking server and for seeding benchmarks; it skips the Service's
// validation, so callers pass valid runs of existing experiments.
func (s *TrackingStore) ImportRuns(ctx context.Context, runs []tracking.Run) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		type row []any
		flush := func(table, cols string, n int, rows []row) error {
			for start := 0; start < len(rows); start += batchRows {
				chunk := rows[start:min(start+batchRows, len(rows))]
				args := make([]any, 0, n*len(chunk))
				for _, r := range chunk {
					args = append(args, r...)
				}
				if _, err := s.db.exec(ctx, tx, `INSERT INTO `+table+` (`+cols+`) VALUES `+rowsPlaceholders(len(chunk), n), args...); err != nil {
					return err
				}
			}
			return nil
		}
		var rs, tags, params, hist, latest []row
		for _, r := range runs {
			i := r.Info
			exp, _ := strconv.ParseInt(i.ExperimentID, 10, 64)
			var end any
			if i.EndTime != 0 {
				end = i.EndTime
			}
			rs = append(rs, row{i.RunID, exp, i.RunName, i.UserID, i.Status, i.StartTime, end, i.ArtifactURI, i.LifecycleStage})
			for _, t := range r.Data.Tags {
				tags = append(tags, row{i.RunID, t.Key, t.Value})
			}
			for _, p := range r.Data.Params {
				params = append(params, row{i.RunID, p.Key, p.Value})
			}
			last := map[string]tracking.Metric{}
			var keys []string
			for _, m := range r.Data.Metrics {
				v, nan := dbValue(m.Value)
				hist = append(hist, row{i.RunID, m.Key, m.Step, m.Timestamp, v, nan})
				cur, ok := last[m.Key]
				if !ok {
					keys = append(keys, m.Key)
				}
				if !ok || later(m, cur) {
					last[m.Key] = m
				}
			}
			for _, k := range keys {
				m := last[k]
				v, nan := dbValue(m.Value)
				latest = append(latest, row{i.RunID, k, m.Step, m.Timestamp, v, nan})
			}
		}
		if err := flush("mlflow_runs", runCols, 9, rs); err != nil {
			return err
		}
		if err := flush("mlflow_tags", "run_id, key, value", 3, tags); err != nil {
			return err
		}
		if err := flush("mlflow_params", "run_id, key, value", 3, params); err != nil {
			return err
		}
		if err := flush("mlflow_metrics", "run_id, key, step, ts, value, is_nan", 6, hist); err != nil {
			return err
		}
		return flush("mlflow_latest_metrics", "run_id, key, step, ts, value, is_nan", 6, latest)
	})
}
