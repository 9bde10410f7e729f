package query

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
)

var update = flag.Bool("update", false, "rewrite the expected results of testdata/*.sql")

// TestScripts runs the SQL script tests in testdata/*.sql on both
// metastores. A script is a sequence of blocks separated by blank lines:
//
//	statement ok [user]        the SQL must succeed
//	statement error [user]     the SQL must fail; after ---- comes the
//	                           expected "REASON: message"
//	query [user]               after ---- come the expected columns and
//	                           rows, tab-separated
//
// user is admin (a metastore admin, the default), alice (in group
// analysts), bob or carol. Regenerate expectations with -update (SQLite
// results are written; PostgreSQL must then agree).
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, ms := range metastores {
		t.Run(ms, func(t *testing.T) {
			for _, f := range files {
				t.Run(strings.TrimSuffix(filepath.Base(f), ".sql"), func(t *testing.T) {
					runScript(t, ms, f, *update && ms == "SQLite")
				})
			}
		})
	}
}

type block struct {
	kind     string // statement ok | statement error | query
	user     string
	sql      string
	expected string
	hasSep   bool
}

func parseScript(text string) []*block {
	var out []*block
	for _, chunk := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		lines := strings.Split(strings.Trim(chunk, "\n"), "\n")
		var kept []string
		for _, l := range lines {
			if strings.HasPrefix(l, "#") {
				continue
			}
			kept = append(kept, l)
		}
		if len(kept) == 0 {
			continue
		}
		head := strings.Fields(kept[0])
		b := &block{user: "admin"}
		switch {
		case len(head) >= 2 && head[0] == "statement":
			b.kind = "statement " + head[1]
			if len(head) > 2 {
				b.user = head[2]
			}
		case head[0] == "query":
			b.kind = "query"
			if len(head) > 1 {
				b.user = head[1]
			}
		default:
			panic("bad block header: " + kept[0])
		}
		body := kept[1:]
		for i, l := range body {
			if l == "----" {
				b.sql = strings.Join(body[:i], "\n")
				b.expected = strings.Join(body[i+1:], "\n")
				b.hasSep = true
				break
			}
		}
		if !b.hasSep {
			b.sql = strings.Join(body, "\n")
		}
		out = append(out, b)
	}
	return out
}

func (b *block) String() string {
	h := b.kind
	if b.user != "admin" {
		h += " " + b.user
	}
	s := h + "\n" + b.sql
	if b.kind != "statement ok" {
		s += "\n----\n" + b.expected
	}
	return strings.TrimRight(s, "\n")
}

func runScript(t *testing.T, ms, path string, upd bool) {
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	// Keep the leading comment of the file.
	var header []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		header = append(header, l)
	}
	env := mustEnv(t, ms)
	sessions := map[string]*Session{}
	blocks := parseScript(string(raw))
	for _, b := range blocks {
		sess := sessions[b.user]
		if sess == nil {
			sess = &Session{}
			sessions[b.user] = sess
		}
		require.Contains(t, env.ids, b.user, "unknown user in %s", b.sql)
		res, err := env.eng.Exec(env.ctx(b.user), sess, b.sql)
		var got string
		switch b.kind {
		case "statement ok":
			require.NoError(t, err, "%s: %s", path, b.sql)
			continue
		case "statement error":
			require.Error(t, err, "%s: expected an error from %s", path, b.sql)
			got = errorLine(err)
		case "query":
			require.NoError(t, err, "%s: %s", path, b.sql)
			got = formatResult(res)
		}
		if upd {
			b.expected = got
			continue
		}
		require.Equal(t, b.expected, got, "%s: %s", path, b.sql)
	}
	if upd {
		var parts []string
		if len(header) > 0 {
			parts = append(parts, strings.Join(header, "\n"))
		}
		for _, b := range blocks {
			parts = append(parts, b.String())
		}
		require.NoError(t, os.WriteFile(path, []byte(strings.Join(parts, "\n\n")+"\n"), 0o644))
	}
}

func errorLine(err error) string {
	return strings.Join(strings.Fields(errs.ReasonOf(err)+": "+errs.Message(err)), " ")
}

func formatResult(r *Result) string {
	var lines []string
	var cols []string
	for _, c := range r.Columns {
		cols = append(cols, c.Name)
	}
	lines = append(lines, strings.Join(cols, "\t"))
	for _, row := range r.Rows {
		var vs []string
		for _, v := range row {
			vs = append(vs, formatValue(v))
		}
		lines = append(lines, strings.Join(vs, "\t"))
	}
	return strings.Join(lines, "\n")
}

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.UTC().Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02 15:04:05.999999")
	case []byte:
		return fmt.Sprintf("%x", x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			kv = append(kv, k+":"+formatValue(x[k]))
		}
		return "{" + strings.Join(kv, ",") + "}"
	case []any:
		var s []string
		for _, e := range x {
			s = append(s, formatValue(e))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	return fmt.Sprint(v)
}
