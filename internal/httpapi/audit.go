package httpapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// Auditor records one audit event per API call (audit.Recorder implements
// it). The middleware calls Record once per request, right before the
// response header is written, so every answered request is on disk before
// the client sees the answer.
type Auditor interface {
	// Record persists ev durably before it returns. Errors: errs.Invalid
	// for a malformed event; errs.Unavailable when the audit log cannot be
	// written.
	Record(ctx context.Context, ev *audit.Event) error
}

// maxAuditBody is the most request-body bytes kept for request_params.
const maxAuditBody = 64 << 10

// auditCall collects one request's audit event. It is created by wrap when
// the server has an Auditor and the route is audited.
type auditCall struct {
	s     *Server
	rt    *audit.Route
	sf    *Surface
	r     *http.Request
	w     *statusWriter
	start time.Time
	id    string
	ident *auth.Identity
	err   error
	body  *bodyCapture
}

// bodyCapture keeps the first maxAuditBody bytes the handler reads.
type bodyCapture struct {
	io.ReadCloser
	buf       []byte
	truncated bool
}

func (b *bodyCapture) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 && !b.truncated {
		if len(b.buf)+n > maxAuditBody {
			b.truncated = true
		} else {
			b.buf = append(b.buf, p[:n]...)
		}
	}
	return n, err
}

// beginAudit arms w to record the event before its header is written.
// It returns nil when auditing is off or the route is not audited.
func (s *Server) beginAudit(rt *audit.Route, sf *Surface, r *http.Request, w *statusWriter, start time.Time, id string) *auditCall {
	if s.auditor == nil || rt == nil || rt.Skip {
		return nil
	}
	ac := &auditCall{s: s, rt: rt, sf: sf, r: r, w: w, start: start, id: id}
	if r.Body != nil && r.Body != http.NoBody && r.Method != http.MethodGet && jsonish(r.Header.Get("Content-Type")) &&
		r.ContentLength <= maxAuditBody {
		ac.body = &bodyCapture{ReadCloser: r.Body}
		r.Body = ac.body
	}
	w.before = ac.record
	return ac
}

func jsonish(ct string) bool {
	return ct == "" || strings.Contains(ct, "json")
}

// errAuditUnavailable answers a request whose audit event could not be
// written: the call is not acknowledged without its audit record.
var errAuditUnavailable = errs.E(errs.Unavailable, "AUDIT_LOG_UNAVAILABLE", "the audit log cannot be written; the request was not acknowledged")

// record writes the event; on failure it answers 503 itself and returns
// that status (the statusWriter then discards the handler's response).
func (ac *auditCall) record(status int) int {
	ev := ac.event(status)
	if err := ac.s.auditor.Record(context.WithoutCancel(ac.r.Context()), ev); err != nil {
		ac.s.log.Error("audit record failed", "request_id", ac.id, "action", ev.Action(), "err", err.Error())
		return ac.sf.render(ac.w.ResponseWriter, errAuditUnavailable, ac.id)
	}
	return status
}

func (ac *auditCall) event(status int) *audit.Event {
	r := ac.r
	params := map[string]string{}
	audit.RedactQuery(r.URL.Query(), params)
	if _, ok := params["sig"]; ok && strings.HasPrefix(r.URL.Path, SQLPrefix+"/") {
		// An external link's signature is its credential.
		params["sig"] = audit.Redacted
	}
	if ac.body != nil {
		if ac.body.truncated {
			params["_body"] = "[not recorded: larger than 64 KiB]"
		} else if len(ac.body.buf) > 0 {
			audit.RedactJSON(ac.body.buf, params)
			if r.URL.Path == SQLPrefix {
				redactSQLParams(params)
			}
		}
	}
	ev := &audit.Event{
		EventID:     uuid.NewString(),
		EventTime:   ac.start.UTC(),
		ServiceName: ac.rt.ServiceFor(r.URL.Path),
		ActionName:  ac.rt.ActionFor(r.Method, r.URL.Path),
		RequestID:   ac.id,
		UserAgent:   r.UserAgent(),
		HTTPMethod:  r.Method,
		Path:        r.URL.Path,
		Response:    audit.Response{StatusCode: status},
		LatencyMS:   float64(time.Since(ac.start).Microseconds()) / 1000,
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ev.SourceIP = host
	} else {
		ev.SourceIP = r.RemoteAddr
	}
	ev.Securable = ac.rt.Securable(r.PathValue, params)
	if ev.Securable != nil && params["full_name_arg"] == "" {
		params["full_name_arg"] = ev.Securable.FullName
	}
	if len(params) > 0 {
		ev.RequestParams = params
	}
	if ac.ident != nil {
		p := ac.ident.Principal
		ev.Identity = audit.Identity{Email: p.Email, SubjectName: p.Name, PrincipalID: p.ID, PrincipalType: string(p.Kind)}
		if ev.Identity.Email == "" {
			ev.Identity.Email = p.Name
		}
		ev.IdentityRunBy = p.Name
	}
	if ac.err != nil {
		ev.Response.ErrorCode = errorCode(ac.err)
		if status < 500 {
			ev.Response.ErrorMessage = errs.Message(ac.err)
		}
	} else if status >= 400 {
		ev.Response.ErrorCode = http.StatusText(status)
	}
	return ev
}
