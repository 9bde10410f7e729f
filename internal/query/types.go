package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// duckType returns the DuckDB type of a Delta type.
func duckType(t delta.DataType) string {
	switch x := t.(type) {
	case *delta.PrimitiveType:
		switch x.Name {
		case "byte":
			return "TINYINT"
		case "short":
			return "SMALLINT"
		case "integer":
			return "INTEGER"
		case "long":
			return "BIGINT"
		case "float":
			return "FLOAT"
		case "double":
			return "DOUBLE"
		case "string":
			return "VARCHAR"
		case "binary":
			return "BLOB"
		case "boolean":
			return "BOOLEAN"
		case "date":
			return "DATE"
		case "timestamp":
			return "TIMESTAMPTZ"
		case "timestamp_ntz":
			return "TIMESTAMP"
		}
	case *delta.DecimalType:
		return fmt.Sprintf("DECIMAL(%d,%d)", x.Precision, x.Scale)
	case *delta.ArrayType:
		return duckType(x.ElementType) + "[]"
	case *delta.MapType:
		return "MAP(" + duckType(x.KeyType) + ", " + duckType(x.ValueType) + ")"
	case *delta.StructType:
		var fs []string
		for _, f := range x.Fields {
			fs = append(fs, quoteIdent(f.Name)+" "+duckType(f.Type))
		}
		return "STRUCT(" + strings.Join(fs, ", ") + ")"
	}
	return "VARCHAR"
}

// sqlTypeText renders a Delta type in Databricks SQL spelling, as DESCRIBE
// shows it (int, struct<a:int>).
func sqlTypeText(t delta.DataType) string { return typeText(t, false) }

// ddlTypeText renders a Delta type as SHOW CREATE TABLE writes it (INT,
// STRUCT<a: INT>), with struct field names quoted where needed.
func ddlTypeText(t delta.DataType) string { return typeText(t, true) }

func typeText(t delta.DataType, ddl bool) string {
	kw, sep := func(s string) string { return s }, ","
	if ddl {
		kw, sep = strings.ToUpper, ", "
	}
	switch x := t.(type) {
	case *delta.PrimitiveType:
		switch x.Name {
		case "integer":
			return kw("int")
		case "long":
			return kw("bigint")
		case "short":
			return kw("smallint")
		case "byte":
			return kw("tinyint")
		}
		return kw(x.Name)
	case *delta.DecimalType:
		return kw(fmt.Sprintf("decimal(%d,%d)", x.Precision, x.Scale))
	case *delta.ArrayType:
		return kw("array") + "<" + typeText(x.ElementType, ddl) + ">"
	case *delta.MapType:
		return kw("map") + "<" + typeText(x.KeyType, ddl) + sep + typeText(x.ValueType, ddl) + ">"
	case *delta.StructType:
		var fs []string
		for _, f := range x.Fields {
			if ddl {
				fs = append(fs, ddlIdent(f.Name)+": "+typeText(f.Type, ddl))
			} else {
				fs = append(fs, f.Name+":"+typeText(f.Type, ddl))
			}
		}
		return kw("struct") + "<" + strings.Join(fs, sep) + ">"
	}
	return t.String()
}

// typeParser parses type names in Databricks (INT, ARRAY<INT>,
// STRUCT<a: INT>) and DuckDB (INTEGER[], STRUCT(a INTEGER), MAP(K, V),
// TIMESTAMP WITH TIME ZONE) spelling.
type typeParser struct {
	toks []token
	i    int
	src  string
	duck bool // DuckDB spelling: TIMESTAMP is without time zone
}

func (p *typeParser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{Pos: len(p.src), End: len(p.src)}
}

func (p *typeParser) next() token { t := p.peek(); p.i++; return t }

func (p *typeParser) expect(s string) error {
	if t := p.next(); t.Text != s {
		return syntaxErr(p.src, t.Pos, fmt.Sprintf("expected %q in type, found %q", s, t.Text))
	}
	return nil
}

