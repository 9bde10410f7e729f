package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.yaml.in/yaml/v3"
)

// specPath is the UC OpenAPI spec every JSON response of these tests is
// validated against.
const specPath = "/work/shared/reference/specs/unitycatalog-openapi.yaml"

// specExtraPrivileges are the Databricks privileges Lakebox accepts beyond
// the OSS spec's Privilege enum (a documented deviation).
var specExtraPrivileges = []any{"WRITE VOLUME", "APPLY TAG", "BROWSE", "MANAGE", "ALL PRIVILEGES", "CREATE MODEL VERSION"}

type specOp struct {
	method string
	re     *regexp.Regexp
	tmpl   string
	schema map[string]any // 200 response schema, nil if none
}

type openAPI struct {
	schemas map[string]any
	ops     []specOp
}

var (
	specOnce      sync.Once
	specDoc       *openAPI
	specErr       error
	specValidated atomic.Int64
	specErrors    atomic.Int64
)

func loadSpec() (*openAPI, error) {
	specOnce.Do(func() {
		data, err := os.ReadFile(specPath)
		if err != nil {
			specErr = err
			return
		}
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			specErr = err
			return
		}
		doc = normalizeYAML(doc).(map[string]any)
		comps := doc["components"].(map[string]any)["schemas"].(map[string]any)
		priv := comps["Privilege"].(map[string]any)
		priv["enum"] = append(priv["enum"].([]any), specExtraPrivileges...)
		o := &openAPI{schemas: comps}
		for p, item := range doc["paths"].(map[string]any) {
			segs := strings.Split(p, "/")
			for i, seg := range segs {
				if strings.HasPrefix(seg, "{") {
					segs[i] = `[^/]+`
				} else {
					segs[i] = regexp.QuoteMeta(seg)
				}
			}
			re := regexp.MustCompile("^/api/2\\.1/unity-catalog" + strings.Join(segs, "/") + "$")
			for m, op := range item.(map[string]any) {
				opm, ok := op.(map[string]any)
				if !ok || m == "parameters" {
					continue
				}
				var schema map[string]any
				if resp, ok := opm["responses"].(map[string]any); ok {
					r200, _ := resp["200"].(map[string]any)
					if c, ok := r200["content"].(map[string]any); ok {
						if aj, ok := c["application/json"].(map[string]any); ok {
							schema, _ = aj["schema"].(map[string]any)
						}
					}
				}
				o.ops = append(o.ops, specOp{method: strings.ToUpper(m), re: re, tmpl: p, schema: schema})
			}
		}
		// Literal paths before templated ones (/models/versions vs /models/{full_name}).
		sort.SliceStable(o.ops, func(i, j int) bool { return strings.Count(o.ops[i].tmpl, "{") < strings.Count(o.ops[j].tmpl, "{") })
		specDoc = o
	})
	return specDoc, specErr
}

func (o *openAPI) find(method, path string) *specOp {
	for i := range o.ops {
		if o.ops[i].method == method && o.ops[i].re.MatchString(path) {
			return &o.ops[i]
		}
	}
	return nil
}

