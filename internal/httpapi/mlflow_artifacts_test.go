package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/artifact"
)

func TestMLflowArtifacts(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) { testMLflowArtifacts(t, apptest.New(t, ms)) })
	}
}

func put(t *testing.T, srv *apptest.Server, path string, data []byte, auth bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest("PUT", srv.URL+path, bytes.NewReader(data))
	require.NoError(t, err)
	if auth {
		req.Header.Set("Authorization", "Bearer "+apptest.AdminToken)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag") + string(b)
}

func testMLflowArtifacts(t *testing.T, srv *apptest.Server) {
	ctx := context.Background()
	c := srv.Admin
	exp, err := c.CreateExperiment(ctx, "arts")
	require.NoError(t, err)
	run, err := c.CreateRun(ctx, exp, "r")
	require.NoError(t, err)
	root := exp + "/" + run.Info.RunID + "/artifacts"
	const art = "/api/2.0/mlflow-artifacts/artifacts/"

	t.Run("UploadDownloadList", func(t *testing.T) {
		require.NoError(t, c.UploadArtifact(ctx, root+"/hello.txt", []byte("hello")))
		require.NoError(t, c.UploadArtifact(ctx, root+"/model/MLmodel", []byte("flavors: {}\n")))
		require.NoError(t, c.UploadArtifact(ctx, root+"/model/data/model.pkl", []byte{0, 1, 2}))
		b, err := c.DownloadArtifact(ctx, root+"/hello.txt")
		require.NoError(t, err)
		require.Equal(t, "hello", string(b))
		files, err := c.ListArtifacts(ctx, root)
		require.NoError(t, err)
		require.Equal(t, []artifact.FileInfo{{Path: "hello.txt", FileSize: 5}, {Path: "model", IsDir: true}}, files)
		files, err = c.ListArtifacts(ctx, root+"/model")
		require.NoError(t, err)
		require.Equal(t, []artifact.FileInfo{{Path: "MLmodel", FileSize: 12}, {Path: "data", IsDir: true}}, files)
		// a file or a missing dir lists as {}
		st, body := mlf(t, srv, "GET", "/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {root + "/hello.txt"}})
		require.Equal(t, 200, st)
		require.Empty(t, body)
		st, body = mlf(t, srv, "GET", "/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {root + "/nothing"}})
		require.Equal(t, 200, st)
		require.Empty(t, body)
		// the old listing, relative to the run root
		st, body = mlf(t, srv, "GET", "/api/2.0/mlflow/artifacts/list", url.Values{"run_id": {run.Info.RunID}, "path": {"model"}})
		require.Equal(t, 200, st)
		require.Equal(t, run.Info.ArtifactURI, body["root_uri"])
		require.Equal(t, "model/MLmodel", body["files"].([]any)[0].(map[string]any)["path"])
		// runs:/ resolves
		p, files, err := c.ResolveArtifactURI(ctx, "runs:/"+run.Info.RunID+"/model")
		require.NoError(t, err)
		require.Equal(t, root+"/model", p)
		require.Len(t, files, 2)
		// stored in the warehouse under mlflow-artifacts/
		data, err := os.ReadFile(filepath.Join(strings.TrimPrefix(srv.App.Config.Warehouse, "file://"), "mlflow-artifacts", root, "hello.txt"))
		require.NoError(t, err)
		require.Equal(t, "hello", string(data))
	})

	t.Run("ErrMissing", func(t *testing.T) {
		st, body := mlf(t, srv, "GET", art+root+"/nope.txt", nil)
		wantErr(t, st, body, 404, "RESOURCE_DOES_NOT_EXIST", "does not exist")
	})

	t.Run("Delete", func(t *testing.T) {
		require.NoError(t, c.UploadArtifact(ctx, root+"/tmp/a", []byte("a")))
		require.NoError(t, c.UploadArtifact(ctx, root+"/tmp/b/c", []byte("c")))
		st, _ := mlf(t, srv, "DELETE", art+root+"/tmp", nil)
		require.Equal(t, 200, st)
		files, err := c.ListArtifacts(ctx, root+"/tmp")
		require.NoError(t, err)
		require.Empty(t, files)
	})

	t.Run("ErrTraversalAndOutsideRoots", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			status int
			code   string
		}{
			{exp + "/notarun/artifacts/x", 400, "INVALID_PARAMETER_VALUE"},
			{exp + "/" + strings.Repeat("a", 32) + "/artifacts/x", 404, "RESOURCE_DOES_NOT_EXIST"},
			{"elsewhere/x", 400, "INVALID_PARAMETER_VALUE"},
			{root, 400, "INVALID_PARAMETER_VALUE"},
			{"99/" + run.Info.RunID + "/artifacts/x", 400, "INVALID_PARAMETER_VALUE"}, // right run, wrong root
			{root + "/a\\b", 400, "INVALID_PARAMETER_VALUE"},
		} {
			st, body := put(t, srv, art+tc.path, []byte("x"), true)
			require.Equal(t, tc.status, st, "%s: %s", tc.path, body)
			require.Contains(t, body, tc.code, tc.path)
		}
		// ".." in the URL path never reaches a handler: the router redirects
		// to the cleaned path (a GET), and nothing is written.
		st, _ := put(t, srv, art+root+"/../../../escape.txt", []byte("x"), true)
		require.NotEqual(t, 200, st)
		st, _ = put(t, srv, art+root+"/%2e%2e/%2e%2e/escape2.txt", []byte("x"), true)
		require.NotEqual(t, 200, st)
		wh := strings.TrimPrefix(srv.App.Config.Warehouse, "file://")
		filepath.Walk(wh, func(p string, _ os.FileInfo, _ error) error {
			require.NotContains(t, p, "escape", "a traversal wrote %s", p)
			return nil
		})
		// paths that arrive in query strings and bodies are checked
		for _, p := range []string{"../x", root + "/../../x", "/etc", root + "//x"} {
			st, body := mlf(t, srv, "GET", "/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {p}})
			wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid artifact path")
		}
		st, body := mlf(t, srv, "GET", "/api/2.0/mlflow/artifacts/list", url.Values{"run_id": {run.Info.RunID}, "path": {"../.."}})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "Invalid artifact path")
		_, _, err := c.ResolveArtifactURI(ctx, "runs:/"+run.Info.RunID+"/../../x")
		require.ErrorContains(t, err, "Invalid artifact path")
		st, body = mlf(t, srv, "POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "bad-loc", "artifact_location": "mlflow-artifacts:/../x"})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "must not contain '..'")
		// no token: 401
		st, _ = put(t, srv, art+root+"/x", []byte("x"), false)
		require.Equal(t, 401, st)
	})

	t.Run("Multipart", func(t *testing.T) {
		st, body := mlf(t, srv, "POST", "/api/2.0/mlflow-artifacts/mpu/create/"+root+"/big.bin", map[string]any{"path": root + "/big.bin", "num_parts": 2})
		require.Equal(t, 200, st, "%v", body)
		id := body["upload_id"].(string)
		creds := body["credentials"].([]any)
		require.Len(t, creds, 2)
		var parts []map[string]any
		for i, cr := range creds {
			u := cr.(map[string]any)["url"].(string)
			require.True(t, strings.HasPrefix(u, srv.URL))
			st, etag := put(t, srv, strings.TrimPrefix(u, srv.URL), bytes.Repeat([]byte{byte('a' + i)}, 1000), false)
			require.Equal(t, 200, st)
			parts = append(parts, map[string]any{"part_number": i + 1, "etag": etag})
		}
		st, body = mlf(t, srv, "POST", "/api/2.0/mlflow-artifacts/mpu/complete/"+root+"/big.bin", map[string]any{"path": root + "/big.bin", "upload_id": id, "parts": parts})
		require.Equal(t, 200, st, "%v", body)
		b, err := c.DownloadArtifact(ctx, root+"/big.bin")
		require.NoError(t, err)
		require.Equal(t, append(bytes.Repeat([]byte("a"), 1000), bytes.Repeat([]byte("b"), 1000)...), b)
		// the upload is gone
		st, _ = put(t, srv, "/api/2.0/mlflow-artifacts/mpu/upload-part/"+id+"/1", []byte("x"), false)
		require.Equal(t, 404, st)
		// abort
		st, body = mlf(t, srv, "POST", "/api/2.0/mlflow-artifacts/mpu/create/"+root+"/x.bin", map[string]any{"num_parts": 1})
		require.Equal(t, 200, st)
		st, _ = mlf(t, srv, "POST", "/api/2.0/mlflow-artifacts/mpu/abort/"+root+"/x.bin", map[string]any{"upload_id": body["upload_id"]})
		require.Equal(t, 200, st)
		// outside a root
		st, body = mlf(t, srv, "POST", "/api/2.0/mlflow-artifacts/mpu/create/x/y", map[string]any{"num_parts": 1})
		wantErr(t, st, body, 400, "INVALID_PARAMETER_VALUE", "not inside")
	})
}
