package catalog

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// Error reasons, as Unity Catalog spells its error codes.
const (
	ReasonInvalid          = "INVALID_ARGUMENT"
	ReasonNotFound         = "NOT_FOUND"
	ReasonPermission       = "PERMISSION_DENIED"
	ReasonUnauthenticated  = "UNAUTHENTICATED"
	ReasonFailedPrecond    = "FAILED_PRECONDITION"
	ReasonUnimplemented    = "UNIMPLEMENTED"
	ReasonAlreadyExists    = "RESOURCE_ALREADY_EXISTS"
	ReasonCatalogNotFound  = "CATALOG_NOT_FOUND"
	ReasonSchemaNotFound   = "SCHEMA_NOT_FOUND"
	ReasonTableNotFound    = "TABLE_NOT_FOUND"
	ReasonUnsupportedTable = "UNSUPPORTED_TABLE_FORMAT"
)

func invalid(format string, args ...any) error {
	return errs.E(errs.Invalid, ReasonInvalid, format, args...)
}

func unimplemented(format string, args ...any) error {
	return errs.E(errs.Unimplemented, ReasonUnimplemented, format, args...)
}

func denied(format string, args ...any) error {
	return errs.E(errs.PermissionDenied, ReasonPermission, format, args...)
}

func precondition(format string, args ...any) error {
	return errs.E(errs.FailedPrecondition, ReasonFailedPrecond, format, args...)
}

// notFound is the error of a missing securable of type t.
func notFound(t SecurableType, name string) error {
	reason := ReasonNotFound
	switch t {
	case TypeCatalog:
		reason = ReasonCatalogNotFound
	case TypeSchema:
		reason = ReasonSchemaNotFound
	case TypeTable:
		reason = ReasonTableNotFound
	}
	return errs.E(errs.NotFound, reason, "%s %q does not exist", typeLabel(t), name)
}

// alreadyExists is the error of a duplicate securable (UC's legacy 400).
func alreadyExists(t SecurableType, name string) error {
	reason := ReasonAlreadyExists
	switch t {
	case TypeCatalog:
		reason = "CATALOG_ALREADY_EXISTS"
	case TypeSchema:
		reason = "SCHEMA_ALREADY_EXISTS"
	case TypeTable:
		reason = "TABLE_ALREADY_EXISTS"
	case TypeCredential:
		reason = "STORAGE_CREDENTIAL_ALREADY_EXISTS"
	case TypeExternalLocation:
		reason = "EXTERNAL_LOCATION_ALREADY_EXISTS"
	}
	return errs.E(errs.AlreadyExists, reason, "%s %q already exists", typeLabel(t), name)
}

func typeLabel(t SecurableType) string {
	switch t {
	case TypeRegisteredModel:
		return "registered model"
	case TypeExternalLocation:
		return "external location"
	case TypeCredential:
		return "storage credential"
	}
	return string(t)
}

// ValidateName checks one name part of a securable: 1-255 characters, none
// of them a period, space, slash, backtick or control character (the Unity
// Catalog rule). what labels the name in the error.
func ValidateName(what, name string) error {
	if name == "" {
		return invalid("%s name is required", what)
	}
	if len(name) > 255 || !utf8.ValidString(name) {
		return invalid("invalid %s name %q: use at most 255 characters of valid UTF-8", what, name)
	}
	for _, r := range name {
		if r == '.' || r == '/' || r == '`' || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return invalid("invalid %s name %q: names may not contain periods, spaces, slashes, backticks, backslashes or control characters", what, name)
		}
	}
	return nil
}

func validateParent(catalog, schema string) error {
	if err := ValidateName("catalog", catalog); err != nil {
		return err
	}
	return ValidateName("schema", schema)
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// splitFullName splits a full name into exactly n validated, lower-cased
// parts. Errors: errs.Invalid.
func splitFullName(t SecurableType, full string, n int) ([]string, error) {
	parts := strings.Split(full, ".")
	if len(parts) != n {
		want := map[int]string{1: "name", 2: "catalog.schema", 3: "catalog.schema.name", 4: "catalog.schema.table.column"}[n]
		return nil, invalid("invalid %s full name %q: expected %s", typeLabel(t), full, want)
	}
	for i, p := range parts {
		if err := ValidateName(typeLabel(t), p); err != nil {
			return nil, err
		}
		parts[i] = strings.ToLower(p)
	}
	return parts, nil
}

// depth is the number of name parts of a type's full name.
func depth(t SecurableType) int {
	switch t {
	case TypeSchema:
		return 2
	case TypeTable, TypeVolume, TypeFunction, TypeRegisteredModel, typeStaging:
		return 3
	}
	return 1
}

// normalizeURL checks a storage URL (file:///abs/path or s3://bucket/key)
// and returns it without a trailing slash. Errors: errs.Invalid.
func normalizeURL(raw string) (string, error) {
	if raw == "" {
		return "", invalid("a storage URL is required: use file:///absolute/path or s3://bucket/prefix")
	}
	u, err := url.Parse(raw)
	if err != nil || strings.ContainsAny(raw, "\x00?#") {
		return "", invalid("invalid storage URL %q: use file:///absolute/path or s3://bucket/prefix", raw)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" || !strings.HasPrefix(u.Path, "/") {
			return "", invalid("invalid storage URL %q: file URLs need an absolute path (file:///path)", raw)
		}
	case "s3", "s3a":
		if u.Host == "" {
			return "", invalid("invalid storage URL %q: s3 URLs need a bucket (s3://bucket/prefix)", raw)
		}
		u.Scheme = "s3"
	default:
		return "", invalid("unsupported storage URL %q: use file:///absolute/path or s3://bucket/prefix", raw)
	}
	p := u.Path
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return "", invalid("invalid storage URL %q: paths may not contain . or .. segments", raw)
		}
	}
	p = path.Clean("/" + p)
	if p == "/" {
		p = ""
	}
	return u.Scheme + "://" + u.Host + p, nil
}

