package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/lakebox/lakebox/internal/errs"
)

// Surface is one API family's error wire format.
type Surface struct {
	// Name labels the surface in logs and metrics.
	Name string
	// Status maps an error to its HTTP status.
	Status func(err error) int
	// Body builds the JSON error body for err with the given status.
	Body func(err error, status int, message string) any
	// ContentType of error bodies; "application/json" when empty.
	ContentType string
}

// render writes err in the surface's format.
func (sf *Surface) render(w http.ResponseWriter, err error, requestID string) int {
	status := sf.Status(err)
	msg := errs.Message(err)
	if status >= 500 {
		msg = "internal error; quote request id " + requestID + " to your administrator"
		if k := errs.KindOf(err); k == errs.Unavailable {
			msg = errs.Message(err) + " (request id " + requestID + ")"
		}
	}
	ct := sf.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(sf.Body(err, status, msg))
	return status
}

// KindStatus is the common kind → status map.
func KindStatus(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.AlreadyExists, errs.Conflict:
		return http.StatusConflict
	case errs.PermissionDenied:
		return http.StatusForbidden
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.FailedPrecondition:
		return http.StatusBadRequest
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.ResourceExhausted:
		return http.StatusTooManyRequests
	case errs.Unimplemented:
		return http.StatusNotImplemented
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.Canceled:
		return 499
	default:
		return http.StatusInternalServerError
	}
}

// databricksCode is the default error_code of a kind on Databricks-style APIs.
func databricksCode(k errs.Kind) string {
	switch k {
	case errs.Invalid, errs.FailedPrecondition:
		return "INVALID_PARAMETER_VALUE"
	case errs.NotFound:
		return "RESOURCE_DOES_NOT_EXIST"
	case errs.AlreadyExists:
		return "RESOURCE_ALREADY_EXISTS"
	case errs.Conflict:
		return "RESOURCE_CONFLICT"
	case errs.PermissionDenied:
		return "PERMISSION_DENIED"
	case errs.Unauthenticated:
		return "UNAUTHENTICATED"
	case errs.TooLarge:
		return "REQUEST_LIMIT_EXCEEDED"
	case errs.ResourceExhausted:
		return "RESOURCE_EXHAUSTED"
	case errs.Unimplemented:
		return "NOT_IMPLEMENTED"
	case errs.Unavailable:
		return "TEMPORARILY_UNAVAILABLE"
	case errs.Canceled:
		return "CANCELLED"
	default:
		return "INTERNAL_ERROR"
	}
}

// errorCode is the reason of err when it has one, else the kind's default.
func errorCode(err error) string {
	k := errs.KindOf(err)
	if k == errs.Internal {
		return "INTERNAL_ERROR"
	}
	if r := errs.ReasonOf(err); r != "" {
		return r
	}
	return databricksCode(k)
}

// DatabricksError is the error body of the Databricks REST APIs.
type DatabricksError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// Platform is the surface of /api/2.0 platform endpoints (tokens, token
// management): the Databricks error shape.
var Platform = &Surface{
	Name:   "platform",
	Status: func(err error) int { return KindStatus(errs.KindOf(err)) },
	Body: func(err error, _ int, msg string) any {
		return DatabricksError{ErrorCode: errorCode(err), Message: msg}
	},
}

// SCIMError is a SCIM 2.0 error response (RFC 7644 §3.12).
type SCIMError struct {
	Schemas  []string `json:"schemas"`
	Detail   string   `json:"detail"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
}

// SCIM is the surface of the SCIM identity endpoints.
var SCIM = &Surface{
	Name:        "scim",
	ContentType: "application/scim+json",
	Status: func(err error) int {
		if errs.KindOf(err) == errs.AlreadyExists {
			return http.StatusConflict
		}
		return KindStatus(errs.KindOf(err))
	},
	Body: func(err error, status int, msg string) any {
		e := SCIMError{Schemas: []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, Detail: msg, Status: strconv.Itoa(status)}
		switch errs.KindOf(err) {
		case errs.AlreadyExists:
			e.ScimType = "uniqueness"
		case errs.Invalid:
			e.ScimType = "invalidValue"
		}
		return e
	},
}
