package query

import (
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// parser is a cursor over a statement's tokens for the statement forms
// Lakebox parses itself (DDL, DML heads, SHOW, GRANT, ...).
type parser struct {
	st   *stmt
	toks []token
	i    int
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{Pos: len(p.st.text), End: len(p.st.text)}
}

func (p *parser) next() token { t := p.peek(); p.i++; return t }

func (p *parser) done() bool { return p.i >= len(p.toks) }

// accept consumes the keywords kws if they come next.
func (p *parser) accept(kws ...string) bool {
	for j, k := range kws {
		if p.i+j >= len(p.toks) || p.toks[p.i+j].upper() != k {
			return false
		}
	}
	p.i += len(kws)
	return true
}

func (p *parser) expect(kws ...string) error {
	if !p.accept(kws...) {
		return syntaxErr(p.st.text, p.peek().Pos, "expected "+strings.Join(kws, " ")+", found "+tokText(p.peek()))
	}
	return nil
}

func (p *parser) expectPunct(s string) error {
	if p.peek().Text != s {
		return syntaxErr(p.st.text, p.peek().Pos, "expected "+s+", found "+tokText(p.peek()))
	}
	p.next()
	return nil
}

func tokText(t token) string {
	if t.Text == "" {
		return "end of statement"
	}
	return "'" + t.Text + "'"
}

// name parses a dotted name (1-3 parts), lower-casing unquoted parts.
func (p *parser) name() ([]string, error) {
	t := p.next()
	if t.ident() == "" {
		return nil, syntaxErr(p.st.text, t.Pos, "expected a name, found "+tokText(t))
	}
	parts := []string{strings.ToLower(t.ident())}
	for p.peek().Text == "." {
		p.next()
		t = p.next()
		if t.ident() == "" {
			return nil, syntaxErr(p.st.text, t.Pos, "expected a name after '.', found "+tokText(t))
		}
		parts = append(parts, strings.ToLower(t.ident()))
	}
	if len(parts) > 3 {
		return nil, errs.E(errs.Invalid, "INVALID_IDENTIFIER", "%s has more than three parts: use catalog.schema.name", strings.Join(parts, "."))
	}
	return parts, nil
}

// str parses a string literal.
func (p *parser) str() (string, error) {
	t := p.next()
	if t.Kind != tkString {
		return "", syntaxErr(p.st.text, t.Pos, "expected a string literal, found "+tokText(t))
	}
	return t.strValue(), nil
}

// ident parses one identifier.
func (p *parser) ident() (string, error) {
	t := p.next()
	if t.ident() == "" {
		return "", syntaxErr(p.st.text, t.Pos, "expected an identifier, found "+tokText(t))
	}
	return t.ident(), nil
}

// identList parses (a, b, c).
func (p *parser) identList() ([]string, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var out []string
	for {
		n, err := p.ident()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if p.peek().Text == "," {
			p.next()
			continue
		}
		break
	}
	return out, p.expectPunct(")")
}

// end requires the end of the statement.
func (p *parser) end() error {
	if !p.done() {
		return syntaxErr(p.st.text, p.peek().Pos, "unexpected "+tokText(p.peek()))
	}
	return nil
}

// rest returns the source text from the current token on.
func (p *parser) rest() string {
	if p.done() {
		return ""
	}
	return p.st.text[p.peek().Pos:]
}

// skipBalanced skips tokens up to (not including) the first top-level
// token for which stop is true, returning the span skipped.
func (p *parser) skipBalanced(stop func(token) bool) (int, int) {
	start := p.peek().Pos
	end := start
	depth, angles := 0, 0
	prev := ""
	for !p.done() {
		t := p.peek()
		if depth == 0 && stop(t) {
			break
		}
		switch t.Text {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		case "<":
			// The brackets of a type: ARRAY<…>, MAP<…, …>, STRUCT<…>.
			if prev == "ARRAY" || prev == "MAP" || prev == "STRUCT" {
				depth++
				angles++
			}
		case ">":
			if angles > 0 {
				depth--
				angles--
			}
		}
		prev = t.upper()
		if depth < 0 {
			break
		}
		end = t.End
		p.next()
	}
	return start, end
}

// props parses ('k' = 'v', ...).
func (p *parser) props() (map[string]string, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for p.peek().Text != ")" {
		k := p.next()
		key := k.ident()
		if k.Kind == tkString {
			key = k.strValue()
		}
		for p.peek().Text == "." { // unquoted dotted keys
			p.next()
			key += "." + p.next().Text
		}
		if key == "" {
			return nil, syntaxErr(p.st.text, k.Pos, "expected a property key")
		}
		if p.peek().Text == "=" {
			p.next()
		}
		v := p.next()
		val := v.Text
		if v.Kind == tkString {
			val = v.strValue()
		}
		out[key] = val
		if p.peek().Text == "," {
			p.next()
		}
		if p.done() {
			return nil, syntaxErr(p.st.text, len(p.st.text), "unterminated property list")
		}
	}
	p.next()
	return out, nil
}

// probe builds a derived SQL text from literal glue and slices of the
// statement, remembering how to map positions back.
type probe struct {
	b    strings.Builder
	segs []probeSeg
}

type probeSeg struct{ at, orig, n int }

func (pr *probe) lit(s string) { pr.b.WriteString(s) }

func (pr *probe) orig(src string, from, to int) {
	pr.segs = append(pr.segs, probeSeg{at: pr.b.Len(), orig: from, n: to - from})
	pr.b.WriteString(src[from:to])
}

// mapPos maps a position in the probe to the original text (-1 if it
// falls in glue).
func (pr *probe) mapPos(p int) int {
	for _, s := range pr.segs {
		if p >= s.at && p < s.at+s.n {
			return s.orig + p - s.at
		}
	}
	return -1
}
