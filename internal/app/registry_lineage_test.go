package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
)

// TestRegistryLineageGraph: a model version registered from a run whose
// dataset is a Lakebox table joins the lineage graph, so a walk from the
// table reaches the run, the version and the endpoint serving it.
func TestRegistryLineageGraph(t *testing.T) {
	t.Setenv("LAKEBOX_SERVING_MODELS_DIR", servingModels(t))
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			srv := apptest.New(t, ms)
			ctx := context.Background()
			admin, tok := srv.Admin, apptest.AdminToken
			for _, s := range []string{"CREATE CATALOG IF NOT EXISTS main", "CREATE SCHEMA IF NOT EXISTS main.default",
				"CREATE TABLE main.default.train (f0 DOUBLE, y INT)", "INSERT INTO main.default.train VALUES (0.5, 1)"} {
				mustSQL(t, admin, s)
			}
			exp, err := admin.CreateExperiment(ctx, "lineage")
			require.NoError(t, err)
			run, err := admin.CreateRun(ctx, exp, "train")
			require.NoError(t, err)
			api := srv.URL + "/api/2.0/mlflow/"
			post := func(path, body string) {
				t.Helper()
				resp, b := call(t, "POST", api+path, tok, "application/json", []byte(body))
				require.Equal(t, 200, resp.StatusCode, string(b))
			}
			post("runs/log-inputs", `{"run_id":"`+run.Info.RunID+`","datasets":[{"tags":[{"key":"mlflow.data.context","value":"training"}],
				"dataset":{"name":"train","digest":"d1","source_type":"delta","source":"{\"delta_table_name\":\"main.default.train\",\"delta_table_version\":1}"}}]}`)
			require.NoError(t, admin.UploadArtifact(ctx, exp+"/"+run.Info.RunID+"/artifacts/model/MLmodel", []byte("flavors: {}\n")))
			post("registered-models/create", `{"name":"main.default.xgb_bin"}`)
			post("model-versions/create", `{"name":"main.default.xgb_bin","source":"runs:/`+run.Info.RunID+`/model","run_id":"`+run.Info.RunID+`"}`)

			g, err := admin.LineageGraph(ctx, "TABLE", "main.default.train", "DOWNSTREAM", 3, "")
			require.NoError(t, err)
			runNode := "RUN:" + run.Info.RunID
			require.True(t, hasEdge(g, "TABLE:main.default.train", runNode), "%+v", g.Edges)
			require.True(t, hasEdge(g, runNode, "MODEL_VERSION:main.default.xgb_bin/1"), "%+v", g.Edges)
			for _, e := range g.Edges {
				if e.Target.String() == runNode {
					require.Equal(t, "main.default.train@1", e.LastEvent.Metadata["table_versions"])
				}
			}

			// Serve the version: the walk goes on to the endpoint.
			create := `{"name":"lin-ep","config":{"served_entities":[{"name":"a","entity_name":"main.default.xgb_bin","entity_version":"1","workload_size":"Small","scale_to_zero_enabled":true}]}}`
			resp, body := call(t, "POST", srv.URL+"/api/2.0/serving-endpoints", tok, "application/json", []byte(create))
			require.Equal(t, 200, resp.StatusCode, string(body))
			require.Eventually(t, func() bool {
				g, err := admin.LineageGraph(ctx, "TABLE", "main.default.train", "DOWNSTREAM", 3, "")
				return err == nil && hasEdge(g, "MODEL_VERSION:main.default.xgb_bin/1", "SERVING_ENDPOINT:lin-ep")
			}, 30*time.Second, 20*time.Millisecond)
			_, b := call(t, "GET", srv.URL+"/api/2.0/serving-endpoints/lin-ep", tok, "", nil)
			require.True(t, strings.Contains(string(b), `"name":"lin-ep"`))
		})
	}
}
