package query

import "strings"

// RedactedLiteral replaces a secret string literal in RedactStatement.
const RedactedLiteral = "'[REDACTED]'"

// RedactStatement returns text for the audit log: literals are kept,
// except string literals that hold a secret — a literal that is the value
// of an option whose name sensitive reports as secret (such as
// AWS_SECRET_KEY = '…', PASSWORD '…' or password = CAST('…' AS STRING) as
// a bound parameter reads),
// or one that looks like a credential (lbx_ tokens, Bearer/Basic
// credentials). Text that does not lex is replaced by a note, since its
// literals cannot be told apart.
func RedactStatement(text string, sensitive func(name string) bool) string {
	toks, err := lex(text)
	if err != nil {
		return "[statement not recorded: it does not lex]"
	}
	var b strings.Builder
	last := 0
	for i, t := range toks {
		if t.Kind != tkString {
			continue
		}
		v := strings.ToLower(strings.TrimSpace(t.strValue()))
		secret := strings.HasPrefix(v, "lbx_") || strings.HasPrefix(v, "bearer ") || strings.HasPrefix(v, "basic ")
		for j := i - 1; j >= 0 && j >= i-4 && !secret; j-- {
			p := toks[j]
			if p.Text == "(" || p.upper() == "CAST" {
				continue // a bound parameter: name = CAST('…' AS type)
			}
			if p.Kind == tkWord || p.Kind == tkQIdent || p.Kind == tkString {
				name := p.ident()
				if p.Kind == tkString {
					name = p.strValue()
				}
				if sensitive(name) {
					secret = true
				}
				break
			}
			if p.Text != "=" && p.Text != "=>" && p.Text != ":" {
				break
			}
		}
		if secret {
			b.WriteString(text[last:t.Pos])
			b.WriteString(RedactedLiteral)
			last = t.End
		}
	}
	b.WriteString(text[last:])
	return b.String()
}
