package tracking

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Entity kinds of a search identifier.
const (
	EntityMetric    = "metric"
	EntityParam     = "parameter"
	EntityTag       = "tag"
	EntityAttribute = "attribute"
	EntityDataset   = "dataset"
)

// Clause is one comparison of a search filter, as parsed. Clauses are ANDed.
type Clause struct {
	Entity string   // one of the Entity* constants
	Key    string   // metric/param/tag key, or attribute/dataset field (canonical)
	Op     string   // =, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL
	Str    string   // string operand
	Num    float64  // numeric operand (IsNum)
	IsNum  bool     // the operand is numeric
	List   []string // IN / NOT IN operands
}

// OrderKey is one ORDER BY term.
type OrderKey struct {
	Entity string
	Key    string
	Desc   bool
}

// AttrKind says how an attribute compares.
type AttrKind int

// Attribute kinds.
const (
	AttrString  AttrKind = iota // =, !=, LIKE, ILIKE, IN, NOT IN on a quoted string
	AttrNumeric                 // =, !=, <, <=, >, >= on a number
)

// Grammar describes what one search accepts: which entity prefixes, which
// attributes (and their canonical names), and which attributes can order.
type Grammar struct {
	// Entities maps identifier prefixes ("metrics", "tag", …) to an entity.
	Entities map[string]string
	// Attributes maps accepted attribute names to their kind.
	Attributes map[string]AttrKind
	// Aliases maps alternative attribute names to canonical ones.
	Aliases map[string]string
	// Orderable lists attributes accepted in ORDER BY.
	Orderable map[string]bool
	// DatasetKeys lists dataset fields (runs only).
	DatasetKeys map[string]bool
	// BareIsAttribute: an identifier without a prefix is an attribute.
	BareIsAttribute bool
}

var (
	stringOps  = []string{"!=", "=", "ILIKE", "IN", "LIKE", "NOT IN"}
	numericOps = []string{"!=", "<", "<=", "=", ">", ">="}
	tagOps     = []string{"!=", "=", "ILIKE", "IN", "IS NOT NULL", "IS NULL", "LIKE", "NOT IN"}
)

// RunGrammar is the filter grammar of runs/search.
var RunGrammar = &Grammar{
	Entities: map[string]string{
		"metric": EntityMetric, "metrics": EntityMetric,
		"param": EntityParam, "params": EntityParam, "parameter": EntityParam, "parameters": EntityParam,
		"tag": EntityTag, "tags": EntityTag,
		"attribute": EntityAttribute, "attributes": EntityAttribute, "attr": EntityAttribute, "run": EntityAttribute,
		"dataset": EntityDataset, "datasets": EntityDataset,
	},
	Attributes: map[string]AttrKind{
		"run_id": AttrString, "run_name": AttrString, "status": AttrString, "user_id": AttrString,
		"artifact_uri": AttrString, "lifecycle_stage": AttrString, "start_time": AttrNumeric, "end_time": AttrNumeric,
	},
	Aliases:         map[string]string{"created": "start_time", "Created": "start_time", "run_uuid": "run_id"},
	Orderable:       map[string]bool{"run_id": true, "run_name": true, "status": true, "user_id": true, "artifact_uri": true, "start_time": true, "end_time": true, "experiment_id": true},
	DatasetKeys:     map[string]bool{"name": true, "digest": true, "context": true},
	BareIsAttribute: true,
}

// ExperimentGrammar is the filter grammar of experiments/search.
var ExperimentGrammar = &Grammar{
	Entities: map[string]string{
		"tag": EntityTag, "tags": EntityTag,
		"attribute": EntityAttribute, "attributes": EntityAttribute, "attr": EntityAttribute,
	},
	Attributes:      map[string]AttrKind{"name": AttrString, "experiment_id": AttrString, "creation_time": AttrNumeric, "last_update_time": AttrNumeric},
	Orderable:       map[string]bool{"name": true, "experiment_id": true, "creation_time": true, "last_update_time": true},
	BareIsAttribute: true,
}

// LoggedModelGrammar is the filter grammar of logged-models/search.
var LoggedModelGrammar = &Grammar{
	Entities: map[string]string{
		"tag": EntityTag, "tags": EntityTag,
		"param": EntityParam, "params": EntityParam,
		"metric": EntityMetric, "metrics": EntityMetric,
		"attribute": EntityAttribute, "attributes": EntityAttribute,
	},
	Attributes: map[string]AttrKind{
		"name": AttrString, "model_id": AttrString, "status": AttrString, "source_run_id": AttrString, "model_type": AttrString,
		"creation_timestamp": AttrNumeric, "last_updated_timestamp": AttrNumeric,
	},
	Aliases:         map[string]string{"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"},
	Orderable:       map[string]bool{"name": true, "model_id": true, "creation_timestamp": true, "last_updated_timestamp": true, "status": true},
	BareIsAttribute: true,
}

