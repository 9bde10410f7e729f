package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

func mustSpool(tb testing.TB, dir string, o SpoolOptions) *Spool {
	tb.Helper()
	s, err := OpenSpool(dir, o)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestSpool(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		s := mustSpool(t, dir, SpoolOptions{SegmentBytes: 200})
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := s.Append([]byte(fmt.Sprintf("rec-%d", i)))
				require.NoError(t, err)
			}(i)
		}
		wg.Wait()
		recs := s.Pending(0)
		require.Len(t, recs, 50)
		for i := 1; i < len(recs); i++ {
			require.Equal(t, recs[i-1].Seq+1, recs[i].Seq)
		}
		require.NoError(t, s.Close())

		// Reopen: everything is replayed; release half; reopen again.
		s2, err := OpenSpool(dir, SpoolOptions{SegmentBytes: 200})
		require.NoError(t, err)
		require.Equal(t, s.ID(), s2.ID())
		require.Len(t, s2.Pending(0), 50)
		require.NoError(t, s2.Release(recs[24].Seq))
		require.Len(t, s2.Pending(0), 25)
		require.NoError(t, s2.Close())
		s3 := mustSpool(t, dir, SpoolOptions{SegmentBytes: 200})
		p := s3.Pending(0)
		require.GreaterOrEqual(t, len(p), 25) // segments holding released records may survive partially
		require.Equal(t, recs[49].Seq, p[len(p)-1].Seq)
		seq, err := s3.Append([]byte("next"))
		require.NoError(t, err)
		require.Equal(t, recs[49].Seq+1, seq)
	})
	t.Run("SeqSurvivesFullRelease", func(t *testing.T) {
		dir := t.TempDir()
		s := mustSpool(t, dir, SpoolOptions{SegmentBytes: 64})
		var last uint64
		for i := 0; i < 10; i++ {
			var err error
			last, err = s.Append([]byte("0123456789"))
			require.NoError(t, err)
		}
		require.NoError(t, s.Release(last))
		require.Equal(t, 0, s.Len())
		require.NoError(t, s.Close())
		s2 := mustSpool(t, dir, SpoolOptions{SegmentBytes: 64})
		require.Empty(t, s2.Pending(0))
		seq, err := s2.Append([]byte("x"))
		require.NoError(t, err)
		require.Greater(t, seq, last)
	})
	t.Run("TornTail", func(t *testing.T) {
		dir := t.TempDir()
		s := mustSpool(t, dir, SpoolOptions{})
		for i := 0; i < 3; i++ {
			_, err := s.Append([]byte("good"))
			require.NoError(t, err)
		}
		require.NoError(t, s.Close())
		ents, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
		require.Len(t, ents, 1)
		f, err := os.OpenFile(ents[0], os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		f.Write(appendRecord(nil, 4, []byte("torn-record"))[:20]) // crash mid-write
		f.Close()
		s2 := mustSpool(t, dir, SpoolOptions{})
		require.Len(t, s2.Pending(0), 3)
		seq, err := s2.Append([]byte("after"))
		require.NoError(t, err)
		require.Equal(t, uint64(4), seq)
	})
	t.Run("CorruptChecksum", func(t *testing.T) {
		dir := t.TempDir()
		s := mustSpool(t, dir, SpoolOptions{})
		for i := 0; i < 3; i++ {
			_, err := s.Append([]byte("payload"))
			require.NoError(t, err)
		}
		require.NoError(t, s.Close())
		ents, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
		b, _ := os.ReadFile(ents[0])
		b[len(b)-1] ^= 0xff // flip a bit of the last record
		require.NoError(t, os.WriteFile(ents[0], b, 0o640))
		s2 := mustSpool(t, dir, SpoolOptions{})
		require.Len(t, s2.Pending(0), 2)
	})
	t.Run("ErrLocked", func(t *testing.T) {
		dir := t.TempDir()
		mustSpool(t, dir, SpoolOptions{})
		_, err := OpenSpool(dir, SpoolOptions{})
		require.True(t, errs.Is(err, errs.FailedPrecondition), "%v", err)
	})
	t.Run("ErrClosed", func(t *testing.T) {
		s := mustSpool(t, t.TempDir(), SpoolOptions{})
		require.NoError(t, s.Close())
		_, err := s.Append([]byte("x"))
		require.ErrorIs(t, err, ErrSpoolClosed)
	})
}

