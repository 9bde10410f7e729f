package audit

import (
	"strings"
)

// Route is what auditing knows about one registered HTTP route: the
// service and action of its events and where its securable comes from.
// ParseRoute builds it once per route at registration.
type Route struct {
	Method  string // "" when the pattern matches any method
	Path    string
	Service string
	Action  string
	// Skip is true for routes that are not audited: health, readiness and
	// metrics (polled, no user action), and model-serving invocations,
	// whose every request and response the endpoint's inference table
	// records durably (an fsynced audit record per prediction would cost
	// more than the prediction).
	Skip bool

	methodActions map[string]string // for method-less patterns
	wild          []wildcard
	resource      string // securable type implied by the route's resource segment
}

type wildcard struct {
	name string
	typ  string // securable type, "*" = taken from the {securable_type} value
}

// platformActions maps the platform routes explicitly (they do not follow
// the resource naming the default rule relies on).
var platformActions = map[string][2]string{
	"GET /api/2.0/lakebox/version":                                        {"lakebox", "getVersion"},
	"POST /api/2.0/token/create":                                          {"accounts", "tokenCreate"},
	"GET /api/2.0/token/list":                                             {"accounts", "tokenList"},
	"POST /api/2.0/token/delete":                                          {"accounts", "tokenDelete"},
	"POST /api/2.0/token-management/on-behalf-of/tokens":                  {"accounts", "tokenCreateOnBehalfOf"},
	"GET /api/2.0/token-management/tokens":                                {"accounts", "tokenManagementList"},
	"DELETE /api/2.0/token-management/tokens/{token_id}":                  {"accounts", "tokenManagementDelete"},
	"GET /api/2.0/lakebox/audit/events":                                   {"lakebox", "listAuditEvents"},
	"GET /api/2.0/lineage-tracking/table-lineage":                         {"lineageTracking", "getTableLineage"},
	"GET /api/2.0/lineage-tracking/column-lineage":                        {"lineageTracking", "getColumnLineage"},
	"GET /api/2.0/lakebox/lineage/graph":                                  {"lineageTracking", "getLineageGraph"},
	"POST /api/v1/lineage":                                                {"lineageTracking", "postOpenLineageEvent"},
	"GET /api/2.0/preview/scim/v2/Me":                                     {"accounts", "getMe"},
	"GET /api/1.0/unity-control/scim2/Me":                                 {"accounts", "getMe"},
	"GET /api/2.1/unity-catalog/permissions/{securable_type}/{full_name}": {"unityCatalog", "getPermissions"},
	"PATCH /api/2.1/unity-catalog/permissions/{securable_type}/{full_name}": {
		"unityCatalog", "updatePermissions"},
	"GET /api/2.1/unity-catalog/effective-permissions/{securable_type}/{full_name}": {
		"unityCatalog", "getEffectivePermissions"},
}

var skipped = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true,
	"/serving-endpoints/{name}/invocations":                        true,
	"/serving-endpoints/{name}/served-models/{served}/invocations": true,
}

// servicePrefixes map path prefixes to service names (the service_name
// column), longest first.
var servicePrefixes = []struct{ prefix, service string }{
	{"/api/2.1/unity-catalog/", "unityCatalog"},
	{"/api/2.0/unity-catalog/", "unityCatalog"},
	{"/api/1.0/unity-control/", "accounts"},
	{"/api/2.0/preview/scim/", "accounts"},
	{"/api/2.0/mlflow-artifacts/", "mlflow"},
	{"/api/2.0/mlflow/", "mlflow"},
	{"/ajax-api/2.0/mlflow/", "mlflow"},
	{"/api/2.0/serving-endpoints", "serverlessRealTimeInference"},
	{"/serving-endpoints/", "serverlessRealTimeInference"},
	{"/api/2.1/jobs/", "jobs"},
	{"/api/2.2/jobs/", "jobs"},
	{"/api/2.0/pipelines", "deltaPipelines"},
	{"/api/2.0/sql/", "databrickssql"},
	{"/api/2.0/lineage-tracking/", "lineageTracking"},
	{"/api/2.0/feature-store/", "featureStore"},
	{"/api/2.0/lakehouse-monitors", "dataMonitoring"},
	{"/api/2.0/lakebox/", "lakebox"},
}

// resourceTypes map a path segment naming a collection to the securable
// type of its members.
var resourceTypes = map[string]string{
	"catalogs": "CATALOG", "schemas": "SCHEMA", "tables": "TABLE", "volumes": "VOLUME",
	"functions": "FUNCTION", "models": "REGISTERED_MODEL", "registered-models": "REGISTERED_MODEL",
	"model-versions": "MODEL_VERSION", "external-locations": "EXTERNAL_LOCATION",
	"storage-credentials": "STORAGE_CREDENTIAL", "credentials": "CREDENTIAL", "connections": "CONNECTION",
	"shares": "SHARE", "recipients": "RECIPIENT", "providers": "PROVIDER", "metastores": "METASTORE",
	"serving-endpoints": "SERVING_ENDPOINT", "experiments": "EXPERIMENT", "runs": "RUN",
	"jobs": "JOB", "pipelines": "PIPELINE", "tokens": "TOKEN", "Users": "USER", "Groups": "GROUP",
	"ServicePrincipals": "SERVICE_PRINCIPAL", "statements": "STATEMENT", "feature-tables": "TABLE",
}

