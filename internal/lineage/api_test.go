package lineage_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/lineage"
)

func names(g *lineage.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		s := n.Name
		if n.Column != "" {
			s += "." + n.Column
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func olEvent(eventType, runID string) map[string]any {
	return map[string]any{
		"eventType": eventType, "eventTime": "2026-03-01T10:00:00.000+01:00",
		"producer":  "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/spark",
		"schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
		"run":       map[string]any{"runId": runID, "facets": map[string]any{}},
		"job":       map[string]any{"namespace": "spark", "name": "etl.load_orders"},
		"inputs": []any{
			map[string]any{"namespace": "postgres://db:5432", "name": "shop.public.orders"},
			map[string]any{"namespace": "lakebox://localhost:8080", "name": "Main.Raw.Customers"},
		},
		"outputs": []any{map[string]any{"namespace": "s3://lake", "name": "/gold/orders", "facets": map[string]any{
			"symlinks": map[string]any{"identifiers": []any{map[string]any{"namespace": "unitycatalog://localhost", "name": "main.gold.orders", "type": "TABLE"}}},
			"columnLineage": map[string]any{
				"_producer": "x", "_schemaURL": "y",
				"fields": map[string]any{"customer_name": map[string]any{"inputFields": []any{
					map[string]any{"namespace": "lakebox", "name": "main.raw.customers", "field": "name",
						"transformations": []any{map[string]any{"type": "DIRECT", "subtype": "IDENTITY"}}}}}},
			},
		}}},
	}
}

func TestLineageAPI(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			ctx := context.Background()
			srv := apptest.New(t, ms)
			svc := srv.App.Audit.Lineage
			admin := srv.Admin
			ev := lineage.Event{EntityType: "SQL_STATEMENT", StatementID: "st-1", CreatedBy: "etl@example.com"}
			a, b, c, d := lineage.TableNode("m.s.a"), lineage.TableNode("m.s.b"), lineage.TableNode("M.S.C"), lineage.TableNode("m.s.d")
			require.NoError(t, svc.RecordTableLineage(ctx, []lineage.Node{a}, b, []lineage.ColumnMapping{{Source: a, SourceColumn: "x", TargetColumn: "y"}}, ev))
			require.NoError(t, svc.RecordTableLineage(ctx, []lineage.Node{b}, c, []lineage.ColumnMapping{{Source: b, SourceColumn: "y", TargetColumn: "z"}}, lineage.Event{EntityType: "JOB", EntityID: "42", EntityRunID: "7"}))
			require.NoError(t, svc.RecordTableLineage(ctx, []lineage.Node{b}, d, nil, lineage.Event{EntityType: "NOTEBOOK", EntityID: "nb1"}))
			require.NoError(t, svc.RecordTableLineage(ctx, []lineage.Node{c}, a, nil, lineage.Event{})) // a cycle a → b → c → a
			require.NoError(t, svc.RecordModelLineage(ctx, []lineage.Node{c}, "run1", "m.s.model/1", lineage.Event{}))
			require.NoError(t, svc.RecordServingLineage(ctx, "m.s.model/1", "ep", "m.s.ep_payload", lineage.Event{}))
			// Recording the same statement again adds nothing.
			require.NoError(t, svc.RecordTableLineage(ctx, []lineage.Node{a}, b, nil, ev))

			t.Run("TableLineage", func(t *testing.T) {
				res, err := admin.TableLineage(ctx, "m.s.b", true)
				require.NoError(t, err)
				require.Len(t, res.Upstreams, 1)
				require.Equal(t, "a", res.Upstreams[0].TableInfo.Name)
				require.Equal(t, "m", res.Upstreams[0].TableInfo.CatalogName)
				require.Equal(t, []httpapi.QueryInfo{{WorkspaceID: "0", QueryID: "st-1"}}, res.Upstreams[0].QueryInfos)
				require.Len(t, res.Downstreams, 2)
				res, err = admin.TableLineage(ctx, "m.s.c", false)
				require.NoError(t, err)
				require.Len(t, res.Downstreams, 1) // a; the run only with include_entity_lineage
				require.Nil(t, res.Downstreams[0].JobInfos)
				res, err = admin.TableLineage(ctx, "m.s.c", true)
				require.NoError(t, err)
				require.Len(t, res.Downstreams, 2)
				require.Equal(t, []httpapi.JobInfo{{WorkspaceID: "0", JobID: "42", JobRunID: "7"}}, res.Upstreams[0].JobInfos)
			})
			t.Run("ColumnLineage", func(t *testing.T) {
				res, err := admin.ColumnLineage(ctx, "m.s.b", "y")
				require.NoError(t, err)
				require.Len(t, res.UpstreamCols, 1)
				require.Equal(t, "x", res.UpstreamCols[0].Name)
				require.Equal(t, "a", res.UpstreamCols[0].TableName)
				require.Len(t, res.DownstreamCols, 1)
				require.Equal(t, "z", res.DownstreamCols[0].Name)
			})
			t.Run("Walk", func(t *testing.T) {
				g, err := admin.LineageGraph(ctx, "TABLE", "m.s.a", "DOWNSTREAM", 1, "")
				require.NoError(t, err)
				require.Equal(t, []string{"m.s.b"}, names(g))
				require.True(t, g.Truncated)
				g, err = admin.LineageGraph(ctx, "TABLE", "m.s.a", "DOWNSTREAM", 2, "")
				require.NoError(t, err)
				require.Equal(t, []string{"m.s.b", "m.s.c", "m.s.d"}, names(g))
				g, err = admin.LineageGraph(ctx, "TABLE", "m.s.a", "DOWNSTREAM", 20, "")
				require.NoError(t, err) // the cycle back to a terminates
				require.Equal(t, []string{"ep", "m.s.b", "m.s.c", "m.s.d", "m.s.ep_payload", "m.s.model/1", "run1"}, names(g))
				require.False(t, g.Truncated)
				g, err = admin.LineageGraph(ctx, "SERVING_ENDPOINT", "ep", "UPSTREAM", 3, "")
				require.NoError(t, err)
				require.Equal(t, []string{"m.s.c", "m.s.model/1", "run1"}, names(g))
				g, err = admin.LineageGraph(ctx, "TABLE", "m.s.b", "", 1, "")
				require.NoError(t, err)
				require.Equal(t, []string{"m.s.a", "m.s.c", "m.s.d"}, names(g))
				g, err = admin.LineageGraph(ctx, "TABLE", "m.s.a", "DOWNSTREAM", 5, "x")
				require.NoError(t, err)
				require.Equal(t, []string{"m.s.b.y", "m.s.c.z"}, names(g))
				_, err = admin.LineageGraph(ctx, "TABLE", "m.s.a", "SIDEWAYS", 1, "")
				requireStatus(t, err, http.StatusBadRequest, "direction")
				_, err = admin.LineageGraph(ctx, "TABLE", "m.s.a", "", 99, "")
				requireStatus(t, err, http.StatusBadRequest, "depth")
			})
			t.Run("OpenLineage", func(t *testing.T) {
				runID := "0190d5a4-8a5e-7c2b-9f3e-1a2b3c4d5e6f"
				res, err := admin.PostOpenLineage(ctx, olEvent("START", runID))
				require.NoError(t, err)
				require.Equal(t, 3, res.Edges)
				_, err = admin.PostOpenLineage(ctx, olEvent("COMPLETE", runID))
				require.NoError(t, err)
				tl, err := admin.TableLineage(ctx, "main.gold.orders", true)
				require.NoError(t, err)
				require.Len(t, tl.Upstreams, 2) // one edge per input although two events were posted
				var ext, tbl int
				for _, u := range tl.Upstreams {
					if u.TableInfo != nil {
						tbl++
						require.Equal(t, "customers", u.TableInfo.Name)
					} else {
						ext++
						require.Equal(t, "postgres://db:5432/shop.public.orders", u.FileInfo.Path)
						require.Equal(t, "EXTERNAL", u.FileInfo.SecurableType)
					}
					require.Equal(t, "OPENLINEAGE", u.EntityInfos[0].EntityType)
					require.Equal(t, runID, u.EntityInfos[0].RunID)
				}
				require.Equal(t, 1, tbl)
				require.Equal(t, 1, ext)
				cl, err := admin.ColumnLineage(ctx, "main.gold.orders", "customer_name")
				require.NoError(t, err)
				require.Equal(t, []httpapi.ColumnInfo{{Name: "name", CatalogName: "main", SchemaName: "raw", TableName: "customers", TableType: "TABLE", LineageTimestamp: "2026-03-01 09:00:00.0"}}, cl.UpstreamCols)
			})
			t.Run("OpenLineageInvalid", func(t *testing.T) {
				for _, tc := range []struct {
					field  string
					mutate func(m map[string]any)
				}{
					{"run.runId", func(m map[string]any) { m["run"] = map[string]any{} }},
					{"run.runId", func(m map[string]any) { m["run"] = map[string]any{"runId": "not-a-uuid"} }},
					{"eventTime", func(m map[string]any) { m["eventTime"] = "yesterday" }},
					{"eventType", func(m map[string]any) { m["eventType"] = "DONE" }},
					{"producer", func(m map[string]any) { delete(m, "producer") }},
					{"job.name", func(m map[string]any) { m["job"] = map[string]any{"namespace": "x"} }},
					{"outputs[0].name", func(m map[string]any) { m["outputs"] = []any{map[string]any{"namespace": "x"}} }},
					{"inputs[1].namespace", func(m map[string]any) {
						m["inputs"] = []any{map[string]any{"namespace": "x", "name": "y"}, map[string]any{"name": "y"}}
					}},
					{"outputs[0].facets.columnLineage.fields.c.inputFields[0].field", func(m map[string]any) {
						m["outputs"] = []any{map[string]any{"namespace": "x", "name": "y", "facets": map[string]any{"columnLineage": map[string]any{
							"fields": map[string]any{"c": map[string]any{"inputFields": []any{map[string]any{"namespace": "a", "name": "b"}}}}}}}}
					}},
					{"inputs", func(m map[string]any) { m["inputs"] = "nope" }},
				} {
					m := olEvent("COMPLETE", "0190d5a4-8a5e-7c2b-9f3e-1a2b3c4d5e6f")
					tc.mutate(m)
					_, err := admin.PostOpenLineage(ctx, m)
					requireStatus(t, err, http.StatusBadRequest, tc.field)
				}
			})
			t.Run("ErrPermissionDenied", func(t *testing.T) {
				sp, err := admin.CreatePrincipal(ctx, client.ServicePrincipals, httpapi.SCIMResource{DisplayName: "reader"})
				require.NoError(t, err)
				tok, err := admin.CreateTokenOnBehalfOf(ctx, sp.ApplicationID, 0, "")
				require.NoError(t, err)
				user := srv.Client(tok.TokenValue)
				// The catalog decides (app wires the visibility): no
				// privilege on m.s.b, no lineage, and no posting about it.
				_, err = user.TableLineage(ctx, "m.s.b", false)
				requireStatus(t, err, http.StatusForbidden, "cannot see TABLE m.s.b")
				_, err = user.PostOpenLineage(ctx, olEvent("COMPLETE", "0190d5a4-8a5e-7c2b-9f3e-1a2b3c4d5e6f"))
				requireStatus(t, err, http.StatusForbidden, "cannot see TABLE")
			})
			t.Run("DeltaTables", func(t *testing.T) {
				require.NoError(t, srv.App.Audit.LineageTables.Flush(ctx))
				tl, cl := srv.App.Audit.LineageTables.Tables()
				rows := scan(t, tl)
				require.GreaterOrEqual(t, len(rows), 9)
				var found bool
				for _, r := range rows {
					if r["source_table_full_name"] == "m.s.a" && r["target_table_full_name"] == "m.s.b" {
						found = true
						require.Equal(t, "SQL_STATEMENT", r["entity_type"])
						require.Equal(t, "st-1", r["statement_id"])
						require.Equal(t, "TABLE", r["target_type"])
						require.Equal(t, "b", r["target_table_name"])
					}
				}
				require.True(t, found)
				crow := scan(t, cl)
				require.GreaterOrEqual(t, len(crow), 3)
			})
		})
	}
}

func scan(t *testing.T, tbl *delta.Table) []map[string]any {
	t.Helper()
	snap, err := tbl.Latest(context.Background())
	require.NoError(t, err)
	sc, err := snap.Scan(delta.ScanOptions{})
	require.NoError(t, err)
	var out []map[string]any
	require.NoError(t, sc.Rows(context.Background(), func(r delta.Row) error {
		m := map[string]any{}
		for i, f := range sc.Schema().Fields {
			m[f.Name] = r[i]
		}
		out = append(out, m)
		return nil
	}))
	return out
}

func requireStatus(t *testing.T, err error, status int, inMessage string) {
	t.Helper()
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, status, apiErr.Status, "%v", err)
	require.Contains(t, apiErr.Message, inMessage)
	if status == http.StatusBadRequest {
		b, _ := json.Marshal(apiErr)
		require.Contains(t, []string{"INVALID_PARAMETER_VALUE", "MALFORMED_REQUEST"}, apiErr.ErrorCode, string(b))
	}
}
