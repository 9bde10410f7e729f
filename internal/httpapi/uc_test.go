package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/client"
)

// ucEnv is a test server with users alice, bob and carol and the nested
// groups analysts ⊃ team ⊃ bob. Every client validates every UC response
// against the OpenAPI spec.
type ucEnv struct {
	t     *testing.T
	srv   *apptest.Server
	ctx   context.Context
	admin *client.Client
	as    map[string]*client.Client
	token map[string]string
}

func recording(t *testing.T, c *client.Client) *client.Client {
	c.HTTP.Transport = &specRecorder{t: t, next: http.DefaultTransport}
	c.HTTP.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func newUCEnv(t *testing.T, metastore string) *ucEnv {
	srv := apptest.New(t, metastore)
	e := &ucEnv{t: t, srv: srv, ctx: context.Background(), as: map[string]*client.Client{}, token: map[string]string{}}
	e.admin = recording(t, srv.Client(apptest.AdminToken))
	actx := auth.WithIdentity(e.ctx, &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true})
	a := srv.App.Auth
	ids := map[string]string{}
	for _, u := range []string{"alice", "bob", "carol"} {
		p, err := a.CreatePrincipal(actx, auth.Principal{Kind: auth.KindUser, Name: u, Active: true})
		require.NoError(t, err)
		ids[u] = p.ID
		tok, _, err := a.CreateToken(actx, p.ID, 0, "test")
		require.NoError(t, err)
		e.token[u] = tok
		e.as[u] = recording(t, srv.Client(tok))
	}
	for _, g := range []string{"analysts", "team"} {
		p, err := a.CreatePrincipal(actx, auth.Principal{Kind: auth.KindGroup, Name: g, Active: true})
		require.NoError(t, err)
		ids[g] = p.ID
	}
	require.NoError(t, a.AddMember(actx, ids["analysts"], ids["team"]))
	require.NoError(t, a.AddMember(actx, ids["team"], ids["bob"]))
	return e
}

func (e *ucEnv) must(err error) {
	e.t.Helper()
	require.NoError(e.t, err)
}

func status(t *testing.T, err error) (int, string) {
	t.Helper()
	if err == nil {
		return 200, ""
	}
	ae := apiErr(t, err)
	return ae.Status, ae.ErrorCode
}

var orderCols = []catalog.ColumnInfo{{Name: "id", TypeName: "LONG"}, {Name: "region", TypeName: "STRING"}, {Name: "ssn", TypeName: "STRING"}}

// seed creates lake.sales with a table, a volume, a function and a model.
func (e *ucEnv) seed() catalog.TableInfo {
	c, ctx := e.admin, e.ctx
	_, err := c.CreateCatalog(ctx, catalog.CreateCatalog{Name: "lake", Comment: "the lake catalog"})
	e.must(err)
	_, err = c.CreateSchema(ctx, catalog.CreateSchema{CatalogName: "lake", Name: "sales"})
	e.must(err)
	tb, err := c.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "sales", Name: "orders", TableType: "MANAGED", Columns: orderCols})
	e.must(err)
	_, err = c.CreateVolume(ctx, catalog.CreateVolume{CatalogName: "lake", SchemaName: "sales", Name: "files", VolumeType: "MANAGED"})
	e.must(err)
	_, err = c.CreateFunction(ctx, catalog.FunctionInfo{CatalogName: "lake", SchemaName: "sales", Name: "f", DataType: "BOOLEAN",
		FullDataType: "boolean", RoutineBody: "SQL", RoutineDefinition: "region = 'EU'", InputParams: &catalog.FunctionParameterInfos{
			Parameters: []catalog.FunctionParameterInfo{{Name: "region", TypeName: "STRING", TypeText: "string", TypeJSON: `"string"`}}}})
	e.must(err)
	e.must(c.Do(ctx, "POST", "/api/2.1/unity-catalog/models", nil, catalog.CreateRegisteredModel{CatalogName: "lake", SchemaName: "sales", Name: "m"}, nil))
	e.must(c.UploadFile(ctx, "/Volumes/lake/sales/files/seed.txt", strings.NewReader("seed"), false))
	return tb
}

type need struct {
	typ, name, priv string
}