// rpcVerbs are final path segments that name an action on the segment
// before them (MLflow and Jobs style: /runs/create, /jobs/run-now).
var rpcVerbs = map[string]bool{
	"create": true, "get": true, "list": true, "search": true, "delete": true, "update": true,
	"restore": true, "rename": true, "reset": true, "cancel": true, "submit": true,
}

// ParseRoute derives the audit route of a ServeMux pattern ("GET /api/…",
// or a method-less prefix such as "/api/2.0/").
//
// The service is taken from the explicit platform map, else from the path
// prefix (servicePrefixes; "lakebox" when none matches). The action is taken
// from the explicit map, else by the default rule:
//
//   - a path ending in a wildcard acts on one member of the collection
//     before it: GET → get<Singular>, PATCH/PUT → update<Singular>,
//     DELETE → delete<Singular>, POST → <method><Singular>
//     (GET /tables/{full_name} → getTable);
//   - a path ending in an RPC verb acts on the collection before it:
//     /runs/create → createRun, /runs/search → searchRuns,
//     /registered-models/list → listRegisteredModels; a hyphenated final
//     segment is the action itself (/runs/log-metric → logMetric,
//     /jobs/run-now → runNow);
//   - a path ending in a collection: GET → list<Plural>,
//     POST → create<Singular>, PUT/PATCH → update<Plural>,
//     DELETE → delete<Plural> (GET /catalogs → listCatalogs);
//   - SCIM resources use the same rule (POST /Users → createUser).
//
// A method-less pattern (a fallback prefix) derives the action per request
// through ActionFor with the request's method and path.
func ParseRoute(pattern string) *Route {
	rt := &Route{}
	method, path, ok := strings.Cut(pattern, " ")
	if ok {
		rt.Method = method
	} else {
		path = pattern
	}
	rt.Path = path
	if skipped[path] {
		rt.Skip = true
		return rt
	}
	if sa, ok := platformActions[method+" "+path]; ok && rt.Method != "" {
		rt.Service, rt.Action = sa[0], sa[1]
	} else {
		rt.Service = serviceOf(path)
		if rt.Method != "" {
			rt.Action = defaultAction(method, path)
		}
	}
	segs := splitPath(path)
	for i, s := range segs {
		if !isWild(s) {
			continue
		}
		name := strings.Trim(strings.TrimSuffix(strings.Trim(s, "{}"), "..."), "$")
		typ := ""
		if name == "securable_type" {
			continue
		}
		if i > 0 {
			prev := segs[i-1]
			switch {
			case prev == "versions" && i >= 3 && segs[i-3] == "models":
				typ = "MODEL_VERSION"
			case prev == "versions" && i >= 2 && isWild(segs[i-2]):
				typ = "MODEL_VERSION"
			case i >= 2 && isWild(segs[i-1]) && strings.Contains(segs[i-1], "securable_type"):
				typ = "*"
			default:
				typ = resourceTypes[prev]
			}
		}
		if typ != "" {
			rt.wild = append(rt.wild, wildcard{name: name, typ: typ})
		}
	}
	if n := len(segs); n > 0 && !isWild(segs[n-1]) {
		res := segs[n-1]
		if rpcVerbs[res] || strings.Contains(res, "-") && n > 1 && resourceTypes[res] == "" {
			if n > 1 {
				res = segs[n-2]
			}
		}
		rt.resource = resourceTypes[res]
	}
	return rt
}

// ActionFor returns the action of a request on rt with the given method
// and path (used for method-less fallback patterns).
func (rt *Route) ActionFor(method, path string) string {
	if rt.Action != "" && (rt.Method == "" || rt.Method == method) {
		return rt.Action
	}
	return defaultAction(method, path)
}

// ServiceFor returns the service of a request on rt with the given path
// (method-less fallback patterns take it from the request path).
func (rt *Route) ServiceFor(path string) string {
	if rt.Method == "" {
		return serviceOf(path)
	}
	return rt.Service
}

