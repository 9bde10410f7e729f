package sqldb_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/auth/authtest"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/query/stmtstore"
	"github.com/lakebox/lakebox/internal/query/stmtstore/stmtstoretest"
	"github.com/lakebox/lakebox/internal/sqldb"
	"github.com/lakebox/lakebox/internal/testenv"
)

// backends returns a factory of fresh, migrated databases per metastore.
func backends() map[string]func(tb testing.TB) *sqldb.DB {
	return map[string]func(tb testing.TB) *sqldb.DB{
		"SQLite": func(tb testing.TB) *sqldb.DB {
			return MustOpen(tb, "sqlite://"+filepath.Join(tb.TempDir(), "m.db"))
		},
		"Postgres": func(tb testing.TB) *sqldb.DB {
			return MustOpen(tb, testenv.Postgres(tb))
		},
	}
}

// MustOpen opens and migrates a database, closing it when the test ends.
func MustOpen(tb testing.TB, url string) *sqldb.DB {
	tb.Helper()
	db, err := sqldb.Open(context.Background(), url)
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestAuthStore(t *testing.T) {
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			authtest.RunStore(t, func(t *testing.T) auth.Store { return sqldb.NewAuthStore(open(t)) })
		})
	}
}

func TestConcurrentMigrations(t *testing.T) {
	urls := map[string]func(t *testing.T) string{
		"SQLite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "m.db") },
		"Postgres": func(t *testing.T) string { return testenv.Postgres(t) },
	}
	for name, mkURL := range urls {
		t.Run(name, func(t *testing.T) {
			url := mkURL(t)
			var wg sync.WaitGroup
			errc := make(chan error, 4)
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := sqldb.Open(context.Background(), url)
					if err == nil {
						db.Close()
					}
					errc <- err
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				require.NoError(t, err)
			}
			db := MustOpen(t, url)
			v, err := db.SchemaVersion(context.Background())
			require.NoError(t, err)
			require.Positive(t, v)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrUnsupportedScheme", func(t *testing.T) {
		_, err := sqldb.Open(ctx, "mysql://x")
		require.True(t, errs.Is(err, errs.Invalid), "got %v", err)
		require.Contains(t, err.Error(), "sqlite:///")
	})
	t.Run("ErrUnreachablePostgres", func(t *testing.T) {
		_, err := sqldb.Open(ctx, "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=2")
		require.True(t, errs.Is(err, errs.Unavailable), "got %v", err)
		require.NotContains(t, err.Error(), "s3cret")
	})
	t.Run("ErrUnwritableDir", func(t *testing.T) {
		_, err := sqldb.Open(ctx, "sqlite:///proc/nope/m.db")
		require.Error(t, err)
	})
}

func TestStatementStore(t *testing.T) {
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			stmtstoretest.Run(t, func(t *testing.T) stmtstore.Store { return sqldb.NewStatementStore(open(t)) })
		})
	}
}

func TestServerKey(t *testing.T) {
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			// Racing first calls agree on one key.
			keys := make([][]byte, 8)
			var wg sync.WaitGroup
			for i := range keys {
				wg.Add(1)
				go func() {
					defer wg.Done()
					k, err := sqldb.ServerKey(ctx, db, "k")
					require.NoError(t, err)
					keys[i] = k
				}()
			}
			wg.Wait()
			require.Len(t, keys[0], 32)
			for _, k := range keys {
				require.Equal(t, keys[0], k)
			}
			other, err := sqldb.ServerKey(ctx, db, "other")
			require.NoError(t, err)
			require.NotEqual(t, keys[0], other)
		})
	}
}
