package app_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/lineage"
)

// hasEdge reports whether g has an edge from source to target (type:name).
func hasEdge(g *lineage.Graph, source, target string) bool {
	for _, e := range g.Edges {
		if e.Source.String() == source && e.Target.String() == target {
			return true
		}
	}
	return false
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, status, ae.Status, ae.Error())
}

func TestLineageVisibility(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			srv := apptest.New(t, ms)
			ctx := context.Background()
			admin, alice, carol := srv.Admin, mustUser(t, srv, "alice"), mustUser(t, srv, "carol")
			for _, s := range []string{"CREATE CATALOG lin", "CREATE SCHEMA lin.s", "CREATE TABLE lin.s.src (id INT)", "INSERT INTO lin.s.src VALUES (1), (2)",
				"CREATE TABLE lin.s.dst (id INT)", "INSERT INTO lin.s.dst SELECT id FROM lin.s.src",
				"GRANT USE CATALOG ON CATALOG lin TO `alice`", "GRANT USE SCHEMA ON SCHEMA lin.s TO `alice`", "GRANT SELECT ON TABLE lin.s.dst TO `alice`"} {
				mustSQL(t, admin, s)
			}
			g, err := admin.LineageGraph(ctx, "TABLE", "lin.s.dst", "", 0, "")
			require.NoError(t, err)
			require.True(t, hasEdge(g, "TABLE:lin.s.src", "TABLE:lin.s.dst"), "%+v", g.Edges)

			t.Run("HiddenWithoutSelect", func(t *testing.T) {
				g, err := alice.LineageGraph(ctx, "TABLE", "lin.s.dst", "", 0, "")
				require.NoError(t, err)
				require.Empty(t, g.Edges)
				_, err = alice.LineageGraph(ctx, "TABLE", "lin.s.src", "", 0, "")
				wantStatus(t, err, 403)
				_, err = carol.LineageGraph(ctx, "TABLE", "lin.s.dst", "", 0, "")
				wantStatus(t, err, 403)
			})
			t.Run("VisibleWithSelect", func(t *testing.T) {
				mustSQL(t, admin, "GRANT SELECT ON TABLE lin.s.src TO `alice`")
				g, err := alice.LineageGraph(ctx, "TABLE", "lin.s.dst", "", 0, "")
				require.NoError(t, err)
				require.True(t, hasEdge(g, "TABLE:lin.s.src", "TABLE:lin.s.dst"), "%+v", g.Edges)
				tl, err := alice.TableLineage(ctx, "lin.s.src", false)
				require.NoError(t, err)
				b, _ := json.Marshal(tl)
				require.Contains(t, string(b), `"name":"dst"`)
			})
		})
	}
}
