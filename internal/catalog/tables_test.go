package catalog_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/sqldb"
	"github.com/lakebox/lakebox/internal/testenv"
)

// mustTableEnv returns an admin context on a catalog over the metastore
// (SQLite or Postgres) with main.s.t (id, name, ssn) whose ssn column has a
// comment and a mask USING name, and a row filter on name.
func mustTableEnv(t *testing.T, metastore string) (*catalog.Service, context.Context) {
	t.Helper()
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	if metastore == "Postgres" {
		url = testenv.Postgres(t)
	}
	db, err := sqldb.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s := catalog.NewService(sqldb.NewCatalogStore(db), nil, nil, catalog.Options{WarehouseURL: "file:///tmp/wh", MaxPageSize: 100})
	require.NoError(t, s.Init(ctx))
	admin := auth.WithIdentity(ctx, &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true})
	_, err = s.CreateCatalog(admin, catalog.CreateCatalog{Name: "main"})
	require.NoError(t, err)
	_, err = s.CreateSchema(admin, catalog.CreateSchema{CatalogName: "main", Name: "s"})
	require.NoError(t, err)
	_, err = s.CreateFunction(admin, catalog.CreateFunctionRequest{FunctionInfo: &catalog.FunctionInfo{CatalogName: "main", SchemaName: "s", Name: "f",
		DataType: "STRING", RoutineDefinition: "'x'"}})
	require.NoError(t, err)
	_, err = s.CreateTable(admin, catalog.CreateTable{CatalogName: "main", SchemaName: "s", Name: "t", TableType: catalog.TableManaged,
		Columns: []catalog.ColumnInfo{{Name: "id", TypeName: "INT"}, {Name: "name", TypeName: "STRING"}, {Name: "ssn", TypeName: "STRING", Comment: "tax id"}}})
	require.NoError(t, err)
	_, err = s.SetColumnMask(admin, "main.s.t", "ssn", &catalog.ColumnMask{FunctionName: "main.s.f", UsingColumnNames: []string{"name"}})
	require.NoError(t, err)
	_, err = s.SetRowFilter(admin, "main.s.t", &catalog.RowFilter{FunctionName: "main.s.f", InputColumnNames: []string{"name", "ID"}})
	require.NoError(t, err)
	return s, admin
}

func cols(names ...string) []catalog.ColumnInfo {
	var out []catalog.ColumnInfo
	for _, n := range names {
		out = append(out, catalog.ColumnInfo{Name: n, TypeName: "STRING"})
	}
	return out
}

