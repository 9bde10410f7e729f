package query

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// TestConflictingMerges runs two MERGEs that both read the same version and
// rewrite the same file: one commits, the other gets a clear conflict
// error, and the table holds exactly the winner's change.
func TestConflictingMerges(t *testing.T) {
	for _, ms := range metastores {
		t.Run(ms, func(t *testing.T) {
			env := mustEnv(t, ms)
			env.mustExec(t, "admin", nil, "CREATE TABLE acct (id INT, bal INT)")
			env.mustExec(t, "admin", nil, "INSERT INTO acct VALUES (1, 100), (2, 200)")
			// Both statements must reach their commit before either commits.
			var mu sync.Mutex
			arrived := 0
			both := make(chan struct{})
			env.eng.beforeCommit = func() {
				mu.Lock()
				arrived++
				if arrived == 2 {
					close(both)
				}
				mu.Unlock()
				select {
				case <-both:
				case <-time.After(20 * time.Second):
				}
			}
			stmts := []string{
				"MERGE INTO acct USING (SELECT 1 AS id, 10 AS d) s ON acct.id = s.id WHEN MATCHED THEN UPDATE SET bal = bal + s.d",
				"MERGE INTO acct USING (SELECT 2 AS id, 20 AS bal) s ON acct.id = s.id WHEN MATCHED THEN UPDATE SET bal = acct.bal + s.bal WHEN NOT MATCHED THEN INSERT *",
			}
			errsOut := make([]error, 2)
			var wg sync.WaitGroup
			for i, q := range stmts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errsOut[i] = env.eng.Exec(env.ctx("admin"), &Session{}, q)
				}()
			}
			wg.Wait()
			env.eng.beforeCommit = nil
			var won, lost int
			for _, err := range errsOut {
				if err == nil {
					won++
					continue
				}
				require.Equal(t, errs.Conflict, errs.KindOf(err), "%v", err)
				require.Equal(t, "DELTA_CONCURRENT_MODIFICATION", errs.ReasonOf(err))
				require.Contains(t, errs.Message(err), "retry the statement")
				lost++
			}
			require.Equal(t, 1, won)
			require.Equal(t, 1, lost)
			res := env.mustExec(t, "admin", nil, "SELECT sum(bal) AS s, count(*) AS n FROM acct")
			total := res.Rows[0][0]
			require.Contains(t, []any{"310", "320", int64(310), int64(320), float64(310), float64(320)}, normalizeNum(total))
			require.EqualValues(t, 2, res.Rows[0][1])
			// The loser retried afterwards succeeds: nothing lost.
			for i, err := range errsOut {
				if err != nil {
					env.mustExec(t, "admin", nil, stmts[i])
				}
			}
			res = env.mustExec(t, "admin", nil, "SELECT sum(bal) AS s FROM acct")
			require.EqualValues(t, "330", normalizeNum(res.Rows[0][0]))
		})
	}
}

func normalizeNum(v any) any {
	switch x := v.(type) {
	case string:
		return x
	default:
		return formatValue(x)
	}
}

// TestLineageAndAudit checks that writes record lineage (sources with
// versions → target) and every statement, refused ones included, an audit
// event.
func TestLineageAndAudit(t *testing.T) {
	env := mustEnv(t, "SQLite")
	env.mustExec(t, "admin", nil, "CREATE TABLE a (x INT)")
	env.mustExec(t, "admin", nil, "INSERT INTO a VALUES (1), (2)")
	env.mustExec(t, "admin", nil, "CREATE TABLE b AS SELECT x * 2 AS y FROM a")
	_, err := env.eng.Exec(env.ctx("bob"), &Session{}, "SELECT * FROM a")
	require.Error(t, err)
	var ctas *LineageEvent
	for i := range env.calls.lineage {
		if env.calls.lineage[i].Target == "main.default.b" {
			ctas = &env.calls.lineage[i]
		}
	}
	require.NotNil(t, ctas)
	require.Equal(t, []string{"main.default.a@v1"}, ctas.Sources)
	require.Equal(t, "CREATE TABLE AS SELECT", ctas.Operation)
	require.Equal(t, "admin", ctas.Principal)
	require.Len(t, env.calls.audit, 4)
	last := env.calls.audit[3]
	require.Equal(t, "bob", last.Principal)
	require.Equal(t, "FAILED", last.Status)
	require.Equal(t, "PERMISSION_DENIED", last.ErrorCode)
	require.Equal(t, "SUCCEEDED", env.calls.audit[2].Status)
	require.Contains(t, env.calls.audit[2].Tables, "main.default.a")
}

