package app_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/httpapi"
)

// mustUser creates an active user with a token and returns its client.
func mustUser(t *testing.T, srv *apptest.Server, name string) *client.Client {
	t.Helper()
	actx := auth.WithIdentity(context.Background(), &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true})
	p, err := srv.App.Auth.CreatePrincipal(actx, auth.Principal{Kind: auth.KindUser, Name: name, Active: true})
	require.NoError(t, err)
	tok, _, err := srv.App.Auth.CreateToken(actx, p.ID, 0, "test")
	require.NoError(t, err)
	return srv.Client(tok)
}

// runSQL runs a statement to completion.
func runSQL(c *client.Client, stmt string) (*client.StatementResult, error) {
	return c.RunStatement(context.Background(), httpapi.ExecuteStatementRequest{Statement: stmt, WaitTimeout: "30s"}, nil)
}

func mustSQL(t *testing.T, c *client.Client, stmt string) *client.StatementResult {
	t.Helper()
	res, err := runSQL(c, stmt)
	require.NoError(t, err, stmt)
	return res
}

// count runs a SELECT count(*) and returns the count.
func count(t *testing.T, c *client.Client, stmt string) int64 {
	t.Helper()
	res := mustSQL(t, c, stmt)
	require.Len(t, res.Rows, 1)
	require.NotNil(t, res.Rows[0][0])
	n, err := strconv.ParseInt(*res.Rows[0][0], 10, 64)
	require.NoError(t, err)
	return n
}

func wantDenied(t *testing.T, err error) {
	t.Helper()
	var fe *client.StatementFailedError
	require.True(t, errors.As(err, &fe), "want a failed statement, got %v", err)
	require.Equal(t, "PERMISSION_DENIED", fe.ErrorCode, fe.Message)
}

func TestSystemTables(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			srv := apptest.New(t, ms)
			ctx := context.Background()
			admin := srv.Admin
			alice := mustUser(t, srv, "alice")

			t.Run("Registered", func(t *testing.T) {
				for _, st := range audit.SystemTables() {
					actx := auth.WithIdentity(ctx, &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true})
					ti, err := srv.App.Catalog.GetTable(actx, st.FullName)
					require.NoError(t, err)
					require.Equal(t, auth.AdminsGroup, ti.Owner)
					require.Equal(t, srv.App.Config.Warehouse+"/"+st.Location, ti.StorageLocation)
					require.Len(t, ti.Columns, len(st.Schema.Fields))
				}
				// Nothing flushed yet: the tables exist, empty or not.
				count(t, admin, "SELECT count(*) FROM system.access.column_lineage")
			})

			t.Run("Idempotent", func(t *testing.T) {
				// A restart, or two replicas starting together.
				var wg sync.WaitGroup
				errc := make(chan error, 8)
				for range 2 {
					for _, st := range audit.SystemTables() {
						wg.Go(func() {
							_, err := srv.App.Catalog.RegisterInternalTable(ctx, catalog.InternalTable{FullName: st.FullName, Location: st.Location,
								Owner: auth.AdminsGroup, Create: st.CreateOptions(), CreateContainers: true})
							errc <- err
						})
					}
				}
				wg.Wait()
				close(errc)
				for err := range errc {
					require.NoError(t, err)
				}
				_, err := srv.App.Catalog.RegisterInternalTable(ctx, catalog.InternalTable{FullName: "system.access.audit", Location: "elsewhere",
					Owner: auth.AdminsGroup, CreateContainers: true})
				require.True(t, errs.Is(err, errs.AlreadyExists), "%v", err)
			})

			t.Run("Audit", func(t *testing.T) {
				_, err := admin.CreateExperiment(ctx, "audited")
				require.NoError(t, err)
				mustSQL(t, admin, "SELECT 1")
				require.NoError(t, srv.App.Audit.Recorder.Flush(ctx))
				require.Positive(t, count(t, admin, "SELECT count(*) FROM system.access.audit"))
				require.Positive(t, count(t, admin, "SELECT count(*) FROM system.access.audit WHERE action_name = 'executeStatement'"))

				_, err = runSQL(alice, "SELECT count(*) FROM system.access.audit")
				wantDenied(t, err)
				mustSQL(t, admin, "GRANT USE CATALOG ON CATALOG system TO `alice`")
				_, err = runSQL(alice, "SELECT count(*) FROM system.access.audit")
				wantDenied(t, err)
				mustSQL(t, admin, "GRANT USE SCHEMA ON SCHEMA system.access TO `alice`")
				mustSQL(t, admin, "GRANT SELECT ON TABLE system.access.audit TO `alice`")
				require.Positive(t, count(t, alice, "SELECT count(*) FROM system.access.audit"))
				_, err = runSQL(alice, "SELECT count(*) FROM system.access.table_lineage")
				wantDenied(t, err)
			})

			t.Run("ErrForeignOwner", func(t *testing.T) {
				// A system catalog owned by someone else is refused, not used.
				actx := auth.WithIdentity(ctx, &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true})
				_, err := srv.App.Catalog.UpdateCatalog(actx, "system", catalog.Update{Owner: "alice"})
				require.NoError(t, err)
				st := audit.SystemTables()[0]
				_, err = srv.App.Catalog.RegisterInternalTable(ctx, catalog.InternalTable{FullName: st.FullName, Location: st.Location,
					Owner: auth.AdminsGroup, Create: st.CreateOptions(), CreateContainers: true})
				require.True(t, errs.Is(err, errs.Conflict), "%v", err)
				_, err = srv.App.Catalog.UpdateCatalog(actx, "system", catalog.Update{Owner: auth.AdminsGroup})
				require.NoError(t, err)
			})
		})
	}
}