func TestUCAuthorizationMatrix(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			e := newUCEnv(t, ms)
			tb := e.seed()
			ctx := e.ctx
			n := 0
			cases := []struct {
				name  string
				needs []need
				do    func(c *client.Client) error
			}{
				{"GetCatalog", []need{{"catalog", "lake", "USE CATALOG"}}, func(c *client.Client) error { _, err := c.GetCatalog(ctx, "lake"); return err }},
				{"GetSchema", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}},
					func(c *client.Client) error { _, err := c.GetSchema(ctx, "lake.sales"); return err }},
				{"GetTable", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"table", "lake.sales.orders", "SELECT"}},
					func(c *client.Client) error { _, err := c.GetTable(ctx, "lake.sales.orders"); return err }},
				{"GetTableSelectInheritedFromSchema", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"schema", "lake.sales", "SELECT"}},
					func(c *client.Client) error { _, err := c.GetTable(ctx, "lake.sales.orders"); return err }},
				{"GetTableAllInheritedFromCatalog", []need{{"catalog", "lake", "USE CATALOG"}, {"catalog", "lake", "USE SCHEMA"}, {"catalog", "lake", "SELECT"}},
					func(c *client.Client) error { _, err := c.GetTable(ctx, "lake.sales.orders"); return err }},
				{"GetTableAllPrivilegesOnSchema", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "ALL PRIVILEGES"}},
					func(c *client.Client) error { _, err := c.GetTable(ctx, "lake.sales.orders"); return err }},
				{"TableCredentialsRead", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"table", "lake.sales.orders", "SELECT"}},
					func(c *client.Client) error {
						return c.Do(ctx, "POST", "/api/2.1/unity-catalog/temporary-table-credentials", nil, map[string]string{"table_id": tb.TableID, "operation": "READ"}, nil)
					}},
				{"TableCredentialsReadWrite", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"table", "lake.sales.orders", "SELECT"}, {"table", "lake.sales.orders", "MODIFY"}},
					func(c *client.Client) error {
						return c.Do(ctx, "POST", "/api/2.1/unity-catalog/temporary-table-credentials", nil, map[string]string{"table_id": tb.TableID, "operation": "READ_WRITE"}, nil)
					}},
				{"CreateCatalog", []need{{"metastore", "metastore", "CREATE CATALOG"}}, func(c *client.Client) error {
					n++
					_, err := c.CreateCatalog(ctx, catalog.CreateCatalog{Name: fmt.Sprintf("cat%d", n)})
					return err
				}},
				{"CreateSchema", []need{{"catalog", "lake", "USE CATALOG"}, {"catalog", "lake", "CREATE SCHEMA"}}, func(c *client.Client) error {
					n++
					_, err := c.CreateSchema(ctx, catalog.CreateSchema{CatalogName: "lake", Name: fmt.Sprintf("s%d", n)})
					return err
				}},
				{"CreateTable", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"schema", "lake.sales", "CREATE TABLE"}}, func(c *client.Client) error {
					n++
					_, err := c.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "sales", Name: fmt.Sprintf("t%d", n), TableType: "MANAGED", Columns: orderCols[:1]})
					return err
				}},
				{"CreateVolume", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"schema", "lake.sales", "CREATE VOLUME"}}, func(c *client.Client) error {
					n++
					_, err := c.CreateVolume(ctx, catalog.CreateVolume{CatalogName: "lake", SchemaName: "sales", Name: fmt.Sprintf("v%d", n), VolumeType: "MANAGED"})
					return err
				}},
				{"CreateFunction", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"schema", "lake.sales", "CREATE FUNCTION"}}, func(c *client.Client) error {
					n++
					_, err := c.CreateFunction(ctx, catalog.FunctionInfo{CatalogName: "lake", SchemaName: "sales", Name: fmt.Sprintf("f%d", n), DataType: "INT", FullDataType: "int", RoutineDefinition: "1"})
					return err
				}},
				{"CreateModel", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"schema", "lake.sales", "CREATE MODEL"}}, func(c *client.Client) error {
					n++
					return c.Do(ctx, "POST", "/api/2.1/unity-catalog/models", nil, catalog.CreateRegisteredModel{CatalogName: "lake", SchemaName: "sales", Name: fmt.Sprintf("m%d", n)}, nil)
				}},
				{"GetFunction", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"function", "lake.sales.f", "EXECUTE"}},
					func(c *client.Client) error { _, err := c.GetFunction(ctx, "lake.sales.f"); return err }},
				{"GetModel", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"registered_model", "lake.sales.m", "EXECUTE"}},
					func(c *client.Client) error {
						return c.Do(ctx, "GET", "/api/2.1/unity-catalog/models/lake.sales.m", nil, nil, nil)
					}},
				{"UploadFile", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"volume", "lake.sales.files", "WRITE VOLUME"}}, func(c *client.Client) error {
					n++
					return c.UploadFile(ctx, fmt.Sprintf("/Volumes/lake/sales/files/u%d.txt", n), strings.NewReader("x"), false)
				}},
				{"DownloadFile", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"volume", "lake.sales.files", "READ VOLUME"}}, func(c *client.Client) error {
					rc, err := c.DownloadFile(ctx, "/Volumes/lake/sales/files/seed.txt", "")
					if err == nil {
						rc.Close()
					}
					return err
				}},
				{"ListDirectory", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"volume", "lake.sales.files", "READ VOLUME"}},
					func(c *client.Client) error {
						_, err := c.ListDirectory(ctx, "/Volumes/lake/sales/files", catalog.Page{})
						return err
					}},
				{"ApplyTag", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"table", "lake.sales.orders", "APPLY TAG"}}, func(c *client.Client) error {
					v := "yes"
					return c.Do(ctx, "POST", "/api/2.1/unity-catalog/entity-tag-assignments", nil, catalog.TagAssignment{EntityType: "tables", EntityName: "lake.sales.orders", TagKey: "pii", TagValue: &v}, nil)
				}},
				{"GrantWithManage", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"table", "lake.sales.orders", "MANAGE"}}, func(c *client.Client) error {
					_, err := c.UpdatePermissions(ctx, "table", "lake.sales.orders", catalog.PermissionsChange{Principal: "carol", Add: []catalog.Privilege{"SELECT"}})
					return err
				}},
				{"DropTableWithInheritedManage", []need{{"catalog", "lake", "USE CATALOG"}, {"schema", "lake.sales", "USE SCHEMA"}, {"schema", "lake.sales", "MANAGE"}}, func(c *client.Client) error {
					n++
					name := fmt.Sprintf("drop%d", n)
					_, err := e.admin.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "sales", Name: name, TableType: "MANAGED", Columns: orderCols[:1]})
					require.NoError(t, err)
					return c.DeleteTable(ctx, "lake.sales."+name)
				}},
				{"UpdateCatalogWithManage", []need{{"catalog", "lake", "MANAGE"}}, func(c *client.Client) error {
					cm := "changed"
					_, err := c.UpdateCatalog(ctx, "lake", catalog.Update{Comment: &cm})
					return err
				}},
			}
			grant := func(p string, nd need, add bool) {
				ch := catalog.PermissionsChange{Principal: p}
				if add {
					ch.Add = []catalog.Privilege{catalog.Privilege(nd.priv)}
				} else {
					ch.Remove = []catalog.Privilege{catalog.Privilege(nd.priv)}
				}
				_, err := e.admin.UpdatePermissions(ctx, nd.typ, nd.name, ch)
				require.NoError(t, err)
			}
			checks := 0
			for _, tc := range cases {
				for _, grantee := range []string{"bob", "analysts"} {
					t.Run(tc.name+"/"+grantee, func(t *testing.T) {
						bob := e.as["bob"]
						t.Cleanup(func() {
							for _, nd := range tc.needs {
								ch := catalog.PermissionsChange{Principal: grantee, Remove: []catalog.Privilege{catalog.Privilege(nd.priv)}}
								_, _ = e.admin.UpdatePermissions(ctx, nd.typ, nd.name, ch)
							}
						})
						st, code := status(t, tc.do(bob))
						require.Equal(t, 403, st, "denied by default")
						require.Equal(t, "PERMISSION_DENIED", code)
						for _, nd := range tc.needs {
							grant(grantee, nd, true)
						}
						st, _ = status(t, tc.do(bob))
						require.Equal(t, 200, st, "allowed with %v", tc.needs)
						for _, nd := range tc.needs {
							grant(grantee, nd, false)
							st, _ := status(t, tc.do(bob))
							require.Equal(t, 403, st, "denied without %v", nd)
							grant(grantee, nd, true)
						}
						st, _ = status(t, tc.do(e.as["carol"]))
						require.Equal(t, 403, st, "another user is still denied")
						for _, nd := range tc.needs {
							grant(grantee, nd, false)
						}
						st, _ = status(t, tc.do(bob))
						require.Equal(t, 403, st, "revocation takes effect immediately")
						checks += 3 + len(tc.needs)
					})
				}
			}
			t.Logf("authorisation checks: %d", checks)
		})
	}
}

