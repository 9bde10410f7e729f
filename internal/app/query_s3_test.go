package app_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app"
	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/s3blob"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/config"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/testenv"
)

// TestSQLOnS3Warehouse runs SQL end to end on an S3 warehouse (versitygw):
// DuckDB reads cached copies of the data files and its writes are uploaded
// before each commit; after a restart (empty cache) the table reads the
// same from S3.
func TestSQLOnS3Warehouse(t *testing.T) {
	s3 := testenv.S3(t)
	ctx := context.Background()
	dir := t.TempDir()
	cfg := s3ServerConfig(s3, dir)
	start := func() (*app.App, *client.Client, func()) {
		a, err := app.Open(ctx, cfg, nil)
		require.NoError(t, err)
		ts := httptest.NewServer(a.Handler)
		return a, client.New(ts.URL, apptest.AdminToken), func() { ts.Close(); a.Close() }
	}
	a, c, stop := start()
	sql := func(c *client.Client, q string) [][]string {
		t.Helper()
		res, err := c.RunStatement(ctx, httpapi.ExecuteStatementRequest{Statement: q, WaitTimeout: "30s"}, nil)
		require.NoError(t, err, q)
		var rows [][]string
		for _, r := range res.Rows {
			var row []string
			for _, v := range r {
				if v == nil {
					row = append(row, "NULL")
				} else {
					row = append(row, *v)
				}
			}
			rows = append(rows, row)
		}
		return rows
	}
	sql(c, "CREATE CATALOG IF NOT EXISTS main")
	sql(c, "CREATE SCHEMA IF NOT EXISTS main.default")
	sql(c, "CREATE TABLE main.default.t (id INT, region STRING)")
	sql(c, "CREATE TABLE main.default.p (id INT, region STRING) PARTITIONED BY (region)")
	sql(c, "INSERT INTO main.default.t VALUES (1, 'eu'), (2, 'us'), (3, 'eu')")
	sql(c, "INSERT INTO main.default.p SELECT * FROM main.default.t")
	require.Equal(t, [][]string{{"1", "eu"}, {"2", "us"}, {"3", "eu"}}, sql(c, "SELECT * FROM main.default.t ORDER BY id"))
	sql(c, "UPDATE main.default.t SET id = id * 10 WHERE region = 'eu'")
	sql(c, "DELETE FROM main.default.p WHERE region = 'us'")
	sql(c, "MERGE INTO main.default.p USING main.default.t s ON p.id = s.id WHEN NOT MATCHED THEN INSERT *")
	want := [][]string{{"2", "us"}, {"10", "eu"}, {"30", "eu"}}
	require.Equal(t, want, sql(c, "SELECT * FROM main.default.t ORDER BY id"))

	// The data files are in the bucket, not on local disk.
	bk, err := s3blob.New(ctx, s3)
	require.NoError(t, err)
	objs, err := bk.List(ctx, blob.ListOptions{Prefix: "wh/"})
	require.NoError(t, err)
	var parquet int
	for _, o := range objs {
		if strings.HasSuffix(o.Key, ".parquet") {
			parquet++
		}
	}
	require.GreaterOrEqual(t, parquet, 4)
	_, err = os.Stat(filepath.Join(dir, "warehouse"))
	require.True(t, os.IsNotExist(err), "no local warehouse")
	require.NotNil(t, a.Query.Engine)
	stop()

	// A restart empties the cache: reads fetch the files from S3.
	_, c, stop = start()
	defer stop()
	require.Equal(t, want, sql(c, "SELECT * FROM main.default.t ORDER BY id"))
	require.Equal(t, [][]string{{"1", "eu"}, {"2", "us"}, {"3", "eu"}, {"10", "eu"}, {"30", "eu"}}, sql(c, "SELECT id, region FROM main.default.p ORDER BY id"))
	require.Equal(t, [][]string{{"eu", "4"}, {"us", "1"}}, sql(c, "SELECT region, count(*) FROM main.default.p GROUP BY region ORDER BY region"))
}

// s3ServerConfig is a test server's configuration with its warehouse under
// s3://<bucket>/wh on the test S3 server and its metastore in dir.
func s3ServerConfig(s3 s3blob.Config, dir string) config.Server {
	scheme := "http://"
	if s3.UseSSL {
		scheme = "https://"
	}
	return config.Server{
		DataDir: dir, Warehouse: "s3://" + s3.Bucket + "/wh", S3Endpoint: scheme + s3.Endpoint, S3Region: s3.Region,
		S3AccessKey: s3.AccessKey, S3SecretKey: s3.SecretKey, S3PathStyle: true,
		Metastore: "sqlite://" + filepath.Join(dir, "metastore.db"),
		LogLevel:  "info", LogFormat: "json", MaxBodyBytes: 1 << 20,
		ReadTimeout: time.Minute, WriteTimeout: time.Minute, ShutdownTimeout: 5 * time.Second,
		AdminToken: apptest.AdminToken,
	}
}