// validate checks v against schema s (the OpenAPI 3 subset the spec uses).
func (o *openAPI) validate(s map[string]any, v any, at string) []string {
	if s == nil || len(s) == 0 {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		rs, ok := o.schemas[name].(map[string]any)
		if !ok {
			return []string{at + ": unknown $ref " + ref}
		}
		return o.validate(rs, v, at)
	}
	var errs []string
	if enum, ok := s["enum"].([]any); ok && v != nil {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
		}
	}
	typ, _ := s["type"].(string)
	if typ == "" && (s["properties"] != nil || s["additionalProperties"] != nil) {
		typ = "object"
	}
	switch typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want object, got %T", at, v))
		}
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := m[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: missing required property %q", at, r))
				}
			}
		}
		for k, val := range m {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, o.validate(ps, val, at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, fmt.Sprintf("%s: unexpected property %q", at, k))
				}
			case map[string]any:
				errs = append(errs, o.validate(ap, val, at+"."+k)...)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: want array, got %T", at, v))
		}
		items, _ := s["items"].(map[string]any)
		for i, x := range a {
			errs = append(errs, o.validate(items, x, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, fmt.Sprintf("%s: want string, got %T", at, v))
		}
	case "integer":
		n, ok := v.(json.Number)
		if !ok || strings.ContainsAny(n.String(), ".eE") {
			errs = append(errs, fmt.Sprintf("%s: want integer, got %v", at, v))
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			errs = append(errs, fmt.Sprintf("%s: want number, got %T", at, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: want boolean, got %T", at, v))
		}
	}
	return errs
}

// ucErrorSchema is the UC error envelope every non-2xx UC answer must use.
var ucErrorSchema = map[string]any{"type": "object", "required": []any{"error_code", "message", "details", "stack_trace"},
	"properties": map[string]any{"error_code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"},
		"details": map[string]any{"type": "array", "items": map[string]any{"type": "object", "required": []any{"@type", "reason"}}}}}

// specRecorder is an http.RoundTripper that validates every JSON response
// of the UC API against the spec (and every UC error against the error
// envelope), reporting violations on t.
type specRecorder struct {
	t    testing.TB
	next http.RoundTripper
}

func (r *specRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/api/2.1/unity-catalog/") {
		return resp, err
	}
	data, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if rerr != nil || req.Method == http.MethodHead {
		return resp, err
	}
	doc, lerr := loadSpec()
	if lerr != nil {
		r.t.Errorf("load spec: %v", lerr)
		return resp, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if derr := dec.Decode(&v); derr != nil {
		r.t.Errorf("%s %s: response is not JSON: %v: %s", req.Method, req.URL.Path, derr, data)
		return resp, err
	}
	var problems []string
	if resp.StatusCode >= 300 {
		problems = doc.validate(ucErrorSchema, v, "error")
		if m, ok := v.(map[string]any); ok && m["stack_trace"] != nil {
			problems = append(problems, "error.stack_trace must be null")
		}
	} else if op := doc.find(req.Method, req.URL.EscapedPath()); op != nil {
		problems = doc.validate(op.schema, v, "response")
	} else {
		specValidated.Add(-1) // Lakebox extension route: not in the spec
	}
	specValidated.Add(1)
	if len(problems) > 0 {
		specErrors.Add(1)
		r.t.Errorf("%s %s (%d) does not match the UC spec:\n  %s\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, strings.Join(problems, "\n  "), data)
	}
	return resp, err
}

func TestSpecValidatorCatchesViolations(t *testing.T) {
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	op := doc.find("GET", "/api/2.1/unity-catalog/tables/a.b.c")
	if op == nil || op.schema == nil {
		t.Fatal("getTable not found in spec")
	}
	bad := map[string]any{"name": json.Number("1"), "table_type": "NOPE", "columns": map[string]any{}}
	if p := doc.validate(op.schema, bad, "r"); len(p) != 3 {
		t.Fatalf("want 3 problems, got %v", p)
	}
	perm := doc.find("GET", "/api/2.1/unity-catalog/permissions/table/a.b.c")
	if p := doc.validate(perm.schema, map[string]any{}, "r"); len(p) != 1 {
		t.Fatalf("missing privilege_assignments not caught: %v", p)
	}
	if doc.find("POST", "/api/2.1/unity-catalog/models/versions").tmpl != "/models/versions" {
		t.Fatal("literal path must win over template")
	}
}

// normalizeYAML turns map[any]any (YAML mappings with non-string keys such
// as 200:) into map[string]any throughout.
func normalizeYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = normalizeYAML(val)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = normalizeYAML(val)
		}
		return m
	case []any:
		for i := range x {
			x[i] = normalizeYAML(x[i])
		}
	}
	return v
}