func TestUCOwnershipAndListFiltering(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			e := newUCEnv(t, ms)
			e.seed()
			ctx := e.ctx
			alice, bob := e.as["alice"], e.as["bob"]
			// Ownership transfer: the new owner may act, the old one no longer.
			_, err := e.admin.UpdateCatalog(ctx, "lake", catalog.Update{Owner: "alice"})
			require.NoError(t, err)
			_, err = alice.CreateSchema(ctx, catalog.CreateSchema{CatalogName: "lake", Name: "alices"})
			require.NoError(t, err)
			_, err = alice.GetTable(ctx, "lake.sales.orders")
			require.NoError(t, err, "catalog owner can see everything below")
			_, err = alice.UpdateCatalog(ctx, "lake", catalog.Update{Owner: "bob"})
			require.NoError(t, err)
			st, _ := status(t, func() error {
				_, err := alice.CreateSchema(ctx, catalog.CreateSchema{CatalogName: "lake", Name: "again"})
				return err
			}())
			require.Equal(t, 403, st)
			_, err = bob.GetTable(ctx, "lake.sales.orders")
			require.NoError(t, err)
			st, code := status(t, func() error {
				_, err := bob.UpdateCatalog(ctx, "lake", catalog.Update{Owner: "nobody-here"})
				return err
			}())
			require.Equal(t, 404, st, "transfer to an unknown principal")
			require.Equal(t, "NOT_FOUND", code)

			// List filtering: carol sees only what she holds a privilege on.
			for i := 0; i < 5; i++ {
				_, err := e.admin.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "sales", Name: fmt.Sprintf("x%d", i), TableType: "MANAGED", Columns: orderCols[:1]})
				require.NoError(t, err)
			}
			carol := e.as["carol"]
			names := func(l catalog.ListCatalogsResponse) []string {
				var out []string
				for _, c := range l.Catalogs {
					out = append(out, c.Name)
				}
				return out
			}
			l, err := carol.ListCatalogs(ctx, catalog.Page{})
			require.NoError(t, err)
			require.Equal(t, []string{"main"}, names(l), "only the default catalog every user may use")
			_, err = e.admin.UpdatePermissions(ctx, "catalog", "lake", catalog.PermissionsChange{Principal: "carol", Add: []catalog.Privilege{"USE CATALOG", "USE SCHEMA"}})
			require.NoError(t, err)
			_, err = e.admin.UpdatePermissions(ctx, "table", "lake.sales.x3", catalog.PermissionsChange{Principal: "carol", Add: []catalog.Privilege{"SELECT"}})
			require.NoError(t, err)
			l, err = carol.ListCatalogs(ctx, catalog.Page{})
			require.NoError(t, err)
			require.Equal(t, []string{"lake", "main"}, names(l))
			tl, err := carol.ListTables(ctx, "lake", "sales", catalog.Page{MaxResults: 1})
			require.NoError(t, err)
			require.Len(t, tl.Tables, 1)
			require.Equal(t, "x3", tl.Tables[0].Name)
			require.Empty(t, tl.NextPageToken)
			all, err := e.admin.ListTables(ctx, "lake", "sales", catalog.Page{})
			require.NoError(t, err)
			require.Len(t, all.Tables, 6)

			// Effective permissions show the origin of inherited privileges.
			_, err = e.admin.UpdatePermissions(ctx, "schema", "lake.sales", catalog.PermissionsChange{Principal: "analysts", Add: []catalog.Privilege{"SELECT"}})
			require.NoError(t, err)
			ep, err := bob.EffectivePermissions(ctx, "table", "lake.sales.orders", "bob")
			require.NoError(t, err, "bob owns the catalog now")
			found := false
			for _, a := range ep.PrivilegeAssignments {
				for _, p := range a.Privileges {
					if a.Principal == "analysts" && p.Privilege == "SELECT" && p.InheritedFromType == "schema" && p.InheritedFromName == "lake.sales" {
						found = true
					}
				}
			}
			require.True(t, found, "%+v", ep)
			_, err = carol.EffectivePermissions(ctx, "table", "lake.sales.x3", "carol")
			require.NoError(t, err, "anyone may ask about themselves")
			st, _ = status(t, func() error { _, err := carol.EffectivePermissions(ctx, "table", "lake.sales.x3", "bob"); return err }())
			require.Equal(t, 403, st)
		})
	}
}

