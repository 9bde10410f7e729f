package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/registry"
	"github.com/lakebox/lakebox/internal/tracking"
)

func TestMLflowRegistry(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) { testMLflowRegistry(t, apptest.New(t, ms)) })
	}
}

type hookReq struct {
	header http.Header
	body   []byte
}

func testMLflowRegistry(t *testing.T, srv *apptest.Server) {
	ctx := context.Background()
	c := srv.Admin
	const api = "/api/2.0/mlflow/"

	// a webhook receiver
	var mu sync.Mutex
	var got []hookReq
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, hookReq{r.Header.Clone(), b})
		mu.Unlock()
	}))
	defer recv.Close()
	st, body := mlf(t, srv, "POST", api+"webhooks", map[string]any{"name": "ci", "url": recv.URL, "secret": "s3cret",
		"events": []any{map[string]string{"entity": "model_version", "action": "created"}, "model_version_alias.created", "model_version_alias.deleted", "model_version.stage_transitioned"}})
	require.Equal(t, 200, st, "%v", body)
	hookID := body["webhook"].(map[string]any)["webhook_id"].(string)
	st, body = mlf(t, srv, "POST", api+"webhooks", map[string]any{"name": "bad", "url": "ftp://x", "events": []string{"model_version.created"}})
	wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid webhook URL")
	st, body = mlf(t, srv, "POST", api+"webhooks", map[string]any{"name": "bad", "url": recv.URL, "events": []string{"model.exploded"}})
	wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Unknown webhook event")

	// a training run with a dataset from a table, and its model files
	exp, err := c.CreateExperiment(ctx, "reg")
	require.NoError(t, err)
	run, err := c.CreateRun(ctx, exp, "train")
	require.NoError(t, err)
	st, _ = mlf(t, srv, "POST", api+"runs/log-inputs", map[string]any{"run_id": run.Info.RunID, "datasets": []map[string]any{{
		"tags":    []tracking.Tag{{Key: "mlflow.data.context", Value: "training"}},
		"dataset": map[string]any{"name": "orders", "digest": "d1", "source_type": "delta", "source": `{"delta_table_name":"main.sales.orders","delta_table_version":3}`}}}})
	require.Equal(t, 200, st)
	root := exp + "/" + run.Info.RunID + "/artifacts"
	require.NoError(t, c.UploadArtifact(ctx, root+"/model/MLmodel", []byte("flavors: {}\n")))

	t.Run("RegisteredModels", func(t *testing.T) {
		st, body := mlf(t, srv, "POST", api+"registered-models/create", map[string]any{"name": "churn", "description": "predicts churn",
			"tags": []tracking.Tag{{Key: "team", Value: "growth"}}})
		require.Equal(t, 200, st, "%v", body)
		rm := body["registered_model"].(map[string]any)
		require.Equal(t, "main.default.churn", rm["name"])
		require.Equal(t, "predicts churn", rm["description"])
		st, body = mlf(t, srv, "POST", api+"registered-models/create", map[string]any{"name": "main.default.churn"})
		wantErr(t, st, body, 400, "RESOURCE_ALREADY_EXISTS", "already exists")
		st, body = mlf(t, srv, "POST", api+"registered-models/create", map[string]any{"name": "a.b"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "catalog.schema.model")
		st, body = mlf(t, srv, "POST", api+"registered-models/create", map[string]any{"name": "has space"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid registered model name")
		st, body = mlf(t, srv, "GET", api+"registered-models/get", url.Values{"name": {"nope"}})
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "main.default.nope")
		// the model is a catalog securable
		st, body = mlf(t, srv, "GET", "/api/2.1/unity-catalog/models/main.default.churn", nil)
		require.Equal(t, 200, st, "%v", body)
		require.Equal(t, "main.default.churn", body["full_name"])

		st, body = mlf(t, srv, "PATCH", api+"registered-models/update", map[string]any{"name": "churn", "description": "v2 text"})
		require.Equal(t, 200, st, "%v", body)
		require.Equal(t, "v2 text", body["registered_model"].(map[string]any)["description"])
		st, _ = mlf(t, srv, "POST", api+"registered-models/set-tag", map[string]any{"name": "churn", "key": "tier", "value": "gold"})
		require.Equal(t, 200, st)
		st, _ = mlf(t, srv, "DELETE", api+"registered-models/delete-tag", map[string]any{"name": "churn", "key": "tier"})
		require.Equal(t, 200, st)
		st, body = mlf(t, srv, "DELETE", api+"registered-models/delete-tag", map[string]any{"name": "churn", "key": "tier"})
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "tier")
	})

	var lmID string
	t.Run("Versions", func(t *testing.T) {
		st, body := mlf(t, srv, "POST", api+"model-versions/create", map[string]any{"name": "churn", "source": "runs:/" + run.Info.RunID + "/model",
			"run_id": run.Info.RunID, "tags": []tracking.Tag{{Key: "k", Value: "v"}}, "description": "first"})
		require.Equal(t, 200, st, "%v", body)
		mv := body["model_version"].(map[string]any)
		require.Equal(t, "1", mv["version"])
		require.Equal(t, "READY", mv["status"])
		require.Equal(t, "None", mv["current_stage"])
		require.Equal(t, "first", mv["description"])
		require.Equal(t, run.Info.RunID, mv["run_id"])

		// lineage: version → run → table version
		v, err := getVersion(t, srv, "churn", "1")
		require.NoError(t, err)
		var lineage []tracking.TableRef
		for _, tg := range v.Tags {
			if tg.Key == registry.TagLineage {
				require.NoError(t, json.Unmarshal([]byte(tg.Value), &lineage))
			}
		}
		require.Equal(t, []tracking.TableRef{{RunID: run.Info.RunID, DatasetName: "orders", Digest: "d1", Context: "training", Table: "main.sales.orders", Version: 3}}, lineage)
		st, body = mlf(t, srv, "GET", api+"model-versions/lineage", url.Values{"name": {"churn"}, "version": {"1"}})
		require.Equal(t, 200, st)
		require.Len(t, body["tables"], 1)

		// version 2 from a logged model (MLflow 3 register_model)
		st, body = mlf(t, srv, "POST", api+"logged-models", map[string]any{"experiment_id": exp, "name": "model", "source_run_id": run.Info.RunID})
		require.Equal(t, 200, st)
		lmID = body["model"].(map[string]any)["info"].(map[string]any)["model_id"].(string)
		require.NoError(t, c.UploadArtifact(ctx, exp+"/models/"+lmID+"/artifacts/MLmodel", []byte("x")))
		st, body = mlf(t, srv, "POST", api+"model-versions/create", map[string]any{"name": "churn", "source": "models:/" + lmID, "model_id": lmID})
		require.Equal(t, 200, st, "%v", body)
		require.Equal(t, "2", body["model_version"].(map[string]any)["version"])
		require.Equal(t, lmID, body["model_version"].(map[string]any)["model_id"])

		st, body = mlf(t, srv, "GET", api+"model-versions/get-download-uri", url.Values{"name": {"churn"}, "version": {"1"}})
		require.Equal(t, 200, st)
		require.Equal(t, run.Info.ArtifactURI+"/model", body["artifact_uri"])
		st, body = mlf(t, srv, "GET", api+"model-versions/get-download-uri", url.Values{"name": {"churn"}, "version": {"2"}})
		require.Equal(t, 200, st)
		require.Equal(t, "mlflow-artifacts:/"+exp+"/models/"+lmID+"/artifacts", body["artifact_uri"])

		st, body = mlf(t, srv, "GET", api+"model-versions/get", url.Values{"name": {"churn"}, "version": {"9"}})
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "version=9")
		st, body = mlf(t, srv, "GET", api+"model-versions/get", url.Values{"name": {"churn"}, "version": {"x"}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "positive integer")
		st, body = mlf(t, srv, "POST", api+"model-versions/create", map[string]any{"name": "churn", "source": "/local/path"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "run_id request parameter has to be specified")
		st, body = mlf(t, srv, "POST", api+"model-versions/create", map[string]any{"name": "nope", "source": "runs:/" + run.Info.RunID + "/model"})
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "")
		st, body = mlf(t, srv, "POST", api+"model-versions/create", map[string]any{"name": "churn"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'source'")

		st, _ = mlf(t, srv, "POST", api+"model-versions/set-tag", map[string]any{"name": "churn", "version": "2", "key": "validated", "value": "yes"})
		require.Equal(t, 200, st)
		st, body = mlf(t, srv, "POST", api+"model-versions/set-tag", map[string]any{"name": "churn", "version": "2", "key": registry.TagLineage, "value": "[]"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "maintained by Lakebox")
		st, body = mlf(t, srv, "PATCH", api+"model-versions/update", map[string]any{"name": "churn", "version": 2, "description": "second"})
		require.Equal(t, 200, st, "%v", body)
		require.Equal(t, "second", body["model_version"].(map[string]any)["description"])
	})

	t.Run("Aliases", func(t *testing.T) {
		st, body := mlf(t, srv, "POST", api+"registered-models/alias", map[string]any{"name": "churn", "alias": "champion", "version": "1"})
		require.Equal(t, 200, st, "%v", body)
		st, body = mlf(t, srv, "GET", api+"registered-models/alias", url.Values{"name": {"churn"}, "alias": {"champion"}})
		require.Equal(t, 200, st)
		mv := body["model_version"].(map[string]any)
		require.Equal(t, "1", mv["version"])
		require.Equal(t, []any{"champion"}, mv["aliases"])
		p, files, err := c.ResolveArtifactURI(ctx, "models:/churn@champion")
		require.NoError(t, err)
		require.Equal(t, root+"/model", p)
		require.Len(t, files, 1)
		// move it
		st, _ = mlf(t, srv, "POST", api+"registered-models/alias", map[string]any{"name": "churn", "alias": "champion", "version": "2"})
		require.Equal(t, 200, st)
		p, _, err = c.ResolveArtifactURI(ctx, "models:/main.default.churn@champion")
		require.NoError(t, err)
		require.Equal(t, exp+"/models/"+lmID+"/artifacts", p)
		p, _, err = c.ResolveArtifactURI(ctx, "models:/churn/1")
		require.NoError(t, err)
		require.Equal(t, root+"/model", p)
		st, body = mlf(t, srv, "GET", api+"registered-models/get", url.Values{"name": {"churn"}})
		require.Equal(t, 200, st)
		require.Equal(t, []any{map[string]any{"alias": "champion", "version": "2"}}, body["registered_model"].(map[string]any)["aliases"])

		st, body = mlf(t, srv, "GET", api+"registered-models/alias", url.Values{"name": {"churn"}, "alias": {"nope"}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Registered model alias nope not found.")
		st, body = mlf(t, srv, "POST", api+"registered-models/alias", map[string]any{"name": "churn", "alias": "v3", "version": "1"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "reserved")
		st, body = mlf(t, srv, "POST", api+"registered-models/alias", map[string]any{"name": "churn", "alias": "x", "version": "7"})
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "")
		st, _ = mlf(t, srv, "POST", api+"registered-models/alias", map[string]any{"name": "churn", "alias": "old", "version": "1"})
		require.Equal(t, 200, st)
		st, _ = mlf(t, srv, "DELETE", api+"registered-models/alias", map[string]any{"name": "churn", "alias": "old"})
		require.Equal(t, 200, st)
	})

	t.Run("Stages", func(t *testing.T) {
		st, body := mlf(t, srv, "POST", api+"model-versions/transition-stage", map[string]any{"name": "churn", "version": "1", "stage": "production"})
		require.Equal(t, 200, st, "%v", body)
		require.Equal(t, "Production", body["model_version"].(map[string]any)["current_stage"])
		st, body = mlf(t, srv, "POST", api+"model-versions/transition-stage", map[string]any{"name": "churn", "version": "2", "stage": "Production", "archive_existing_versions": true})
		require.Equal(t, 200, st, "%v", body)
		v1, err := getVersion(t, srv, "churn", "1")
		require.NoError(t, err)
		require.Equal(t, "Archived", v1.CurrentStage)
		st, body = mlf(t, srv, "POST", api+"registered-models/get-latest-versions", map[string]any{"name": "churn", "stages": []string{"Production"}})
		require.Equal(t, 200, st)
		require.Len(t, body["model_versions"], 1)
		require.Equal(t, "2", body["model_versions"].([]any)[0].(map[string]any)["version"])
		st, body = mlf(t, srv, "POST", api+"model-versions/transition-stage", map[string]any{"name": "churn", "version": "1", "stage": "Shipping"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: Shipping")
		p, _, err := c.ResolveArtifactURI(ctx, "models:/churn/Production")
		require.NoError(t, err)
		require.Equal(t, exp+"/models/"+lmID+"/artifacts", p)
	})

	t.Run("Search", func(t *testing.T) {
		st, _ := mlf(t, srv, "POST", api+"registered-models/create", map[string]any{"name": "fraud"})
		require.Equal(t, 200, st)
		search := func(filter string, order ...string) []string {
			t.Helper()
			st, body := mlf(t, srv, "GET", api+"registered-models/search", url.Values{"filter": {filter}, "order_by": order})
			require.Equal(t, 200, st, "%s: %v", filter, body)
			var out []string
			if rms, ok := body["registered_models"].([]any); ok {
				for _, m := range rms {
					out = append(out, m.(map[string]any)["name"].(string))
				}
			}
			return out
		}
		// what the Python client sends: the user filter AND the prompt exclusion
		require.Equal(t, []string{"main.default.churn", "main.default.fraud"}, search("tag.`mlflow.prompt.is_prompt` != 'true'"))
		require.Equal(t, []string{"main.default.churn"}, search("name LIKE 'ch%' AND tag.`mlflow.prompt.is_prompt` != 'true'"))
		require.Equal(t, []string{"main.default.churn"}, search("name = 'churn'"))
		require.Equal(t, []string{"main.default.churn"}, search("tags.team = 'growth'"))
		require.Equal(t, []string{"main.default.fraud", "main.default.churn"}, search("", "name DESC"))
		st, body := mlf(t, srv, "GET", api+"registered-models/search", url.Values{"filter": {"name ~ 'x'"}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "unexpected character '~'")

		st, body = mlf(t, srv, "GET", api+"model-versions/search", url.Values{"filter": {"name = 'churn'"}})
		require.Equal(t, 200, st)
		require.Len(t, body["model_versions"], 2)
		st, body = mlf(t, srv, "GET", api+"model-versions/search", url.Values{"filter": {"run_id = '" + run.Info.RunID + "'"}})
		require.Equal(t, 200, st)
		require.Len(t, body["model_versions"], 1)
		st, body = mlf(t, srv, "GET", api+"model-versions/search", url.Values{"filter": {"name = 'churn' AND tags.validated = 'yes' AND version_number > 1"}})
		require.Equal(t, 200, st)
		require.Len(t, body["model_versions"], 1)
		st, body = mlf(t, srv, "GET", api+"model-versions/search", url.Values{"filter": {"name = 'churn'"}, "max_results": {"1"}, "order_by": {"version_number ASC"}})
		require.Equal(t, 200, st)
		require.Equal(t, "1", body["model_versions"].([]any)[0].(map[string]any)["version"])
		require.NotEmpty(t, body["next_page_token"])
	})

	t.Run("Permissions", func(t *testing.T) {
		sp, err := c.CreatePrincipal(ctx, client.ServicePrincipals, httpapi.SCIMResource{DisplayName: "scorer"})
		require.NoError(t, err)
		tok, err := c.CreateTokenOnBehalfOf(ctx, sp.ApplicationID, 0, "")
		require.NoError(t, err)
		as := func(method, path string, body any) (int, map[string]any) {
			return mlfAs(t, srv, tok.TokenValue, method, path, body)
		}
		st, body := as("GET", api+"registered-models/alias", url.Values{"name": {"churn"}, "alias": {"champion"}})
		require.Contains(t, []int{403, 404}, st, "%v", body)
		// grant the usage gates and EXECUTE: loading works, moving aliases does not
		for _, g := range []struct{ typ, name, priv string }{{"catalog", "main", "USE_CATALOG"}, {"schema", "main.default", "USE_SCHEMA"}, {"registered_model", "main.default.churn", "EXECUTE"}} {
			st, body := mlf(t, srv, "PATCH", "/api/2.1/unity-catalog/permissions/"+g.typ+"/"+g.name, map[string]any{"changes": []map[string]any{{"principal": sp.ApplicationID, "add": []string{g.priv}}}})
			require.Equal(t, 200, st, "%v", body)
		}
		st, body = as("GET", api+"registered-models/alias", url.Values{"name": {"churn"}, "alias": {"champion"}})
		require.Equal(t, 200, st, "%v", body)
		st, body = as("GET", api+"model-versions/get-download-uri", url.Values{"name": {"churn"}, "version": {"1"}})
		require.Equal(t, 200, st, "%v", body)
		st, body = as("POST", api+"registered-models/alias", map[string]any{"name": "churn", "alias": "champion", "version": "1"})
		wantErr(t, st, body, 403, "PERMISSION_DENIED", "")
		st, body = as("POST", api+"model-versions/transition-stage", map[string]any{"name": "churn", "version": "1", "stage": "Staging"})
		wantErr(t, st, body, 403, "PERMISSION_DENIED", "")
		st, body = as("GET", api+"webhooks", nil)
		wantErr(t, st, body, 403, "PERMISSION_DENIED", "admins")
		// fraud is not visible to the scorer
		st, body = as("GET", api+"registered-models/search", url.Values{})
		require.Equal(t, 200, st)
		require.Len(t, body["registered_models"], 1)
	})

	t.Run("Webhooks", func(t *testing.T) {
		// version 1 and 2 created, champion set twice, old set and deleted,
		// two stage transitions on the first call and two on the second.
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) >= 9
		}, 10*time.Second, 20*time.Millisecond, "deliveries: %d", func() int { mu.Lock(); defer mu.Unlock(); return len(got) }())
		mu.Lock()
		received := append([]hookReq(nil), got...)
		mu.Unlock()
		events := map[string]int{}
		for _, g := range received {
			ev := g.header.Get("X-Lakebox-Event")
			events[ev]++
			ts, err := strconv.ParseInt(g.header.Get("X-MLflow-Timestamp"), 10, 64)
			require.NoError(t, err)
			require.Equal(t, registry.Sign("s3cret", g.header.Get("X-MLflow-Delivery-Id"), ts, g.body), g.header.Get("X-MLflow-Signature"))
			var p map[string]any
			require.NoError(t, json.Unmarshal(g.body, &p))
			require.Equal(t, "main.default.churn", p["data"].(map[string]any)["name"])
		}
		require.Equal(t, 2, events["model_version.created"])
		require.Equal(t, 3, events["model_version_alias.created"])
		require.Equal(t, 1, events["model_version_alias.deleted"])
		require.Equal(t, 3, events["model_version.stage_transitioned"])
		st, body := mlf(t, srv, "GET", api+"webhooks/"+hookID+"/deliveries", nil)
		require.Equal(t, 200, st)
		require.GreaterOrEqual(t, len(body["deliveries"].([]any)), 8)
		st, body = mlf(t, srv, "POST", api+"webhooks/"+hookID+"/test", nil)
		require.Equal(t, 200, st)
		require.Equal(t, true, body["result"].(map[string]any)["success"])
		st, _ = mlf(t, srv, "PATCH", api+"webhooks/"+hookID, map[string]any{"status": "disabled"})
		require.Equal(t, 200, st)
		st, _ = mlf(t, srv, "DELETE", api+"webhooks/"+hookID, nil)
		require.Equal(t, 200, st)
		st, body = mlf(t, srv, "GET", api+"webhooks/"+hookID, nil)
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "")
	})

	t.Run("RenameDelete", func(t *testing.T) {
		st, body := mlf(t, srv, "POST", api+"registered-models/rename", map[string]any{"name": "fraud", "new_name": "fraud2"})
		require.Equal(t, 200, st, "%v", body)
		require.Equal(t, "main.default.fraud2", body["registered_model"].(map[string]any)["name"])
		st, body = mlf(t, srv, "POST", api+"registered-models/rename", map[string]any{"name": "fraud2", "new_name": "other.s.x"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "stays in schema")
		st, _ = mlf(t, srv, "DELETE", api+"model-versions/delete", map[string]any{"name": "churn", "version": "2"})
		require.Equal(t, 200, st)
		st, body = mlf(t, srv, "GET", api+"registered-models/alias", url.Values{"name": {"churn"}, "alias": {"champion"}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "not found") // the alias went with its version
		st, _ = mlf(t, srv, "DELETE", api+"registered-models/delete", map[string]any{"name": "fraud2"})
		require.Equal(t, 200, st)
		st, body = mlf(t, srv, "GET", api+"registered-models/get", url.Values{"name": {"fraud2"}})
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "")
	})
}

func getVersion(t *testing.T, srv *apptest.Server, name, version string) (registry.ModelVersion, error) {
	t.Helper()
	var out struct {
		ModelVersion registry.ModelVersion `json:"model_version"`
	}
	err := srv.Admin.MLflow(context.Background(), "GET", "model-versions/get", url.Values{"name": {name}, "version": {version}}, &out)
	return out.ModelVersion, err
}

func mlfAs(t *testing.T, srv *apptest.Server, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	u := srv.URL + path
	var rd io.Reader
	if q, ok := body.(url.Values); ok && method == "GET" {
		u += "?" + q.Encode()
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytesReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	data, _ := io.ReadAll(resp.Body)
	json.Unmarshal(data, &m)
	return resp.StatusCode, m
}

func bytesReader(b []byte) io.Reader { return &byteReader{b: b} }

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
