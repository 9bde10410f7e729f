package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
)

func apiErr(t *testing.T, err error) *client.APIError {
	t.Helper()
	var e *client.APIError
	require.True(t, errors.As(err, &e), "want an API error, got %v", err)
	return e
}

func raw(t *testing.T, method, url, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(data, &m)
	return resp, m
}

func TestPlatform(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) { testPlatform(t, apptest.New(t, ms)) })
	}
}

func testPlatform(t *testing.T, srv *apptest.Server) {
	ctx := context.Background()
	admin := srv.Admin

	t.Run("PublicEndpoints", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
			resp, _ := raw(t, "GET", srv.URL+p, "", "")
			require.Equal(t, 200, resp.StatusCode, p)
		}
	})

	t.Run("ErrUnauthenticatedInEachFormat", func(t *testing.T) {
		for _, tc := range []struct{ path, header string }{
			{"/api/2.0/token/list", ""},
			{"/api/2.0/token/list", "Bearer lbx_wrong"},
			{"/api/2.0/token/list", "Basic abc"},
			{"/api/2.0/no/such/endpoint", ""},
		} {
			resp, body := raw(t, "GET", srv.URL+tc.path, tc.header, "")
			require.Equal(t, 401, resp.StatusCode)
			require.Equal(t, "UNAUTHENTICATED", body["error_code"], "Databricks error shape")
			require.NotEmpty(t, body["message"])
			require.NotEmpty(t, resp.Header.Get("X-Request-Id"))
		}
		resp, body := raw(t, "GET", srv.URL+"/api/1.0/unity-control/scim2/Users", "", "")
		require.Equal(t, 401, resp.StatusCode)
		require.Equal(t, "401", body["status"], "SCIM error shape")
		require.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, body["schemas"])
	})

	t.Run("CreateUser", func(t *testing.T) {
		alice, err := admin.CreatePrincipal(ctx, client.Users, httpapi.SCIMResource{UserName: "alice@example.com", DisplayName: "Alice"})
		require.NoError(t, err)
		require.Equal(t, "alice@example.com", alice.UserName)
		require.Equal(t, []httpapi.SCIMEmail{{Value: "alice@example.com", Primary: true}}, alice.Emails)
		_, err = admin.CreatePrincipal(ctx, client.Users, httpapi.SCIMResource{UserName: "alice@example.com"})
		require.Equal(t, 409, apiErr(t, err).Status)
		_, err = admin.CreatePrincipal(ctx, client.Users, httpapi.SCIMResource{UserName: "bad/name"})
		require.Equal(t, 400, apiErr(t, err).Status)
	})

	t.Run("UCControlShape", func(t *testing.T) {
		resp, body := raw(t, "POST", srv.URL+"/api/1.0/unity-control/scim2/Users", "Bearer "+apptest.AdminToken,
			`{"displayName":"Bob","emails":[{"value":"bob@example.com","primary":true}]}`)
		require.Equal(t, 200, resp.StatusCode, "the UC control API answers 200 on create")
		require.Equal(t, "bob@example.com", body["userName"])
		require.Equal(t, "Bob", body["displayName"])
		resp, body = raw(t, "GET", srv.URL+"/api/1.0/unity-control/scim2/Users?filter="+`userName%20eq%20"bob@example.com"`, "Bearer "+apptest.AdminToken, "")
		require.Equal(t, 200, resp.StatusCode)
		require.EqualValues(t, 1, body["totalResults"])
		resp, _ = raw(t, "GET", srv.URL+"/api/1.0/unity-control/scim2/Users?filter=nonsense", "Bearer "+apptest.AdminToken, "")
		require.Equal(t, 400, resp.StatusCode)
	})

	t.Run("ServicePrincipalTokens", func(t *testing.T) {
		sp, err := admin.CreatePrincipal(ctx, client.ServicePrincipals, httpapi.SCIMResource{DisplayName: "ci"})
		require.NoError(t, err)
		require.NotEmpty(t, sp.ApplicationID)
		tok, err := admin.CreateTokenOnBehalfOf(ctx, sp.ApplicationID, 3600, "ci token")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(tok.TokenValue, "lbx_"))
		spc := srv.Client(tok.TokenValue)
		me, err := spc.Me(ctx)
		require.NoError(t, err)
		require.Equal(t, sp.ID, me.ID)
		// A non-admin cannot manage principals.
		_, err = spc.CreatePrincipal(ctx, client.Users, httpapi.SCIMResource{UserName: "eve"})
		require.Equal(t, 403, apiErr(t, err).Status)
		// Nor list everyone's tokens.
		_, err = spc.ListTokens(ctx, true)
		require.Equal(t, 403, apiErr(t, err).Status)
		// The token is listed once, and its secret never is.
		ts, err := spc.ListTokens(ctx, false)
		require.NoError(t, err)
		require.Len(t, ts, 1)
		require.Equal(t, tok.TokenInfo.TokenID, ts[0].TokenID)
		// Revoked tokens stop working at once.
		require.NoError(t, spc.RevokeToken(ctx, tok.TokenInfo.TokenID))
		_, err = spc.Me(ctx)
		require.Equal(t, 401, apiErr(t, err).Status)
	})

	t.Run("NestedGroupsMakeAdmins", func(t *testing.T) {
		sp, err := admin.CreatePrincipal(ctx, client.ServicePrincipals, httpapi.SCIMResource{ApplicationID: "deployer"})
		require.NoError(t, err)
		tok, err := admin.CreateTokenOnBehalfOf(ctx, "deployer", 0, "")
		require.NoError(t, err)
		require.EqualValues(t, -1, tok.TokenInfo.ExpiryTime)
		c := srv.Client(tok.TokenValue)
		_, err = c.ListTokens(ctx, true)
		require.Equal(t, 403, apiErr(t, err).Status)

		ops, err := admin.CreatePrincipal(ctx, client.Groups, httpapi.SCIMResource{DisplayName: "ops"})
		require.NoError(t, err)
		admins, err := admin.FindPrincipal(ctx, client.Groups, "admins")
		require.NoError(t, err)
		_, err = admin.PatchGroupMembers(ctx, ops.ID, "add", sp.ID)
		require.NoError(t, err)
		_, err = admin.PatchGroupMembers(ctx, admins.ID, "add", ops.ID)
		require.NoError(t, err)
		_, err = c.ListTokens(ctx, true)
		require.NoError(t, err, "ops ⊂ admins makes its members admins")

		t.Run("ErrCycle", func(t *testing.T) {
			_, err := admin.PatchGroupMembers(ctx, ops.ID, "add", admins.ID)
			e := apiErr(t, err)
			require.Equal(t, 400, e.Status)
			require.Contains(t, e.Message, "cycle")
		})
		t.Run("RevocationByMembership", func(t *testing.T) {
			_, err = admin.PatchGroupMembers(ctx, admins.ID, "remove", ops.ID)
			require.NoError(t, err)
			_, err = c.ListTokens(ctx, true)
			require.Equal(t, 403, apiErr(t, err).Status, "removal takes effect at once")
		})
		t.Run("ErrLastAdmin", func(t *testing.T) {
			me, err := admin.Me(ctx)
			require.NoError(t, err)
			_, err = admin.PatchGroupMembers(ctx, admins.ID, "remove", me.ID)
			require.Equal(t, 400, apiErr(t, err).Status)
		})
	})

	t.Run("ErrBadInput", func(t *testing.T) {
		auth := "Bearer " + apptest.AdminToken
		resp, body := raw(t, "POST", srv.URL+"/api/2.0/token/create", auth, `{"lifetime_seconds": -5}`)
		require.Equal(t, 400, resp.StatusCode)
		require.Equal(t, "INVALID_PARAMETER_VALUE", body["error_code"])
		resp, body = raw(t, "POST", srv.URL+"/api/2.0/token/create", auth, `{not json`)
		require.Equal(t, 400, resp.StatusCode)
		require.Contains(t, body["message"], "not valid JSON")
		resp, body = raw(t, "POST", srv.URL+"/api/2.0/token/create", auth, `{"comment": "`+strings.Repeat("x", 2<<20)+`"}`)
		require.Equal(t, 413, resp.StatusCode)
		require.Equal(t, "REQUEST_LIMIT_EXCEEDED", body["error_code"])
		resp, _ = raw(t, "POST", srv.URL+"/api/2.0/token/delete", auth, `{"token_id":"nope"}`)
		require.Equal(t, 404, resp.StatusCode)
		resp, body = raw(t, "GET", srv.URL+"/api/2.0/no/such/endpoint", auth, "")
		require.Equal(t, 404, resp.StatusCode)
		require.Equal(t, "ENDPOINT_NOT_FOUND", body["error_code"])
	})

	t.Run("RequestIDEchoed", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.URL+"/healthz", nil)
		req.Header.Set("X-Request-Id", "abc-123")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, "abc-123", resp.Header.Get("X-Request-Id"))
	})

	t.Run("MetricsPerRoute", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		require.Contains(t, string(data), `lakebox_http_requests_total{code="401",method="GET",route="/api/2.0/token/list",surface="platform"}`)
		require.Contains(t, string(data), `lakebox_http_request_duration_seconds_bucket{method="GET",route="/healthz"`)
	})
}

func TestDotSegmentsRefused(t *testing.T) {
	srv := apptest.New(t, "SQLite")
	for _, p := range []string{
		"/api/2.0/fs/files/Volumes/main/default/v/../../../etc/passwd",
		"/api/2.0/fs/files/Volumes/main/default/v/./x",
		"/api/2.0/mlflow-artifacts/artifacts/0/../secret",
	} {
		// Send the raw path: net/http's client would not clean it, but be explicit.
		req, err := http.NewRequest("GET", srv.URL+"/", nil)
		require.NoError(t, err)
		req.URL.Path = p
		req.Header.Set("Authorization", "Bearer "+apptest.AdminToken)
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 400, resp.StatusCode, "%s: %s", p, body)
		require.Contains(t, string(body), "INVALID_PARAMETER_VALUE")
	}
}
