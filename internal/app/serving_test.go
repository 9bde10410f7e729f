package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/delta"
)

// servingModels builds real MLflow model directories (see
// internal/serving/testdata/make_models.py) and lays them out as
// <root>/main/default/<model>/1.
func servingModels(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	py := "/usr/bin/python3"
	if p := os.Getenv("LAKEBOX_PYTHON"); p != "" {
		py = p
	}
	if b, err := exec.Command(py, "../serving/testdata/make_models.py", out).CombinedOutput(); err != nil {
		if os.Getenv("LAKEBOX_REQUIRE_SERVICES") != "" {
			t.Fatalf("make_models.py: %v\n%s", err, b)
		}
		t.Skipf("Python model toolchain unavailable: %v", err)
	}
	root := t.TempDir()
	for _, m := range []string{"xgb_bin", "xgb_reg"} {
		d := filepath.Join(root, "main", "default", m)
		require.NoError(t, os.MkdirAll(d, 0o750))
		require.NoError(t, os.Symlink(filepath.Join(out, m), filepath.Join(d, "1")))
	}
	return root
}

func call(t *testing.T, method, url, token, ct string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestServingAPI(t *testing.T) {
	t.Setenv("LAKEBOX_SERVING_MODELS_DIR", servingModels(t))
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			srv := apptest.New(t, ms)
			base := srv.URL + "/api/2.0/serving-endpoints"
			tok := apptest.AdminToken
			create := `{"name":"fraud","config":{"served_entities":[
				{"name":"a","entity_name":"main.default.xgb_bin","entity_version":"1","workload_size":"Small","scale_to_zero_enabled":true},
				{"name":"b","entity_name":"main.default.xgb_reg","entity_version":"1"}],
				"traffic_config":{"routes":[{"served_entity_name":"a","traffic_percentage":50},{"served_entity_name":"b","traffic_percentage":50}]},
				"auto_capture_config":{"catalog_name":"main","schema_name":"default","table_name_prefix":"fraud"}}}`
			resp, body := call(t, "POST", base, tok, "application/json", []byte(create))
			require.Equal(t, 200, resp.StatusCode, string(body))
			t0 := time.Now()
			require.Eventually(t, func() bool {
				_, b := call(t, "GET", base+"/fraud", tok, "", nil)
				return strings.Contains(string(b), `"ready":"READY"`) && strings.Contains(string(b), `"config_update":"NOT_UPDATING"`)
			}, 30*time.Second, 10*time.Millisecond)
			t.Logf("endpoint ready in %s", time.Since(t0))

			t.Run("ErrAlreadyExists", func(t *testing.T) {
				resp, body := call(t, "POST", base, tok, "application/json", []byte(create))
				require.Equal(t, 409, resp.StatusCode, string(body))
				require.Contains(t, string(body), "RESOURCE_ALREADY_EXISTS")
			})
			t.Run("ErrBadSplit", func(t *testing.T) {
				bad := strings.Replace(strings.Replace(create, `"fraud"`, `"fraud2"`, 1), `"traffic_percentage":50}]`, `"traffic_percentage":40}]`, 1)
				resp, body := call(t, "POST", base, tok, "application/json", []byte(bad))
				require.Equal(t, 400, resp.StatusCode, string(body))
				require.Contains(t, string(body), "sum to 90")
			})
			row := `{"dataframe_split":{"columns":["f0","f1","f2","f3","f4","f5","f6","f7","f8","f9","f10","f11","f12","f13","f14","f15","f16","f17","f18","f19"],"data":[[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1,1.1,1.2,1.3,1.4,1.5,1.6,1.7,1.8,1.9,2]]},"client_request_id":"c-1"}`
			served := map[string]int{}
			for range 40 {
				resp, body := call(t, "POST", srv.URL+"/serving-endpoints/fraud/invocations", tok, "application/json", []byte(row))
				require.Equal(t, 200, resp.StatusCode, string(body))
				require.Contains(t, string(body), `"predictions":[`)
				served[resp.Header.Get("served-model-name")]++
			}
			require.Len(t, served, 2, "both entities serve: %v", served)
			resp, body = call(t, "POST", srv.URL+"/serving-endpoints/fraud/served-models/b/invocations", tok, "application/json", []byte(row))
			require.Equal(t, 200, resp.StatusCode, string(body))
			require.Equal(t, "b", resp.Header.Get("served-model-name"))

			t.Run("ErrMissingColumn", func(t *testing.T) {
				resp, body := call(t, "POST", srv.URL+"/serving-endpoints/fraud/invocations", tok, "application/json", []byte(`{"dataframe_records":[{"f0":1}]}`))
				require.Equal(t, 400, resp.StatusCode)
				require.Contains(t, string(body), `"error_code":"BAD_REQUEST"`)
				require.Contains(t, string(body), `\"f1\"`)
			})
			t.Run("ErrTooLarge", func(t *testing.T) {
				big := append([]byte(`{"inputs":[`), bytes.Repeat([]byte(`[1],`), 17<<18)...)
				resp, _ := call(t, "POST", srv.URL+"/serving-endpoints/fraud/invocations", tok, "application/json", big)
				require.Equal(t, 413, resp.StatusCode)
			})
			t.Run("ErrUnauthenticated", func(t *testing.T) {
				resp, _ := call(t, "POST", srv.URL+"/serving-endpoints/fraud/invocations", "nope", "application/json", []byte(row))
				require.Equal(t, 401, resp.StatusCode)
			})
			t.Run("ErrUnknownEndpoint", func(t *testing.T) {
				resp, _ := call(t, "POST", srv.URL+"/serving-endpoints/nope/invocations", tok, "application/json", []byte(row))
				require.Equal(t, 404, resp.StatusCode)
			})
			resp, body = call(t, "GET", base+"/fraud/events", tok, "", nil)
			require.Equal(t, 200, resp.StatusCode)
			require.Contains(t, string(body), "CONFIG_UPDATE_SUCCEEDED")
			resp, body = call(t, "GET", base+"/fraud/served-models/a/logs", tok, "", nil)
			require.Equal(t, 200, resp.StatusCode)
			require.Contains(t, string(body), "xgboost")
			resp, body = call(t, "GET", base+"/fraud/metrics", tok, "", nil)
			require.Equal(t, 200, resp.StatusCode)
			require.Contains(t, string(body), `lakebox_serving_requests_total{code="200",endpoint="fraud",served_entity="a"}`)
			resp, body = call(t, "GET", base, tok, "", nil)
			require.Equal(t, 200, resp.StatusCode)
			require.Contains(t, string(body), `"name":"fraud"`)

			// Update config: move all traffic to b.
			upd := `{"served_entities":[{"name":"b","entity_name":"main.default.xgb_reg","entity_version":"1"}]}`
			resp, body = call(t, "PUT", base+"/fraud/config", tok, "application/json", []byte(upd))
			require.Equal(t, 200, resp.StatusCode, string(body))
			require.Eventually(t, func() bool {
				_, b := call(t, "GET", base+"/fraud", tok, "", nil)
				return strings.Contains(string(b), `"config_version":2`) && strings.Contains(string(b), `"config_update":"NOT_UPDATING"`)
			}, 30*time.Second, 10*time.Millisecond)
			resp, _ = call(t, "POST", srv.URL+"/serving-endpoints/fraud/invocations", tok, "application/json", []byte(row))
			require.Equal(t, "b", resp.Header.Get("served-model-name"))

			// The inference table has every request (flush now).
			require.NoError(t, srv.App.Serving.InferLog.Flush(context.Background()))
			tbl := delta.NewTable(srv.App.Warehouse, "__inference_tables/main/default/fraud_payload")
			snap, err := tbl.Latest(context.Background())
			require.NoError(t, err)
			sc, err := snap.Scan(delta.ScanOptions{Columns: []string{"client_request_id", "status_code", "served_entity"}})
			require.NoError(t, err)
			n, bad := 0, 0
			require.NoError(t, sc.Rows(context.Background(), func(r delta.Row) error {
				n++
				if r[1].(int32) == 400 {
					bad++
				}
				return nil
			}))
			require.GreaterOrEqual(t, n, 42)
			require.Equal(t, 1, bad)

			resp, _ = call(t, "DELETE", base+"/fraud", tok, "", nil)
			require.Equal(t, 200, resp.StatusCode)
			resp, _ = call(t, "GET", base+"/fraud", tok, "", nil)
			require.Equal(t, 404, resp.StatusCode)
		})
	}
}
