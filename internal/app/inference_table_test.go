package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/auth"
)

// userToken creates an active user and returns its token.
func userToken(t *testing.T, srv *apptest.Server, name string) string {
	t.Helper()
	actx := auth.WithIdentity(context.Background(), &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true})
	p, err := srv.App.Auth.CreatePrincipal(actx, auth.Principal{Kind: auth.KindUser, Name: name, Active: true})
	require.NoError(t, err)
	tok, _, err := srv.App.Auth.CreateToken(actx, p.ID, 0, "test")
	require.NoError(t, err)
	return tok
}

func TestInferenceTableSQL(t *testing.T) {
	t.Setenv("LAKEBOX_SERVING_MODELS_DIR", servingModels(t))
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			srv := apptest.New(t, ms)
			admin := srv.Admin
			bobTok, carolTok := userToken(t, srv, "bob"), userToken(t, srv, "carol")
			bob, carol := srv.Client(bobTok), srv.Client(carolTok)
			mustSQL(t, admin, "CREATE CATALOG ml")
			mustSQL(t, admin, "CREATE SCHEMA ml.serve")
			for _, g := range []string{"GRANT USE CATALOG ON CATALOG ml TO `bob`", "GRANT USE SCHEMA ON SCHEMA ml.serve TO `bob`",
				"GRANT CREATE TABLE ON SCHEMA ml.serve TO `bob`", "GRANT USE CATALOG ON CATALOG ml TO `carol`", "GRANT USE SCHEMA ON SCHEMA ml.serve TO `carol`"} {
				mustSQL(t, admin, g)
			}
			base := srv.URL + "/api/2.0/serving-endpoints"
			create := func(name string) string {
				return `{"name":"` + name + `","config":{"served_entities":[
					{"name":"a","entity_name":"main.default.xgb_bin","entity_version":"1","workload_size":"Small","scale_to_zero_enabled":true}],
					"auto_capture_config":{"catalog_name":"ml","schema_name":"serve","table_name_prefix":"` + name + `"}}}`
			}

			t.Run("ErrNoCreateTable", func(t *testing.T) {
				resp, body := call(t, "POST", base, carolTok, "application/json", []byte(create("carols")))
				require.Equal(t, 403, resp.StatusCode, string(body))
				require.Contains(t, string(body), "CREATE TABLE")
			})

			resp, body := call(t, "POST", base, bobTok, "application/json", []byte(create("bobs")))
			require.Equal(t, 200, resp.StatusCode, string(body))
			// Registered at once, owned by the creator, empty until invoked.
			require.Zero(t, count(t, bob, "SELECT count(*) FROM ml.serve.bobs_payload"))
			require.Eventually(t, func() bool {
				_, b := call(t, "GET", base+"/bobs", bobTok, "", nil)
				return strings.Contains(string(b), `"ready":"READY"`) && strings.Contains(string(b), `"config_update":"NOT_UPDATING"`)
			}, 30*time.Second, 10*time.Millisecond)
			row := `{"dataframe_split":{"columns":["f0","f1","f2","f3","f4","f5","f6","f7","f8","f9","f10","f11","f12","f13","f14","f15","f16","f17","f18","f19"],"data":[[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1,1.1,1.2,1.3,1.4,1.5,1.6,1.7,1.8,1.9,2]]}}`
			for range 5 {
				resp, body := call(t, "POST", srv.URL+"/serving-endpoints/bobs/invocations", bobTok, "application/json", []byte(row))
				require.Equal(t, 200, resp.StatusCode, string(body))
			}
			require.NoError(t, srv.App.Serving.InferLog.Flush(context.Background()))
			require.EqualValues(t, 5, count(t, bob, "SELECT count(*) FROM ml.serve.bobs_payload WHERE status_code = 200"))
			res := mustSQL(t, bob, "SELECT DISTINCT requester FROM ml.serve.bobs_payload")
			require.Len(t, res.Rows, 1)

			ti, err := admin.GetTable(context.Background(), "ml.serve.bobs_payload")
			require.NoError(t, err)
			require.Equal(t, "bob", ti.Owner)
			_, err = runSQL(carol, "SELECT count(*) FROM ml.serve.bobs_payload")
			wantDenied(t, err)

			// A config change to a new table registers it too.
			upd := `{"served_entities":[{"name":"a","entity_name":"main.default.xgb_bin","entity_version":"1"}],
				"auto_capture_config":{"catalog_name":"ml","schema_name":"serve","table_name_prefix":"bobs_v2"}}`
			resp, body = call(t, "PUT", base+"/bobs/config", bobTok, "application/json", []byte(upd))
			require.Equal(t, 200, resp.StatusCode, string(body))
			require.Zero(t, count(t, bob, "SELECT count(*) FROM ml.serve.bobs_v2_payload"))
		})
	}
}