// Securable returns the securable a request on rt names, from the route's
// wildcards (pathValue) or, failing that, from well-known parameters
// (full_name, table_name, run_id, experiment_id, name + version, …).
// It returns nil when the call names none.
func (rt *Route) Securable(pathValue func(string) string, params map[string]string) *Securable {
	if pathValue != nil && len(rt.wild) > 0 {
		var s *Securable
		for _, w := range rt.wild {
			v := pathValue(w.name)
			if v == "" {
				continue
			}
			switch {
			case w.typ == "*":
				s = &Securable{Type: strings.ToUpper(pathValue("securable_type")), FullName: v}
			case w.typ == "MODEL_VERSION" && s != nil:
				s = &Securable{Type: w.typ, FullName: s.FullName + "/" + v}
			default:
				s = &Securable{Type: w.typ, FullName: v}
			}
		}
		if s != nil && s.Type != "" {
			return s
		}
	}
	p := func(k string) string { return params[k] }
	switch {
	case p("securable_type") != "" && (p("name") != "" || p("full_name") != ""):
		name := p("full_name")
		if name == "" {
			name = p("name")
		}
		return &Securable{Type: strings.ToUpper(p("securable_type")), FullName: name}
	case p("full_name") != "" && rt.resource != "":
		return &Securable{Type: rt.resource, FullName: p("full_name")}
	case p("table_name") != "":
		return &Securable{Type: "TABLE", FullName: p("table_name")}
	case p("run_id") != "":
		return &Securable{Type: "RUN", FullName: p("run_id")}
	case rt.resource == "REGISTERED_MODEL" && p("name") != "" && p("version") != "":
		return &Securable{Type: "MODEL_VERSION", FullName: p("name") + "/" + p("version")}
	case rt.resource == "MODEL_VERSION" && p("name") != "" && p("version") != "":
		return &Securable{Type: "MODEL_VERSION", FullName: p("name") + "/" + p("version")}
	case rt.resource != "" && p("catalog_name") != "" && p("schema_name") != "" && p("name") != "":
		return &Securable{Type: rt.resource, FullName: p("catalog_name") + "." + p("schema_name") + "." + p("name")}
	case rt.resource == "SCHEMA" && p("catalog_name") != "" && p("name") != "":
		return &Securable{Type: rt.resource, FullName: p("catalog_name") + "." + p("name")}
	case rt.resource != "" && rt.resource != "EXPERIMENT" && rt.resource != "RUN" && p("name") != "":
		return &Securable{Type: rt.resource, FullName: p("name")}
	case p("experiment_id") != "":
		return &Securable{Type: "EXPERIMENT", FullName: p("experiment_id")}
	}
	return nil
}

func serviceOf(path string) string {
	for _, sp := range servicePrefixes {
		if strings.HasPrefix(path, sp.prefix) {
			return sp.service
		}
	}
	segs := splitPath(path)
	if len(segs) >= 3 && segs[0] == "api" {
		return camel(segs[2])
	}
	return "lakebox"
}

func splitPath(path string) []string {
	var out []string
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func isWild(s string) bool { return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") }

// apiSegments drops the "api/<version>" and service-root segments.
func apiSegments(path string) []string {
	segs := splitPath(path)
	if len(segs) >= 2 && (segs[0] == "api" || segs[0] == "ajax-api") {
		segs = segs[2:]
	}
	if len(segs) > 1 && (segs[0] == "unity-catalog" || segs[0] == "mlflow" || segs[0] == "mlflow-artifacts" || segs[0] == "preview" || segs[0] == "lakebox") {
		segs = segs[1:]
	}
	return segs
}

func defaultAction(method, path string) string {
	segs := apiSegments(path)
	if len(segs) == 0 {
		return strings.ToLower(method) + "Root"
	}
	last := segs[len(segs)-1]
	var prev string
	if len(segs) > 1 {
		prev = segs[len(segs)-2]
	}
	switch {
	case isWild(last):
		res := ""
		for i := len(segs) - 2; i >= 0; i-- {
			if !isWild(segs[i]) {
				res = segs[i]
				break
			}
		}
		verb := map[string]string{"GET": "get", "PATCH": "update", "PUT": "update", "DELETE": "delete"}[method]
		if verb == "" {
			verb = strings.ToLower(method)
		}
		return verb + upper(singular(camel(res)))
	case rpcVerbs[last] && prev != "" && !isWild(prev):
		if last == "list" || last == "search" {
			return last + upper(camel(prev))
		}
		return last + upper(singular(camel(prev)))
	case strings.Contains(last, "-") && resourceTypes[last] == "" && prev != "":
		return camel(last)
	default:
		switch method {
		case "GET":
			return "list" + upper(camel(last))
		case "POST":
			return "create" + upper(singular(camel(last)))
		case "PUT", "PATCH":
			return "update" + upper(camel(last))
		case "DELETE":
			return "delete" + upper(camel(last))
		}
		return strings.ToLower(method) + upper(camel(last))
	}
}

// camel turns "registered-models" / "get_by_name" into "registeredModels".
func camel(s string) string {
	var b strings.Builder
	up := false
	for i, r := range s {
		if r == '-' || r == '_' || r == '.' {
			up = true
			continue
		}
		if up && i > 0 {
			b.WriteString(strings.ToUpper(string(r)))
		} else if b.Len() == 0 {
			b.WriteString(strings.ToLower(string(r)))
		} else {
			b.WriteRune(r)
		}
		up = false
	}
	return b.String()
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "ases"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "ss"):
		return s
	case strings.HasSuffix(s, "s"):
		return s[:len(s)-1]
	}
	return s
}
