package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
)

// typesQuery returns 25,000 rows (three chunks of at most 10,000) of every
// kind of value, NULLs included, in a known order.
const typesQuery = `SELECT range AS i,
	CASE WHEN range % 5 = 0 THEN NULL ELSE range % 2 = 0 END AS b,
	CAST(range % 100 - 50 AS TINYINT) AS i1,
	CAST(range % 30000 AS SMALLINT) AS i2,
	CAST(range * 1000000007 AS BIGINT) AS i8,
	CASE WHEN range % 7 = 0 THEN NULL ELSE CAST(range AS FLOAT) / 3 END AS f,
	CASE range WHEN 1 THEN 'NaN'::DOUBLE WHEN 2 THEN '-Infinity'::DOUBLE ELSE range / 7.0 - 100 END AS d,
	CASE WHEN range % 11 = 0 THEN NULL ELSE CAST((range - 12500) / 4.0 AS DECIMAL(12,2)) END AS dec,
	CASE WHEN range % 13 = 0 THEN NULL ELSE 'row ' || range || ' é	"q"' END AS s,
	CASE WHEN range % 3 = 0 THEN NULL ELSE CAST('bin' || range AS BLOB) END AS bin,
	CASE WHEN range % 17 = 0 THEN NULL ELSE DATE '1969-12-25' + CAST(range % 2000 AS INT) END AS dt,
	CASE WHEN range % 19 = 18 THEN NULL ELSE TIMESTAMPTZ '1969-12-31 23:59:58.123456+00' + to_seconds(range * 37) END AS ts,
	CASE WHEN range % 23 = 0 THEN NULL ELSE TIMESTAMP '2024-01-02 03:04:05.5' + to_microseconds(range * 1001) END AS tsn,
	CASE WHEN range % 4 = 0 THEN NULL ELSE list_value(range, NULL, range + 1) END AS arr,
	struct_pack(a := range, b := CASE WHEN range % 2 = 0 THEN NULL ELSE 'x' || range END) AS st,
	map(list_value('k' || (range % 3)), list_value(range)) AS m
FROM range(25000) ORDER BY range`

// mustServer starts a test server with the default catalog and schema.
func mustServer(t *testing.T, metastore string) *apptest.Server {
	t.Helper()
	srv := apptest.New(t, metastore)
	for _, stmt := range []string{"CREATE CATALOG IF NOT EXISTS main", "CREATE SCHEMA IF NOT EXISTS main.default"} {
		_, err := srv.Admin.RunStatement(context.Background(), httpapi.ExecuteStatementRequest{Statement: stmt}, nil)
		require.NoError(t, err)
	}
	return srv
}

func TestRunStatementDispositions(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) {
			srv := mustServer(t, ms)
			ctx := context.Background()
			run := func(disposition, format string) *client.StatementResult {
				t.Helper()
				res, err := srv.Admin.RunStatement(ctx, httpapi.ExecuteStatementRequest{Statement: typesQuery, WaitTimeout: "30s",
					Disposition: disposition, Format: format}, nil)
				require.NoError(t, err)
				return res
			}
			inline := run("INLINE", "JSON_ARRAY")
			require.Len(t, inline.Rows, 25000)
			var types []string
			for _, c := range inline.Columns {
				types = append(types, c.TypeName)
			}
			require.Equal(t, []string{"LONG", "BOOLEAN", "BYTE", "SHORT", "LONG", "FLOAT", "DOUBLE", "DECIMAL", "STRING", "BINARY",
				"DATE", "TIMESTAMP", "TIMESTAMP_NTZ", "ARRAY", "STRUCT", "MAP"}, types)
			str := func(row, col int) string {
				v := inline.Rows[row][col]
				if v == nil {
					return "NULL"
				}
				return *v
			}
			// The reference rendering (JSON_ARRAY) of a few values, so that
			// the comparison below covers what it should (MAP is compared
			// below but not pinned here: the engine renders it wrongly).
			var row1 []string
			for col := range 15 {
				row1 = append(row1, str(1, col))
			}
			require.Equal(t, []string{"1", "false", "-49", "1", "1000000007", "0.33333334", "NaN", "-3124.75", "row 1 é\t\"q\"",
				"YmluMQ==", "1969-12-26", "1970-01-01T00:00:35.123Z", "2024-01-02T03:04:05.501", "[1,null,2]", `{"a":1,"b":"x1"}`}, row1)
			require.Equal(t, "-Infinity", str(2, 6))
			require.Equal(t, "NULL", str(0, 1))
			require.Equal(t, "NULL", str(0, 7))
			require.Equal(t, "-3122", str(12, 7), "decimals as JSON_ARRAY renders them")
			require.Equal(t, "0", str(12500, 7))
			require.Equal(t, "-3124.5", str(2, 7))
			require.Equal(t, "1969-12-31T23:59:58.123Z", str(0, 11))
			require.Equal(t, "1969-12-25", str(2000, 10))

			for _, tc := range []struct{ disposition, format string }{{"EXTERNAL_LINKS", "JSON_ARRAY"}, {"EXTERNAL_LINKS", "ARROW_STREAM"}} {
				t.Run(tc.disposition+"_"+tc.format, func(t *testing.T) {
					var progress []client.Progress
					res, err := srv.Admin.RunStatement(ctx, httpapi.ExecuteStatementRequest{Statement: typesQuery, WaitTimeout: "30s",
						Disposition: tc.disposition, Format: tc.format}, func(p client.Progress) { progress = append(progress, p) })
					require.NoError(t, err)
					require.Equal(t, inline.Columns, res.Columns)
					require.Len(t, res.Rows, len(inline.Rows))
					for i := range inline.Rows {
						require.Equal(t, inline.Rows[i], res.Rows[i], "row %d", i)
					}
					var fetched []int64
					for _, p := range progress {
						if p.State == "SUCCEEDED" {
							require.EqualValues(t, 25000, p.TotalRows)
							fetched = append(fetched, p.Rows)
						}
					}
					require.Equal(t, []int64{10000, 20000, 25000}, fetched, "one progress call per chunk")
				})
			}
		})
	}
}

// TestRunStatementLinks checks how external links are fetched: without
// the client's Authorization header, and again through a fresh link when
// one has expired (the transport answers the first fetch with the
// server's 403).
func TestRunStatementLinks(t *testing.T) {
	srv := mustServer(t, "SQLite")
	c := client.New(srv.URL, apptest.AdminToken)
	var links, expired int
	c.HTTP.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Get("sig") == "" {
			return http.DefaultTransport.RoundTrip(r)
		}
		links++
		if r.Header.Get("Authorization") != "" {
			return nil, errors.New("an external link is fetched without credentials")
		}
		if links == 2 {
			expired++
			return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
				Body: io.NopCloser(strings.NewReader(`{"error_code":"PERMISSION_DENIED","message":"the external link expired"}`))}, nil
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	res, err := c.RunStatement(context.Background(), httpapi.ExecuteStatementRequest{Statement: "SELECT range AS i FROM range(12000) ORDER BY range",
		Disposition: "EXTERNAL_LINKS", Format: "ARROW_STREAM"}, nil)
	require.NoError(t, err)
	require.Len(t, res.Rows, 12000)
	require.Equal(t, "11999", *res.Rows[11999][0])
	require.Equal(t, 3, links, "two chunks, one fetched twice")
	require.Equal(t, 1, expired)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
