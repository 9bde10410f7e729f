package query

import (
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// tokKind classifies a token.
type tokKind int

const (
	tkWord   tokKind = iota // unquoted identifier or keyword
	tkQIdent                // "quoted" or `quoted` identifier
	tkString                // 'string'
	tkNumber
	tkPunct // operators and punctuation, one or two characters
)

// token is one lexical token of a statement; Pos/End are byte offsets.
type token struct {
	Kind     tokKind
	Text     string // the source text
	Pos, End int
}

// upper returns the keyword form of a word token ("" for other kinds).
func (t token) upper() string {
	if t.Kind != tkWord {
		return ""
	}
	return strings.ToUpper(t.Text)
}

// ident returns the identifier value of a word or quoted identifier
// (lower-cased for unquoted words), or "".
func (t token) ident() string {
	switch t.Kind {
	case tkWord:
		return strings.ToLower(t.Text)
	case tkQIdent:
		q := t.Text[0]
		return strings.ReplaceAll(t.Text[1:len(t.Text)-1], string([]byte{q, q}), string(q))
	}
	return ""
}

// strValue returns the value of a string token.
func (t token) strValue() string {
	return strings.ReplaceAll(t.Text[1:len(t.Text)-1], "''", "'")
}

// lex splits s into tokens, skipping white space and comments. Errors:
// errs.Invalid SQL_SYNTAX_ERROR for unterminated strings, identifiers and
// comments, naming the position.
func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, syntaxErr(s, i, "unterminated /* comment")
			}
			i += j + 4
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for {
				if j >= len(s) {
					what := "string literal"
					if c != '\'' {
						what = "quoted identifier"
					}
					return nil, syntaxErr(s, i, "unterminated "+what)
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			k := tkString
			if c != '\'' {
				k = tkQIdent
			}
			out = append(out, token{Kind: k, Text: s[i : j+1], Pos: i, End: j + 1})
			i = j + 1
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			out = append(out, token{Kind: tkWord, Text: s[i:j], Pos: i, End: j})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				(s[j] == '-' || s[j] == '+') && j > i && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			out = append(out, token{Kind: tkNumber, Text: s[i:j], Pos: i, End: j})
			i = j
		default:
			n := 1
			if i+1 < len(s) {
				switch s[i : i+2] {
				case "<=", ">=", "<>", "!=", "=>", "::", "||", "->":
					n = 2
				}
			}
			out = append(out, token{Kind: tkPunct, Text: s[i : i+n], Pos: i, End: i + n})
			i += n
		}
	}
	return out, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// syntaxErr builds a syntax error pointing at byte offset pos of s.
func syntaxErr(s string, pos int, msg string) error {
	line, col := lineCol(s, pos)
	return errs.E(errs.Invalid, "PARSE_SYNTAX_ERROR", "syntax error at line %d, position %d: %s", line, col, msg)
}

// lineCol returns the 1-based line and column of byte offset pos.
func lineCol(s string, pos int) (int, int) {
	if pos > len(s) {
		pos = len(s)
	}
	line := 1 + strings.Count(s[:pos], "\n")
	col := pos - strings.LastIndex(s[:pos], "\n")
	return line, col
}

// splitStatements splits a script at top-level semicolons, dropping empty
// statements.
func splitStatements(s string) ([]string, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	var out []string
	start := 0
	for _, t := range toks {
		if t.Kind == tkPunct && t.Text == ";" {
			if st := strings.TrimSpace(s[start:t.Pos]); st != "" {
				out = append(out, st)
			}
			start = t.End
		}
	}
	if st := strings.TrimSpace(s[start:]); st != "" {
		if tt, _ := lex(st); len(tt) > 0 {
			out = append(out, st)
		}
	}
	return out, nil
}

// edit replaces s[Pos:End] with Text.
type edit struct {
	Pos, End int
	Text     string
}

// applyEdits applies non-overlapping edits to s.
func applyEdits(s string, edits []edit) string {
	if len(edits) == 0 {
		return s
	}
	sortEdits(edits)
	var b strings.Builder
	last := 0
	for _, e := range edits {
		if e.Pos < last {
			continue
		}
		b.WriteString(s[last:e.Pos])
		b.WriteString(e.Text)
		last = e.End
	}
	b.WriteString(s[last:])
	return b.String()
}

func sortEdits(e []edit) {
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && e[j].Pos < e[j-1].Pos; j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
}

// quoteIdent quotes an identifier for DuckDB.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteString quotes a string literal for DuckDB.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// preprocess rewrites Databricks syntax DuckDB's parser does not accept:
// `backtick` identifiers become "quoted", and the time-travel forms
// `name@v12`, `name VERSION AS OF 12`, `name TIMESTAMP AS OF '...'` (also
// after FOR SYSTEM_VERSION/SYSTEM_TIME) become DuckDB's AT (VERSION => 12) /
// AT (TIMESTAMP => '...').
func preprocess(s string) (string, error) {
	toks, err := lex(s)
	if err != nil {
		return "", err
	}
	edits := dialectEdits(toks)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind == tkQIdent && t.Text[0] == '`' {
			edits = append(edits, edit{t.Pos, t.End, quoteIdent(t.ident())})
		}
		// default.x: DEFAULT is reserved in DuckDB but a schema name here.
		if t.upper() == "DEFAULT" && (i+1 < len(toks) && toks[i+1].Text == "." || i > 0 && toks[i-1].Text == ".") {
			edits = append(edits, edit{t.Pos, t.End, `"default"`})
		}
		// name@v12
		if t.Kind == tkPunct && t.Text == "@" && i > 0 && i+1 < len(toks) && toks[i-1].End == t.Pos && toks[i+1].Pos == t.End &&
			(toks[i-1].Kind == tkWord || toks[i-1].Kind == tkQIdent) && toks[i+1].Kind == tkWord {
			v := toks[i+1].Text
			if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && allDigits(v[1:]) {
				edits = append(edits, edit{t.Pos, toks[i+1].End, " AT (VERSION => " + v[1:] + ")"})
				i++
				continue
			}
			return "", syntaxErr(s, t.Pos, "expected name@v<version>, e.g. sales@v3")
		}
		// [FOR SYSTEM_VERSION|SYSTEM_TIME] VERSION|TIMESTAMP AS OF x
		u := t.upper()
		if (u == "VERSION" || u == "TIMESTAMP") && i+3 < len(toks) && toks[i+1].upper() == "AS" && toks[i+2].upper() == "OF" && i > 0 {
			start := t.Pos
			if i >= 2 && toks[i-1].upper() == "FOR" {
				start = toks[i-1].Pos
			}
			if i >= 3 && (toks[i-1].upper() == "SYSTEM_VERSION" || toks[i-1].upper() == "SYSTEM_TIME") && toks[i-2].upper() == "FOR" {
				start = toks[i-2].Pos
			}
			val := toks[i+3]
			if u == "VERSION" && val.Kind != tkNumber {
				return "", syntaxErr(s, val.Pos, "VERSION AS OF needs a version number")
			}
			if u == "TIMESTAMP" && val.Kind != tkString {
				return "", syntaxErr(s, val.Pos, "TIMESTAMP AS OF needs a timestamp string such as '2024-01-01 00:00:00'")
			}
			edits = append(edits, edit{start, val.End, "AT (" + u + " => " + val.Text + ")"})
			i += 3
		}
	}
	return applyEdits(s, edits), nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
