package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
)

func TestSplitSQL(t *testing.T) {
	for name, tc := range map[string]struct {
		in    string
		stmts []string
		rest  string
	}{
		"One":          {in: "SELECT 1;", stmts: []string{"SELECT 1"}},
		"Several":      {in: "SELECT 1; SELECT 2;\nSELECT 3", stmts: []string{"SELECT 1", "SELECT 2"}, rest: "\nSELECT 3"},
		"MultiLine":    {in: "SELECT\n  1\n", rest: "SELECT\n  1\n"},
		"QuotedSemi":   {in: "SELECT ';', \"a;b\", `c;d`, 'it''s;';", stmts: []string{"SELECT ';', \"a;b\", `c;d`, 'it''s;'"}},
		"OpenString":   {in: "SELECT 'a;\nb", rest: "SELECT 'a;\nb"},
		"Comments":     {in: "-- a; b\nSELECT 1 /* ; */;\n-- only a comment;", stmts: []string{"-- a; b\nSELECT 1 /* ; */"}},
		"OpenComment":  {in: "SELECT 1 /* ;", rest: "SELECT 1 /* ;"},
		"EmptyPieces":  {in: ";;  ;\n", stmts: nil},
		"CommentsOnly": {in: "-- nothing here\n", stmts: nil},
	} {
		t.Run(name, func(t *testing.T) {
			stmts, rest := splitSQL(tc.in)
			require.Equal(t, tc.stmts, stmts)
			require.Equal(t, tc.rest, rest)
		})
	}
}

func TestApplyUse(t *testing.T) {
	s := &sqlSession{}
	s.applyUse("USE CATALOG sales;")
	require.Equal(t, "sales.default", s.where())
	s.applyUse("use schema q1")
	require.Equal(t, "sales.q1", s.where())
	s.applyUse("USE `main`.`x`")
	require.Equal(t, "main.x", s.where())
	s.applyUse("SELECT 1")
	require.Equal(t, "main.x", s.where())
}

func TestSQLCommand(t *testing.T) {
	srv := apptest.New(t, "SQLite")
	home := t.TempDir()
	vars := map[string]string{"HOME": home, "LAKEBOX_HOST": srv.URL, "LAKEBOX_TOKEN": apptest.AdminToken}
	setup := filepath.Join(t.TempDir(), "setup.sql")
	require.NoError(t, os.WriteFile(setup, []byte(`-- set up
CREATE CATALOG IF NOT EXISTS main;
CREATE SCHEMA IF NOT EXISTS main.default;
CREATE SCHEMA main.s2;
CREATE TABLE main.default.t (id INT, name STRING, ok BOOLEAN);
INSERT INTO main.default.t VALUES (1, 'a, b', true), (2, NULL, false);
CREATE TABLE main.s2.u AS SELECT 'in s2' AS v
`), 0o644))
	code, _, errOut := run(t, vars, "", "sql", "-f", setup)
	require.Equal(t, 0, code, errOut)

	t.Run("Table", func(t *testing.T) {
		code, out, errOut := run(t, vars, "", "sql", "SELECT id, name FROM t ORDER BY id", "--catalog", "main", "--schema", "default")
		require.Equal(t, 0, code, errOut)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 3)
		require.Equal(t, []string{"id", "name"}, strings.Fields(lines[0]))
		require.Equal(t, []string{"2", "NULL"}, strings.Fields(lines[2]))
	})
	t.Run("CSV", func(t *testing.T) {
		code, out, errOut := run(t, vars, "", "sql", "--format", "csv", "SELECT id, name FROM main.default.t ORDER BY id")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, "id,name\n1,\"a, b\"\n2,\n", out)
	})
	t.Run("JSON", func(t *testing.T) {
		code, out, errOut := run(t, vars, "", "sql", "--format", "json", "SELECT id, name, ok FROM main.default.t ORDER BY id")
		require.Equal(t, 0, code, errOut)
		var rows []map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &rows), out)
		require.Equal(t, []map[string]any{{"id": 1.0, "name": "a, b", "ok": true}, {"id": 2.0, "name": nil, "ok": false}}, rows)
		require.Less(t, strings.Index(out, `"id"`), strings.Index(out, `"name"`), "columns keep their order")
	})
	t.Run("Stdin", func(t *testing.T) {
		code, out, errOut := run(t, vars, "SELECT 42 AS x;\n", "sql", "--format", "csv")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, "x\n42\n", out)
	})
	t.Run("ErrStatement", func(t *testing.T) {
		code, _, errOut := run(t, vars, "", "sql", "SELECT * FROM main.default.nope")
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "TABLE_OR_VIEW_NOT_FOUND")
	})
	t.Run("ErrUsage", func(t *testing.T) {
		code, _, errOut := run(t, vars, "", "sql", "--format", "xml", "SELECT 1")
		require.Equal(t, 2, code)
		require.Contains(t, errOut, "use table, csv or json")
		code, _, _ = run(t, vars, "", "sql", "-f", setup, "SELECT 1")
		require.Equal(t, 2, code)
		code, _, errOut = run(t, vars, "  \n", "sql")
		require.Equal(t, 2, code)
		require.Contains(t, errOut, "no SQL statement")
	})
	t.Run("Shell", func(t *testing.T) {
		in := "USE main.s2;\nSELECT v\n  FROM u;\nSELECT * FROM nope;\nUSE CATALOG main; SELECT 'it''s;' AS s;\n\\q\nSELECT 'not run';\n"
		code, out, errOut := run(t, vars, in, "sql", "--interactive", "--format", "csv")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "v\nin s2\n", "USE persists: u resolves in main.s2")
		require.Contains(t, out, "s\nit's;\n")
		require.NotContains(t, out, "not run")
		require.Contains(t, errOut, "main.default> ")
		require.Contains(t, errOut, "main.s2> ")
		require.Contains(t, errOut, "    -> ")
		require.Contains(t, errOut, "Error: BAD_REQUEST: [TABLE_OR_VIEW_NOT_FOUND]", "errors do not end the shell")
		hist, err := os.ReadFile(filepath.Join(home, ".lakebox", "sql_history"))
		require.NoError(t, err)
		require.Contains(t, string(hist), "SELECT v FROM u;\n")
	})
}