func testEvent(i int) *Event {
	return &Event{EventID: fmt.Sprintf("ev-%04d", i), EventTime: time.Date(2026, 1, 2, 3, 4, 5, i*1000, time.UTC),
		ServiceName: "unityCatalog", ActionName: "getTable", RequestID: fmt.Sprintf("req-%d", i),
		Identity: Identity{Email: "a@x", SubjectName: "a@x", PrincipalID: "p1", PrincipalType: "user"},
		Response: Response{StatusCode: 200}, RequestParams: map[string]string{"full_name_arg": "c.s.t"},
		Securable: &Securable{Type: "TABLE", FullName: "c.s.t"}, LatencyMS: 1.5, HTTPMethod: "GET", Path: "/x"}
}

func readAudit(t *testing.T, tbl *delta.Table) []Event {
	t.Helper()
	snap, err := tbl.Latest(context.Background())
	require.NoError(t, err)
	sc, err := snap.Scan(delta.ScanOptions{})
	require.NoError(t, err)
	var out []Event
	require.NoError(t, sc.Rows(context.Background(), func(r delta.Row) error {
		out = append(out, RowEvent(sc.Schema(), r))
		return nil
	}))
	return out
}

// TestBatcherExactlyOnce crashes (simulated) after the Delta commit and before
// the spool release: the restarted batcher must skip the committed records.
func TestBatcherExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	wh, err := localfs.New(filepath.Join(dir, "wh"))
	require.NoError(t, err)
	tbl := delta.NewTable(wh, AuditTableRoot)
	st, _ := SystemTableByName("system.access.audit")
	open := func(hook func() error) (*Spool, *Batcher) {
		sp, err := OpenSpool(filepath.Join(dir, "spool"), SpoolOptions{})
		require.NoError(t, err)
		return sp, NewBatcher(BatcherOptions{Spool: sp, Table: tbl, Create: st.CreateOptions(), ToRows: auditRows, BatchSize: 7, afterCommit: hook})
	}
	sp, b := open(func() error { return errs.E(errs.Unavailable, "CRASH", "simulated crash after commit") })
	for i := 0; i < 20; i++ {
		p, _ := json.Marshal(testEvent(i))
		_, err := sp.Append(p)
		require.NoError(t, err)
	}
	require.Error(t, b.Flush(context.Background())) // first batch of 7 committed, spool not released
	require.Equal(t, 20, sp.Len())
	require.NoError(t, sp.Close())

	sp2, b2 := open(nil)
	defer sp2.Close()
	require.Equal(t, 20, sp2.Len())
	require.NoError(t, b2.Flush(context.Background()))
	require.Equal(t, 0, sp2.Len())
	evs := readAudit(t, tbl)
	require.Len(t, evs, 20)
	ids := map[string]int{}
	for _, e := range evs {
		ids[e.EventID]++
	}
	for i := 0; i < 20; i++ {
		require.Equal(t, 1, ids[fmt.Sprintf("ev-%04d", i)])
	}
	// Round trip of every column.
	want := testEvent(3)
	want.AccountID, want.WorkspaceID = "", ""
	for _, e := range evs {
		if e.EventID == want.EventID {
			require.Equal(t, *want, e)
		}
	}
	snap, err := tbl.Latest(context.Background())
	require.NoError(t, err)
	v, ok := snap.AppTransactionVersion(b2.AppID())
	require.True(t, ok)
	require.Equal(t, int64(20), v)
}

