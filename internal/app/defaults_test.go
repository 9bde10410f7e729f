package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
)

// TestDefaultNamespace checks that a new server has main.default, that any
// user can create tables there without grants (as in a new Databricks
// workspace), and that another user still cannot read them.
func TestDefaultNamespace(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			srv := apptest.New(t, ms)
			ctx := context.Background()
			user := func(name string) *client.Client {
				_, err := srv.Admin.CreatePrincipal(ctx, client.Users, httpapi.SCIMResource{UserName: name})
				require.NoError(t, err)
				// Users create their own tokens; an admin cannot mint one for
				// a user, so log in through a service principal instead.
				sp, err := srv.Admin.CreatePrincipal(ctx, client.ServicePrincipals, httpapi.SCIMResource{ApplicationID: name + "-sp"})
				require.NoError(t, err)
				tok, err := srv.Admin.CreateTokenOnBehalfOf(ctx, sp.ApplicationID, 3600, "")
				require.NoError(t, err)
				return srv.Client(tok.TokenValue)
			}
			alice, bob := user("alice"), user("bob")
			sql := func(c *client.Client, stmt string) (*client.StatementResult, error) {
				return c.RunStatement(ctx, httpapi.ExecuteStatementRequest{Statement: stmt}, nil)
			}
			_, err := sql(alice, "CREATE TABLE notes AS SELECT 1 AS id, 'hello' AS txt")
			require.NoError(t, err, "any user may create tables in main.default")
			res, err := sql(alice, "SELECT txt FROM main.default.notes")
			require.NoError(t, err)
			require.Len(t, res.Rows, 1)
			require.Equal(t, "hello", *res.Rows[0][0])

			_, err = sql(bob, "SELECT * FROM notes")
			var failed *client.StatementFailedError
			require.True(t, errors.As(err, &failed), "got %v", err)
			require.Equal(t, "PERMISSION_DENIED", failed.ErrorCode, "reading another user's table needs a grant")

			_, err = sql(bob, "CREATE SCHEMA main.mine")
			require.True(t, errors.As(err, &failed), "got %v", err)
			require.Equal(t, "PERMISSION_DENIED", failed.ErrorCode, "creating schemas in main is not granted by default")
		})
	}
}