// FilterError is INVALID_PARAMETER_VALUE with a message about a filter.
func filterErr(format string, args ...any) error { return Invalid(format, args...) }

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind   tokKind
	text   string // raw (ident: prefix.key as written; string: unquoted value)
	prefix string // ident: part before the first dot ("" when none)
	key    string // ident: part after the first dot, unquoted
	dotted bool
	pos    int
}

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{kind: tLParen, text: "(", pos: i})
			i++
		case c == ')':
			out = append(out, token{kind: tRParen, text: ")", pos: i})
			i++
		case c == ',':
			out = append(out, token{kind: tComma, text: ",", pos: i})
			i++
		case c == '=' || c == '<' || c == '>' || c == '!':
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '<' && s[j] == '>')) {
				j++
			}
			op := s[i:j]
			if op == "!" {
				return nil, filterErr("Invalid filter '%s': unexpected character '!' at position %d", s, i)
			}
			if op == "<>" || op == "==" {
				op = map[string]string{"<>": "!=", "==": "="}[op]
			}
			out = append(out, token{kind: tOp, text: op, pos: i})
			i = j
		case c == '\'' || c == '"':
			v, n, err := readQuoted(s, i)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tString, text: v, pos: i})
			i = n
		case c >= '0' && c <= '9' || (c == '-' || c == '+' || c == '.') && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '.'):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				(s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			out = append(out, token{kind: tNumber, text: s[i:j], pos: i})
			i = j
		case c == '`' || isIdentStart(c):
			t, n, err := readIdent(s, i)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
			i = n
		default:
			return nil, filterErr("Invalid filter '%s': unexpected character '%c' at position %d", s, c, i)
		}
	}
	return append(out, token{kind: tEOF, pos: len(s)}), nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' }

// readQuoted reads a '…' or "…" string starting at s[i]; a doubled quote or a
// backslash escapes the quote character.
func readQuoted(s string, i int) (string, int, error) {
	q := s[i]
	var b strings.Builder
	j := i + 1
	for j < len(s) {
		c := s[j]
		switch {
		case c == '\\' && j+1 < len(s):
			b.WriteByte(s[j+1])
			j += 2
		case c == q && j+1 < len(s) && s[j+1] == q:
			b.WriteByte(q)
			j += 2
		case c == q:
			return b.String(), j + 1, nil
		default:
			b.WriteByte(c)
			j++
		}
	}
	return "", 0, filterErr("Invalid filter '%s': unterminated string starting at position %d", s, i)
}

// readIdent reads prefix.key where key may be backquoted or double-quoted.
func readIdent(s string, i int) (token, int, error) {
	t := token{kind: tIdent, pos: i}
	if s[i] == '`' {
		end := strings.IndexByte(s[i+1:], '`')
		if end < 0 {
			return t, 0, filterErr("Invalid filter '%s': unterminated backquoted identifier at position %d", s, i)
		}
		t.text = s[i+1 : i+1+end]
		t.key = t.text
		return t, i + end + 2, nil
	}
	j := i
	for j < len(s) && isIdentChar(s[j]) {
		j++
	}
	word := s[i:j]
	prefix, key, dotted := strings.Cut(word, ".")
	t.text, t.prefix, t.key, t.dotted = word, prefix, key, dotted
	if !dotted {
		t.key = word
	}
	if dotted && key == "" && j < len(s) && (s[j] == '`' || s[j] == '"') {
		q := s[j]
		end := strings.IndexByte(s[j+1:], q)
		if end < 0 {
			return t, 0, filterErr("Invalid filter '%s': unterminated quoted key at position %d", s, j)
		}
		t.key = s[j+1 : j+1+end]
		t.text = word + string(q) + t.key + string(q)
		j = j + end + 2
	}
	if dotted && t.key == "" {
		return t, 0, filterErr("Invalid filter '%s': identifier '%s' has no key after the '.'", s, word)
	}
	return t, j, nil
}

type parser struct {
	src  string
	toks []token
	i    int
	g    *Grammar
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) keyword(t token, kw string) bool {
	return t.kind == tIdent && !t.dotted && strings.EqualFold(t.text, kw)
}

