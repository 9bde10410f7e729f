package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// mlflowStatus is MLflow's error_code → HTTP status table (including its
// quirk that RESOURCE_ALREADY_EXISTS is 400, which clients rely on).
var mlflowStatus = map[string]int{
	"INVALID_PARAMETER_VALUE": 400, "BAD_REQUEST": 400, "INVALID_STATE": 500, "RESOURCE_ALREADY_EXISTS": 400,
	"RESOURCE_DOES_NOT_EXIST": 404, "ENDPOINT_NOT_FOUND": 404, "NOT_FOUND": 404, "PERMISSION_DENIED": 403,
	"UNAUTHENTICATED": 401, "CUSTOMER_UNAUTHORIZED": 401, "RESOURCE_CONFLICT": 409, "ABORTED": 409, "ALREADY_EXISTS": 409,
	"REQUEST_LIMIT_EXCEEDED": 429, "RESOURCE_EXHAUSTED": 429, "INTERNAL_ERROR": 500, "DATA_LOSS": 500,
	"NOT_IMPLEMENTED": 501, "TEMPORARILY_UNAVAILABLE": 503, "MALFORMED_REQUEST": 400, "INVALID_REQUEST": 400,
}

// mlflowErrorClass is the 3.x error_class of the codes clients see most.
var mlflowErrorClass = map[string]string{
	"RESOURCE_DOES_NOT_EXIST": "RESOURCE_NOT_FOUND", "RESOURCE_ALREADY_EXISTS": "RESOURCE_ALREADY_EXISTS",
	"INVALID_PARAMETER_VALUE": "INVALID_PARAMETER_VALUE",
}

// mlflowCode is the MLflow error_code of err: its reason when that is an
// MLflow code, else the code of its kind.
func mlflowCode(err error) string {
	k := errs.KindOf(err)
	if k == errs.Internal {
		return "INTERNAL_ERROR"
	}
	if r := errs.ReasonOf(err); r != "" {
		if _, ok := mlflowStatus[r]; ok && r != "MALFORMED_REQUEST" && r != "NOT_FOUND" && r != "ALREADY_EXISTS" {
			return r
		}
	}
	switch k {
	case errs.Invalid, errs.FailedPrecondition, errs.TooLarge:
		return "INVALID_PARAMETER_VALUE"
	case errs.NotFound:
		return "RESOURCE_DOES_NOT_EXIST"
	case errs.AlreadyExists:
		return "RESOURCE_ALREADY_EXISTS"
	}
	return databricksCode(k)
}

// MLflowError is the error body of the MLflow REST API.
type MLflowError struct {
	ErrorCode  string `json:"error_code"`
	Message    string `json:"message"`
	ErrorClass string `json:"error_class,omitempty"`
}

// MLflow is the surface of /api/2.0/mlflow and /api/2.0/mlflow-artifacts.
var MLflow = &Surface{
	Name: "mlflow",
	Status: func(err error) int {
		if s, ok := mlflowStatus[mlflowCode(err)]; ok {
			return s
		}
		return KindStatus(errs.KindOf(err))
	},
	Body: func(err error, _ int, msg string) any {
		code := mlflowCode(err)
		return MLflowError{ErrorCode: code, Message: msg, ErrorClass: mlflowErrorClass[code]}
	},
}

// i64 is an int64 request field that accepts a JSON number or a decimal
// string (proto3 JSON encodes int64 either way).
type i64 int64

func (v *i64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int64(f)) {
			return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "invalid integer value %s", string(b))
		}
		n = int64(f)
	}
	*v = i64(n)
	return nil
}

// decodeMLflow fills req from the query string (GET, and DELETE without a
// body) or the JSON body. As in MLflow, an unparsable body reads as {} (so a
// required field then fails), while a field of the wrong type is
// INVALID_PARAMETER_VALUE.
func decodeMLflow(r *http.Request, req any) error {
	if r.Method == http.MethodGet {
		return decodeQuery(r, req)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errs.E(errs.TooLarge, "INVALID_PARAMETER_VALUE", "request body exceeds the limit of %d bytes", mbe.Limit)
		}
		return errs.Wrap(errs.Invalid, "INVALID_PARAMETER_VALUE", err, "cannot read request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if r.Method == http.MethodDelete {
			return decodeQuery(r, req)
		}
		return nil
	}
	if err := json.Unmarshal(body, req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "Invalid value for parameter '%s' supplied: expected %s, got a JSON %s", te.Field, jsonTypeName(te.Type), te.Value)
		}
		if e := errs.As(err); e != nil {
			return e
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil // MLflow reads an invalid body as {}
		}
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "invalid request body: %v", err)
	}
	return nil
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "a boolean"
	}
	return "a number"
}

// decodeQuery sets the fields of the struct req from r's query string by
// their json names; a repeated key fills a []string field.
func decodeQuery(r *http.Request, req any) error {
	q := r.URL.Query()
	v := reflect.ValueOf(req).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		vals, ok := q[name]
		if !ok || len(vals) == 0 || name == "" {
			continue
		}
		fv := v.Field(i)
		switch {
		case fv.Kind() == reflect.String:
			fv.SetString(vals[0])
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
			fv.Set(reflect.ValueOf(vals).Convert(fv.Type()))
		case fv.Kind() == reflect.Int64:
			n, err := strconv.ParseInt(vals[0], 10, 64)
			if err != nil {
				return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "Invalid value '%s' for parameter '%s' supplied: expected an integer", vals[0], name)
			}
			fv.SetInt(n)
		case fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.Int64:
			n, err := strconv.ParseInt(vals[0], 10, 64)
			if err != nil {
				return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "Invalid value '%s' for parameter '%s' supplied: expected an integer", vals[0], name)
			}
			p := reflect.New(fv.Type().Elem())
			p.Elem().SetInt(n)
			fv.Set(p)
		case fv.Kind() == reflect.Bool:
			fv.SetBool(vals[0] == "true" || vals[0] == "1")
		}
	}
	return nil
}

func writeMLflow(w http.ResponseWriter, v any) error {
	if v == nil {
		v = struct{}{}
	}
	return WriteJSON(w, http.StatusOK, v)
}

// mlflowPrefixes are the prefixes the MLflow API answers on: the REST API
// and the UI's ajax-api alias.
var mlflowPrefixes = []string{"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}

// handleMLflow registers h for method+path (path after ".../mlflow/") under
// every MLflow prefix.
func (s *Server) handleMLflow(method, path string, h HandlerFunc) {
	for _, p := range mlflowPrefixes {
		s.Handle(method+" "+p+path, MLflow, h)
	}
}
