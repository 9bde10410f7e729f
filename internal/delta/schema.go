package delta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// DataType is a Delta data type: *PrimitiveType, *DecimalType, *ArrayType,
// *MapType or *StructType. String returns the Delta spelling ("long",
// "decimal(10,2)", "array<int>"-style for complex types is not used by the
// protocol; complex types serialise to JSON objects).
type DataType interface {
	String() string
	isDataType()
}

// PrimitiveType is a non-parameterised primitive type. Name is the protocol
// spelling: byte, short, integer, long, float, double, string, binary,
// boolean, date, timestamp, timestamp_ntz.
type PrimitiveType struct{ Name string }

// The primitive types.
var (
	TypeByte         = &PrimitiveType{"byte"}
	TypeShort        = &PrimitiveType{"short"}
	TypeInteger      = &PrimitiveType{"integer"}
	TypeLong         = &PrimitiveType{"long"}
	TypeFloat        = &PrimitiveType{"float"}
	TypeDouble       = &PrimitiveType{"double"}
	TypeString       = &PrimitiveType{"string"}
	TypeBinary       = &PrimitiveType{"binary"}
	TypeBoolean      = &PrimitiveType{"boolean"}
	TypeDate         = &PrimitiveType{"date"}
	TypeTimestamp    = &PrimitiveType{"timestamp"}
	TypeTimestampNTZ = &PrimitiveType{"timestamp_ntz"}
)

func primitiveByName(name string) *PrimitiveType {
	for _, p := range []*PrimitiveType{TypeByte, TypeShort, TypeInteger, TypeLong, TypeFloat, TypeDouble, TypeString, TypeBinary, TypeBoolean, TypeDate, TypeTimestamp, TypeTimestampNTZ} {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// DecimalType is decimal(Precision, Scale), 1 <= Precision <= 38.
type DecimalType struct{ Precision, Scale int }

// ArrayType is an array of ElementType.
type ArrayType struct {
	ElementType  DataType
	ContainsNull bool
}

// MapType is a map from KeyType to ValueType.
type MapType struct {
	KeyType           DataType
	ValueType         DataType
	ValueContainsNull bool
}

// StructType is an ordered list of named fields; the table schema is one.
type StructType struct{ Fields []*StructField }

// StructField is one field of a StructType. Metadata holds the field's
// metadata map as decoded JSON (numbers are json.Number), including column
// mapping ("delta.columnMapping.id", "delta.columnMapping.physicalName") and
// type widening ("delta.typeChanges") entries.
type StructField struct {
	Name     string
	Type     DataType
	Nullable bool
	Metadata map[string]any
}

// Metadata keys with a meaning to readers.
const (
	MetaColumnMappingID   = "delta.columnMapping.id"
	MetaColumnMappingName = "delta.columnMapping.physicalName"
	MetaTypeChanges       = "delta.typeChanges"
)

func (*PrimitiveType) isDataType() {}
func (*DecimalType) isDataType()   {}
func (*ArrayType) isDataType()     {}
func (*MapType) isDataType()       {}
func (*StructType) isDataType()    {}

// String returns the protocol name.
func (p *PrimitiveType) String() string { return p.Name }

// String returns "decimal(p,s)".
func (d *DecimalType) String() string { return fmt.Sprintf("decimal(%d,%d)", d.Precision, d.Scale) }

// String returns the JSON form.
func (a *ArrayType) String() string { return typeJSONString(a) }

// String returns the JSON form.
func (m *MapType) String() string { return typeJSONString(m) }

// String returns the JSON form (the schemaString).
func (s *StructType) String() string { return typeJSONString(s) }

func typeJSONString(t DataType) string {
	b, err := MarshalDataType(t)
	if err != nil {
		return fmt.Sprintf("<invalid type: %v>", err)
	}
	return string(b)
}

// Field returns the field named name (exact match first, then
// case-insensitive, as Delta column names are case-insensitive), or nil.
func (s *StructType) Field(name string) *StructField {
	for _, f := range s.Fields {
		if f.Name == name {
			return f
		}
	}
	for _, f := range s.Fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// FieldIndex returns the index of the field named name (see Field), or -1.
func (s *StructType) FieldIndex(name string) int {
	f := s.Field(name)
	for i, g := range s.Fields {
		if g == f && f != nil {
			return i
		}
	}
	return -1
}

// PhysicalName returns the name the field has in data files: the column
// mapping physical name when mode is "name" or "id", else Name.
func (f *StructField) PhysicalName(mode ColumnMappingMode) string {
	if mode != ColumnMappingNone {
		if s, ok := f.Metadata[MetaColumnMappingName].(string); ok && s != "" {
			return s
		}
	}
	return f.Name
}

// FieldID returns the column mapping id and whether the field has one.
func (f *StructField) FieldID() (int64, bool) {
	switch v := f.Metadata[MetaColumnMappingID].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case float64:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	}
	return 0, false
}

// ColumnMappingMode is the value of delta.columnMapping.mode.
type ColumnMappingMode string

// The column mapping modes.
const (
	ColumnMappingNone ColumnMappingMode = "none"
	ColumnMappingName ColumnMappingMode = "name"
	ColumnMappingID   ColumnMappingMode = "id"
)

var decimalRE = regexp.MustCompile(`^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$`)

// ParseSchema parses a schemaString. Errors: errs.Invalid with reason
// DELTA_INVALID_SCHEMA.
func ParseSchema(s string) (*StructType, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, errs.Wrap(errs.Invalid, ReasonInvalidSchema, err, "schemaString is not valid JSON: %v", err)
	}
	t, err := parseType(raw)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, ReasonInvalidSchema, err, "invalid schemaString: %v", err)
	}
	st, ok := t.(*StructType)
	if !ok {
		return nil, errs.E(errs.Invalid, ReasonInvalidSchema, "schemaString is a %s, not a struct", t)
	}
	return st, nil
}