func (p *typeParser) parse() (delta.DataType, error) {
	t := p.next()
	name := t.upper()
	var dt delta.DataType
	switch name {
	case "TINYINT", "BYTE", "INT1":
		dt = delta.TypeByte
	case "SMALLINT", "SHORT", "INT2":
		dt = delta.TypeShort
	case "INT", "INTEGER", "INT4", "SIGNED":
		dt = delta.TypeInteger
	case "BIGINT", "LONG", "INT8", "HUGEINT":
		dt = delta.TypeLong
	case "FLOAT", "REAL", "FLOAT4":
		dt = delta.TypeFloat
	case "DOUBLE", "FLOAT8":
		dt = delta.TypeDouble
		if p.peek().upper() == "PRECISION" {
			p.next()
		}
	case "STRING", "VARCHAR", "CHAR", "TEXT", "UUID":
		dt = delta.TypeString
		if p.peek().Text == "(" {
			p.next()
			p.next()
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		}
	case "BINARY", "BLOB", "BYTEA":
		dt = delta.TypeBinary
	case "BOOLEAN", "BOOL":
		dt = delta.TypeBoolean
	case "DATE":
		dt = delta.TypeDate
	case "TIMESTAMPTZ", "TIMESTAMP_LTZ":
		dt = delta.TypeTimestamp
	case "TIMESTAMP_NTZ":
		dt = delta.TypeTimestampNTZ
	case "TIMESTAMP", "DATETIME":
		dt = delta.TypeTimestamp // Databricks: TIMESTAMP is with local time zone
		if p.peek().upper() == "WITH" {
			p.i += 3 // WITH TIME ZONE
		} else if name == "TIMESTAMP" && p.duck {
			dt = delta.TypeTimestampNTZ
		}
	case "DECIMAL", "NUMERIC", "DEC":
		prec, scale := 10, 0
		if p.peek().Text == "(" {
			p.next()
			a, err := strconv.Atoi(p.next().Text)
			if err != nil {
				return nil, syntaxErr(p.src, t.Pos, "DECIMAL needs (precision, scale)")
			}
			prec = a
			if p.peek().Text == "," {
				p.next()
				if scale, err = strconv.Atoi(p.next().Text); err != nil {
					return nil, syntaxErr(p.src, t.Pos, "DECIMAL needs (precision, scale)")
				}
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		} else if p.duck {
			prec, scale = 18, 3
		}
		if prec < 1 || prec > 38 || scale < 0 || scale > prec {
			return nil, errs.E(errs.Invalid, "INVALID_DECIMAL", "DECIMAL(%d,%d) is out of range: precision 1-38, scale 0-precision", prec, scale)
		}
		dt = &delta.DecimalType{Precision: prec, Scale: scale}
	case "ARRAY":
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		el, err := p.parse()
		if err != nil {
			return nil, err
		}
		if err := p.expect(">"); err != nil {
			return nil, err
		}
		dt = &delta.ArrayType{ElementType: el, ContainsNull: true}
	case "MAP":
		open, close := "<", ">"
		if p.peek().Text == "(" {
			open, close = "(", ")"
		}
		if err := p.expect(open); err != nil {
			return nil, err
		}
		k, err := p.parse()
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		v, err := p.parse()
		if err != nil {
			return nil, err
		}
		if err := p.expect(close); err != nil {
			return nil, err
		}
		dt = &delta.MapType{KeyType: k, ValueType: v, ValueContainsNull: true}
	case "STRUCT":
		open, close := "<", ">"
		if p.peek().Text == "(" {
			open, close = "(", ")"
		}
		if err := p.expect(open); err != nil {
			return nil, err
		}
		st := &delta.StructType{}
		for {
			n := p.next()
			if n.ident() == "" {
				return nil, syntaxErr(p.src, n.Pos, "expected a field name in STRUCT")
			}
			if p.peek().Text == ":" {
				p.next()
			}
			ft, err := p.parse()
			if err != nil {
				return nil, err
			}
			st.Fields = append(st.Fields, &delta.StructField{Name: n.ident(), Type: ft, Nullable: true})
			if p.peek().Text == "," {
				p.next()
				continue
			}
			break
		}
		if err := p.expect(close); err != nil {
			return nil, err
		}
		dt = st
	default:
		return nil, errs.E(errs.Invalid, "UNSUPPORTED_DATATYPE", "unsupported data type %q; accepted: TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), STRING, BINARY, BOOLEAN, DATE, TIMESTAMP, TIMESTAMP_NTZ, ARRAY<T>, MAP<K,V>, STRUCT<...>", t.Text)
	}
	for p.peek().Text == "[" { // DuckDB list suffix
		p.next()
		if err := p.expect("]"); err != nil {
			return nil, err
		}
		dt = &delta.ArrayType{ElementType: dt, ContainsNull: true}
	}
	return dt, nil
}

// parseType parses a whole type string.
func parseType(s string, duck bool) (delta.DataType, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	// ">>" is lexed as two tokens already; split "<>" if it appears.
	p := &typeParser{toks: toks, src: s, duck: duck}
	dt, err := p.parse()
	if err != nil {
		return nil, err
	}
	if p.i != len(toks) {
		return nil, syntaxErr(s, p.peek().Pos, "unexpected text after type")
	}
	return dt, nil
}

// databricksType maps a DuckDB result type name to Databricks type_name
// and type_text.
func databricksType(duck string) (string, string) {
	dt, err := parseType(duck, true)
	if err != nil {
		return "STRING", strings.ToLower(duck)
	}
	text := sqlTypeText(dt)
	name := strings.ToUpper(text)
	if i := strings.IndexAny(name, "<("); i > 0 {
		name = name[:i]
	}
	switch name {
	case "TIMESTAMP_NTZ":
	}
	return name, text
}

// duckTypeOfText converts a catalog type text (e.g. "int", "decimal(10,2)")
// into DuckDB spelling.
func duckTypeOfText(full, name string) (string, error) {
	s := full
	if s == "" {
		s = name
	}
	dt, err := parseType(s, false)
	if err != nil {
		return "", err
	}
	return duckType(dt), nil
}
