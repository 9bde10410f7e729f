package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
)

// fetchLink GETs an external link without credentials and returns the
// status, content type and body.
func fetchLink(t *testing.T, link string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(link)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// readArrow decodes an Arrow IPC stream into its schema and record
// batches.
func readArrow(t *testing.T, body []byte) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	r, err := ipc.NewReader(strings.NewReader(string(body)))
	require.NoError(t, err)
	defer r.Release()
	var recs []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		t.Cleanup(rec.Release)
		recs = append(recs, rec)
	}
	require.NoError(t, r.Err())
	return r.Schema(), recs
}

func TestSQLExternalLinks(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) { testSQLExternalLinks(t, ms) })
	}
}

func testSQLExternalLinks(t *testing.T, ms string) {
	srv := apptest.New(t, ms)
	admin, ctx := srv.Admin, context.Background()
	mustSQL(t, admin, "CREATE CATALOG IF NOT EXISTS main")
	mustSQL(t, admin, "CREATE SCHEMA IF NOT EXISTS main.default")
	mustSQL(t, admin, `CREATE TABLE main.default.types (b BOOLEAN, i1 TINYINT, i2 SMALLINT, i4 INT, i8 BIGINT, f FLOAT, d DOUBLE,
		dec DECIMAL(10,2), s STRING, bin BINARY, dt DATE, ts TIMESTAMP, tsn TIMESTAMP_NTZ, arr ARRAY<INT>)`)
	mustSQL(t, admin, `INSERT INTO main.default.types VALUES
		(true, -8, 300, 70000, 5000000000, 1.5, 2.25, 12345.67, 'héllo', CAST('abc' AS BINARY), DATE '2024-02-29',
		 '2024-01-02 03:04:05.123456+00', '2024-01-02 03:04:05.5', list_value(1, 2)),
		(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	const typesQuery = "SELECT * FROM main.default.types ORDER BY b NULLS LAST"
	links := func(req httpapi.ExecuteStatementRequest) *httpapi.StatementResponse {
		t.Helper()
		req.WaitTimeout, req.Disposition = "30s", "EXTERNAL_LINKS"
		resp, err := admin.ExecuteStatement(ctx, req)
		require.NoError(t, err)
		require.Equal(t, "SUCCEEDED", resp.Status.State, "%+v", resp.Status.Error)
		require.Nil(t, resp.Result.DataArray)
		require.Len(t, resp.Result.ExternalLinks, 1)
		return resp
	}

	t.Run("ArrowStream", func(t *testing.T) {
		resp := links(httpapi.ExecuteStatementRequest{Statement: typesQuery, Format: "ARROW_STREAM"})
		m := resp.Manifest
		require.Equal(t, "ARROW_STREAM", m.Format)
		require.Equal(t, 1, m.TotalChunkCount)
		require.EqualValues(t, 2, m.TotalRowCount)
		require.Positive(t, m.TotalByteCount)
		l := resp.Result.ExternalLinks[0]
		require.Equal(t, 0, l.ChunkIndex)
		require.EqualValues(t, 2, l.RowCount)
		require.Nil(t, l.NextChunkIndex)
		exp, err := time.Parse(time.RFC3339, l.Expiration)
		require.NoError(t, err)
		require.WithinDuration(t, time.Now().Add(15*time.Minute), exp, time.Minute)

		status, ctype, body := fetchLink(t, l.ExternalLink)
		require.Equal(t, http.StatusOK, status, string(body))
		require.Equal(t, httpapi.ArrowStreamType, ctype)
		schema, recs := readArrow(t, body)
		require.Len(t, recs, 1)
		rec := recs[0]
		require.EqualValues(t, 2, rec.NumRows())
		want := []arrow.DataType{arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16,
			arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64,
			&arrow.Decimal128Type{Precision: 10, Scale: 2}, arrow.BinaryTypes.String, arrow.BinaryTypes.Binary,
			arrow.FixedWidthTypes.Date32, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
			&arrow.TimestampType{Unit: arrow.Microsecond}, arrow.BinaryTypes.String}
		require.Len(t, schema.Fields(), len(want))
		for i, f := range schema.Fields() {
			require.Equal(t, m.Schema.Columns[i].Name, f.Name)
			require.True(t, arrow.TypeEqual(want[i], f.Type), "column %s: %s, want %s", f.Name, f.Type, want[i])
			require.True(t, rec.Column(i).IsNull(1), "column %s row 2 is NULL", f.Name)
			require.False(t, rec.Column(i).IsNull(0), "column %s row 1 is not NULL", f.Name)
		}
		require.True(t, rec.Column(0).(*array.Boolean).Value(0))
		require.EqualValues(t, -8, rec.Column(1).(*array.Int8).Value(0))
		require.EqualValues(t, 300, rec.Column(2).(*array.Int16).Value(0))
		require.EqualValues(t, 70000, rec.Column(3).(*array.Int32).Value(0))
		require.EqualValues(t, 5000000000, rec.Column(4).(*array.Int64).Value(0))
		require.EqualValues(t, 1.5, rec.Column(5).(*array.Float32).Value(0))
		require.EqualValues(t, 2.25, rec.Column(6).(*array.Float64).Value(0))
		require.Equal(t, "12345.67", rec.Column(7).(*array.Decimal128).ValueStr(0))
		require.Equal(t, "héllo", rec.Column(8).(*array.String).Value(0))
		require.Equal(t, []byte("abc"), rec.Column(9).(*array.Binary).Value(0))
		require.Equal(t, "2024-02-29", rec.Column(10).(*array.Date32).Value(0).FormattedString())
		require.Equal(t, time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC),
			rec.Column(11).(*array.Timestamp).Value(0).ToTime(arrow.Microsecond).UTC())
		require.Equal(t, time.Date(2024, 1, 2, 3, 4, 5, 500000000, time.UTC),
			rec.Column(12).(*array.Timestamp).Value(0).ToTime(arrow.Microsecond).UTC())
		require.JSONEq(t, "[1,2]", rec.Column(13).(*array.String).Value(0))

		t.Run("AuditRedactsSignature", func(t *testing.T) {
			evs, _, err := srv.App.Audit.Recorder.Events(ctx, audit.Filter{Action: "databrickssql.*", Limit: 1000})
			require.NoError(t, err)
			var found bool
			for _, ev := range evs {
				if strings.HasSuffix(ev.Path, "/result/chunks/0/data") && ev.RequestParams["expires"] != "" {
					found = true
					require.Equal(t, audit.Redacted, ev.RequestParams["sig"])
				}
			}
			require.True(t, found, "the link fetch is audited")
		})

		t.Run("ErrTamperedSignature", func(t *testing.T) {
			last := l.ExternalLink[len(l.ExternalLink)-1]
			flip := byte('0')
			if last == '0' {
				flip = '1'
			}
			status, _, body := fetchLink(t, l.ExternalLink[:len(l.ExternalLink)-1]+string(flip))
			require.Equal(t, http.StatusForbidden, status)
			require.Contains(t, string(body), "signature")
			status, _, _ = fetchLink(t, strings.Replace(l.ExternalLink, "/chunks/0/", "/chunks/1/", 1))
			require.Equal(t, http.StatusForbidden, status)
			status, _, _ = fetchLink(t, strings.Replace(l.ExternalLink, "expires=", "expires=9", 1))
			require.Equal(t, http.StatusForbidden, status)
			status, _, _ = fetchLink(t, l.ExternalLink[:strings.Index(l.ExternalLink, "?")])
			require.Equal(t, http.StatusForbidden, status)
		})
	})
	t.Run("JSONArray", func(t *testing.T) {
		inline, err := admin.ExecuteStatement(ctx, sqlReq(typesQuery))
		require.NoError(t, err)
		resp := links(httpapi.ExecuteStatementRequest{Statement: typesQuery})
		require.Equal(t, "JSON_ARRAY", resp.Manifest.Format)
		status, ctype, body := fetchLink(t, resp.Result.ExternalLinks[0].ExternalLink)
		require.Equal(t, http.StatusOK, status, string(body))
		require.Contains(t, ctype, "application/json")
		var rows [][]*string
		require.NoError(t, json.Unmarshal(body, &rows))
		require.Equal(t, inline.Result.DataArray, rows)
	})
	t.Run("Chunks", func(t *testing.T) {
		for _, format := range []string{"ARROW_STREAM", "JSON_ARRAY"} {
			t.Run(format, func(t *testing.T) {
				resp := links(httpapi.ExecuteStatementRequest{Statement: "SELECT range AS i FROM range(25000) ORDER BY range", Format: format})
				require.Equal(t, 3, resp.Manifest.TotalChunkCount)
				res, rows := resp.Result, 0
				for i := 0; ; i++ {
					require.Len(t, res.ExternalLinks, 1)
					l := res.ExternalLinks[0]
					require.Equal(t, i, l.ChunkIndex)
					require.EqualValues(t, rows, l.RowOffset)
					status, _, body := fetchLink(t, l.ExternalLink)
					require.Equal(t, http.StatusOK, status, string(body))
					if format == "ARROW_STREAM" {
						_, recs := readArrow(t, body)
						require.Len(t, recs, 1)
						col := recs[0].Column(0).(*array.Int64)
						require.EqualValues(t, l.RowCount, col.Len())
						require.EqualValues(t, l.RowOffset, col.Value(0))
						require.EqualValues(t, l.RowOffset+l.RowCount-1, col.Value(col.Len()-1))
					} else {
						var data [][]*string
						require.NoError(t, json.Unmarshal(body, &data))
						require.EqualValues(t, l.RowCount, len(data))
					}
					rows += int(l.RowCount)
					if l.NextChunkIndex == nil {
						require.Equal(t, 2, i)
						break
					}
					require.Equal(t, i+1, *l.NextChunkIndex)
					require.Equal(t, i+1, *res.NextChunkIndex)
					var err error
					res, err = admin.GetChunk(ctx, resp.StatementID, *l.NextChunkIndex)
					require.NoError(t, err)
				}
				require.Equal(t, 25000, rows)
			})
		}
	})
	t.Run("Empty", func(t *testing.T) {
		resp := links(httpapi.ExecuteStatementRequest{Statement: "SELECT * FROM main.default.types WHERE false", Format: "ARROW_STREAM"})
		status, _, body := fetchLink(t, resp.Result.ExternalLinks[0].ExternalLink)
		require.Equal(t, http.StatusOK, status, string(body))
		schema, recs := readArrow(t, body)
		require.Len(t, schema.Fields(), 14)
		require.Empty(t, recs)
	})
	t.Run("ErrExpired", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		h := httpapi.NewServer(srv.App.Auth, httpapi.Options{})
		h.MountSQL(srv.App.Query.Statements, httpapi.SQLOptions{Now: clock})
		ts := httptest.NewServer(h)
		t.Cleanup(ts.Close)
		c := client.New(ts.URL, apptest.AdminToken)
		resp, err := c.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: typesQuery, WaitTimeout: "30s",
			Disposition: "EXTERNAL_LINKS", Format: "ARROW_STREAM"})
		require.NoError(t, err)
		require.Equal(t, "SUCCEEDED", resp.Status.State, "%+v", resp.Status.Error)
		link := resp.Result.ExternalLinks[0].ExternalLink
		status, _, _ := fetchLink(t, link)
		require.Equal(t, http.StatusOK, status)
		mu.Lock()
		now = now.Add(16 * time.Minute)
		mu.Unlock()
		status, _, body := fetchLink(t, link)
		require.Equal(t, http.StatusForbidden, status)
		require.Contains(t, string(body), "expired")
		fresh, err := c.GetChunk(ctx, resp.StatementID, 0)
		require.NoError(t, err)
		status, _, _ = fetchLink(t, fresh.ExternalLinks[0].ExternalLink)
		require.Equal(t, http.StatusOK, status)
		// The link of another process (another key) is refused.
		status, _, _ = fetchLink(t, strings.Replace(fresh.ExternalLinks[0].ExternalLink, ts.URL, strings.TrimSuffix(srv.URL, "/"), 1))
		require.Equal(t, http.StatusForbidden, status)
	})
}

// TestSQLResultLimits: an INLINE result over 25 MiB fails with a clear
// error (EXTERNAL_LINKS carries it); byte_limit truncates.
func TestSQLResultLimits(t *testing.T) {
	srv := apptest.New(t, "SQLite")
	ctx := context.Background()
	big := "SELECT range AS i, repeat('x', 1000) AS s FROM range(30000)" // ~30 MiB
	r, err := srv.Admin.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: big, WaitTimeout: "50s"})
	require.NoError(t, err)
	require.Equal(t, "FAILED", r.Status.State)
	require.Equal(t, "RESOURCE_EXHAUSTED", r.Status.Error.ErrorCode)
	require.Contains(t, r.Status.Error.Message, "[RESULT_TOO_LARGE]")
	require.Contains(t, r.Status.Error.Message, "use disposition EXTERNAL_LINKS")

	r, err = srv.Admin.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: big, WaitTimeout: "50s", Disposition: "EXTERNAL_LINKS"})
	require.NoError(t, err)
	require.Equal(t, "SUCCEEDED", r.Status.State)
	require.Equal(t, int64(30000), r.Manifest.TotalRowCount)
	require.False(t, r.Manifest.Truncated)

	r, err = srv.Admin.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: big, WaitTimeout: "50s", ByteLimit: 100_000})
	require.NoError(t, err)
	require.Equal(t, "SUCCEEDED", r.Status.State)
	require.True(t, r.Manifest.Truncated)
	require.Less(t, r.Manifest.TotalRowCount, int64(100), "about 1 KB a row")
	require.Greater(t, r.Manifest.TotalRowCount, int64(50))
	require.Len(t, r.Result.DataArray, int(r.Manifest.TotalRowCount))

	_, err = srv.Admin.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: "SELECT 1", ByteLimit: -1})
	require.ErrorContains(t, err, "byte_limit must not be negative")
}
