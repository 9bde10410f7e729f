package audit

import (
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// SchemaVersion is the audit schema version written to the version column.
const SchemaVersion = "2.0"

// Audit levels (the audit_level column).
const (
	WorkspaceLevel = "WORKSPACE_LEVEL"
	AccountLevel   = "ACCOUNT_LEVEL"
)

// Identity is who made the call (the user_identity column, plus the
// principal's id).
type Identity struct {
	// Email is the user's email or, for service principals, their
	// application id (Databricks puts the caller's handle here).
	Email string `json:"email,omitempty"`
	// SubjectName is the principal's name (userName / applicationId).
	SubjectName string `json:"subjectName,omitempty"`
	// PrincipalID is the Lakebox principal id.
	PrincipalID string `json:"principalId,omitempty"`
	// PrincipalType is user, service_principal or "" when unauthenticated.
	PrincipalType string `json:"principalType,omitempty"`
}

// Response is the outcome of the call (the response column).
type Response struct {
	StatusCode   int    `json:"statusCode"`
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Result       string `json:"result,omitempty"`
}

// Securable names the object a call acted on, when the route names one.
type Securable struct {
	Type     string `json:"type"`     // TABLE, SCHEMA, CATALOG, RUN, ...
	FullName string `json:"fullName"` // catalog.schema.table, a run id, ...
}

// Event is one audited action: a row of system.access.audit.
type Event struct {
	EventID        string            `json:"event_id"`
	EventTime      time.Time         `json:"event_time"`
	AccountID      string            `json:"account_id,omitempty"`
	WorkspaceID    string            `json:"workspace_id,omitempty"`
	ServiceName    string            `json:"service_name"`
	ActionName     string            `json:"action_name"`
	RequestID      string            `json:"request_id,omitempty"`
	SourceIP       string            `json:"source_ip_address,omitempty"`
	UserAgent      string            `json:"user_agent,omitempty"`
	SessionID      string            `json:"session_id,omitempty"`
	Identity       Identity          `json:"user_identity"`
	RequestParams  map[string]string `json:"request_params,omitempty"`
	Response       Response          `json:"response"`
	AuditLevel     string            `json:"audit_level,omitempty"`
	Securable      *Securable        `json:"securable,omitempty"`
	LatencyMS      float64           `json:"latency_ms"`
	HTTPMethod     string            `json:"http_method,omitempty"`
	Path           string            `json:"path,omitempty"`
	IdentityRunBy  string            `json:"run_by,omitempty"`
	IdentityRunAs  string            `json:"run_as,omitempty"`
	ActingResource string            `json:"acting_resource,omitempty"`
}

// Action returns "<service>.<action>".
func (e *Event) Action() string { return e.ServiceName + "." + e.ActionName }

// Validate checks the fields every event must have. Errors: errs.Invalid.
func (e *Event) Validate() error {
	switch {
	case e.EventID == "":
		return errs.E(errs.Invalid, "INVALID_AUDIT_EVENT", "audit event has no event_id")
	case e.EventTime.IsZero():
		return errs.E(errs.Invalid, "INVALID_AUDIT_EVENT", "audit event %s has no event_time", e.EventID)
	case e.ServiceName == "" || e.ActionName == "":
		return errs.E(errs.Invalid, "INVALID_AUDIT_EVENT", "audit event %s needs service_name and action_name", e.EventID)
	case strings.ContainsAny(e.ServiceName, ". ") || strings.ContainsAny(e.ActionName, " "):
		return errs.E(errs.Invalid, "INVALID_AUDIT_EVENT", "audit event %s: service %q and action %q must not contain spaces (or dots in the service)", e.EventID, e.ServiceName, e.ActionName)
	case e.Response.StatusCode < 0 || e.Response.StatusCode > 999:
		return errs.E(errs.Invalid, "INVALID_AUDIT_EVENT", "audit event %s has status code %d", e.EventID, e.Response.StatusCode)
	case e.Securable != nil && (e.Securable.Type == "" || e.Securable.FullName == ""):
		return errs.E(errs.Invalid, "INVALID_AUDIT_EVENT", "audit event %s has a securable without type or name", e.EventID)
	}
	for k, v := range e.RequestParams {
		if Sensitive(k) && v != Redacted {
			return errs.E(errs.Invalid, "INVALID_AUDIT_EVENT", "audit event %s carries an unredacted parameter %q", e.EventID, k)
		}
	}
	return nil
}
