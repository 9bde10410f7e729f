package audit_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/httpapi"
)

// readTable reads every event of the audit Delta table with the delta package.
func readTable(t *testing.T, tbl *delta.Table) map[string]audit.Event {
	t.Helper()
	snap, err := tbl.Latest(context.Background())
	require.NoError(t, err)
	sc, err := snap.Scan(delta.ScanOptions{})
	require.NoError(t, err)
	out := map[string]audit.Event{}
	require.NoError(t, sc.Rows(context.Background(), func(r delta.Row) error {
		e := audit.RowEvent(sc.Schema(), r)
		_, dup := out[e.RequestID]
		require.False(t, dup, "request %s recorded twice", e.RequestID)
		out[e.RequestID] = e
		return nil
	}))
	return out
}

func TestAuditAPI(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			ctx := context.Background()
			srv := apptest.New(t, ms)
			admin := srv.Admin
			// A token create: its response carries a secret, its comment looks like one.
			tok, err := admin.CreateToken(ctx, 3600, "lbx_not-really-a-token")
			require.NoError(t, err)
			alice, err := admin.CreatePrincipal(ctx, client.Users, httpapi.SCIMResource{UserName: "alice@example.com"})
			require.NoError(t, err)
			// A call with secrets in the query string, answered 404.
			err = admin.Do(ctx, "GET", "/api/2.0/no/such/endpoint", url.Values{"password": {"hunter2"}, "x": {"1"}}, nil, nil)
			require.Error(t, err)
			// An unauthenticated call.
			require.Error(t, srv.Client("").Do(ctx, "GET", "/api/2.0/token/list", nil, nil, nil))

			// Non-admins cannot read the audit log.
			aliceTok, err := admin.CreateTokenOnBehalfOf(ctx, "nobody", 0, "")
			require.Error(t, err) // (no such service principal: also audited)
			_ = aliceTok
			require.NoError(t, srv.App.Audit.Recorder.Flush(ctx))

			evs := readTable(t, srv.App.Audit.Recorder.Table())
			var create, notFound, unauth *audit.Event
			for _, e := range evs {
				switch {
				case e.Action() == "accounts.tokenCreate":
					create = &e
				case e.Path == "/api/2.0/no/such/endpoint":
					notFound = &e
				case e.Response.StatusCode == 401:
					unauth = &e
				}
				for k, v := range e.RequestParams {
					require.NotContains(t, v, tok.TokenValue, k)
					require.NotContains(t, v, apptest.AdminToken, k)
					require.NotContains(t, v, "hunter2", k)
				}
			}
			require.NotNil(t, create)
			require.Equal(t, 200, create.Response.StatusCode)
			require.Equal(t, "admin", create.Identity.SubjectName)
			require.NotEmpty(t, create.Identity.PrincipalID)
			require.Equal(t, audit.Redacted, create.RequestParams["comment"])
			require.Equal(t, "3600", create.RequestParams["lifetime_seconds"])
			require.Equal(t, "127.0.0.1", create.SourceIP)
			require.Contains(t, create.UserAgent, "Go-http-client")
			require.Greater(t, create.LatencyMS, 0.0)
			require.NotNil(t, notFound)
			require.Equal(t, 404, notFound.Response.StatusCode)
			require.Equal(t, "ENDPOINT_NOT_FOUND", notFound.Response.ErrorCode)
			require.Equal(t, audit.Redacted, notFound.RequestParams["password"])
			require.Equal(t, "1", notFound.RequestParams["x"])
			require.NotNil(t, unauth)
			require.Empty(t, unauth.Identity.PrincipalID)

			// The listing endpoint: filters, paging, admin only.
			res, err := admin.AuditEvents(ctx, client.AuditQuery{Since: "1h", Action: "accounts.tokenCreate"})
			require.NoError(t, err)
			require.Len(t, res.Events, 1)
			all, err := admin.AuditEvents(ctx, client.AuditQuery{Since: "1h", Principal: "admin", Action: "accounts.*"})
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(all.Events), 3)
			seen := map[string]bool{}
			q := client.AuditQuery{Since: "1h", Principal: "admin", Action: "accounts.*", PageSize: 2}
			for {
				page, err := admin.AuditEvents(ctx, q)
				require.NoError(t, err)
				require.LessOrEqual(t, len(page.Events), 2)
				for _, e := range page.Events {
					require.False(t, seen[e.EventID])
					seen[e.EventID] = true
				}
				if page.NextPageToken == "" {
					break
				}
				q.PageToken = page.NextPageToken
			}
			require.Len(t, seen, len(all.Events))

			_, err = admin.AuditEvents(ctx, client.AuditQuery{Since: "yesterday"})
			var apiErr *client.APIError
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, http.StatusBadRequest, apiErr.Status)

			sp, err := admin.CreatePrincipal(ctx, client.ServicePrincipals, httpapi.SCIMResource{DisplayName: "ci"})
			require.NoError(t, err)
			spTok, err := admin.CreateTokenOnBehalfOf(ctx, sp.ApplicationID, 0, "")
			require.NoError(t, err)
			_, err = srv.Client(spTok.TokenValue).AuditEvents(ctx, client.AuditQuery{})
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, http.StatusForbidden, apiErr.Status)
			_ = alice

			// Unflushed events are listed too (from the spool).
			_, err = admin.ListTokens(ctx, false)
			require.NoError(t, err)
			res, err = admin.AuditEvents(ctx, client.AuditQuery{Action: "accounts.tokenList"})
			require.NoError(t, err)
			require.NotEmpty(t, res.Events)
			require.True(t, strings.HasPrefix(res.Events[0].Path, "/api/2.0/token/list"))
		})
	}
}