func TestUpdateTableSchema(t *testing.T) {
	for _, ms := range []string{"SQLite", "Postgres"} {
		t.Run(ms, func(t *testing.T) {
			t.Run("OK", func(t *testing.T) {
				s, admin := mustTableEnv(t, ms)
				added := cols("id", "full_name", "tax_id", "city")
				added[3].Comment = "added"
				_, err := s.UpdateTable(admin, "main.s.t", catalog.TableUpdate{Schema: &catalog.SchemaChange{Columns: added,
					Renamed: map[string]string{"NAME": "full_name", "ssn": "tax_id"}}})
				require.NoError(t, err)
				got, err := s.GetTable(admin, "main.s.t") // as stored
				require.NoError(t, err)
				var names, comments []string
				for i, c := range got.Columns {
					require.Equal(t, i, c.Position)
					names, comments = append(names, c.Name), append(comments, c.Comment)
				}
				require.Equal(t, []string{"id", "full_name", "tax_id", "city"}, names)
				require.Equal(t, []string{"", "", "tax id", "added"}, comments)
				require.Nil(t, got.Columns[1].Mask)
				require.Equal(t, &catalog.ColumnMask{FunctionName: "main.s.f", UsingColumnNames: []string{"full_name"}}, got.Columns[2].Mask)
				require.Equal(t, &catalog.RowFilter{FunctionName: "main.s.f", InputColumnNames: []string{"full_name", "ID"}}, got.RowFilter)
			})
			t.Run("ErrMaskedColumnGone", func(t *testing.T) {
				s, admin := mustTableEnv(t, ms)
				_, err := s.UpdateTable(admin, "main.s.t", catalog.TableUpdate{Schema: &catalog.SchemaChange{Columns: cols("id", "name", "tax_id")}})
				require.True(t, errs.Is(err, errs.FailedPrecondition), "%v", err)
				require.Equal(t, "POLICY_COLUMN_MISSING", errs.ReasonOf(err))
				got, err := s.GetTable(admin, "main.s.t")
				require.NoError(t, err)
				require.Equal(t, "ssn", got.Columns[2].Name, "nothing changed")
			})
			t.Run("ErrPolicyColumnGone", func(t *testing.T) {
				s, admin := mustTableEnv(t, ms)
				_, err := s.UpdateTable(admin, "main.s.t", catalog.TableUpdate{Schema: &catalog.SchemaChange{Columns: cols("id", "full_name", "ssn")}})
				require.Equal(t, "POLICY_COLUMN_MISSING", errs.ReasonOf(err))
				_, err = s.SetColumnMask(admin, "main.s.t", "ssn", nil)
				require.NoError(t, err)
				_, err = s.UpdateTable(admin, "main.s.t", catalog.TableUpdate{Schema: &catalog.SchemaChange{Columns: cols("id", "full_name", "ssn")}})
				require.Equal(t, "POLICY_COLUMN_MISSING", errs.ReasonOf(err), "the row filter still uses name")
			})
			t.Run("ErrRenamedOverExisting", func(t *testing.T) {
				s, admin := mustTableEnv(t, ms)
				// The old column named like the rename target is gone: its
				// mask must not be carried to the renamed column silently.
				_, err := s.UpdateTable(admin, "main.s.t", catalog.TableUpdate{Schema: &catalog.SchemaChange{Columns: cols("id", "name", "ssn"),
					Renamed: map[string]string{"id": "ssn"}}})
				require.Equal(t, "POLICY_COLUMN_MISSING", errs.ReasonOf(err))
			})
			t.Run("ErrInvalidColumns", func(t *testing.T) {
				s, admin := mustTableEnv(t, ms)
				_, err := s.UpdateTable(admin, "main.s.t", catalog.TableUpdate{Schema: &catalog.SchemaChange{Columns: cols("id", "ID", "name", "ssn")}})
				require.True(t, errs.Is(err, errs.Invalid), "%v", err)
			})
			t.Run("ErrNotManager", func(t *testing.T) {
				s, admin := mustTableEnv(t, ms)
				_, err := s.UpdatePermissions(admin, catalog.TypeTable, "main.s.t", catalog.UpdatePermissions{Changes: []catalog.PermissionsChange{{Principal: "bob", Add: []catalog.Privilege{catalog.PrivModify}}}})
				require.NoError(t, err)
				bob := auth.WithIdentity(context.Background(), &auth.Identity{Principal: auth.Principal{Name: "bob"}})
				_, err = s.UpdateTable(bob, "main.s.t", catalog.TableUpdate{Schema: &catalog.SchemaChange{Columns: cols("id", "name", "ssn", "x")}})
				require.True(t, errs.Is(err, errs.PermissionDenied), "%v", err)
			})
		})
	}
}

// TestTableUpdateSchemaNotOnTheWire checks that the schema replacement is
// internal: it is neither encoded nor decoded as JSON (the UC PATCH body).
func TestTableUpdateSchemaNotOnTheWire(t *testing.T) {
	b, err := json.Marshal(catalog.TableUpdate{Schema: &catalog.SchemaChange{Columns: cols("x")}})
	require.NoError(t, err)
	require.JSONEq(t, `{}`, string(b))
	var u catalog.TableUpdate
	require.NoError(t, json.Unmarshal([]byte(`{"schema":{"Columns":[{"name":"x"}]},"Schema":{}}`), &u))
	require.Nil(t, u.Schema)
}
