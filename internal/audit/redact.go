package audit

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"
)

// Redacted replaces the value of a sensitive parameter.
const Redacted = "[REDACTED]"

// maxParamLen bounds one recorded parameter value; longer values are cut
// and end in "…(truncated)".
const maxParamLen = 2048

// sensitiveWords are the name fragments whose values are never recorded
// (case-insensitive substring match on the parameter name).
var sensitiveWords = []string{"token", "secret", "password", "passwd", "key", "credential", "authorization", "cookie"}

// Sensitive reports whether a parameter named name must be redacted: its
// lower-cased name contains token, secret, password, passwd, key,
// credential, authorization or cookie. The bare names "key" and "keys" are
// not sensitive: MLflow and tag APIs use them for the names of params, tags
// and metrics ({"key": "learning_rate", "value": …}).
func Sensitive(name string) bool {
	n := strings.ToLower(name)
	if n == "key" || n == "keys" {
		return false
	}
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// secretValue reports whether a value looks like a credential whatever its
// name: a Lakebox token (lbx_…) or a bearer/basic credential.
func secretValue(v string) bool {
	t := strings.TrimSpace(v)
	l := strings.ToLower(t)
	return strings.HasPrefix(t, "lbx_") || strings.HasPrefix(l, "bearer ") || strings.HasPrefix(l, "basic ")
}

func clip(v string) string {
	if len(v) > maxParamLen {
		return v[:maxParamLen] + "…(truncated)"
	}
	return v
}

// RedactQuery adds the query parameters of q to params, redacting sensitive
// ones. Repeated parameters are joined with ",".
func RedactQuery(q url.Values, params map[string]string) {
	for k, vs := range q {
		v := strings.Join(vs, ",")
		if Sensitive(k) || secretValue(v) {
			v = Redacted
		}
		params[k] = clip(v)
	}
}

// RedactJSON adds the top-level fields of a JSON object body to params:
// strings as they are, other values as compact JSON. Sensitive fields are
// redacted at every depth (in nested objects and arrays too). A body that is
// not a JSON object adds nothing and returns false.
func RedactJSON(body []byte, params map[string]string) bool {
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return false
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		if Sensitive(k) {
			params[k] = Redacted
			continue
		}
		v = redactValue(v)
		if s, ok := v.(string); ok {
			params[k] = clip(s)
			continue
		}
		b, _ := json.Marshal(v)
		params[k] = clip(string(b))
	}
	return true
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if Sensitive(k) {
				x[k] = Redacted
			} else {
				x[k] = redactValue(e)
			}
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactValue(e)
		}
		return x
	case string:
		if secretValue(x) {
			return Redacted
		}
		return x
	default:
		return v
	}
}