// ParseFilter parses an MLflow search filter with grammar g. An empty filter
// gives no clauses. Errors: INVALID_PARAMETER_VALUE naming the problem.
func ParseFilter(s string, g *Grammar) ([]Clause, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{src: s, toks: toks, g: g}
	var out []Clause
	for {
		c, err := p.clause()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		t := p.next()
		if t.kind == tEOF {
			return out, nil
		}
		if p.keyword(t, "OR") {
			return nil, filterErr("Invalid filter '%s': 'OR' is not supported; only AND joins clauses", s)
		}
		if !p.keyword(t, "AND") {
			return nil, filterErr("Invalid filter '%s': expected AND or the end of the filter at position %d, found '%s'", s, t.pos, t.text)
		}
	}
}

func (p *parser) ident(t token) (entity, key string, err error) {
	if t.kind != tIdent || (!t.dotted && isKeyword(t.text)) {
		what := t.text
		if t.kind == tEOF {
			what = "end of filter"
		}
		return "", "", filterErr("Invalid filter '%s': expected an identifier such as metrics.<key>, params.<key>, tags.<key> or an attribute at position %d, found '%s'", p.src, t.pos, what)
	}
	if !t.dotted {
		if !p.g.BareIsAttribute {
			return "", "", filterErr("Invalid filter '%s': identifier '%s' needs an entity prefix", p.src, t.text)
		}
		entity, key = EntityAttribute, t.key
	} else {
		e, ok := p.g.Entities[t.prefix]
		if !ok {
			return "", "", filterErr("Invalid entity type '%s'. Valid values are %s", t.prefix, quoteList(sortedKeys(p.g.Entities)))
		}
		entity, key = e, t.key
	}
	switch entity {
	case EntityAttribute:
		if a, ok := p.g.Aliases[key]; ok {
			key = a
		}
		if _, ok := p.g.Attributes[key]; !ok {
			return "", "", filterErr("Invalid attribute key '%s' specified. Valid keys are %s", key, quoteList(sortedKeys(p.g.Attributes)))
		}
	case EntityDataset:
		if !p.g.DatasetKeys[key] {
			return "", "", filterErr("Invalid dataset key '%s' specified. Valid keys are %s", key, quoteList(sortedKeys(p.g.DatasetKeys)))
		}
	}
	return entity, key, nil
}

func isKeyword(s string) bool {
	switch strings.ToUpper(s) {
	case "AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "ASC", "DESC":
		return true
	}
	return false
}

func (p *parser) clause() (Clause, error) {
	entity, key, err := p.ident(p.next())
	if err != nil {
		return Clause{}, err
	}
	c := Clause{Entity: entity, Key: key}
	t := p.next()
	switch {
	case t.kind == tOp:
		c.Op = t.text
	case p.keyword(t, "LIKE"), p.keyword(t, "ILIKE"), p.keyword(t, "IN"):
		c.Op = strings.ToUpper(t.text)
	case p.keyword(t, "NOT"):
		if !p.keyword(p.next(), "IN") {
			return c, filterErr("Invalid filter '%s': expected IN after NOT at position %d", p.src, t.pos)
		}
		c.Op = "NOT IN"
	case p.keyword(t, "IS"):
		c.Op = "IS NULL"
		n := p.next()
		if p.keyword(n, "NOT") {
			c.Op, n = "IS NOT NULL", p.next()
		}
		if !p.keyword(n, "NULL") {
			return c, filterErr("Invalid filter '%s': expected NULL after IS at position %d", p.src, n.pos)
		}
	default:
		what := t.text
		if t.kind == tEOF {
			what = "end of filter"
		}
		return c, filterErr("Invalid filter '%s': expected a comparison operator after '%s' at position %d, found '%s'", p.src, key, t.pos, what)
	}
	allowed, numeric := p.ops(c)
	if !contains(allowed, c.Op) {
		return c, filterErr("Invalid comparator '%s' not one of '%s'", c.Op, quoteList(allowed))
	}
	switch c.Op {
	case "IS NULL", "IS NOT NULL":
		return c, nil
	case "IN", "NOT IN":
		if t := p.next(); t.kind != tLParen {
			return c, filterErr("Invalid filter '%s': expected '(' after %s at position %d", p.src, c.Op, t.pos)
		}
		for {
			v := p.next()
			if v.kind != tString {
				return c, filterErr("Invalid filter '%s': %s takes a list of quoted strings, e.g. ('a', 'b'); found '%s' at position %d", p.src, c.Op, v.text, v.pos)
			}
			c.List = append(c.List, v.text)
			sep := p.next()
			if sep.kind == tRParen {
				return c, nil
			}
			if sep.kind != tComma {
				return c, filterErr("Invalid filter '%s': expected ',' or ')' in the %s list at position %d", p.src, c.Op, sep.pos)
			}
		}
	}
	v := p.next()
	if numeric {
		if v.kind != tNumber {
			return c, filterErr("Expected numeric value type for %s '%s'. Found '%s'", entity, key, v.text)
		}
		f, err := strconv.ParseFloat(v.text, 64)
		if err != nil {
			return c, filterErr("Expected numeric value type for %s '%s'. Found '%s'", entity, key, v.text)
		}
		c.Num, c.IsNum = f, true
		return c, nil
	}
	if v.kind != tString {
		return c, filterErr("Value for %s '%s' must be a quoted string (single or double quotes). Found '%s'", entity, key, v.text)
	}
	c.Str = v.text
	return c, nil
}

