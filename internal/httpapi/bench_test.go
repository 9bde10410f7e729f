package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/query"
)

// BenchmarkRequest measures a round trip over loopback HTTP: /healthz (no
// authentication, no metastore) is the baseline; /api/2.0/token/list adds
// token authentication (hash lookup, principal, transitive groups) and a
// metastore query. Report the ratio of the two ns/op of one run:
//
//	go test -run '^$' -bench BenchmarkRequest ./internal/httpapi/
func BenchmarkRequest(b *testing.B) {
	for _, ms := range apptest.Metastores {
		srv := apptest.New(b, ms)
		for _, tc := range []struct{ name, path, token string }{
			{"healthz", "/healthz", ""},
			{"authenticated", "/api/2.0/token/list", apptest.AdminToken},
		} {
			b.Run(ms+"/"+tc.name, func(b *testing.B) {
				req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+tc.path, nil)
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				for b.Loop() {
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
			})
		}
	}
}

// BenchmarkSQLStatement measures what the Statement Execution API adds to a
// small statement: "engine" runs SELECT over a 1,000-row range in the
// engine directly (no HTTP, no registry); "api" submits the same statement
// over loopback HTTP with wait_timeout and reads its inline result (the
// registry records the statement and its result in the metastore so that
// every replica can answer for it). Report the ratio of the two ns/op:
//
//	go test -run '^$' -bench BenchmarkSQLStatement -benchtime 200x ./internal/httpapi/
func BenchmarkSQLStatement(b *testing.B) {
	const stmt = "SELECT range AS i, range * 2 AS j FROM range(1000)"
	for _, ms := range apptest.Metastores {
		srv := apptest.New(b, ms)
		b.Run(ms+"/engine", func(b *testing.B) {
			ctx := auth.WithIdentity(context.Background(), &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true})
			for b.Loop() {
				res, err := srv.App.Query.Engine.Exec(ctx, &query.Session{}, stmt)
				if err != nil || len(res.Rows) != 1000 {
					b.Fatal(err)
				}
			}
		})
		b.Run(ms+"/api", func(b *testing.B) {
			for b.Loop() {
				resp, err := srv.Admin.ExecuteStatement(context.Background(), httpapi.ExecuteStatementRequest{Statement: stmt, WaitTimeout: "30s"})
				if err != nil || resp.Status.State != "SUCCEEDED" || len(resp.Result.DataArray) != 1000 {
					b.Fatal(err, resp.Status)
				}
			}
		})
	}
}