// ParseDataType parses a type from its JSON form (a string such as "long" or
// an object for complex types).
func ParseDataType(b []byte) (DataType, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	return parseType(raw)
}

func parseType(raw any) (DataType, error) {
	switch v := raw.(type) {
	case string:
		if p := primitiveByName(v); p != nil {
			return p, nil
		}
		if v == "decimal" {
			return &DecimalType{10, 0}, nil
		}
		if m := decimalRE.FindStringSubmatch(v); m != nil {
			p, _ := strconv.Atoi(m[1])
			s, _ := strconv.Atoi(m[2])
			if p < 1 || p > 38 || s > p {
				return nil, fmt.Errorf("decimal(%d,%d) is out of range (precision 1..38, scale <= precision)", p, s)
			}
			return &DecimalType{p, s}, nil
		}
		return nil, fmt.Errorf("unknown type %q", v)
	case map[string]any:
		switch v["type"] {
		case "struct":
			fs, ok := v["fields"].([]any)
			if !ok {
				return nil, fmt.Errorf("struct type without a fields array")
			}
			st := &StructType{Fields: make([]*StructField, 0, len(fs))}
			for i, f := range fs {
				fm, ok := f.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("field %d is not an object", i)
				}
				name, ok := fm["name"].(string)
				if !ok {
					return nil, fmt.Errorf("field %d has no name", i)
				}
				ft, err := parseType(fm["type"])
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", name, err)
				}
				nullable, _ := fm["nullable"].(bool)
				if _, ok := fm["nullable"]; !ok {
					nullable = true
				}
				md, _ := fm["metadata"].(map[string]any)
				st.Fields = append(st.Fields, &StructField{Name: name, Type: ft, Nullable: nullable, Metadata: md})
			}
			return st, nil
		case "array":
			et, err := parseType(v["elementType"])
			if err != nil {
				return nil, fmt.Errorf("array element: %w", err)
			}
			cn, ok := v["containsNull"].(bool)
			if !ok {
				cn = true
			}
			return &ArrayType{ElementType: et, ContainsNull: cn}, nil
		case "map":
			kt, err := parseType(v["keyType"])
			if err != nil {
				return nil, fmt.Errorf("map key: %w", err)
			}
			vt, err := parseType(v["valueType"])
			if err != nil {
				return nil, fmt.Errorf("map value: %w", err)
			}
			vn, ok := v["valueContainsNull"].(bool)
			if !ok {
				vn = true
			}
			return &MapType{KeyType: kt, ValueType: vt, ValueContainsNull: vn}, nil
		}
		return nil, fmt.Errorf("unknown complex type %v", v["type"])
	}
	return nil, fmt.Errorf("type must be a string or an object, got %T", raw)
}