// ops returns the operators allowed for the clause's identifier and whether
// its operand is numeric.
func (p *parser) ops(c Clause) ([]string, bool) {
	switch c.Entity {
	case EntityMetric:
		return numericOps, true
	case EntityTag:
		return tagOps, false
	case EntityParam, EntityDataset:
		return stringOps, false
	}
	if p.g.Attributes[c.Key] == AttrNumeric {
		return numericOps, true
	}
	return stringOps, false
}

// ParseOrderBy parses one ORDER BY term such as "metrics.`val loss` DESC".
func ParseOrderBy(s string, g *Grammar) (OrderKey, error) {
	toks, err := lex(s)
	if err != nil {
		return OrderKey{}, err
	}
	p := &parser{src: s, toks: toks, g: g}
	t := p.next()
	if t.kind != tIdent {
		return OrderKey{}, Invalid("Invalid order_by clause '%s'. Use <identifier> [ASC|DESC], e.g. 'metrics.acc DESC' or 'start_time'.", s)
	}
	var ok OrderKey
	if !t.dotted && g.BareIsAttribute {
		ok.Entity, ok.Key = EntityAttribute, t.key
	} else if e, found := g.Entities[t.prefix]; found && t.dotted {
		ok.Entity, ok.Key = e, t.key
	} else {
		return ok, Invalid("Invalid order_by entity type '%s' in '%s'. Valid values are %s", t.prefix, s, quoteList(sortedKeys(g.Entities)))
	}
	if ok.Entity == EntityAttribute {
		if a, found := g.Aliases[ok.Key]; found {
			ok.Key = a
		}
		if !g.Orderable[ok.Key] {
			return ok, Invalid("Invalid order_by attribute key '%s' in '%s'. Valid keys are %s", ok.Key, s, quoteList(sortedKeys(g.Orderable)))
		}
	}
	if ok.Entity == EntityDataset {
		return ok, Invalid("Invalid order_by clause '%s': datasets cannot order a search", s)
	}
	d := p.next()
	switch {
	case d.kind == tEOF:
		return ok, nil
	case p.keyword(d, "DESC"):
		ok.Desc = true
	case p.keyword(d, "ASC"):
	default:
		return ok, Invalid("Invalid order_by clause '%s'. Use <identifier> [ASC|DESC].", s)
	}
	if p.next().kind != tEOF {
		return ok, Invalid("Invalid order_by clause '%s'. Use <identifier> [ASC|DESC].", s)
	}
	return ok, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// String renders a clause (for messages and tests).
func (c Clause) String() string {
	switch {
	case c.List != nil:
		return fmt.Sprintf("%s.%s %s %q", c.Entity, c.Key, c.Op, c.List)
	case c.IsNum:
		return fmt.Sprintf("%s.%s %s %g", c.Entity, c.Key, c.Op, c.Num)
	case c.Op == "IS NULL" || c.Op == "IS NOT NULL":
		return fmt.Sprintf("%s.%s %s", c.Entity, c.Key, c.Op)
	}
	return fmt.Sprintf("%s.%s %s %q", c.Entity, c.Key, c.Op, c.Str)
}

// LikeToGlob converts a SQL LIKE pattern (% and _) to a case-sensitive
// SQLite GLOB pattern, escaping GLOB's own metacharacters.
func LikeToGlob(p string) string {
	var b strings.Builder
	for _, c := range p {
		switch c {
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(c)
			b.WriteByte(']')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
