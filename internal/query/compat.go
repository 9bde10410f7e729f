package query

import (
	"fmt"
	"strings"
)

// compatMacros define Databricks SQL functions that DuckDB lacks, as
// DuckDB macros over its built-ins (overloads separated by ", (").
// A statement defines the ones it calls (see stmt.useCompat); names DuckDB
// already has are left to DuckDB (Engine.builtins), so a DuckDB built-in
// with Databricks' name but other semantics (datediff, date_sub,
// element_at) keeps DuckDB's meaning (docs/status.md lists them), unless
// dialectEdits renames the call (renamedCalls).
var compatMacros = map[string]string{
	"nvl":               "(a, b) AS coalesce(a, b)",
	"nvl2":              "(a, b, c) AS CASE WHEN a IS NOT NULL THEN b ELSE c END",
	"iff":               "(c, a, b) AS CASE WHEN c THEN a ELSE b END",
	"current_timestamp": "() AS now()",
	"rand":              "() AS random()",
	"unix_timestamp":    "() AS epoch(now())::BIGINT, (t) AS epoch(CAST(t AS TIMESTAMP))::BIGINT",
	// A literal Spark pattern argument is translated (dialectEdits).
	"from_unixtime":     "(n) AS strftime(to_timestamp(n), '%Y-%m-%d %H:%M:%S'), (n, f) AS strftime(to_timestamp(n), f)",
	"date_format":       "(t, f) AS strftime(CAST(t AS TIMESTAMP), f)",
	"to_date":           "(s) AS CAST(s AS DATE), (s, f) AS CAST(strptime(s, f) AS DATE)",
	"add_months":        "(d, n) AS CAST(d + to_months(n) AS DATE)",
	"collect_list":      "(x) AS list(x)",
	"collect_set":       "(x) AS list(DISTINCT x)",
	"array_contains":    "(a, x) AS list_contains(a, x)",
	"explode":           "(a) AS unnest(a)",
	"size":              "(a) AS coalesce(len(a), -1)",
	"array_join":        "(a, s) AS array_to_string(a, s)",
	"sort_array":        "(a) AS list_sort(a), (a, up) AS CASE WHEN up THEN list_sort(a) ELSE list_reverse_sort(a) END",
	"percentile_approx": "(x, p) AS quantile_disc(x, p)",
	"initcap":           "(s) AS array_to_string(list_transform(string_split(lower(s), ' '), w -> upper(w[1]) || w[2:]), ' ')",
	// Databricks functions whose names DuckDB uses with other semantics:
	// dialectEdits renames their calls (by argument count).
	"databricks_datediff":  "(e, s) AS date_diff('day', CAST(s AS DATE), CAST(e AS DATE))",
	"databricks_date_sub":  "(d, n) AS CAST(CAST(d AS DATE) - to_days(CAST(n AS INTEGER)) AS DATE)",
	"databricks_dayofweek": "(d) AS dayofweek(CAST(d AS DATE)) + 1",
	"get_json_object":      "(j, p) AS json_extract_string(j, p)",
	"sha2":                 "(s, n) AS CASE n WHEN 256 THEN sha256(s) WHEN 0 THEN sha256(s) ELSE error('sha2: only 256-bit digests are supported') END",
}

// useCompat adds the definition of compatibility macro name to the
// statement's setup (once).
func (st *stmt) useCompat(name string) {
	if st.compat == nil {
		st.compat = map[string]bool{}
	}
	if st.compat[name] {
		return
	}
	st.compat[name] = true
	st.setup = append(st.setup, "CREATE MACRO "+name+compatMacros[name])
}