// TestFailedStatementChangesNothing: a failing INSERT leaves the table at
// the same version.
func TestFailedStatementChangesNothing(t *testing.T) {
	env := mustEnv(t, "SQLite")
	env.mustExec(t, "admin", nil, "CREATE TABLE n (x INT NOT NULL)")
	env.mustExec(t, "admin", nil, "INSERT INTO n VALUES (1)")
	_, err := env.eng.Exec(env.ctx("admin"), &Session{}, "INSERT INTO n SELECT CASE WHEN range = 5 THEN NULL ELSE range END FROM range(10)")
	require.Error(t, err)
	_, err = env.eng.Exec(env.ctx("admin"), &Session{}, "UPDATE n SET x = x / 0 WHERE x = 1")
	_ = err
	res := env.mustExec(t, "admin", nil, "SELECT count(*) FROM n")
	require.EqualValues(t, 1, res.Rows[0][0])
}

// TestPolicyColumnOutOfSync: when the table's schema and the catalog's
// columns disagree (a rename committed to Delta whose catalog update did
// not happen), a masked column the policy names is missing from the
// table; reads under the policy are refused, never done without it.
func TestPolicyColumnOutOfSync(t *testing.T) {
	env := mustEnv(t, "SQLite")
	for _, q := range []string{
		"CREATE TABLE p (id INT, ssn STRING) TBLPROPERTIES ('delta.columnMapping.mode' = 'name')",
		"INSERT INTO p VALUES (1, '111-11-1111')",
		"GRANT USE CATALOG ON CATALOG main TO analysts",
		"GRANT USE SCHEMA ON SCHEMA main.default TO analysts",
		"GRANT SELECT ON TABLE p TO analysts",
		"CREATE FUNCTION m(s STRING) RETURNS STRING RETURN '***'",
		"ALTER TABLE p ALTER COLUMN ssn SET MASK m",
	} {
		env.mustExec(t, "admin", nil, q)
	}
	res := env.mustExec(t, "alice", nil, "SELECT ssn FROM p")
	require.Equal(t, "***", res.Rows[0][0])

	// Rename ssn in the Delta log only.
	ti, err := env.cat.ResolveTable(env.ctx("admin"), "main.default.p")
	require.NoError(t, err)
	b, err := localStorage{}.Open(context.Background(), ti.StorageLocation)
	require.NoError(t, err)
	snap, err := delta.NewTable(b, "").Latest(context.Background())
	require.NoError(t, err)
	txn, err := snap.StartTransaction(delta.TransactionOptions{})
	require.NoError(t, err)
	md := *txn.Metadata()
	md.SchemaString = strings.Replace(md.SchemaString, `"name":"ssn"`, `"name":"tax_id"`, 1)
	require.NotEqual(t, txn.Metadata().SchemaString, md.SchemaString)
	require.NoError(t, txn.SetMetadata(&md))
	_, err = txn.Commit(context.Background(), delta.Operation{Name: "RENAME COLUMN"})
	require.NoError(t, err)

	for _, q := range []string{"SELECT * FROM p", "SELECT tax_id FROM p", "SELECT count(*) FROM p VERSION AS OF 1"} {
		_, err = env.eng.Exec(env.ctx("alice"), &Session{}, q)
		require.Error(t, err, q)
		require.Equal(t, "POLICY_COLUMN_MISSING", errs.ReasonOf(err), q)
		require.Contains(t, errs.Message(err), "names column ssn, which the table does not have")
	}
}

// TestConcurrentUsers runs many statements at once from three users over a
// table with a row filter that depends on who asks, while the same users
// append to one table: every read sees exactly its user's rows (nothing of
// one statement's identity leaks into another's DuckDB), and every append
// lands.
func TestConcurrentUsers(t *testing.T) {
	for _, ms := range metastores {
		t.Run(ms, func(t *testing.T) {
			env := mustEnv(t, ms)
			for _, q := range []string{
				"CREATE TABLE owned (id INT, owner STRING)",
				"INSERT INTO owned SELECT range, CASE range % 3 WHEN 0 THEN 'alice' WHEN 1 THEN 'bob' ELSE 'carol' END FROM range(300)",
				"CREATE FUNCTION mine(o STRING) RETURNS BOOLEAN RETURN o = current_user() OR is_account_group_member('admins')",
				"ALTER TABLE owned SET ROW FILTER mine ON (owner)",
				"CREATE TABLE events (who STRING, n INT)",
				"GRANT USE CATALOG ON CATALOG main TO `account users`",
				"GRANT USE SCHEMA ON SCHEMA main.default TO `account users`",
				"GRANT SELECT ON TABLE owned TO `account users`",
				"GRANT SELECT, MODIFY ON TABLE events TO `account users`",
			} {
				env.mustExec(t, "admin", nil, q)
			}
			users := []string{"alice", "bob", "carol", "admin"}
			want := map[string]int64{"alice": 100, "bob": 100, "carol": 100, "admin": 300}
			const rounds = 6
			var wg sync.WaitGroup
			errc := make(chan error, len(users)*rounds*2)
			for _, u := range users {
				for i := range rounds {
					wg.Add(2)
					go func() {
						defer wg.Done()
						res, err := env.eng.Exec(env.ctx(u), &Session{}, "SELECT count(*), count(DISTINCT owner), min(current_user()) FROM owned")
						if err != nil {
							errc <- err
							return
						}
						if n := normalizeNum(res.Rows[0][0]); n != fmt.Sprint(want[u]) {
							errc <- fmt.Errorf("%s saw %v rows, want %d", u, n, want[u])
						}
						if who := res.Rows[0][2]; who != u {
							errc <- fmt.Errorf("%s ran as %v", u, who)
						}
					}()
					go func() {
						defer wg.Done()
						if _, err := env.eng.Exec(env.ctx(u), &Session{}, fmt.Sprintf("INSERT INTO events VALUES (current_user(), %d)", i)); err != nil {
							errc <- err
						}
					}()
				}
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				require.NoError(t, err)
			}
			res := env.mustExec(t, "admin", nil, "SELECT who, count(*) FROM events GROUP BY who ORDER BY who")
			require.Len(t, res.Rows, len(users))
			for _, r := range res.Rows {
				require.Equal(t, fmt.Sprint(rounds), normalizeNum(r[1]), "appends of %v", r[0])
			}
		})
	}
}

