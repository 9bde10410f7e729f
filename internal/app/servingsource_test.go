package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/lineage"
)

// sklearnVersions trains the two models of testdata/sklearn_versions.py
// with the real Python and returns their directory (v1, v2, expected.json).
func sklearnVersions(t testing.TB) (string, sklearnExpected) {
	t.Helper()
	out := t.TempDir()
	py := "/usr/bin/python3"
	if p := os.Getenv("LAKEBOX_PYTHON"); p != "" {
		py = p
	}
	if b, err := exec.Command(py, "testdata/sklearn_versions.py", out).CombinedOutput(); err != nil {
		if os.Getenv("LAKEBOX_REQUIRE_SERVICES") != "" {
			t.Fatalf("sklearn_versions.py: %v\n%s", err, b)
		}
		t.Skipf("Python sklearn toolchain unavailable: %v\n%s", err, b)
	}
	var exp sklearnExpected
	b, err := os.ReadFile(filepath.Join(out, "expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &exp))
	return out, exp
}

type sklearnExpected struct {
	Columns []string    `json:"columns"`
	X       [][]float64 `json:"X"`
	V1      []float64   `json:"v1"`
	V2      []float64   `json:"v2"`
}

// registerModelVersion uploads an MLflow model directory as the artifacts
// of a new run (MLflow REST API and the mlflow-artifacts proxy) and
// registers it as the next version of model name. It returns the version.
func registerModelVersion(t testing.TB, c *client.Client, expID, name, dir string) string {
	t.Helper()
	ctx := context.Background()
	run, err := c.CreateRun(ctx, expID, "train")
	require.NoError(t, err)
	root := strings.TrimPrefix(run.Info.ArtifactURI, "mlflow-artifacts:/")
	for _, f := range []string{"MLmodel", "model.pkl"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		require.NoError(t, c.UploadArtifact(ctx, root+"/model/"+f, b))
	}
	var out struct {
		ModelVersion struct {
			Version string `json:"version"`
			Status  string `json:"status"`
		} `json:"model_version"`
	}
	require.NoError(t, c.MLflow(ctx, "POST", "model-versions/create", map[string]any{"name": name, "source": "runs:/" + run.Info.RunID + "/model", "run_id": run.Info.RunID}, &out))
	require.Equal(t, "READY", out.ModelVersion.Status)
	return out.ModelVersion.Version
}

func setAlias(t testing.TB, c *client.Client, name, alias, version string) {
	t.Helper()
	require.NoError(t, c.MLflow(context.Background(), "POST", "registered-models/alias", map[string]any{"name": name, "alias": alias, "version": version}, nil))
}

func scoreBody(exp sklearnExpected) []byte {
	b, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": exp.Columns, "data": exp.X}})
	return b
}

// TestServingRegistry serves a registered sklearn model by alias: real
// training, artifacts uploaded through the MLflow API, registration,
// an endpoint on main.default.<model>@champion, an alias move under load
// with zero failed requests, and EXECUTE as the query permission.
func TestServingRegistry(t *testing.T) {
	dir, exp := sklearnVersions(t)
	body := scoreBody(exp)
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			srv := apptest.New(t, ms)
			ctx := context.Background()
			c := srv.Admin
			tok := apptest.AdminToken
			const model = "main.default.churn_lr"
			expID, err := c.CreateExperiment(ctx, "churn")
			require.NoError(t, err)
			require.NoError(t, c.MLflow(ctx, "POST", "registered-models/create", map[string]any{"name": model}, nil))
			require.Equal(t, "1", registerModelVersion(t, c, expID, model, filepath.Join(dir, "v1")))
			setAlias(t, c, model, "champion", "1")

			base := srv.URL + "/api/2.0/serving-endpoints"
			create := `{"name":"churn","config":{"served_entities":[{"name":"lr","entity_name":"main.default.churn_lr@champion","workload_size":"Small"}]}}`
			resp, b := call(t, "POST", base, tok, "application/json", []byte(create))
			require.Equal(t, 200, resp.StatusCode, string(b))
			require.Eventually(t, func() bool {
				_, b := call(t, "GET", base+"/churn", tok, "", nil)
				return strings.Contains(string(b), `"ready":"READY"`) && strings.Contains(string(b), `"config_update":"NOT_UPDATING"`)
			}, 60*time.Second, 20*time.Millisecond)

			invoke := func(token string) (int, []float64, string) {
				resp, b := call(t, "POST", srv.URL+"/serving-endpoints/churn/invocations", token, "application/json", body)
				var out struct {
					Predictions []float64 `json:"predictions"`
				}
				if resp.StatusCode == 200 {
					require.NoError(t, json.Unmarshal(b, &out), string(b))
				}
				return resp.StatusCode, out.Predictions, string(b)
			}
			st, preds, b2 := invoke(tok)
			require.Equal(t, 200, st, b2)
			require.Equal(t, exp.V1, preds, "version 1 answers")

			// The artifacts were materialised under the data directory, keyed by version.
			cached, err := filepath.Glob(filepath.Join(srv.App.Config.DataDir, "serving", "models", model, "1-*", "MLmodel"))
			require.NoError(t, err)
			require.Len(t, cached, 1)

			// Lineage: model version → endpoint.
			edges, err := srv.App.Audit.Lineage.Neighbors(auth.WithIdentity(ctx, &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true}),
				lineage.Node{Type: lineage.ServingEndpoint, Name: "churn"}, lineage.Upstream, "")
			require.NoError(t, err)
			require.NotEmpty(t, edges)
			require.Equal(t, model+"/1", edges[0].Source.Name)

			// Version 2, then move the alias while clients keep invoking.
			require.Equal(t, "2", registerModelVersion(t, c, expID, model, filepath.Join(dir, "v2")))
			var ok, failed, v2 atomic.Int64
			var firstErr atomic.Value
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						st, preds, b := invoke(tok)
						switch {
						case st != 200:
							failed.Add(1)
							firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", st, b))
						case fmt.Sprint(preds) == fmt.Sprint(exp.V2):
							v2.Add(1)
							ok.Add(1)
						case fmt.Sprint(preds) == fmt.Sprint(exp.V1):
							ok.Add(1)
						default:
							failed.Add(1)
							firstErr.CompareAndSwap(nil, fmt.Sprintf("unexpected predictions %v", preds))
						}
					}
				}()
			}
			time.Sleep(200 * time.Millisecond)
			setAlias(t, c, model, "champion", "2")
			srv.App.Serving.Service.PollAliases(ctx) // the loop polls every 5s; do not wait for it
			require.Eventually(t, func() bool { return v2.Load() > 20 }, 60*time.Second, 20*time.Millisecond)
			close(stop)
			wg.Wait()
			require.Zero(t, failed.Load(), "failed requests during the alias move: %v", firstErr.Load())
			t.Logf("alias move: %d requests, 0 failed, %d answered by version 2", ok.Load(), v2.Load())
			st, preds, b2 = invoke(tok)
			require.Equal(t, 200, st, b2)
			require.Equal(t, exp.V2, preds, "the alias moved to version 2")
			resp, b = call(t, "GET", base+"/churn/events", tok, "", nil)
			require.Equal(t, 200, resp.StatusCode)
			require.Contains(t, string(b), "alias main.default.churn_lr@champion moved from version 1 to 2")

			t.Run("ErrNoExecute", func(t *testing.T) {
				actx := auth.WithIdentity(ctx, &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true})
				users := map[string]string{}
				for _, u := range []string{"scorer", "stranger"} {
					p, err := srv.App.Auth.CreatePrincipal(actx, auth.Principal{Kind: auth.KindUser, Name: u, Active: true})
					require.NoError(t, err)
					users[u], _, err = srv.App.Auth.CreateToken(actx, p.ID, 0, "test")
					require.NoError(t, err)
				}
				grant := func(typ, name, who string, p catalog.Privilege) {
					_, err := c.UpdatePermissions(ctx, typ, name, catalog.PermissionsChange{Principal: who, Add: []catalog.Privilege{p}})
					require.NoError(t, err)
				}
				for _, u := range []string{"scorer", "stranger"} {
					grant("catalog", "main", u, catalog.PrivUseCatalog)
					grant("schema", "main.default", u, catalog.PrivUseSchema)
				}
				st, _, b := invoke(users["stranger"])
				require.Equal(t, 403, st, b)
				require.Contains(t, b, "PERMISSION_DENIED")
				grant("registered_model", model, "scorer", catalog.PrivExecute)
				st, preds, b := invoke(users["scorer"])
				require.Equal(t, 200, st, b)
				require.Equal(t, exp.V2, preds)
				// Creating an endpoint on a model needs EXECUTE too.
				resp, b3 := call(t, "POST", base, users["stranger"], "application/json", []byte(strings.Replace(create, `"churn"`, `"churn2"`, 1)))
				require.Equal(t, 403, resp.StatusCode, string(b3))
			})

			t.Run("ErrUnknownAlias", func(t *testing.T) {
				bad := strings.Replace(strings.Replace(create, `"churn"`, `"churn3"`, 1), "@champion", "@nope", 1)
				resp, b := call(t, "POST", base, tok, "application/json", []byte(bad))
				require.Equal(t, 404, resp.StatusCode, string(b))
				require.Contains(t, string(b), `no alias`)
			})

			t.Run("CacheReused", func(t *testing.T) {
				// The cache is reused: the version's directory is not copied again.
				st1, err := os.Stat(filepath.Dir(cached[0]))
				require.NoError(t, err)
				m, err := srv.App.Serving.Registry.Resolve(ctx, model, "1", "")
				require.NoError(t, err)
				require.Equal(t, filepath.Dir(cached[0]), m.Dir)
				st2, err := os.Stat(m.Dir)
				require.NoError(t, err)
				require.Equal(t, st1.ModTime(), st2.ModTime())
			})
		})
	}
}