func TestUCPagingAndSearch(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			e := newUCEnv(t, ms)
			e.seed()
			ctx := e.ctx
			for i := 0; i < 25; i++ {
				_, err := e.admin.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "sales", Name: fmt.Sprintf("p%02d", i),
					TableType: "MANAGED", Columns: orderCols[:1]})
				require.NoError(t, err)
			}
			var names []string
			tok, pages := "", 0
			for {
				l, err := e.admin.ListTables(ctx, "lake", "sales", catalog.Page{MaxResults: 10, Token: tok})
				require.NoError(t, err)
				pages++
				for _, tb := range l.Tables {
					names = append(names, tb.Name)
				}
				if l.NextPageToken == "" {
					break
				}
				tok = l.NextPageToken
			}
			require.Equal(t, 3, pages)
			require.Len(t, names, 26)
			st, code := status(t, func() error {
				_, err := e.admin.ListTables(ctx, "lake", "sales", catalog.Page{MaxResults: -1})
				return err
			}())
			require.Equal(t, 400, st)
			require.Equal(t, "INVALID_ARGUMENT", code)

			v := "confidential"
			require.NoError(t, e.admin.Do(ctx, "POST", "/api/2.1/unity-catalog/entity-tag-assignments", nil,
				catalog.TagAssignment{EntityType: "tables", EntityName: "lake.sales.p07", TagKey: "class", TagValue: &v}, nil))
			var sr catalog.SearchResponse
			require.NoError(t, e.admin.Do(ctx, "GET", "/api/2.1/unity-catalog/search", map[string][]string{"query": {"confidential"}}, nil, &sr))
			require.Len(t, sr.Results, 1)
			require.Equal(t, "lake.sales.p07", sr.Results[0].FullName)
			require.NoError(t, e.admin.Do(ctx, "GET", "/api/2.1/unity-catalog/search", map[string][]string{"query": {"lake catalog"}}, nil, &sr))
			require.Len(t, sr.Results, 1, "comment match")
			require.NoError(t, e.as["carol"].Do(ctx, "GET", "/api/2.1/unity-catalog/search", map[string][]string{"query": {"p0"}}, nil, &sr))
			require.Empty(t, sr.Results, "search is filtered by visibility")
			require.NoError(t, e.admin.Do(ctx, "GET", "/api/2.1/unity-catalog/search", map[string][]string{"query": {"p"}, "max_results": {"5"}}, nil, &sr))
			require.Len(t, sr.Results, 5)
			require.NotEmpty(t, sr.NextPageToken)
			var tags catalog.ListTagAssignmentsResponse
			require.NoError(t, e.admin.Do(ctx, "GET", "/api/2.1/unity-catalog/entity-tag-assignments/tables/lake.sales.p07/tags", nil, nil, &tags))
			require.Len(t, tags.TagAssignments, 1)
			st, _ = status(t, e.as["bob"].Do(ctx, "GET", "/api/2.1/unity-catalog/entity-tag-assignments/tables/lake.sales.p07/tags", nil, nil, &tags))
			require.Equal(t, 403, st)
		})
	}
}

