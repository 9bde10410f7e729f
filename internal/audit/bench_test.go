package audit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app"
	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/config"
	"github.com/lakebox/lakebox/internal/httpapi"
)

// BenchmarkAuditedRequest measures an authenticated GET
// (/api/2.0/token/list, SQLite metastore) over loopback HTTP with auditing
// off (a second handler tree on the same app without an Auditor) and on
// (the app's handler: event built, spooled and fsynced before the answer).
// Sequential requests show the fsync latency; parallel ones show group
// commit. Report the on/off ratios of one run:
//
//	go test -run '^$' -bench BenchmarkAuditedRequest ./internal/audit/
func BenchmarkAuditedRequest(b *testing.B) {
	dir := b.TempDir()
	cfg := config.Server{
		DataDir: dir, Warehouse: "file://" + filepath.Join(dir, "warehouse"),
		Metastore: "sqlite://" + filepath.Join(dir, "metastore.db"), MaxBodyBytes: 1 << 20,
		ReadTimeout: time.Minute, WriteTimeout: time.Minute, ShutdownTimeout: 5 * time.Second, AdminToken: apptest.AdminToken,
	}
	a, err := app.Open(context.Background(), cfg, nil)
	require.NoError(b, err)
	b.Cleanup(func() { a.Close() })
	off := httpapi.NewServer(a.Auth, httpapi.Options{})
	off.MountPlatform(a.Auth, a.Registry, "bench")
	servers := map[string]*httptest.Server{"off": httptest.NewServer(off), "on": httptest.NewServer(a.Handler)}
	for _, s := range servers {
		b.Cleanup(s.Close)
	}
	for _, mode := range []string{"off", "on"} {
		url := servers[mode].URL + "/api/2.0/token/list"
		do := func(b *testing.B) {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+apptest.AdminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
		b.Run("sequential/audit="+mode, func(b *testing.B) {
			for b.Loop() {
				do(b)
			}
		})
		b.Run("parallel8/audit="+mode, func(b *testing.B) {
			b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 clients
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					do(b)
				}
			})
		})
	}
}

// BenchmarkSpoolAppend measures spool appends of a 600-byte event
// (a typical audit record) with fsync, sequentially and from 64 concurrent
// appenders (group commit), and without fsync as the baseline.
//
//	go test -run '^$' -bench BenchmarkSpoolAppend ./internal/audit/
func BenchmarkSpoolAppend(b *testing.B) {
	payload := make([]byte, 600)
	for _, tc := range []struct {
		name   string
		nosync bool
		par    int
	}{{"nosync/seq", true, 0}, {"fsync/seq", false, 0}, {"fsync/par64", false, 32}} {
		b.Run(tc.name, func(b *testing.B) {
			sp, err := audit.OpenSpool(b.TempDir(), audit.SpoolOptions{NoSync: tc.nosync, SegmentBytes: 64 << 20})
			require.NoError(b, err)
			defer sp.Close()
			b.SetBytes(int64(len(payload)))
			if tc.par == 0 {
				for b.Loop() {
					if _, err := sp.Append(payload); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(tc.par)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := sp.Append(payload); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			_ = fmt.Sprint()
		})
	}
}