func TestRedaction(t *testing.T) {
	params := map[string]string{}
	RedactQuery(map[string][]string{"token": {"lbx_abc"}, "api_key": {"k"}, "page_size": {"10"}, "x": {"lbx_secretvalue"}}, params)
	ok := RedactJSON([]byte(`{"name":"n","password":"p","client_secret":"s","nested":{"access_token":"t","ok":1,"list":[{"secretKey":"z"},"Bearer abc"]},"comment":"lbx_leaked","AWS_ACCESS_KEY_ID":"AK"}`), params)
	require.True(t, ok)
	require.Equal(t, map[string]string{
		"token": Redacted, "api_key": Redacted, "page_size": "10", "x": Redacted,
		"name": "n", "password": Redacted, "client_secret": Redacted,
		"nested":  `{"access_token":"[REDACTED]","list":[{"secretKey":"[REDACTED]"},"[REDACTED]"],"ok":1}`,
		"comment": Redacted, "AWS_ACCESS_KEY_ID": Redacted,
	}, params)
	require.False(t, RedactJSON([]byte(`[1,2]`), map[string]string{}))
	ev := testEvent(1)
	ev.RequestParams = map[string]string{"password": "x"}
	require.True(t, errs.Is(ev.Validate(), errs.Invalid))
}

func TestParseRoute(t *testing.T) {
	for _, tc := range []struct {
		pattern, method, path, action string
		sec                           *Securable
		pv                            map[string]string
		params                        map[string]string
	}{
		{"GET /api/2.1/unity-catalog/tables/{full_name}", "GET", "", "unityCatalog.getTable", &Securable{"TABLE", "c.s.t"}, map[string]string{"full_name": "c.s.t"}, nil},
		{"GET /api/2.1/unity-catalog/tables", "GET", "", "unityCatalog.listTables", nil, nil, nil},
		{"POST /api/2.1/unity-catalog/tables", "POST", "", "unityCatalog.createTable", &Securable{"TABLE", "c.s.t"}, nil, map[string]string{"catalog_name": "c", "schema_name": "s", "name": "t"}},
		{"DELETE /api/2.1/unity-catalog/catalogs/{name}", "DELETE", "", "unityCatalog.deleteCatalog", &Securable{"CATALOG", "c"}, map[string]string{"name": "c"}, nil},
		{"GET /api/2.1/unity-catalog/models/{full_name}/versions/{version}", "GET", "", "unityCatalog.getVersion", &Securable{"MODEL_VERSION", "c.s.m/3"}, map[string]string{"full_name": "c.s.m", "version": "3"}, nil},
		{"PATCH /api/2.1/unity-catalog/permissions/{securable_type}/{full_name}", "PATCH", "", "unityCatalog.updatePermissions", &Securable{"SCHEMA", "c.s"}, map[string]string{"securable_type": "schema", "full_name": "c.s"}, nil},
		{"POST /api/2.0/mlflow/runs/create", "POST", "", "mlflow.createRun", &Securable{"EXPERIMENT", "7"}, nil, map[string]string{"experiment_id": "7"}},
		{"POST /api/2.0/mlflow/runs/log-metric", "POST", "", "mlflow.logMetric", &Securable{"RUN", "r1"}, nil, map[string]string{"run_id": "r1"}},
		{"GET /api/2.0/mlflow/runs/search", "GET", "", "mlflow.searchRuns", nil, nil, nil},
		{"GET /api/2.0/mlflow/registered-models/get", "GET", "", "mlflow.getRegisteredModel", &Securable{"REGISTERED_MODEL", "m"}, nil, map[string]string{"name": "m"}},
		{"POST /api/2.0/token/create", "POST", "", "accounts.tokenCreate", nil, nil, nil},
		{"GET /api/2.0/preview/scim/v2/Users/{id}", "GET", "", "accounts.getUser", &Securable{"USER", "u1"}, map[string]string{"id": "u1"}, nil},
		{"POST /api/2.0/preview/scim/v2/Users", "POST", "", "accounts.createUser", nil, nil, nil},
		{"POST /api/2.1/jobs/run-now", "POST", "", "jobs.runNow", nil, nil, nil},
		{"/api/2.0/*", "GET", "/api/2.0/nothing/here", "nothing.listHere", nil, nil, nil},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			rt := ParseRoute(tc.pattern)
			path := tc.path
			if path == "" {
				path = rt.Path
			}
			require.Equal(t, tc.action, rt.ServiceFor(path)+"."+rt.ActionFor(tc.method, path))
			p := tc.params
			if p == nil {
				p = map[string]string{}
			}
			require.Equal(t, tc.sec, rt.Securable(func(k string) string { return tc.pv[k] }, p))
		})
	}
	require.True(t, ParseRoute("GET /healthz").Skip)
}