// castFunctions are Databricks' function-style casts (int(x) is
// CAST(x AS INT)).
var castFunctions = map[string]string{"STRING": "VARCHAR", "INT": "INTEGER", "BIGINT": "BIGINT", "SMALLINT": "SMALLINT",
	"TINYINT": "TINYINT", "DOUBLE": "DOUBLE", "FLOAT": "FLOAT", "BOOLEAN": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP"}

// renamedCalls are Databricks functions whose DuckDB namesakes differ
// (DuckDB's datediff and date_sub take a unit first; its dayofweek counts
// from 0): a call with Databricks' argument count is renamed to the
// compatibility macro.
var renamedCalls = map[string]struct {
	args int
	to   string
}{"DATEDIFF": {2, "databricks_datediff"}, "DATE_SUB": {2, "databricks_date_sub"}, "DAYOFWEEK": {1, "databricks_dayofweek"}}

// formatArgFunctions take a Spark datetime pattern as their second
// argument; a literal pattern is translated for strftime/strptime.
var formatArgFunctions = map[string]bool{"DATE_FORMAT": true, "FROM_UNIXTIME": true, "TO_DATE": true}

// dialectEdits rewrites Databricks syntax DuckDB does not parse into
// DuckDB's: SELECT * EXCEPT (…) → EXCLUDE, function-style casts,
// array(…), map(k, v, …), struct(…), named_struct('k', v, …), and literal
// Spark datetime patterns. Each edit touches only names, punctuation and
// the pattern literal, never an argument, so the other edits of
// preprocess (inside arguments) still apply.
func dialectEdits(toks []token) []edit {
	var edits []edit
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind != tkWord {
			continue
		}
		u := t.upper()
		prev := ""
		if i > 0 {
			prev = toks[i-1].Text
		}
		if u == "EXCEPT" && prev == "*" && i+1 < len(toks) && toks[i+1].Text == "(" {
			edits = append(edits, edit{t.Pos, t.End, "EXCLUDE"})
			continue
		}
		if i+1 >= len(toks) || toks[i+1].Text != "(" || toks[i+1].Pos != t.End || prev == "." || prev == "::" || strings.EqualFold(prev, "AS") {
			continue
		}
		args, closing := callArgs(toks, i+1)
		if closing < 0 {
			continue
		}
		switch r, ok := renamedCalls[u]; {
		case ok && len(args) == r.args:
			edits = append(edits, edit{t.Pos, t.End, r.to})
		case castFunctions[u] != "" && len(args) == 1:
			edits = append(edits, edit{t.Pos, toks[i+1].End, "CAST(("}, edit{toks[closing].Pos, toks[closing].End, ") AS " + castFunctions[u] + ")"})
		case u == "ARRAY" && (len(args) == 0 || toks[args[0][0]].upper() != "SELECT"):
			edits = append(edits, edit{t.Pos, t.End, "list_value"})
		case u == "MAP" && len(args)%2 == 0 && (len(args) != 2 || args[0][0] == args[0][1] && (toks[args[0][0]].Kind == tkString || toks[args[0][0]].Kind == tkNumber)):
			// Spark's map(k1, v1, k2, v2, …); with two arguments it is
			// DuckDB's map(keys, values) unless the first is a scalar
			// literal.
			edits = append(edits, edit{t.Pos, toks[i+1].End, "MAP {"}, edit{toks[closing].Pos, toks[closing].End, "}"})
			for k := 0; k < len(args); k += 2 {
				comma := toks[args[k][1]+1] // the comma after a key
				edits = append(edits, edit{comma.Pos, comma.End, ":"})
			}
		case u == "STRUCT":
			edits = append(edits, edit{t.Pos, t.End, "struct_pack"})
			for k, a := range args {
				name := fmt.Sprintf("col%d", k+1)
				if last := toks[a[1]]; (last.Kind == tkWord || last.Kind == tkQIdent) && (a[0] == a[1] || toks[a[1]-1].Text == ".") {
					name = last.ident()
				}
				edits = append(edits, edit{toks[a[0]].Pos, toks[a[0]].Pos, quoteIdent(name) + " := "})
			}
		case u == "NAMED_STRUCT" && len(args)%2 == 0:
			ok := true
			for k := 0; k < len(args); k += 2 {
				ok = ok && args[k][0] == args[k][1] && toks[args[k][0]].Kind == tkString
			}
			if !ok {
				continue
			}
			edits = append(edits, edit{t.Pos, t.End, "struct_pack"})
			for k := 0; k < len(args); k += 2 {
				key, comma := toks[args[k][0]], toks[args[k][1]+1]
				edits = append(edits, edit{key.Pos, comma.End, quoteIdent(key.strValue()) + " := "})
			}
		case formatArgFunctions[u] && len(args) == 2 && args[1][0] == args[1][1] && toks[args[1][0]].Kind == tkString:
			lit := toks[args[1][0]]
			edits = append(edits, edit{lit.Pos, lit.End, quoteString(strftimePattern(lit.strValue()))})
		}
	}
	return edits
}

// callArgs returns the token spans [first, last] of the top-level
// arguments of the call whose "(" is toks[open], and the index of its
// ")" (-1 when unbalanced).
func callArgs(toks []token, open int) ([][2]int, int) {
	var args [][2]int
	depth, start := 0, open+1
	for j := open; j < len(toks); j++ {
		switch toks[j].Text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				if j > start {
					args = append(args, [2]int{start, j - 1})
				}
				return args, j
			}
		case ",":
			if depth == 1 {
				if j == start {
					return nil, -1
				}
				args = append(args, [2]int{start, j - 1})
				start = j + 1
			}
		}
	}
	return nil, -1
}

// strftimePattern translates a Spark datetime pattern (yyyy, yy, MM, dd,
// HH, hh, mm, ss, SSS, a, EEE, MMM; text in single quotes) into a
// strftime/strptime one.
func strftimePattern(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		if p[i] == '\'' {
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				j = len(p) - i - 1
			}
			b.WriteString(strings.ReplaceAll(p[i+1:i+1+j], "%", "%%"))
			i += j + 2
			continue
		}
		n := 1
		for i+n < len(p) && p[i+n] == p[i] {
			n++
		}
		run := p[i : i+n]
		switch {
		case run == "yyyy" || run == "y":
			b.WriteString("%Y")
		case run == "yy":
			b.WriteString("%y")
		case run == "MM" || run == "M":
			b.WriteString("%m")
		case run == "MMM":
			b.WriteString("%b")
		case len(run) >= 4 && run[0] == 'M':
			b.WriteString("%B")
		case run == "dd" || run == "d":
			b.WriteString("%d")
		case run == "HH" || run == "H":
			b.WriteString("%H")
		case run == "hh" || run == "h":
			b.WriteString("%I")
		case run == "mm" || run == "m":
			b.WriteString("%M")
		case run == "ss" || run == "s":
			b.WriteString("%S")
		case run == "SSS":
			b.WriteString("%g")
		case run == "SSSSSS":
			b.WriteString("%f")
		case run == "a":
			b.WriteString("%p")
		case run == "EEE" || run == "E":
			b.WriteString("%a")
		case len(run) >= 4 && run[0] == 'E':
			b.WriteString("%A")
		case run[0] == '%':
			b.WriteString(strings.Repeat("%%", n))
		default:
			b.WriteString(run)
		}
		i += n
	}
	return b.String()
}
