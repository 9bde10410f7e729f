package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/serving"
)

// TestServingLoad is the serving benchmark (a load generator over loopback):
//
//	LAKEBOX_BENCH=1 LAKEBOX_ONNXRUNTIME_LIB=… go test -run TestServingLoad -v ./internal/app
//
// For the ONNX LogisticRegression and the sklearn LogisticRegression (20
// features) and RandomForest (100 trees) it reports throughput and p50/p99
// at concurrency 1, 8 and 32 through Lakebox (HTTP, auth, routing, capture
// to the inference table) and calling the same runtime directly.
func TestServingLoad(t *testing.T) {
	if os.Getenv("LAKEBOX_BENCH") == "" {
		t.Skip("set LAKEBOX_BENCH=1 to run the serving load benchmark")
	}
	models := servingModels(t)
	// servingModels links xgb models; add the benchmark models beside them.
	built, _ := os.Readlink(filepath.Join(models, "main/default/xgb_bin/1"))
	for _, m := range []string{"onnx_lr", "lr", "rf"} {
		d := filepath.Join(models, "main", "default", m)
		require.NoError(t, os.MkdirAll(d, 0o750))
		require.NoError(t, os.Symlink(filepath.Join(filepath.Dir(built), m), filepath.Join(d, "1")))
	}
	t.Setenv("LAKEBOX_SERVING_MODELS_DIR", models)
	srv := apptest.New(t, "SQLite")
	tok := apptest.AdminToken
	row := map[string]any{"dataframe_split": map[string]any{"columns": cols20(), "data": [][]float64{vals20()}}}
	body, _ := json.Marshal(row)
	src := &serving.DirSource{Root: models}
	for _, m := range []string{"onnx_lr", "lr", "rf"} {
		for _, capture := range []bool{true, false} {
			name := fmt.Sprintf("%s-%v", m, capture)
			name = map[bool]string{true: m + "-log", false: m + "-nolog"}[capture]
			cfg := fmt.Sprintf(`{"name":%q,"config":{"served_entities":[{"name":"m","entity_name":"main.default.%s","entity_version":"1","workload_size":"Medium"}]`, name, m)
			if capture {
				cfg += `,"auto_capture_config":{"catalog_name":"main","schema_name":"default"}`
			}
			cfg += `}}`
			t0 := time.Now()
			resp, b := call(t, "POST", srv.URL+"/api/2.0/serving-endpoints", tok, "application/json", []byte(cfg))
			require.Equal(t, 200, resp.StatusCode, string(b))
			require.Eventually(t, func() bool {
				_, b := call(t, "GET", srv.URL+"/api/2.0/serving-endpoints/"+name, tok, "", nil)
				return bytes.Contains(b, []byte(`"ready":"READY"`))
			}, 60*time.Second, 5*time.Millisecond)
			t.Logf("%s: endpoint ready in %s", name, time.Since(t0).Round(time.Millisecond))
			url := srv.URL + "/serving-endpoints/" + name + "/invocations"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			for _, c := range []int{1, 8, 32} {
				n := 2000
				rows0, calls0 := batchRows(t, srv, name)
				rps, p50, p99 := load(c, n, func() error {
					req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+tok)
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						return err
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						return fmt.Errorf("status %d", resp.StatusCode)
					}
					return nil
				})
				rows1, calls1 := batchRows(t, srv, name)
				t.Logf("%-12s lakebox  c=%-2d %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %5.1f rows/model call", name, c, rps, p50, p99, (rows1-rows0)/max(calls1-calls0, 1))
			}
		}
		// Direct: the same runtime, one replica per slot of concurrency, no HTTP.
		rm, err := src.Resolve(context.Background(), "main.default."+m, "1", "")
		require.NoError(t, err)
		rt, err := serving.OpenRuntime(rm, "", serving.RuntimeOptions{ONNXRuntimeLib: os.Getenv("LAKEBOX_ONNXRUNTIME_LIB"), WorkerDir: t.TempDir()})
		require.NoError(t, err)
		pr, err := serving.ParseRequest("application/json", body)
		require.NoError(t, err)
		f, err := serving.Conform(pr.Frame, rm.MLmodel.Signature)
		require.NoError(t, err)
		rep, err := rt.NewReplica(context.Background())
		require.NoError(t, err)
		for _, c := range []int{1, 8} {
			var mu sync.Mutex
			rps, p50, p99 := load(c, 2000, func() error {
				if rt.Kind() == "python" {
					mu.Lock() // one worker process answers one call at a time
					defer mu.Unlock()
				}
				_, err := rep.Predict(context.Background(), f)
				return err
			})
			t.Logf("%-12s direct   c=%-2d %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms (1 replica, no batching)", m, c, rps, p50, p99)
		}
		rep.Close()
	}
}

// batchRows reads the endpoint's lakebox_serving_batch_rows histogram:
// rows and model calls so far.
func batchRows(t *testing.T, srv *apptest.Server, endpoint string) (float64, float64) {
	mfs, err := srv.App.Registry.Gather()
	require.NoError(t, err)
	var rows, calls float64
	for _, mf := range mfs {
		if mf.GetName() != "lakebox_serving_batch_rows" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "endpoint" && l.GetValue() == endpoint {
					rows += m.GetHistogram().GetSampleSum()
					calls += float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return rows, calls
}

func cols20() []string {
	c := make([]string, 20)
	for i := range c {
		c[i] = fmt.Sprintf("f%d", i)
	}
	return c
}

func vals20() []float64 {
	v := make([]float64, 20)
	for i := range v {
		v[i] = float64(i%7)/3 - 1
	}
	return v
}

// load runs n calls of fn over c goroutines: throughput and p50/p99 in ms.
func load(c, n int, fn func() error) (float64, float64, float64) {
	lat := make([]time.Duration, n)
	var next, failed int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= int64(n) {
					return
				}
				t0 := time.Now()
				if fn() != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	if failed > 0 {
		return -float64(failed), 0, 0
	}
	return float64(n) / el.Seconds(), ms(lat[n/2]), ms(lat[n*99/100])
}
