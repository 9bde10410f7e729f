package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/client"
)

// TestSQLDispositions checks that `lakebox sql` prints the same output
// whichever way the result travels, for a result of several chunks.
func TestSQLDispositions(t *testing.T) {
	srv := apptest.New(t, "SQLite")
	vars := map[string]string{"HOME": t.TempDir(), "LAKEBOX_HOST": srv.URL, "LAKEBOX_TOKEN": apptest.AdminToken}
	code, _, errOut := run(t, vars, "", "sql", "CREATE CATALOG IF NOT EXISTS main; CREATE SCHEMA IF NOT EXISTS main.default")
	require.Equal(t, 0, code, errOut)
	const q = `SELECT range AS i, CASE WHEN range % 3 = 0 THEN NULL ELSE 'r' || range END AS s,
		CAST(range / 8.0 AS DECIMAL(10,3)) AS dec, DATE '2024-01-01' + CAST(range % 400 AS INT) AS dt,
		TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_microseconds(range * 1234567) AS ts, CAST('b' || range AS BLOB) AS bin,
		list_value(range, NULL) AS arr, struct_pack(a := range) AS st FROM range(21000) ORDER BY range`
	for _, format := range []string{"csv", "json", "table"} {
		t.Run(format, func(t *testing.T) {
			code, want, errOut := run(t, vars, "", "sql", "--format", format, "--disposition", "INLINE", q)
			require.Equal(t, 0, code, errOut)
			require.Greater(t, strings.Count(want, "\n"), 21000)
			for _, args := range [][]string{
				{},                                // the default: EXTERNAL_LINKS, ARROW_STREAM
				{"--result-format", "json_array"}, // EXTERNAL_LINKS, JSON_ARRAY
				{"--disposition", "external_links", "--result-format", "ARROW_STREAM"},
			} {
				code, out, errOut := run(t, vars, "", append(append([]string{"sql", "--format", format}, args...), q)...)
				require.Equal(t, 0, code, errOut)
				require.Equal(t, want, out, "%v", args)
			}
		})
	}
	t.Run("ErrUsage", func(t *testing.T) {
		for args, msg := range map[string]string{
			"--disposition=LINKS":                               "use EXTERNAL_LINKS or INLINE",
			"--result-format=CSV":                               "use ARROW_STREAM or JSON_ARRAY",
			"--disposition=INLINE --result-format=ARROW_STREAM": "needs --disposition EXTERNAL_LINKS",
		} {
			code, _, errOut := run(t, vars, "", append(append([]string{"sql"}, strings.Fields(args)...), "SELECT 1")...)
			require.Equal(t, 2, code, args)
			require.Contains(t, errOut, msg)
		}
	})
}

func TestProgressFetch(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, tty: true}
	p.update(client.Progress{Waited: time.Second, State: "SUCCEEDED", Rows: 10, TotalRows: 30})
	require.Empty(t, b.String(), "quick fetches show nothing")
	p.update(client.Progress{Waited: 3 * time.Second, State: "SUCCEEDED", Rows: 20, TotalRows: 30})
	p.done()
	require.Equal(t, "\r\033[Kfetched 20 of 30 rows… (Ctrl-C cancels)\r\033[K", b.String())
	b.Reset()
	p = &progress{w: &b}
	p.update(client.Progress{Waited: 3 * time.Second, State: "SUCCEEDED", Rows: 20, TotalRows: 30})
	require.Empty(t, b.String(), "no fetch progress unless stderr is a terminal")
}
