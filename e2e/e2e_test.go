// Package e2e runs the lakebox binary as real processes against real
// services (PostgreSQL, versitygw) and drives it over HTTP with the Go client.
package e2e_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/testenv"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lakebox-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "lakebox")
	build := exec.Command("go", "build", "-o", binary, "../cmd/lakebox")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build lakebox:", err)
		os.Exit(1)
	}
	code := m.Run()
	testenv.StopS3()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `lakebox server`.
type proc struct {
	cmd    *exec.Cmd
	URL    string
	Stdout string
	done   chan struct{} // closed when the process has exited
	err    error         // its exit error, valid after done
}

// wait waits up to d for the process to exit and returns its exit error.
func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		t.Fatalf("server did not exit within %v", d)
		return nil
	}
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// startServer starts `lakebox server` with args and env in dir and waits for
// its listening line.
func startServer(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"server", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &lockedWriter{w: &stderr}
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	var out strings.Builder
	deadline := time.After(60 * time.Second)
	for p.URL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("server exited before listening:\nstdout:\n%s\nstderr:\n%s", out.String(), stderr.String())
			}
			out.WriteString(l + "\n")
			if m := listenRE.FindStringSubmatch(l); m != nil {
				p.URL = m[1]
			}
		case <-deadline:
			t.Fatalf("server did not start:\n%s", out.String())
		}
	}
	// Collect the rest of the banner (it ends with a blank line or quickly).
	timeout := time.After(300 * time.Millisecond)
collect:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break collect
			}
			out.WriteString(l + "\n")
		case <-timeout:
			break collect
		}
	}
	p.Stdout = out.String()
	go func() {
		for range lines {
		}
	}()
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func apiStatus(t *testing.T, err error) int {
	t.Helper()
	var e *client.APIError
	require.True(t, errors.As(err, &e), "want an API error, got %v", err)
	return e.Status
}

// replicaAdmin is the admin token of the servers startReplicas starts.
const replicaAdmin = "lbx_e2e-admin-token-abcdef"

// startReplicas starts two servers at the same time on one fresh
// PostgreSQL database and one S3 bucket (given as an s3:// URL with its
// connection settings, keys in the environment), and returns them with the
// S3 secret key (which must never appear in their output).
func startReplicas(t *testing.T) (a, b *proc, secret string) {
	pg := testenv.Postgres(t)
	s3 := testenv.S3(t)
	env := []string{"LAKEBOX_ADMIN_TOKEN=" + replicaAdmin, "AWS_ACCESS_KEY_ID=" + s3.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3.SecretKey}
	s3.Prefix = "lakebox"
	args := []string{"--metastore", pg, "--warehouse", s3.URL(), "--log-level", "warn"}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = startServer(t, t.TempDir(), env, args...) }()
	go func() { defer wg.Done(); b = startServer(t, t.TempDir(), env, args...) }()
	wg.Wait()
	return a, b, s3.SecretKey
}

// TestReplicasShareIdentity starts two servers on one PostgreSQL database and
// one S3 bucket at the same time: a token created through one works on the
// other, and a token revoked through one fails on both.
func TestReplicasShareIdentity(t *testing.T) {
	a, b, secret := startReplicas(t)
	require.NotContains(t, a.Stdout+b.Stdout, "shown only this once", "LAKEBOX_ADMIN_TOKEN is used, nothing generated")
	require.NotContains(t, a.Stdout+b.Stdout, secret)

	ctx := context.Background()
	ca, cb := client.New(a.URL, replicaAdmin), client.New(b.URL, replicaAdmin)
	tok, err := ca.CreateToken(ctx, 3600, "made on A")
	require.NoError(t, err)
	onA, onB := client.New(a.URL, tok.TokenValue), client.New(b.URL, tok.TokenValue)
	_, err = onB.Me(ctx)
	require.NoError(t, err, "a token created on A works on B")
	_, err = onA.Me(ctx)
	require.NoError(t, err)

	require.NoError(t, cb.RevokeToken(ctx, tok.TokenInfo.TokenID))
	_, err = onA.Me(ctx)
	require.Equal(t, 401, apiStatus(t, err), "revoked on B fails on A")
	_, err = onB.Me(ctx)
	require.Equal(t, 401, apiStatus(t, err), "and on B")

	for _, p := range []*proc{a, b} {
		resp, err := http.Get(p.URL + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode, "ready with PostgreSQL and S3")
	}
}

var tokenRE = regexp.MustCompile(`lbx_[A-Za-z0-9_-]{20,}`)