// under reports whether url is base or below it.
func under(u, base string) bool {
	return u == base || strings.HasPrefix(u, strings.TrimRight(base, "/")+"/")
}

var columnTypeNames = []string{"BOOLEAN", "BYTE", "SHORT", "INT", "LONG", "FLOAT", "DOUBLE", "DATE", "TIMESTAMP", "TIMESTAMP_NTZ",
	"STRING", "BINARY", "DECIMAL", "INTERVAL", "ARRAY", "STRUCT", "MAP", "VARIANT", "CHAR", "NULL", "USER_DEFINED_TYPE", "TABLE_TYPE"}

var deltaTypeOf = map[string]string{"BOOLEAN": "boolean", "BYTE": "byte", "SHORT": "short", "INT": "integer", "LONG": "long",
	"FLOAT": "float", "DOUBLE": "double", "DATE": "date", "TIMESTAMP": "timestamp", "TIMESTAMP_NTZ": "timestamp_ntz",
	"STRING": "string", "CHAR": "string", "BINARY": "binary"}

// validateColumns checks names and types and fills type_text, position and
// nullable defaults.
func validateColumns(cols []ColumnInfo) error {
	seen := map[string]bool{}
	for i := range cols {
		c := &cols[i]
		if c.Name == "" || hasControl(c.Name) || len(c.Name) > 255 {
			return invalid("column %d needs a name of 1-255 characters without control characters", i)
		}
		k := strings.ToLower(c.Name)
		if seen[k] {
			return invalid("column %q appears twice (column names are case-insensitive)", c.Name)
		}
		seen[k] = true
		c.TypeName = strings.ToUpper(c.TypeName)
		if c.TypeName == "" && c.TypeJSON == "" {
			return invalid("column %q needs a type_name (one of %s) or a type_json", c.Name, strings.Join(columnTypeNames, ", "))
		}
		if c.TypeName != "" && !oneOf(c.TypeName, columnTypeNames) {
			return invalid("column %q has an unknown type_name %q; accepted: %s", c.Name, c.TypeName, strings.Join(columnTypeNames, ", "))
		}
		if c.TypeText == "" {
			c.TypeText = strings.ToLower(c.TypeName)
			if c.TypeName == "DECIMAL" {
				c.TypeText = fmt.Sprintf("decimal(%d,%d)", c.TypePrecision, c.TypeScale)
			}
		}
		if c.Nullable == nil {
			t := true
			c.Nullable = &t
		}
		c.Position = i
		if c.Mask != nil {
			return invalid("column masks are set with PATCH /tables/{full_name}, not at creation")
		}
	}
	return nil
}

// deltaSchema builds the Delta schema and partition columns of cols.
func deltaSchema(cols []ColumnInfo) (*delta.StructType, []string, error) {
	fields := make([]json.RawMessage, 0, len(cols))
	type part struct {
		idx  int
		name string
	}
	var parts []part
	for _, c := range cols {
		var f json.RawMessage
		if c.TypeJSON != "" && strings.HasPrefix(strings.TrimSpace(c.TypeJSON), "{") && strings.Contains(c.TypeJSON, `"name"`) {
			f = json.RawMessage(c.TypeJSON)
		} else {
			var typ any
			switch {
			case c.TypeJSON != "":
				typ = json.RawMessage(c.TypeJSON)
			case c.TypeName == "DECIMAL":
				p, s := c.TypePrecision, c.TypeScale
				if p == 0 {
					p = 10
				}
				typ = fmt.Sprintf("decimal(%d,%d)", p, s)
			case deltaTypeOf[c.TypeName] != "":
				typ = deltaTypeOf[c.TypeName]
			default:
				return nil, nil, invalid("column %q of type %s needs a type_json with its Delta type", c.Name, c.TypeName)
			}
			b, err := json.Marshal(map[string]any{"name": c.Name, "type": typ, "nullable": c.Nullable == nil || *c.Nullable, "metadata": map[string]any{}})
			if err != nil {
				return nil, nil, invalid("column %q: %v", c.Name, err)
			}
			f = b
		}
		fields = append(fields, f)
		if c.PartitionIndex != nil {
			parts = append(parts, part{*c.PartitionIndex, c.Name})
		}
	}
	b, _ := json.Marshal(map[string]any{"type": "struct", "fields": fields})
	st, err := delta.ParseSchema(string(b))
	if err != nil {
		return nil, nil, invalid("invalid column types: %s", errs.Message(err))
	}
	var pcols []string
	for i := 0; i < len(parts); i++ {
		for _, p := range parts {
			if p.idx == i {
				pcols = append(pcols, p.name)
			}
		}
	}
	if len(pcols) != len(parts) {
		return nil, nil, invalid("partition_index values must be 0, 1, 2, … without gaps or repeats")
	}
	return st, pcols, nil
}
