package audit_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app"
	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/config"
	"github.com/lakebox/lakebox/internal/delta"
)

const childEnv = "LAKEBOX_AUDIT_CRASH_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChild(dir))
	}
	os.Exit(m.Run())
}

// runChild serves a real app on the data directory until it is killed.
func runChild(dir string) int {
	cfg := config.Server{
		DataDir: dir, Warehouse: "file://" + filepath.Join(dir, "warehouse"),
		Metastore: "sqlite://" + filepath.Join(dir, "metastore.db"),
		LogLevel:  "info", LogFormat: "json", MaxBodyBytes: 1 << 20,
		ReadTimeout: time.Minute, WriteTimeout: time.Minute, ShutdownTimeout: 5 * time.Second,
		AdminToken: apptest.AdminToken,
	}
	a, err := app.Open(context.Background(), cfg, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 1
	}
	os.WriteFile(filepath.Join(dir, "addr.tmp"), []byte(ln.Addr().String()), 0o600)
	os.Rename(filepath.Join(dir, "addr.tmp"), filepath.Join(dir, "addr"))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := a.Serve(ctx, ln); err != nil {
		return 1
	}
	return 0
}

func startChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	os.Remove(filepath.Join(dir, "addr"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, "addr")); err == nil {
			return cmd, "http://" + string(b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("child server did not start")
	return nil, ""
}

func get(t *testing.T, base, path, reqID string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+apptest.AdminToken)
	req.Header.Set("X-Request-Id", reqID)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
}

func requestCounts(t *testing.T, dir string) map[string]int {
	t.Helper()
	b, err := localfs.New(filepath.Join(dir, "warehouse"))
	require.NoError(t, err)
	tbl := delta.NewTable(b, audit.AuditTableRoot)
	snap, err := tbl.Latest(context.Background())
	if err != nil {
		return nil
	}
	sc, err := snap.Scan(delta.ScanOptions{Columns: []string{"request_id"}})
	require.NoError(t, err)
	out := map[string]int{}
	require.NoError(t, sc.Rows(context.Background(), func(r delta.Row) error {
		if s, ok := r[0].(string); ok {
			out[s]++
		}
		return nil
	}))
	return out
}

// TestAuditCrashRecovery kills the server with SIGKILL right after its
// responses were answered; after a restart every answered request is in
// system.access.audit exactly once.
func TestAuditCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and restarts a server process")
	}
	dir := t.TempDir()
	var ids []string
	for round := 0; round < 3; round++ {
		cmd, base := startChild(t, dir)
		for i := 0; i < 40; i++ {
			id := fmt.Sprintf("crash-%d-%d", round, i)
			ids = append(ids, id)
			path := "/api/2.0/token/list"
			if i%2 == 1 {
				path = "/api/2.0/preview/scim/v2/Me"
			}
			get(t, base, path, id)
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
	}
	// Restart once more and let the flusher replay the spool; the requests
	// of this round are flushed by the graceful shutdown.
	cmd, base := startChild(t, dir)
	crashed := len(ids)
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("graceful-%d", i)
		ids = append(ids, id)
		get(t, base, "/api/2.0/token/list", id)
	}
	deadline := time.Now().Add(30 * time.Second)
	var counts map[string]int
	for time.Now().Before(deadline) {
		counts = requestCounts(t, dir)
		missing := 0
		for _, id := range ids[:crashed] {
			if counts[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM)) // graceful: final flush
	cmd.Wait()
	counts = requestCounts(t, dir)
	for _, id := range ids {
		require.Equal(t, 1, counts[id], "request %s", id)
	}
	n := 0
	for id := range counts {
		if strings.HasPrefix(id, "crash-") || strings.HasPrefix(id, "graceful-") {
			n++
		}
	}
	require.Equal(t, len(ids), n)
}
