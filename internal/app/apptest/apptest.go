// Package apptest starts a real Lakebox server in-process for API tests: a
// real metastore (SQLite in a temp dir, or a fresh PostgreSQL database), a
// temp-dir warehouse and real HTTP over loopback.
package apptest

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/config"
	"github.com/lakebox/lakebox/internal/testenv"
)

// AdminToken is the bootstrap admin token of test servers.
const AdminToken = "lbx_test-admin-token-0123456789"

// Server is a running test server.
type Server struct {
	App   *app.App
	URL   string
	Admin *client.Client
	// Config is the server's configuration (Replica reuses it).
	Config config.Server
}

// Client returns a client for token.
func (s *Server) Client(token string) *client.Client { return client.New(s.URL, token) }

// Metastores lists the metastore kinds API tests run against.
var Metastores = []string{"SQLite", "Postgres"}

// New starts a server on the named metastore ("SQLite" or "Postgres").
func New(t testing.TB, metastore string) *Server {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Server{
		DataDir: dir, Warehouse: "file://" + filepath.Join(dir, "warehouse"),
		Metastore: "sqlite://" + filepath.Join(dir, "metastore.db"),
		LogLevel:  "info", LogFormat: "json", MaxBodyBytes: 1 << 20,
		ReadTimeout: time.Minute, WriteTimeout: time.Minute, ShutdownTimeout: 5 * time.Second,
		AdminToken: AdminToken,
		// Serving settings come from the environment, as the server's
		// LAKEBOX_* variables do (scripts/test.sh exports them).
		ONNXRuntimeLib: os.Getenv("LAKEBOX_ONNXRUNTIME_LIB"), Python: os.Getenv("LAKEBOX_PYTHON"),
		ServingModelsDir: os.Getenv("LAKEBOX_SERVING_MODELS_DIR"), InferenceFsync: os.Getenv("LAKEBOX_INFERLOG_FSYNC") == "1",
	}
	if metastore == "Postgres" {
		cfg.Metastore = testenv.Postgres(t)
	}
	return start(t, cfg)
}

// Replica starts another server on s's metastore and warehouse (with its
// own data directory), as a second replica behind a load balancer is.
func Replica(t testing.TB, s *Server) *Server {
	t.Helper()
	cfg := s.Config
	cfg.DataDir = t.TempDir()
	return start(t, cfg)
}

func start(t testing.TB, cfg config.Server) *Server {
	t.Helper()
	a, err := app.Open(context.Background(), cfg, nil)
	require.NoError(t, err)
	ts := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		ts.Close()
		a.Close()
	})
	return &Server{App: a, URL: ts.URL, Admin: client.New(ts.URL, AdminToken), Config: cfg}
}