// TestEmbeddedDefault starts the server with no configuration at all, as a
// new user does, checks the generated admin token, a restart, and graceful
// shutdown.
func TestEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	p := startServer(t, dir, []string{"LAKEBOX_ADMIN_TOKEN="})
	var healthy time.Duration
	for i := 0; i < 500; i++ {
		resp, err := http.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				healthy = time.Since(start)
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.NotZero(t, healthy, "server never became healthy")
	t.Logf("process start to /healthz 200: %v", healthy)

	token := tokenRE.FindString(p.Stdout)
	require.NotEmpty(t, token, "the generated admin token is printed once:\n%s", p.Stdout)
	_, err := os.Stat(filepath.Join(dir, "lakebox-data", "metastore.db"))
	require.NoError(t, err, "SQLite metastore in ./lakebox-data")
	_, err = os.Stat(filepath.Join(dir, "lakebox-data", "warehouse"))
	require.NoError(t, err, "local warehouse in ./lakebox-data")
	ctx := context.Background()
	me, err := client.New(p.URL, token).Me(ctx)
	require.NoError(t, err)
	require.Equal(t, "admin", me.UserName)

	// SIGTERM: graceful exit with status 0.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t, 20*time.Second), "clean exit on SIGTERM")

	// A restart keeps the data and prints no new token.
	p2 := startServer(t, dir, []string{"LAKEBOX_ADMIN_TOKEN="})
	require.NotRegexp(t, tokenRE, p2.Stdout)
	_, err = client.New(p2.URL, token).Me(ctx)
	require.NoError(t, err, "the first token still works after a restart")
}

// TestBadInvocations checks that mistakes get one clear line and the right
// exit code, and leave nothing behind.
func TestBadInvocations(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"ErrUnknownFlag", []string{"server", "--bogus"}, 2, "unknown flag"},
		{"ErrUnknownCommand", []string{"frobnicate"}, 2, "unknown command"},
		{"ErrMetastoreScheme", []string{"server", "--metastore", "mysql://x"}, 2, "sqlite:///"},
		{"ErrWarehouseScheme", []string{"server", "--warehouse", "gs://x"}, 2, "s3://bucket/prefix"},
		{"ErrUnreachablePostgres", []string{"server", "--metastore", "postgres://u:hunter2@127.0.0.1:1/x"}, 1, "cannot connect to PostgreSQL"},
		{"ErrNoServerConfigured", []string{"tokens", "list"}, 2, "lakebox auth login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(binary, tc.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "HOME="+dir, "LAKEBOX_HOST=", "LAKEBOX_TOKEN=")
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "want a failure, got %v: %s", err, out)
			require.Equal(t, tc.code, ee.ExitCode(), "%s", out)
			require.Contains(t, string(out), tc.want)
			require.NotContains(t, string(out), "hunter2")
			entries, _ := os.ReadDir(dir)
			require.Empty(t, entries, "nothing half-created")
		})
	}
}

// TestReplicasShareSQL runs SQL on two server processes sharing one
// PostgreSQL database and one S3 bucket: a table written through A is read
// through B; a statement submitted through A is polled and fetched through
// B; when A is killed (kill -9) while running a statement, B reports that
// statement FAILED once A's heartbeat is stale, and A's finished results
// stay available through B.
func TestReplicasShareSQL(t *testing.T) {
	a, b, _ := startReplicas(t)
	ctx := context.Background()
	ca, cb := client.New(a.URL, replicaAdmin), client.New(b.URL, replicaAdmin)
	run := func(c *client.Client, q string) [][]*string {
		t.Helper()
		res, err := c.RunStatement(ctx, httpapi.ExecuteStatementRequest{Statement: q, WaitTimeout: "30s"}, nil)
		require.NoError(t, err, q)
		return res.Rows
	}
	run(ca, "CREATE TABLE main.default.e2e (id INT, s STRING)")
	run(ca, "INSERT INTO main.default.e2e SELECT range, 'row ' || range FROM range(30000)")
	rows := run(cb, "SELECT count(*), max(s) FROM main.default.e2e")
	require.Equal(t, "30000", *rows[0][0], "written through A, read through B")

	// A result computed by A, three chunks, fetched through B.
	resp, err := ca.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: "SELECT * FROM main.default.e2e ORDER BY id", WaitTimeout: "30s"})
	require.NoError(t, err)
	require.Equal(t, "SUCCEEDED", resp.Status.State)
	done := resp.StatementID
	chunk, err := cb.GetChunk(ctx, done, 2)
	require.NoError(t, err)
	require.Equal(t, "20000", *chunk.DataArray[0][0])

	// A statement running on A when A dies.
	slow, err := ca.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{
		Statement: "SELECT sum(x.range * y.range) FROM range(300000) x, range(300000) y", WaitTimeout: "0s"})
	require.NoError(t, err)
	got, err := cb.GetStatement(ctx, slow.StatementID)
	require.NoError(t, err)
	require.Contains(t, []string{"PENDING", "RUNNING"}, got.Status.State)
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	a.wait(t, 30*time.Second)
	deadline := time.Now().Add(90 * time.Second)
	for got.Status.State == "PENDING" || got.Status.State == "RUNNING" {
		require.True(t, time.Now().Before(deadline), "statement still %s on B after A died", got.Status.State)
		time.Sleep(time.Second)
		got, err = cb.GetStatement(ctx, slow.StatementID)
		require.NoError(t, err)
	}
	require.Equal(t, "FAILED", got.Status.State)
	require.Contains(t, got.Status.Error.Message, "stopped before it finished")

	// A's finished result outlives A.
	chunk, err = cb.GetChunk(ctx, done, 1)
	require.NoError(t, err)
	require.Equal(t, "10000", *chunk.DataArray[0][0])
}
