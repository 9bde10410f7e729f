package query

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
)

// TestTruncateCommit checks what a script cannot see of TRUNCATE TABLE: its
// Delta commit (operation TRUNCATE in DESCRIBE HISTORY, every file
// removed), its lineage and audit events, and the append-only refusal.
func TestTruncateCommit(t *testing.T) {
	env := mustEnv(t, "SQLite")
	env.mustExec(t, "admin", nil, "CREATE TABLE t (id INT, p STRING) PARTITIONED BY (p)")
	env.mustExec(t, "admin", nil, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
	env.mustExec(t, "admin", nil, "TRUNCATE TABLE t")

	last := env.calls.lineage[len(env.calls.lineage)-1]
	require.Equal(t, "TRUNCATE", last.Operation)
	require.Equal(t, "main.default.t", last.Target)
	require.EqualValues(t, 2, last.Version)
	ev := env.calls.audit[len(env.calls.audit)-1]
	require.Equal(t, "TRUNCATE TABLE", ev.Kind)
	require.Equal(t, "SUCCEEDED", ev.Status)
	require.Equal(t, []string{"main.default.t"}, ev.Tables)

	hist := env.mustExec(t, "admin", nil, "DESCRIBE HISTORY t LIMIT 1")
	require.Len(t, hist.Rows, 1)
	require.EqualValues(t, 2, hist.Rows[0][0])
	require.Equal(t, "TRUNCATE", hist.Rows[0][2])
	require.Contains(t, hist.Rows[0][4], `"numRemovedFiles":"2"`)
	detail := env.mustExec(t, "admin", nil, "DESCRIBE DETAIL t")
	require.EqualValues(t, 0, detail.Rows[0][5], "numFiles")

	env.mustExec(t, "admin", nil, "CREATE TABLE log (id INT) TBLPROPERTIES ('delta.appendOnly' = 'true')")
	env.mustExec(t, "admin", nil, "INSERT INTO log VALUES (1)")
	_, err := env.eng.Exec(env.ctx("admin"), &Session{}, "TRUNCATE TABLE log")
	require.Error(t, err)
	require.Equal(t, "DELTA_CANNOT_MODIFY_APPEND_ONLY", errs.ReasonOf(err))
	require.EqualValues(t, 1, env.mustExec(t, "admin", nil, "SELECT count(*) FROM log").Rows[0][0])
}

// TestShowCreateTableRecreates runs the statement SHOW CREATE TABLE gives
// after dropping the table (and a view): the new table's SHOW CREATE TABLE
// is the same, policies and properties included, and its policies apply.
func TestShowCreateTableRecreates(t *testing.T) {
	env := mustEnv(t, "SQLite")
	for _, q := range []string{
		"CREATE FUNCTION eng_only(d STRING) RETURNS BOOLEAN RETURN d = 'eng'",
		"CREATE FUNCTION hide(s STRING) RETURNS STRING RETURN '***'",
		"CREATE TABLE `Odd-Name` (id BIGINT NOT NULL COMMENT 'it''s the key', `Full Name` STRING MASK hide, dept STRING," +
			" m MAP<STRING, ARRAY<DECIMAL(5,1)>>, s STRUCT<`a b`: INT, c: STRUCT<d: DATE>>) PARTITIONED BY (dept)" +
			" COMMENT 'odd' TBLPROPERTIES ('delta.columnMapping.mode' = 'name', 'x.y' = 'it''s')",
		"ALTER TABLE `Odd-Name` SET ROW FILTER eng_only ON (dept)",
		"CREATE VIEW v COMMENT 'a view' AS SELECT id FROM `odd-name` WHERE id > 1",
	} {
		env.mustExec(t, "admin", nil, q)
	}
	for _, name := range []string{"`odd-name`", "v"} {
		before := env.mustExec(t, "admin", nil, "SHOW CREATE TABLE "+name).Rows[0][0].(string)
		if name == "v" {
			env.mustExec(t, "admin", nil, "DROP VIEW v")
		} else {
			require.Contains(t, before, "'delta.columnMapping.mode' = 'name'")
			require.NotContains(t, before, "maxColumnId")
			env.mustExec(t, "admin", nil, "DROP TABLE `odd-name`")
		}
		env.mustExec(t, "admin", nil, before)
		after := env.mustExec(t, "admin", nil, "SHOW CREATE TABLE "+name).Rows[0][0].(string)
		require.Equal(t, before, after)
	}
	env.mustExec(t, "admin", nil, "INSERT INTO `odd-name` (id, `Full Name`, dept) VALUES (1, 'ann', 'eng'), (2, 'bob', 'ops')")
	res := env.mustExec(t, "admin", nil, "SELECT id, `Full Name` FROM `odd-name`")
	require.Equal(t, [][]any{{int64(1), "***"}}, res.Rows)
}