// MarshalDataType serialises t in the protocol's JSON form; for a
// *StructType that is a schemaString.
func MarshalDataType(t DataType) ([]byte, error) {
	return json.Marshal(typeToJSON(t))
}

type jsonField struct {
	Name     string         `json:"name"`
	Type     any            `json:"type"`
	Nullable bool           `json:"nullable"`
	Metadata map[string]any `json:"metadata"`
}

type jsonStruct struct {
	Type   string      `json:"type"`
	Fields []jsonField `json:"fields"`
}

type jsonArray struct {
	Type         string `json:"type"`
	ElementType  any    `json:"elementType"`
	ContainsNull bool   `json:"containsNull"`
}

type jsonMap struct {
	Type              string `json:"type"`
	KeyType           any    `json:"keyType"`
	ValueType         any    `json:"valueType"`
	ValueContainsNull bool   `json:"valueContainsNull"`
}

func typeToJSON(t DataType) any {
	switch v := t.(type) {
	case *PrimitiveType, *DecimalType:
		return v.String()
	case *ArrayType:
		return jsonArray{"array", typeToJSON(v.ElementType), v.ContainsNull}
	case *MapType:
		return jsonMap{"map", typeToJSON(v.KeyType), typeToJSON(v.ValueType), v.ValueContainsNull}
	case *StructType:
		js := jsonStruct{Type: "struct", Fields: make([]jsonField, len(v.Fields))}
		for i, f := range v.Fields {
			md := f.Metadata
			if md == nil {
				md = map[string]any{}
			}
			js.Fields[i] = jsonField{f.Name, typeToJSON(f.Type), f.Nullable, md}
		}
		return js
	}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (s *StructType) MarshalJSON() ([]byte, error) { return MarshalDataType(s) }

// MarshalJSON implements json.Marshaler.
func (a *ArrayType) MarshalJSON() ([]byte, error) { return MarshalDataType(a) }

// MarshalJSON implements json.Marshaler.
func (m *MapType) MarshalJSON() ([]byte, error) { return MarshalDataType(m) }

// MarshalJSON implements json.Marshaler.
func (p *PrimitiveType) MarshalJSON() ([]byte, error) { return json.Marshal(p.Name) }

// MarshalJSON implements json.Marshaler.
func (d *DecimalType) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// TypeChange is one entry of a field's delta.typeChanges metadata.
type TypeChange struct {
	FromType     DataType
	ToType       DataType
	TableVersion int64
}

// TypeChanges returns the type widening history recorded on the field.
func (f *StructField) TypeChanges() []TypeChange {
	list, _ := f.Metadata[MetaTypeChanges].([]any)
	var out []TypeChange
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		from, err1 := parseType(m["fromType"])
		to, err2 := parseType(m["toType"])
		if err1 != nil || err2 != nil {
			continue
		}
		tc := TypeChange{FromType: from, ToType: to}
		if n, ok := m["tableVersion"].(json.Number); ok {
			tc.TableVersion, _ = n.Int64()
		}
		out = append(out, tc)
	}
	return out
}
