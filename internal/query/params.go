package query

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// Parameter is a value for a named parameter marker (:name) of a
// statement. Type is a Databricks type name (STRING when empty); Null
// binds SQL NULL.
type Parameter struct {
	Name  string
	Value string
	Type  string
	Null  bool
}

// paramTypes maps the accepted Databricks parameter types to the type the
// literal is cast to.
var paramTypes = map[string]string{
	"STRING": "VARCHAR", "BOOLEAN": "BOOLEAN", "TINYINT": "TINYINT", "BYTE": "TINYINT",
	"SMALLINT": "SMALLINT", "SHORT": "SMALLINT", "INT": "INTEGER", "INTEGER": "INTEGER",
	"BIGINT": "BIGINT", "LONG": "BIGINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE",
	"DATE": "DATE", "TIMESTAMP": "TIMESTAMPTZ", "TIMESTAMP_NTZ": "TIMESTAMP", "BINARY": "BLOB",
	"VOID": "",
}

var decimalType = regexp.MustCompile(`^DECIMAL(\(\s*([0-9]+)\s*(,\s*([0-9]+)\s*)?\))?$`)

// literal returns the SQL literal of p. Errors: errs.Invalid naming the
// parameter, the type and what is accepted.
func (p Parameter) literal() (string, error) {
	typ := strings.ToUpper(strings.TrimSpace(p.Type))
	if typ == "" {
		typ = "STRING"
	}
	cast, ok := paramTypes[typ]
	if m := decimalType.FindStringSubmatch(typ); m != nil {
		prec, scale := 10, 0
		if m[2] != "" {
			prec, _ = strconv.Atoi(m[2])
		}
		if m[4] != "" {
			scale, _ = strconv.Atoi(m[4])
		}
		if prec < 1 || prec > 38 || scale > prec {
			return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "parameter %q: invalid type %s: precision must be 1–38 and scale at most the precision", p.Name, p.Type)
		}
		cast, ok = "DECIMAL("+strconv.Itoa(prec)+","+strconv.Itoa(scale)+")", true
	}
	if !ok {
		return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "parameter %q has unsupported type %q; accepted: STRING, BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), DATE, TIMESTAMP, TIMESTAMP_NTZ, BINARY, VOID", p.Name, p.Type)
	}
	if p.Null || typ == "VOID" {
		if cast == "" {
			return "NULL", nil
		}
		return "CAST(NULL AS " + cast + ")", nil
	}
	v := strings.TrimSpace(p.Value)
	bad := func(want string) error {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "parameter %q: %q is not a valid %s (expected %s)", p.Name, p.Value, typ, want)
	}
	switch cast {
	case "BOOLEAN":
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			return "", bad("true or false")
		}
		return strconv.FormatBool(b), nil
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT":
		bits := map[string]int{"TINYINT": 8, "SMALLINT": 16, "INTEGER": 32, "BIGINT": 64}[cast]
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			return "", bad("an integer in range")
		}
		return "CAST(" + strconv.FormatInt(n, 10) + " AS " + cast + ")", nil
	case "FLOAT", "DOUBLE":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "", bad("a number")
		}
	case "DATE":
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return "", bad("a date such as 2024-01-31")
		}
	case "TIMESTAMPTZ", "TIMESTAMP":
		if _, err := parseTimestamp(v); err != nil {
			return "", bad("a timestamp such as 2024-01-31 12:00:00 or 2024-01-31T12:00:00Z")
		}
	default:
		if strings.HasPrefix(cast, "DECIMAL") {
			if _, ok := new(big.Rat).SetString(v); !ok {
				return "", bad("a decimal number")
			}
		}
		if cast == "VARCHAR" || cast == "BLOB" {
			v = p.Value
		}
	}
	return "CAST(" + quoteString(v) + " AS " + cast + ")", nil
}

// BindParameters replaces the named parameter markers (:name) of text by
// typed literals. A colon right after an identifier, a closing bracket or
// another colon is not a marker (JSON paths col:field, casts ::). Errors:
// errs.Invalid UNBOUND_SQL_PARAMETER for a marker without a value,
// INVALID_PARAMETER_VALUE for a bad value or type or a parameter given
// twice, PARSE_SYNTAX_ERROR for text that does not lex.
func BindParameters(text string, params []Parameter) (string, error) {
	byName := map[string]Parameter{}
	for _, p := range params {
		n := strings.ToLower(p.Name)
		if n == "" {
			return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "a parameter has no name")
		}
		if _, dup := byName[n]; dup {
			return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "parameter %q is given more than once", p.Name)
		}
		byName[n] = p
	}
	toks, err := lex(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	last := 0
	for i := 0; i+1 < len(toks); i++ {
		c, name := toks[i], toks[i+1]
		if c.Kind != tkPunct || c.Text != ":" || name.Kind != tkWord || name.Pos != c.End {
			continue
		}
		if i > 0 {
			prev := toks[i-1]
			if prev.End == c.Pos && (prev.Kind == tkWord || prev.Kind == tkQIdent || prev.Text == ")" || prev.Text == "]" || prev.Text == ":") {
				continue
			}
		}
		p, ok := byName[strings.ToLower(name.Text)]
		if !ok {
			return "", errs.E(errs.Invalid, "UNBOUND_SQL_PARAMETER", "found the unbound parameter :%s; pass it in parameters (name, value, type)", name.Text)
		}
		lit, err := p.literal()
		if err != nil {
			return "", err
		}
		b.WriteString(text[last:c.Pos])
		b.WriteString(lit)
		last = name.End
		i++
	}
	if last == 0 {
		return text, nil
	}
	b.WriteString(text[last:])
	return b.String(), nil
}
