package query

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/sqldb"
	"github.com/lakebox/lakebox/internal/testenv"
)

// localStorage opens file:// URLs as localfs buckets.
type localStorage struct{}

func (localStorage) Open(ctx context.Context, u string) (blob.Bucket, error) {
	if !strings.HasPrefix(u, "file://") {
		return nil, errs.E(errs.Invalid, "INVALID_URL", "not a file URL: %s", u)
	}
	dir := strings.TrimPrefix(u, "file://")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return localfs.New(dir)
}

// testEnv is a real catalog (on SQLite or PostgreSQL), identity service
// and engine over a temporary warehouse.
type testEnv struct {
	eng   *Engine
	auth  *auth.Service
	cat   *catalog.Service
	ids   map[string]*auth.Identity
	dir   string
	calls *recorder
}

// recorder keeps lineage and audit events (function-field fakes for the
// side channels only).
// recorder keeps the lineage and audit events the engine reports; statements
// run concurrently (TestConflictingMerges), so appends take the lock.
type recorder struct {
	mu      sync.Mutex
	lineage []LineageEvent
	audit   []AuditEvent
}

func (r *recorder) addLineage(ev LineageEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lineage = append(r.lineage, ev)
}

func (r *recorder) addAudit(ev AuditEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.audit = append(r.audit, ev)
}

type lineageFunc func(context.Context, LineageEvent) error

func (f lineageFunc) RecordLineage(ctx context.Context, ev LineageEvent) error { return f(ctx, ev) }

type auditFunc func(context.Context, AuditEvent) error

func (f auditFunc) RecordAudit(ctx context.Context, ev AuditEvent) error { return f(ctx, ev) }

var metastores = []string{"SQLite", "Postgres"}

func mustEnv(t testing.TB, metastore string) *testEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	url := "sqlite://" + filepath.Join(dir, "metastore.db")
	if metastore == "Postgres" {
		url = testenv.Postgres(t)
	}
	db, err := sqldb.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	as := auth.NewService(sqldb.NewAuthStore(db))
	_, err = as.Bootstrap(ctx, "lbx_test-admin-token-0123456789")
	require.NoError(t, err)
	dirSvc := catalog.AuthDirectory{Auth: as}
	cs := catalog.NewService(sqldb.NewCatalogStore(db), localStorage{}, dirSvc, catalog.Options{WarehouseURL: "file://" + filepath.Join(dir, "warehouse")})
	require.NoError(t, cs.Init(ctx))
	rec := &recorder{}
	eng, err := New(ServiceCatalog{Service: cs, Directory: dirSvc}, localStorage{}, Options{
		TempDir: filepath.Join(dir, "duck"), MemoryLimit: "512MB",
		Lineage: lineageFunc(func(_ context.Context, ev LineageEvent) error { rec.addLineage(ev); return nil }),
		Audit:   auditFunc(func(_ context.Context, ev AuditEvent) error { rec.addAudit(ev); return nil }),
	})
	require.NoError(t, err)
	t.Cleanup(func() { eng.Close() })
	env := &testEnv{eng: eng, auth: as, cat: cs, ids: map[string]*auth.Identity{}, dir: dir, calls: rec}
	env.ids["admin"], err = as.Authenticate(ctx, "lbx_test-admin-token-0123456789")
	require.NoError(t, err)
	require.True(t, env.ids["admin"].Admin)
	ctx = env.ctx("admin")
	g, err := as.CreatePrincipal(ctx, auth.Principal{Kind: auth.KindGroup, Name: "analysts", Active: true})
	require.NoError(t, err)
	for _, u := range []string{"alice", "bob", "carol"} {
		p, err := as.CreatePrincipal(ctx, auth.Principal{Kind: auth.KindUser, Name: u, Active: true})
		require.NoError(t, err)
		if u == "alice" {
			require.NoError(t, as.AddMember(ctx, g.ID, p.ID))
		}
		env.ids[u], err = as.IdentityOf(ctx, p.ID)
		require.NoError(t, err)
	}
	actx := env.ctx("admin")
	_, err = cs.CreateCatalog(actx, catalog.CreateCatalog{Name: "main"})
	require.NoError(t, err)
	_, err = cs.CreateSchema(actx, catalog.CreateSchema{Name: "default", CatalogName: "main"})
	require.NoError(t, err)
	return env
}

func (e *testEnv) ctx(user string) context.Context {
	return auth.WithIdentity(context.Background(), e.ids[user])
}

// mustExec runs SQL as user and fails the test on error.
func (e *testEnv) mustExec(t testing.TB, user string, sess *Session, q string) *Result {
	t.Helper()
	if sess == nil {
		sess = &Session{}
	}
	res, err := e.eng.Exec(e.ctx(user), sess, q)
	require.NoError(t, err, q)
	return res
}