func rawReq(t *testing.T, e *ucEnv, method, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apptest.AdminToken)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

func TestUCVolumeFiles(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			e := newUCEnv(t, ms)
			e.seed()
			ctx, c := e.ctx, e.admin
			const v = "/Volumes/lake/sales/files"
			require.NoError(t, c.UploadFile(ctx, v+"/a/b.txt", strings.NewReader("0123456789"), false))
			st, code := status(t, c.UploadFile(ctx, v+"/a/b.txt", strings.NewReader("x"), false))
			require.Equal(t, 409, st, "no overwrite by default")
			require.Equal(t, "ALREADY_EXISTS", code)
			require.NoError(t, c.UploadFile(ctx, "dbfs:"+v+"/a/b.txt", strings.NewReader("abcdefghij"), true))
			rc, err := c.DownloadFile(ctx, v+"/a/b.txt", "bytes=2-4")
			require.NoError(t, err)
			data, _ := io.ReadAll(rc)
			rc.Close()
			require.Equal(t, "cde", string(data))
			resp, _ := rawReq(t, e, "HEAD", "/api/2.0/fs/files"+v+"/a/b.txt", "", nil)
			require.Equal(t, 200, resp.StatusCode)
			require.Equal(t, "10", resp.Header.Get("Content-Length"))
			require.NoError(t, c.CreateDirectory(ctx, v+"/empty"))
			for i := 0; i < 5; i++ {
				require.NoError(t, c.UploadFile(ctx, fmt.Sprintf("%s/f%d", v, i), strings.NewReader("x"), false))
			}
			var got []string
			tok := ""
			for {
				l, err := c.ListDirectory(ctx, v, catalog.Page{MaxResults: 3, Token: tok})
				require.NoError(t, err)
				for _, en := range l.Contents {
					got = append(got, en.Name)
				}
				if tok = l.NextPageToken; tok == "" {
					break
				}
			}
			require.Equal(t, []string{"a", "empty", "f0", "f1", "f2", "f3", "f4", "seed.txt"}, got)
			st, code = status(t, c.DeleteDirectory(ctx, v+"/a"))
			require.Equal(t, 400, st)
			require.Equal(t, "DIRECTORY_NOT_EMPTY", code)
			require.NoError(t, c.DeleteFile(ctx, v+"/a/b.txt"))
			st, _ = status(t, c.DeleteFile(ctx, v+"/a/b.txt"))
			require.Equal(t, 404, st)
			require.NoError(t, c.DeleteDirectory(ctx, v+"/empty"))

			// Traversal: rejected with 400 and nothing written.
			vol, err := c.GetVolume(ctx, "lake.sales.files")
			require.NoError(t, err)
			root := strings.TrimPrefix(vol.StorageLocation, "file://")
			for _, p := range []string{v + "/%2e%2e/escape.txt", v + "/x/%2E%2E/%2e%2e/escape.txt", v + "/nul%00.txt", v + "/a%5cb.txt",
				"/Volumes/lake/sales/%2e%2e/escape.txt", v + "/.lakebox-dir"} {
				resp, body := rawReq(t, e, "PUT", "/api/2.0/fs/files"+p, "evil", nil)
				require.Equal(t, 400, resp.StatusCode, "%s: %s", p, body)
				require.Contains(t, body, `"error_code"`)
			}
			// A literal ".." is refused before routing; nothing is written.
			resp, _ = rawReq(t, e, "PUT", "/api/2.0/fs/files"+v+"/../files/lit.txt", "evil", nil)
			require.Equal(t, 400, resp.StatusCode)
			_, err = os.Stat(filepath.Join(filepath.Dir(root), "escape.txt"))
			require.True(t, os.IsNotExist(err))
			// A symbolic link inside the volume that leads out of it is
			// refused on read and write.
			outside := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600))
			require.NoError(t, os.Symlink(outside, filepath.Join(root, "link")))
			resp, body := rawReq(t, e, "GET", "/api/2.0/fs/files"+v+"/link/secret", "", nil)
			require.Equal(t, 400, resp.StatusCode, body)
			require.NotContains(t, body, "secret\"")
			resp, body = rawReq(t, e, "PUT", "/api/2.0/fs/files"+v+"/link/new", "x", nil)
			require.GreaterOrEqual(t, resp.StatusCode, 400, body)
			_, err = os.Stat(filepath.Join(outside, "new"))
			require.True(t, os.IsNotExist(err), "nothing written outside the volume")
		})
	}
}

