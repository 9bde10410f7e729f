package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/lineage"
)

func sqlReq(stmt string) httpapi.ExecuteStatementRequest {
	return httpapi.ExecuteStatementRequest{Statement: stmt, WaitTimeout: "30s"}
}

func str(s string) *string { return &s }

// mustSQL runs a statement to completion and fails the test unless it
// succeeded.
func mustSQL(t *testing.T, c *client.Client, stmt string) *client.StatementResult {
	t.Helper()
	res, err := c.RunStatement(context.Background(), sqlReq(stmt), nil)
	require.NoError(t, err, stmt)
	return res
}

// waitFinished polls a statement until it leaves PENDING/RUNNING.
func waitFinished(t *testing.T, c *client.Client, id string) *httpapi.StatementResponse {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := c.GetStatement(context.Background(), id)
		require.NoError(t, err)
		if s := resp.Status.State; s != "PENDING" && s != "RUNNING" {
			return resp
		}
		require.True(t, time.Now().Before(deadline), "statement %s still %s", id, resp.Status.State)
		time.Sleep(50 * time.Millisecond)
	}
}

// slowQuery runs for minutes unless canceled.
const slowQuery = "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b"

func TestSQLStatements(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) { testSQLStatements(t, ms) })
	}
}

func testSQLStatements(t *testing.T, ms string) {
	e := newUCEnv(t, ms)
	ctx := context.Background()
	admin, alice := e.srv.Admin, e.as["alice"]
	mustSQL(t, admin, "CREATE CATALOG IF NOT EXISTS main")
	mustSQL(t, admin, "CREATE SCHEMA IF NOT EXISTS main.default")
	mustSQL(t, admin, "CREATE TABLE main.default.t (id INT, name STRING, d DATE)")
	mustSQL(t, admin, "INSERT INTO main.default.t VALUES (1, 'a', DATE '2024-01-31'), (2, 'b', NULL), (3, NULL, NULL)")

	t.Run("Wait", func(t *testing.T) {
		resp, err := admin.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: "SELECT id, name, d FROM t ORDER BY id", Catalog: "main", Schema: "default"})
		require.NoError(t, err)
		require.Equal(t, "SUCCEEDED", resp.Status.State)
		require.NotEmpty(t, resp.StatementID)
		m := resp.Manifest
		require.Equal(t, "JSON_ARRAY", m.Format)
		require.Equal(t, 3, m.Schema.ColumnCount)
		require.Equal(t, httpapi.SQLColumn{Name: "id", TypeName: "INT", TypeText: "INT", Position: 0}, m.Schema.Columns[0])
		require.Equal(t, "STRING", m.Schema.Columns[1].TypeName)
		require.Equal(t, "DATE", m.Schema.Columns[2].TypeName)
		require.EqualValues(t, 3, m.TotalRowCount)
		require.Equal(t, 1, m.TotalChunkCount)
		require.Equal(t, [][]*string{{str("1"), str("a"), str("2024-01-31")}, {str("2"), str("b"), nil}, {str("3"), nil, nil}}, resp.Result.DataArray)
		require.Nil(t, resp.Result.NextChunkIndex)
		got, err := admin.GetStatement(ctx, resp.StatementID)
		require.NoError(t, err)
		require.Equal(t, resp.Result.DataArray, got.Result.DataArray)
	})
	t.Run("Poll", func(t *testing.T) {
		resp, err := admin.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: "SELECT count(*) AS n FROM main.default.t", WaitTimeout: "0s"})
		require.NoError(t, err)
		require.Contains(t, []string{"PENDING", "RUNNING", "SUCCEEDED"}, resp.Status.State)
		done := waitFinished(t, admin, resp.StatementID)
		require.Equal(t, "SUCCEEDED", done.Status.State)
		require.Equal(t, [][]*string{{str("3")}}, done.Result.DataArray)
		require.Equal(t, "LONG", done.Manifest.Schema.Columns[0].TypeName)
	})
	t.Run("Parameters", func(t *testing.T) {
		req := sqlReq("SELECT :x + 1 AS y, :s AS s, :n IS NULL AS isnull, name FROM main.default.t WHERE id = :id")
		req.Parameters = []httpapi.SQLParameter{{Name: "x", Value: str("41"), Type: "INT"}, {Name: "s", Value: str("it's ':x'")},
			{Name: "n", Type: "STRING"}, {Name: "id", Value: str("2"), Type: "BIGINT"}}
		resp, err := admin.ExecuteStatement(ctx, req)
		require.NoError(t, err)
		require.Equal(t, "SUCCEEDED", resp.Status.State, "%+v", resp.Status.Error)
		require.Equal(t, [][]*string{{str("42"), str("it's ':x'"), str("true"), str("b")}}, resp.Result.DataArray)

		t.Run("ErrUnbound", func(t *testing.T) {
			_, err := admin.ExecuteStatement(ctx, sqlReq("SELECT :missing"))
			ae := apiErr(t, err)
			require.Equal(t, 400, ae.Status)
			require.Equal(t, "UNBOUND_SQL_PARAMETER", ae.ErrorCode)
		})
		t.Run("ErrBadValue", func(t *testing.T) {
			req := sqlReq("SELECT :x")
			req.Parameters = []httpapi.SQLParameter{{Name: "x", Value: str("forty"), Type: "INT"}}
			_, err := admin.ExecuteStatement(ctx, req)
			ae := apiErr(t, err)
			require.Equal(t, 400, ae.Status)
			require.Contains(t, ae.Message, `"forty" is not a valid INT`)
		})
	})
	t.Run("Cancel", func(t *testing.T) {
		resp, err := admin.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: slowQuery, WaitTimeout: "0s"})
		require.NoError(t, err)
		time.Sleep(200 * time.Millisecond)
		require.NoError(t, admin.CancelStatement(ctx, resp.StatementID))
		done := waitFinished(t, admin, resp.StatementID)
		require.Equal(t, "CANCELED", done.Status.State)
		require.Nil(t, done.Result)
		_, err = admin.GetChunk(ctx, resp.StatementID, 0)
		require.Equal(t, 400, apiErr(t, err).Status)
	})
	t.Run("OnWaitTimeoutCancel", func(t *testing.T) {
		resp, err := admin.ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: slowQuery, WaitTimeout: "5s", OnWaitTimeout: "CANCEL"})
		require.NoError(t, err)
		require.Equal(t, "CANCELED", resp.Status.State)
	})
	t.Run("ErrSyntax", func(t *testing.T) {
		for _, q := range []string{"SELECT id FROM main.default.t WHERE id = = 1", "SELEC 1"} {
			resp, err := admin.ExecuteStatement(ctx, sqlReq(q))
			require.NoError(t, err)
			require.Equal(t, "FAILED", resp.Status.State)
			require.Equal(t, "BAD_REQUEST", resp.Status.Error.ErrorCode)
			require.Contains(t, resp.Status.Error.Message, "[PARSE_SYNTAX_ERROR]")
			require.Contains(t, resp.Status.Error.Message, "position", q)
			require.Nil(t, resp.Manifest)
		}
	})
	t.Run("ErrUnknownTable", func(t *testing.T) {
		resp, err := admin.ExecuteStatement(ctx, sqlReq("SELECT * FROM main.default.nope"))
		require.NoError(t, err)
		require.Equal(t, "FAILED", resp.Status.State)
		require.Contains(t, resp.Status.Error.Message, "[TABLE_OR_VIEW_NOT_FOUND]")
	})
	t.Run("ErrPermissionDenied", func(t *testing.T) {
		resp, err := alice.ExecuteStatement(ctx, sqlReq("SELECT * FROM main.default.t"))
		require.NoError(t, err)
		require.Equal(t, "FAILED", resp.Status.State)
		require.Equal(t, "PERMISSION_DENIED", resp.Status.Error.ErrorCode)
		_, err = alice.RunStatement(ctx, sqlReq("SELECT * FROM main.default.t"), nil)
		var fe *client.StatementFailedError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "PERMISSION_DENIED", fe.ErrorCode)
	})
	t.Run("ErrOtherUsersStatement", func(t *testing.T) {
		resp, err := admin.ExecuteStatement(ctx, sqlReq("SELECT 1"))
		require.NoError(t, err)
		_, err = alice.GetStatement(ctx, resp.StatementID)
		require.Equal(t, 404, apiErr(t, err).Status)
		_, err = alice.GetChunk(ctx, resp.StatementID, 0)
		require.Equal(t, 404, apiErr(t, err).Status)
		err = alice.CancelStatement(ctx, resp.StatementID)
		require.Equal(t, 404, apiErr(t, err).Status)
		_, err = admin.GetStatement(ctx, "no-such-statement")
		require.Equal(t, 404, apiErr(t, err).Status)
	})
	t.Run("Chunks", func(t *testing.T) {
		resp, err := admin.ExecuteStatement(ctx, sqlReq("SELECT range AS i, 'row ' || range AS s FROM range(25000) ORDER BY range"))
		require.NoError(t, err)
		m := resp.Manifest
		require.Equal(t, 3, m.TotalChunkCount)
		require.EqualValues(t, 25000, m.TotalRowCount)
		require.Equal(t, httpapi.ChunkInfo{ChunkIndex: 2, RowOffset: 20000, RowCount: 5000, ByteCount: m.Chunks[2].ByteCount}, m.Chunks[2])
		require.Equal(t, 1, *resp.Result.NextChunkIndex)
		require.Equal(t, fmt.Sprintf("/api/2.0/sql/statements/%s/result/chunks/1", resp.StatementID), resp.Result.NextChunkInternalLink)
		c2, err := admin.GetChunk(ctx, resp.StatementID, 2)
		require.NoError(t, err)
		require.EqualValues(t, 20000, c2.RowOffset)
		require.Equal(t, "24999", *c2.DataArray[4999][0])
		require.Nil(t, c2.NextChunkIndex)
		all, err := admin.RunStatement(ctx, sqlReq("SELECT range AS i FROM range(25000) ORDER BY range"), nil)
		require.NoError(t, err)
		require.Len(t, all.Rows, 25000)
		require.Equal(t, "12345", *all.Rows[12345][0])
		_, err = admin.GetChunk(ctx, resp.StatementID, 3)
		require.Equal(t, 400, apiErr(t, err).Status)

		req := sqlReq("SELECT range FROM range(1000)")
		req.RowLimit = 10
		lim, err := admin.ExecuteStatement(ctx, req)
		require.NoError(t, err)
		require.True(t, lim.Manifest.Truncated)
		require.EqualValues(t, 10, lim.Manifest.TotalRowCount)
		require.Len(t, lim.Result.DataArray, 10)
	})
	t.Run("ErrBadRequest", func(t *testing.T) {
		for name, tc := range map[string]struct {
			req  httpapi.ExecuteStatementRequest
			code string
			msg  string
		}{
			"WaitTimeout":    {httpapi.ExecuteStatementRequest{Statement: "SELECT 1", WaitTimeout: "3s"}, "INVALID_PARAMETER_VALUE", "0s"},
			"WaitTimeout51":  {httpapi.ExecuteStatementRequest{Statement: "SELECT 1", WaitTimeout: "51s"}, "INVALID_PARAMETER_VALUE", "5s to 50s"},
			"OnWaitTimeout":  {httpapi.ExecuteStatementRequest{Statement: "SELECT 1", OnWaitTimeout: "STOP"}, "INVALID_PARAMETER_VALUE", "CONTINUE or CANCEL"},
			"Disposition":    {httpapi.ExecuteStatementRequest{Statement: "SELECT 1", Disposition: "LINKS"}, "INVALID_PARAMETER_VALUE", "INLINE or EXTERNAL_LINKS"},
			"CSV":            {httpapi.ExecuteStatementRequest{Statement: "SELECT 1", Disposition: "EXTERNAL_LINKS", Format: "CSV"}, "NOT_IMPLEMENTED", "format CSV"},
			"ArrowStream":    {httpapi.ExecuteStatementRequest{Statement: "SELECT 1", Format: "ARROW_STREAM"}, "NOT_IMPLEMENTED", "use disposition EXTERNAL_LINKS"},
			"ArrowInline":    {httpapi.ExecuteStatementRequest{Statement: "SELECT 1", Disposition: "INLINE", Format: "arrow_stream"}, "NOT_IMPLEMENTED", "EXTERNAL_LINKS"},
			"Format":         {httpapi.ExecuteStatementRequest{Statement: "SELECT 1", Format: "XML"}, "INVALID_PARAMETER_VALUE", "JSON_ARRAY"},
			"EmptyStatement": {httpapi.ExecuteStatementRequest{Statement: "  "}, "INVALID_PARAMETER_VALUE", "statement is required"},
			"RowLimit":       {httpapi.ExecuteStatementRequest{Statement: "SELECT 1", RowLimit: -1}, "INVALID_PARAMETER_VALUE", "row_limit"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := admin.ExecuteStatement(ctx, tc.req)
				ae := apiErr(t, err)
				require.Equal(t, 400, ae.Status)
				require.Equal(t, tc.code, ae.ErrorCode)
				require.Contains(t, ae.Message, tc.msg)
			})
		}
	})
	t.Run("AuditAndLineage", func(t *testing.T) {
		mustSQL(t, admin, "CREATE TABLE main.default.t2 (id INT, name STRING)")
		res := mustSQL(t, admin, "INSERT INTO main.default.t2 SELECT id, name FROM main.default.t WHERE name <> 'lbx_not-a-real-token'")
		edges, err := e.srv.App.Audit.Lineage.Neighbors(auth.WithIdentity(ctx, &auth.Identity{Principal: auth.Principal{Name: "admin"}, Admin: true}), lineage.TableNode("main.default.t2"), lineage.Upstream, "")
		require.NoError(t, err)
		require.NotEmpty(t, edges)
		require.Equal(t, "main.default.t", edges[0].Source.Name)
		require.Equal(t, res.StatementID, edges[0].Event.StatementID)

		evs, _, err := e.srv.App.Audit.Recorder.Events(ctx, audit.Filter{Action: "databrickssql.executeStatement", Limit: 1000})
		require.NoError(t, err)
		var found *audit.Event
		for i := range evs {
			if evs[i].RequestParams["statement_id"] == res.StatementID {
				found = &evs[i]
			}
		}
		require.NotNil(t, found, "no audit event for statement %s", res.StatementID)
		require.Equal(t, "admin", found.Identity.SubjectName)
		require.Equal(t, "SUCCEEDED", found.Response.Result)
		require.Equal(t, "INSERT", found.RequestParams["statement_type"])
		require.Contains(t, found.RequestParams["commandText"], "name <> '[REDACTED]'")
		require.NotContains(t, found.RequestParams["commandText"], "lbx_")
		var failed bool
		for _, ev := range evs {
			if ev.Identity.SubjectName == "alice" && ev.Response.ErrorCode == "PERMISSION_DENIED" && ev.Response.StatusCode == 403 {
				failed = true
			}
		}
		require.True(t, failed, "a refused statement is audited too")

		req := sqlReq("SELECT 1 AS x WHERE 'lbx_also-not-real' <> :api_token")
		req.Parameters = []httpapi.SQLParameter{{Name: "api_token", Value: str("lbx_param-secret")}}
		_, err = admin.RunStatement(ctx, req, nil)
		require.NoError(t, err)
		calls, _, err := e.srv.App.Audit.Recorder.Events(ctx, audit.Filter{Action: "databrickssql.*", Limit: 1000})
		require.NoError(t, err)
		var call *audit.Event
		for i := range calls {
			if calls[i].Path == httpapi.SQLPrefix && strings.Contains(calls[i].RequestParams["statement"], ":api_token") {
				call = &calls[i]
			}
		}
		require.NotNil(t, call, "the API call is audited")
		require.NotContains(t, call.RequestParams["statement"], "lbx_")
		require.NotContains(t, call.RequestParams["parameters"], "lbx_")
		require.Contains(t, call.RequestParams["parameters"], audit.Redacted)
		require.NotEmpty(t, found.RequestID, "the request id of the API call")
	})
}
