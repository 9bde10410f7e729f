package catalog_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/sqldb"
)

// benchEnv is a catalog on a SQLite metastore (no storage; the tables are
// views so that no Delta log is written) with
// main.sales.orders owned by alice and SELECT granted at catalog, schema and
// table level to groups that bob reaches through nesting.
func benchEnv(b *testing.B, tables int) (*catalog.Service, context.Context, context.Context) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "m.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := catalog.NewService(sqldb.NewCatalogStore(db), nil, nil, catalog.Options{WarehouseURL: "file:///tmp/wh", MaxPageSize: 1000})
	if err := s.Init(ctx); err != nil {
		b.Fatal(err)
	}
	admin := auth.WithIdentity(ctx, &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true})
	alice := auth.WithIdentity(ctx, &auth.Identity{Principal: auth.Principal{Name: "alice"}})
	bob := auth.WithIdentity(ctx, &auth.Identity{Principal: auth.Principal{Name: "bob"}, Groups: []string{"team", "analysts", "org"}})
	must := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(s.CreateCatalog(admin, catalog.CreateCatalog{Name: "main"}))
	must(s.UpdateCatalog(admin, "main", catalog.Update{Owner: "alice"}))
	must(s.CreateSchema(alice, catalog.CreateSchema{CatalogName: "main", Name: "sales"}))
	cols := []catalog.ColumnInfo{{Name: "id", TypeName: "LONG"}}
	for i := 0; i < tables; i++ {
		name := "orders"
		if i > 0 {
			name = fmt.Sprintf("t%05d", i)
		}
		must(s.CreateTable(alice, catalog.CreateTable{CatalogName: "main", SchemaName: "sales", Name: name, TableType: "VIEW",
			ViewDefinition: "SELECT 1 AS id", Columns: cols}))
	}
	grant := func(t catalog.SecurableType, n, p string, ps ...catalog.Privilege) {
		must(s.UpdatePermissions(alice, t, n, catalog.UpdatePermissions{Changes: []catalog.PermissionsChange{{Principal: p, Add: ps}}}))
	}
	grant(catalog.TypeCatalog, "main", "org", catalog.PrivUseCatalog)
	grant(catalog.TypeSchema, "main.sales", "analysts", catalog.PrivUseSchema, catalog.PrivSelect)
	grant(catalog.TypeTable, "main.sales.orders", "team", catalog.PrivSelect, catalog.PrivModify)
	return s, alice, bob
}

// BenchmarkAuthorize measures a SELECT check on a table with grants at
// catalog, schema and table level through nested groups, against the
// baseline of the owner's plain GET of the same table; report the ratio
// of the two ns/op figures.
func BenchmarkAuthorize(b *testing.B) {
	s, alice, bob := benchEnv(b, 1)
	b.Run("GetTableByOwner", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetTable(alice, "main.sales.orders"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AuthorizeSelectNestedGroups", func(b *testing.B) {
		for b.Loop() {
			if err := s.Authorize(bob, catalog.TypeTable, "main.sales.orders", catalog.PrivSelect); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkListTables10k lists 10,000 tables in pages of 1,000 (one op =
// the whole listing), as the owner and as a grantee whose visibility is
// checked per table.
func BenchmarkListTables10k(b *testing.B) {
	s, alice, bob := benchEnv(b, 10000)
	for _, who := range []struct {
		name string
		ctx  context.Context
	}{{"Owner", alice}, {"Grantee", bob}} {
		b.Run(who.name, func(b *testing.B) {
			for b.Loop() {
				n, tok := 0, ""
				for {
					r, err := s.ListTables(who.ctx, "main", "sales", catalog.Page{MaxResults: 1000, Token: tok})
					if err != nil {
						b.Fatal(err)
					}
					n += len(r.Tables)
					if tok = r.NextPageToken; tok == "" {
						break
					}
				}
				if n != 10000 {
					b.Fatalf("listed %d tables", n)
				}
			}
		})
	}
}