// TestMergeFilePruning: a MERGE reads only the target files whose
// partition values or statistics overlap the source's keys in the ON
// condition (dynamic file pruning), gives the same result as reading them
// all, and reads every file when a NOT MATCHED BY SOURCE clause needs them.
func TestMergeFilePruning(t *testing.T) {
	env := mustEnv(t, "SQLite")
	env.mustExec(t, "admin", nil, "CREATE TABLE tgt (id INT, p INT, v STRING) PARTITIONED BY (p)")
	env.mustExec(t, "admin", nil, "INSERT INTO tgt SELECT range, range % 10, 'old' FROM range(100)")
	env.mustExec(t, "admin", nil, "CREATE TABLE upd (id INT, p INT, v STRING)")
	env.mustExec(t, "admin", nil, "INSERT INTO upd VALUES (3, 3, 'new'), (13, 3, 'new'), (1003, 3, 'ins')")
	lastMetrics := func(table string) (scanned, total string) {
		res := env.mustExec(t, "admin", nil, "DESCRIBE HISTORY "+table+" LIMIT 1")
		var m map[string]string
		for i, c := range res.Columns {
			if c.Name == "operationMetrics" {
				require.NoError(t, json.Unmarshal([]byte(fmt.Sprint(res.Rows[0][i])), &m))
			}
		}
		require.NotNil(t, m, "operationMetrics of %v", res.Rows[0])
		return m["numFilesScanned"], m["numFilesInTable"]
	}
	res := env.mustExec(t, "admin", nil, `MERGE INTO tgt AS t USING upd AS s ON t.p = s.p AND t.id = s.id
		WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT *`)
	require.Equal(t, "3", formatValue(res.Rows[0][0]))
	scanned, total := lastMetrics("tgt")
	require.Equal(t, "1", scanned, "only partition p=3 is read")
	require.Equal(t, "10", total)
	got := env.mustExec(t, "admin", nil, "SELECT count(*), count_if(v = 'new'), count_if(v = 'ins') FROM tgt")
	require.Equal(t, []any{"101", "2", "1"}, []any{formatValue(got.Rows[0][0]), formatValue(got.Rows[0][1]), formatValue(got.Rows[0][2])})

	// Keys on a data column: min/max statistics prune. Five appends of
	// disjoint id ranges make five files; ids 45 and 47 are in one.
	env.mustExec(t, "admin", nil, "CREATE TABLE flat (id INT, v STRING)")
	for i := range 5 {
		env.mustExec(t, "admin", nil, fmt.Sprintf("INSERT INTO flat SELECT range, 'old' FROM range(%d, %d)", i*20, i*20+20))
	}
	env.mustExec(t, "admin", nil, `MERGE INTO flat t USING (VALUES (45, 'x'), (47, 'y')) AS s(id, v) ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v`)
	scanned, total = lastMetrics("flat")
	require.Equal(t, "1", scanned)
	require.Equal(t, "5", total)
	got = env.mustExec(t, "admin", nil, "SELECT string_agg(v, '' ORDER BY id) FROM flat WHERE id BETWEEN 44 AND 48")
	require.Equal(t, "oldxoldyold", formatValue(got.Rows[0][0]))

	// NOT MATCHED BY SOURCE acts on rows outside the matches: no pruning.
	env.mustExec(t, "admin", nil, `MERGE INTO tgt t USING upd s ON t.p = s.p AND t.id = s.id
		WHEN MATCHED THEN UPDATE SET v = 'again' WHEN NOT MATCHED BY SOURCE AND t.p = 9 THEN DELETE`)
	scanned, total = lastMetrics("tgt")
	require.Equal(t, total, scanned)
	got = env.mustExec(t, "admin", nil, "SELECT count(*), count_if(v = 'again') FROM tgt")
	require.Equal(t, []any{"91", "3"}, []any{formatValue(got.Rows[0][0]), formatValue(got.Rows[0][1])})
}