func TestUCBadInput(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			e := newUCEnv(t, ms)
			e.seed()
			ctx, c := e.ctx, e.admin
			outside := "file://" + t.TempDir()
			cases := []struct {
				name   string
				do     func() error
				status int
				code   string
				gone   func() error // must still fail with 404 afterwards
			}{
				{"CatalogNameWithDot", func() error { _, err := c.CreateCatalog(ctx, catalog.CreateCatalog{Name: "a.b"}); return err }, 400, "INVALID_ARGUMENT",
					func() error { _, err := c.GetCatalog(ctx, "a"); return err }},
				{"CatalogNameWithSpace", func() error { _, err := c.CreateCatalog(ctx, catalog.CreateCatalog{Name: "a b"}); return err }, 400, "INVALID_ARGUMENT", nil},
				{"EmptyName", func() error { _, err := c.CreateCatalog(ctx, catalog.CreateCatalog{}); return err }, 400, "INVALID_ARGUMENT", nil},
				{"DuplicateCatalog", func() error { _, err := c.CreateCatalog(ctx, catalog.CreateCatalog{Name: "MAIN"}); return err }, 400, "CATALOG_ALREADY_EXISTS", nil},
				{"DuplicateTable", func() error {
					_, err := c.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "sales", Name: "orders", TableType: "MANAGED", Columns: orderCols})
					return err
				}, 400, "TABLE_ALREADY_EXISTS", nil},
				{"ManagedRootOutsideWarehouse", func() error {
					_, err := c.CreateCatalog(ctx, catalog.CreateCatalog{Name: "far", StorageRoot: outside})
					return err
				}, 400, "INVALID_ARGUMENT",
					func() error { _, err := c.GetCatalog(ctx, "far"); return err }},
				{"ExternalTableWithoutLocation", func() error {
					_, err := c.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "sales", Name: "ext", TableType: "EXTERNAL", StorageLocation: outside + "/t", Columns: orderCols})
					return err
				}, 400, "INVALID_ARGUMENT", func() error { _, err := c.GetTable(ctx, "lake.sales.ext"); return err }},
				{"UnknownColumnType", func() error {
					_, err := c.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "sales", Name: "bad", TableType: "MANAGED", Columns: []catalog.ColumnInfo{{Name: "x", TypeName: "FOO"}}})
					return err
				}, 400, "INVALID_ARGUMENT", func() error { _, err := c.GetTable(ctx, "lake.sales.bad"); return err }},
				{"TableInMissingSchema", func() error {
					_, err := c.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "nope", Name: "t", TableType: "MANAGED", Columns: orderCols})
					return err
				}, 404, "SCHEMA_NOT_FOUND", nil},
				{"MissingTable", func() error { _, err := c.GetTable(ctx, "lake.sales.nope"); return err }, 404, "TABLE_NOT_FOUND", nil},
				{"MalformedFullName", func() error { _, err := c.GetTable(ctx, "lake.orders"); return err }, 400, "INVALID_ARGUMENT", nil},
				{"UnknownSecurableType", func() error { _, err := c.GetPermissions(ctx, "tablez", "lake.sales.orders", ""); return err }, 400, "INVALID_ARGUMENT", nil},
				{"GrantToUnknownPrincipal", func() error {
					_, err := c.UpdatePermissions(ctx, "table", "lake.sales.orders", catalog.PermissionsChange{Principal: "mallory", Add: []catalog.Privilege{"SELECT"}})
					return err
				}, 404, "NOT_FOUND", nil},
				{"UnknownPrivilege", func() error {
					_, err := c.UpdatePermissions(ctx, "table", "lake.sales.orders", catalog.PermissionsChange{Principal: "bob", Add: []catalog.Privilege{"FLY"}})
					return err
				}, 400, "INVALID_ARGUMENT", nil},
				{"PrivilegeNotApplicable", func() error {
					_, err := c.UpdatePermissions(ctx, "volume", "lake.sales.files", catalog.PermissionsChange{Principal: "bob", Add: []catalog.Privilege{"SELECT"}})
					return err
				}, 400, "INVALID_ARGUMENT", nil},
				{"ExternalLocationInsideWarehouse", func() error {
					return c.Do(ctx, "POST", "/api/2.1/unity-catalog/credentials", nil, catalog.CreateCredential{Name: "cred"}, nil)
				}, 200, "", nil},
				{"ExternalLocationInsideWarehouse2", func() error {
					return c.Do(ctx, "POST", "/api/2.1/unity-catalog/external-locations", nil, catalog.CreateExternalLocation{Name: "inwh", URL: e.srv.App.Config.Warehouse + "/x", CredentialName: "cred"}, nil)
				}, 400, "INVALID_ARGUMENT", nil},
				{"NonAdminCreatesExternalLocation", func() error {
					return e.as["bob"].Do(ctx, "POST", "/api/2.1/unity-catalog/external-locations", nil, catalog.CreateExternalLocation{Name: "el", URL: outside, CredentialName: "cred"}, nil)
				}, 403, "PERMISSION_DENIED", nil},
				{"UnknownEndpoint", func() error { return c.Do(ctx, "GET", "/api/2.1/unity-catalog/nothing", nil, nil, nil) }, 404, "NOT_FOUND", nil},
				{"Unauthenticated", func() error {
					return recording(t, e.srv.Client("")).Do(ctx, "GET", "/api/2.1/unity-catalog/catalogs", nil, nil, nil)
				}, 401, "UNAUTHENTICATED", nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					st, code := status(t, tc.do())
					require.Equal(t, tc.status, st)
					require.Equal(t, tc.code, code)
					if tc.gone != nil {
						st, _ := status(t, tc.gone())
						require.Equal(t, 404, st, "nothing half-created")
					}
				})
			}
			// Registered external location: external tables are accepted there.
			require.NoError(t, c.Do(ctx, "POST", "/api/2.1/unity-catalog/external-locations", nil, catalog.CreateExternalLocation{Name: "ext", URL: outside, CredentialName: "cred"}, nil))
			_, err := c.CreateTable(ctx, catalog.CreateTable{CatalogName: "lake", SchemaName: "sales", Name: "ext", TableType: "EXTERNAL", StorageLocation: outside + "/t", Columns: orderCols})
			require.NoError(t, err)
		})
	}
}

