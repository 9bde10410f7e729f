package app_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app"
	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/testenv"
)

// TestCredentialVendingOnS3 checks the secure default of the Unity Catalog
// temporary-credentials APIs on an S3 warehouse: the server has no way to
// scope credentials to a location, so it refuses to vend any (never its
// own key pair) unless the operator opts in with
// --s3-vend-static-credentials.
func TestCredentialVendingOnS3(t *testing.T) {
	s3 := testenv.S3(t)
	ctx := context.Background()
	start := func(vend bool) *client.Client {
		cfg := s3ServerConfig(s3, t.TempDir())
		cfg.S3VendStatic = vend
		a, err := app.Open(ctx, cfg, nil)
		require.NoError(t, err)
		ts := httptest.NewServer(a.Handler)
		t.Cleanup(func() { ts.Close(); a.Close() })
		return client.New(ts.URL, apptest.AdminToken)
	}
	tableCreds := func(c *client.Client, name string) (catalog.TemporaryCredentials, error) {
		_, err := c.RunStatement(ctx, httpapi.ExecuteStatementRequest{Statement: "CREATE TABLE " + name + " (id INT)", WaitTimeout: "30s"}, nil)
		require.NoError(t, err)
		var ti catalog.TableInfo
		require.NoError(t, c.Do(ctx, "GET", "/api/2.1/unity-catalog/tables/main.default."+name, nil, nil, &ti))
		var tc catalog.TemporaryCredentials
		err = c.Do(ctx, "POST", "/api/2.1/unity-catalog/temporary-table-credentials", nil,
			map[string]string{"table_id": ti.TableID, "operation": "READ"}, &tc)
		return tc, err
	}

	_, err := tableCreds(start(false), "t1")
	require.Error(t, err)
	require.Contains(t, err.Error(), "FAILED_PRECONDITION: this server does not vend credentials for s3://")
	require.Contains(t, err.Error(), "--s3-vend-static-credentials")
	require.NotContains(t, err.Error(), s3.SecretKey)

	tc, err := tableCreds(start(true), "t2")
	require.NoError(t, err)
	require.NotNil(t, tc.AwsTempCredentials)
	require.Equal(t, s3.AccessKey, tc.AwsTempCredentials.AccessKeyID)
}
