package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
)

// TestSQLAcrossReplicas runs two replicas on one metastore and warehouse,
// as behind a load balancer: a statement submitted through one is polled,
// fetched (chunks and signed links) and canceled through the other, and
// stays invisible to other principals on both.
func TestSQLAcrossReplicas(t *testing.T) {
	for _, ms := range apptest.Metastores {
		t.Run(ms, func(t *testing.T) { testSQLAcrossReplicas(t, ms) })
	}
}

func testSQLAcrossReplicas(t *testing.T, ms string) {
	e := newUCEnv(t, ms)
	b := apptest.Replica(t, e.srv)
	ctx := context.Background()
	alice := map[string]*client.Client{"a": e.as["alice"], "b": b.Client(e.token["alice"])}
	bobB := b.Client(e.token["bob"])

	// A three-chunk result (10,000 rows a chunk) submitted through A.
	req := httpapi.ExecuteStatementRequest{Statement: "SELECT range AS i, 'row ' || range AS s FROM range(25000) ORDER BY i",
		WaitTimeout: "30s", Disposition: "EXTERNAL_LINKS", Format: "JSON_ARRAY"}
	resp, err := alice["a"].ExecuteStatement(ctx, req)
	require.NoError(t, err)
	require.Equal(t, "SUCCEEDED", resp.Status.State)
	id := resp.StatementID

	t.Run("GetThroughOtherReplica", func(t *testing.T) {
		got, err := alice["b"].GetStatement(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "SUCCEEDED", got.Status.State)
		require.Equal(t, 3, got.Manifest.TotalChunkCount)
		require.Equal(t, int64(25000), got.Manifest.TotalRowCount)
		require.Equal(t, []string{"i", "s"}, []string{got.Manifest.Schema.Columns[0].Name, got.Manifest.Schema.Columns[1].Name})
	})
	t.Run("ChunksAndLinksThroughOtherReplica", func(t *testing.T) {
		// Chunk 2 through B; its link (signed by B) fetched from A, and
		// chunk 0's link (signed by A) fetched from B: one shared key.
		c2, err := alice["b"].GetChunk(ctx, id, 2)
		require.NoError(t, err)
		require.Len(t, c2.ExternalLinks, 1)
		linkB := c2.ExternalLinks[0].ExternalLink
		require.True(t, strings.HasPrefix(linkB, b.URL))
		code, _, body := fetchLink(t, e.srv.URL+strings.TrimPrefix(linkB, b.URL))
		require.Equal(t, http.StatusOK, code, string(body))
		require.True(t, strings.HasPrefix(string(body), `[["20000","row 20000"]`), string(body[:40]))
		linkA := resp.Result.ExternalLinks[0].ExternalLink
		code, _, body = fetchLink(t, b.URL+strings.TrimPrefix(linkA, e.srv.URL))
		require.Equal(t, http.StatusOK, code, string(body))
		require.True(t, strings.HasPrefix(string(body), `[["0","row 0"],["1","row 1"]`))
	})
	t.Run("InlineThroughOtherReplica", func(t *testing.T) {
		r, err := alice["a"].ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: "SELECT 42 AS answer, NULL AS nothing", WaitTimeout: "30s"})
		require.NoError(t, err)
		got, err := alice["b"].GetStatement(ctx, r.StatementID)
		require.NoError(t, err)
		require.Equal(t, [][]*string{{str("42"), nil}}, got.Result.DataArray)
	})
	t.Run("ErrOtherPrincipal", func(t *testing.T) {
		for _, c := range []*client.Client{bobB, e.as["bob"]} {
			_, err := c.GetStatement(ctx, id)
			require.ErrorContains(t, err, "does not exist")
			_, err = c.GetChunk(ctx, id, 0)
			require.ErrorContains(t, err, "does not exist")
			require.ErrorContains(t, c.CancelStatement(ctx, id), "does not exist")
		}
	})
	t.Run("FailedThroughOtherReplica", func(t *testing.T) {
		r, err := alice["a"].ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: "SELECT * FROM no_such_table", WaitTimeout: "30s"})
		require.NoError(t, err)
		require.Equal(t, "FAILED", r.Status.State)
		got, err := alice["b"].GetStatement(ctx, r.StatementID)
		require.NoError(t, err)
		require.Equal(t, r.Status, got.Status, "the same error, code and message, through either replica")
	})
	t.Run("PollAndCancelThroughOtherReplica", func(t *testing.T) {
		r, err := alice["a"].ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: slowQuery, WaitTimeout: "0s"})
		require.NoError(t, err)
		require.Contains(t, []string{"PENDING", "RUNNING"}, r.Status.State)
		got, err := alice["b"].GetStatement(ctx, r.StatementID)
		require.NoError(t, err)
		require.Contains(t, []string{"PENDING", "RUNNING"}, got.Status.State)
		require.NoError(t, alice["b"].CancelStatement(ctx, r.StatementID))
		// A cancels it at its next heartbeat (1s); B sees the outcome.
		done := waitFinished(t, alice["b"], r.StatementID)
		require.Equal(t, "CANCELED", done.Status.State)
		done = waitFinished(t, alice["a"], r.StatementID)
		require.Equal(t, "CANCELED", done.Status.State)
	})
	t.Run("WaitThroughOtherReplica", func(t *testing.T) {
		r, err := alice["a"].ExecuteStatement(ctx, httpapi.ExecuteStatementRequest{Statement: "SELECT count(*) AS n FROM range(3000000)", WaitTimeout: "0s"})
		require.NoError(t, err)
		got := waitFinished(t, alice["b"], r.StatementID)
		require.Equal(t, "SUCCEEDED", got.Status.State)
		require.Equal(t, [][]*string{{str("3000000")}}, got.Result.DataArray)
	})
}
