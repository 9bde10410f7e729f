package query

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/delta"
)

// TestBenchmarks measures the workloads of docs/benchmarks.md, each as a
// ratio against a baseline run in the same process (never asserted; these
// machines are noisy). Run with:
//
//	LAKEBOX_SQL_BENCH=10000000 go test ./internal/query -run TestBenchmarks -v -timeout 30m
//
// The value is the row count of the large table (default 10M).
func TestBenchmarks(t *testing.T) {
	nStr := os.Getenv("LAKEBOX_SQL_BENCH")
	if nStr == "" {
		t.Skip("set LAKEBOX_SQL_BENCH=<rows> to run the SQL benchmarks")
	}
	n, err := strconv.Atoi(nStr)
	require.NoError(t, err)
	env := mustEnv(t, "SQLite")
	env.eng.o.Threads = 2
	env.eng.o.MemoryLimit = "4GB"
	raw, err := duckdb.NewConnector("", nil)
	require.NoError(t, err)
	db := sql.OpenDB(raw)
	defer db.Close()
	_, err = db.Exec("SET threads=2; SET memory_limit='4GB'")
	require.NoError(t, err)
	timeIt := func(f func()) time.Duration {
		s := time.Now()
		f()
		return time.Since(s)
	}
	gen := fmt.Sprintf("SELECT range AS id, range %% 1000 AS k, (range * 7) %% 10007 AS v, 'name-' || (range %% 50000) AS s FROM range(%d)", n)
	env.mustExec(t, "admin", nil, "CREATE TABLE big (id BIGINT, k BIGINT, v BIGINT, s STRING)")

	// 1. INSERT … SELECT vs DuckDB COPY … TO Parquet.
	base := filepath.Join(env.dir, "copy.parquet")
	var tCopy time.Duration
	for i := 0; i < 2; i++ { // the first run warms up DuckDB
		tCopy = timeIt(func() {
			_, err := db.Exec("COPY (" + gen + ") TO '" + base + "' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1048576)")
			require.NoError(t, err)
		})
	}
	tInsert := timeIt(func() { env.mustExec(t, "admin", nil, "INSERT INTO big "+gen) })
	t.Logf("INSERT SELECT %d rows: %v; DuckDB COPY TO parquet: %v; ratio %.2fx", n, tInsert, tCopy, tInsert.Seconds()/tCopy.Seconds())

	// 2. Scan + group-by vs read_parquet over the same files.
	var fl []string
	filepath.WalkDir(filepath.Join(env.dir, "warehouse"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") && !strings.Contains(p, "_delta_log") {
			fl = append(fl, "'"+p+"'")
		}
		return nil
	})
	q := "SELECT k, count(*), sum(v), min(s) FROM %s GROUP BY k ORDER BY k"
	var tRaw, tLake time.Duration
	for i := 0; i < 2; i++ { // warm the page cache, keep the second run
		tRaw = timeIt(func() {
			rows, err := db.Query(fmt.Sprintf(q, "read_parquet(["+strings.Join(fl, ",")+"])"))
			require.NoError(t, err)
			for rows.Next() {
			}
			rows.Close()
		})
		tLake = timeIt(func() { env.mustExec(t, "admin", nil, fmt.Sprintf(q, "big")) })
	}
	t.Logf("scan+group-by over %d rows: Lakebox %v; DuckDB read_parquet %v; ratio %.2fx", n, tLake, tRaw, tLake.Seconds()/tRaw.Seconds())

	// 3. MERGE of 100k changed rows into the big table.
	m := min(100_000, n/10)
	tMerge := timeIt(func() {
		env.mustExec(t, "admin", nil, fmt.Sprintf("MERGE INTO big USING (SELECT range * 10 AS id, 1 AS v FROM range(%d)) s ON big.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v", m))
	})
	res := env.mustExec(t, "admin", nil, "SELECT count(*) FROM big WHERE v = 1 AND id % 10 = 0 AND id < "+strconv.Itoa(m*10))
	require.EqualValues(t, m, res.Rows[0][0])
	t.Logf("MERGE %d changed rows into %d: %v (baseline INSERT of the table: %v, ratio %.2fx)", m, n, tMerge, tInsert, tMerge.Seconds()/tInsert.Seconds())

	// 4. Selective predicate on a 1,000-file partitioned table vs all files.
	env.mustExec(t, "admin", nil, "CREATE TABLE parts (id BIGINT, v BIGINT, p INT) PARTITIONED BY (p)")
	env.mustExec(t, "admin", nil, fmt.Sprintf("INSERT INTO parts SELECT range, range %% 97, range %% 1000 FROM range(%d)", min(n, 2_000_000)))
	var pf []string
	filepath.WalkDir(filepath.Join(env.dir, "warehouse"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(p, "/p=") && strings.HasSuffix(p, ".parquet") {
			pf = append(pf, "'"+p+"'")
		}
		return nil
	})
	var tSel, tAll time.Duration
	for i := 0; i < 2; i++ {
		tSel = timeIt(func() { env.mustExec(t, "admin", nil, "SELECT count(*), sum(v) FROM parts WHERE p = 7") })
		tAll = timeIt(func() {
			rows, err := db.Query("SELECT count(*), sum(v) FROM read_parquet([" + strings.Join(pf, ",") + "], hive_partitioning=true) WHERE p = 7")
			require.NoError(t, err)
			for rows.Next() {
			}
			rows.Close()
		})
	}
	t.Logf("selective query on %d-file partitioned table: Lakebox (pruned) %v; DuckDB over every file %v; ratio %.3fx", len(pf), tSel, tAll, tSel.Seconds()/tAll.Seconds())

	// 4b. MERGE into one partition of the partitioned table: dynamic file
	// pruning reads that partition's files; the baseline is the same MERGE
	// with a NOT MATCHED BY SOURCE clause that changes nothing but makes
	// every file a candidate.
	merge := fmt.Sprintf("MERGE INTO parts t USING (SELECT range AS id, 7 AS p FROM range(7, %d, 1000)) s ON t.p = s.p AND t.id = s.id WHEN MATCHED THEN UPDATE SET v = t.v + 1", min(n, 2_000_000))
	tPruned := timeIt(func() { env.mustExec(t, "admin", nil, merge) })
	tEvery := timeIt(func() { env.mustExec(t, "admin", nil, merge+" WHEN NOT MATCHED BY SOURCE AND false THEN DELETE") })
	t.Logf("MERGE into one partition of the %d-file table: pruned %v; every file %v; ratio %.3fx", len(pf), tPruned, tEvery, tPruned.Seconds()/tEvery.Seconds())

	// 5. A query on a version 1,000 commits back.
	env.mustExec(t, "admin", nil, "CREATE TABLE hist (id BIGINT)")
	ti, err := env.cat.ResolveTable(env.ctx("admin"), "main.default.hist")
	require.NoError(t, err)
	b, err := localStorage{}.Open(context.Background(), ti.StorageLocation)
	require.NoError(t, err)
	ht := delta.NewTable(b, "")
	for i := 0; i < 1001; i++ {
		_, err := ht.Append(context.Background(), []delta.Row{{int64(i)}}, delta.WriteOptions{})
		require.NoError(t, err)
	}
	var tOld, tNew time.Duration
	for i := 0; i < 2; i++ {
		tOld = timeIt(func() { env.mustExec(t, "admin", nil, "SELECT count(*) FROM hist VERSION AS OF 1") })
		tNew = timeIt(func() { env.mustExec(t, "admin", nil, "SELECT count(*) FROM hist") })
	}
	t.Logf("query on version 1 of a 1001-version table: %v; on the latest: %v; ratio %.2fx", tOld, tNew, tOld.Seconds()/tNew.Seconds())
}

// BenchmarkTableStatement measures the fixed cost a table adds to a
// statement: "select1" is SELECT 1 (no table), "table" a count over a
// 96-commit table (a checkpoint and a few JSON commits, one data file after
// OPTIMIZE). The engine keeps each table's delta.Table between statements,
// so the latest snapshot is an incremental update, not a log replay.
// Report the ratio of the two ns/op:
//
//	go test -run '^$' -bench BenchmarkTableStatement -benchtime 100x ./internal/query/
func BenchmarkTableStatement(b *testing.B) {
	env := mustEnv(b, "SQLite")
	env.mustExec(b, "admin", nil, "CREATE TABLE h (id INT)")
	for i := range 95 {
		env.mustExec(b, "admin", nil, fmt.Sprintf("INSERT INTO h VALUES (%d)", i))
	}
	env.mustExec(b, "admin", nil, "OPTIMIZE h")
	for _, q := range []struct{ name, sql string }{{"select1", "SELECT 1"}, {"table", "SELECT count(*) FROM h"}} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				env.mustExec(b, "admin", nil, q.sql)
			}
		})
	}
}
