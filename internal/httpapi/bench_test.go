package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/lakebox/lakebox/internal/app/apptest"
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
