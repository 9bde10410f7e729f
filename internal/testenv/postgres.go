// Package testenv provides the real services integration tests run against:
// a fresh PostgreSQL database, an S3 bucket on versitygw. Each helper skips
// the test with a message that says how to provide the service when it is
// absent, so tests still run on a bare developer machine; the project's test
// command provides every service, so nothing is skipped there or in CI.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresAdminURL is where tests find PostgreSQL unless
// LAKEBOX_TEST_POSTGRES_URL says otherwise.
const PostgresAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Postgres creates a fresh, empty database for the test and returns its URL.
// The database is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("LAKEBOX_TEST_POSTGRES_URL")
	if admin == "" {
		admin = PostgresAdminURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		skipOrFail(t, fmt.Sprintf("PostgreSQL tests need a server at %s (start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, or set LAKEBOX_TEST_POSTGRES_URL): %v", admin, err))
	}
	defer conn.Close(context.Background())
	var b [6]byte
	rand.Read(b[:])
	name := "lakebox_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}