func TestUCManagedStorageDropUndropPurge(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			e := newUCEnv(t, ms)
			tb := e.seed()
			ctx, c := e.ctx, e.admin
			dir := strings.TrimPrefix(tb.StorageLocation, "file://")
			require.True(t, strings.HasPrefix(tb.StorageLocation, e.srv.App.Config.Warehouse+"/__lakebox/managed/"), tb.StorageLocation)
			_, err := os.Stat(filepath.Join(dir, "_delta_log", "00000000000000000000.json"))
			require.NoError(t, err, "a managed table gets a real empty Delta table")

			require.NoError(t, c.DeleteTable(ctx, "lake.sales.orders"))
			st, _ := status(t, func() error { _, err := c.GetTable(ctx, "lake.sales.orders"); return err }())
			require.Equal(t, 404, st)
			_, err = os.Stat(dir)
			require.NoError(t, err, "data kept during the retention window")
			back, err := c.UndropTable(ctx, "lake.sales.orders")
			require.NoError(t, err)
			require.Equal(t, tb.TableID, back.TableID)

			// Row filter and column mask.
			fn := "lake.sales.f"
			got, err := c.UpdateTable(ctx, "lake.sales.orders", catalog.TableUpdate{RowFilter: &catalog.RowFilter{FunctionName: fn, InputColumnNames: []string{"region"}},
				Columns: []catalog.ColumnUpdate{{Name: "ssn", Mask: &catalog.ColumnMask{FunctionName: fn}}}})
			require.NoError(t, err)
			require.Equal(t, fn, got.RowFilter.FunctionName)
			got, err = c.GetTable(ctx, "lake.sales.orders")
			require.NoError(t, err)
			require.Equal(t, fn, got.Columns[2].Mask.FunctionName)
			st, _ = status(t, func() error {
				_, err := c.UpdateTable(ctx, "lake.sales.orders", catalog.TableUpdate{RowFilter: &catalog.RowFilter{FunctionName: fn, InputColumnNames: []string{"nope"}}})
				return err
			}())
			require.Equal(t, 400, st)

			// Purge after the retention window (service with a clock 8 days ahead).
			require.NoError(t, c.DeleteTable(ctx, "lake.sales.orders"))
			later := catalogAt(t, e, 8*24)
			n, err := later.Purge(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			_, err = os.Stat(dir)
			require.True(t, os.IsNotExist(err), "data removed after the window")
			st, _ = status(t, func() error { _, err := c.UndropTable(ctx, "lake.sales.orders"); return err }())
			require.Equal(t, 404, st)
		})
	}
}

// TestUCSpecValidatedCount runs after the UC API tests above and reports how
// many JSON responses the spec recorder validated.
func TestUCSpecValidatedCount(t *testing.T) {
	if specValidated.Load() == 0 {
		t.Skip("run with the UC API tests to validate their responses")
	}
	t.Logf("UC responses validated against the OpenAPI spec: %d (violations: %d)", specValidated.Load(), specErrors.Load())
	require.Zero(t, specErrors.Load())
}
