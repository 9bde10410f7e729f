package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// HandlerFunc is an HTTP handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Authenticator resolves bearer tokens (auth.Service implements it).
type Authenticator interface {
	// Authenticate returns the identity behind secret.
	// Errors: errs.Unauthenticated.
	Authenticate(ctx context.Context, secret string) (*auth.Identity, error)
}

// Options configure a Server.
type Options struct {
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
	MaxBodyBytes int64 // per-request body limit (default 64 MiB)
	// Auditor, when set, records every API call before its response is
	// written (audit.go).
	Auditor Auditor
}

// Server is the HTTP handler tree of Lakebox.
type Server struct {
	mux     *http.ServeMux
	log     *slog.Logger
	authn   Authenticator
	maxBody int64
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
	auditor Auditor
}

// NewServer returns a Server that authenticates with authn.
func NewServer(authn Authenticator, o Options) *Server {
	s := &Server{mux: http.NewServeMux(), log: o.Logger, authn: authn, maxBody: o.MaxBodyBytes, auditor: o.Auditor}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = 64 << 20
	}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lakebox_http_requests_total", Help: "HTTP requests by route, method and status code.",
	}, []string{"surface", "route", "method", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lakebox_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"surface", "route", "method"})
	if o.Registerer != nil {
		o.Registerer.MustRegister(s.reqs, s.latency)
	}
	return s
}

// ServeHTTP implements http.Handler.
//
// A path with "." or ".." segments is refused with 400 before routing: the
// standard mux would answer it with a redirect to the cleaned path, which
// for user-supplied file paths (volumes, artifacts) hides a traversal
// attempt instead of rejecting it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hasDotSegment(r.URL.Path) {
		s.wrap(r.URL.Path, Platform, func(http.ResponseWriter, *http.Request) error {
			return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE",
				"path %q contains a '.' or '..' segment; paths must be absolute and must not traverse upwards", r.URL.Path)
		}, false).ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// Handle registers an authenticated route. pattern is a Go 1.22 ServeMux
// pattern with a method ("GET /api/2.0/token/list").
func (s *Server) Handle(pattern string, sf *Surface, h HandlerFunc) {
	s.mux.Handle(pattern, s.wrap(pattern, sf, h, true))
}

// HandlePublic registers a route that needs no authentication.
func (s *Server) HandlePublic(pattern string, sf *Surface, h HandlerFunc) {
	s.mux.Handle(pattern, s.wrap(pattern, sf, h, false))
}

// HandleFallback answers every unregistered path under prefix with a 404 in
// the surface's format (after authentication, so probing reveals nothing).
func (s *Server) HandleFallback(prefix string, sf *Surface) {
	s.mux.Handle(prefix, s.wrap(prefix+"*", sf, func(w http.ResponseWriter, r *http.Request) error {
		return errs.E(errs.NotFound, "ENDPOINT_NOT_FOUND", "no API endpoint %s %s", r.Method, r.URL.Path)
	}, true))
}

type requestIDKey struct{}

// RequestID returns the request id of ctx.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 && safeID(id) {
		return id
	}
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func safeID(s string) bool {
	for _, c := range s {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	// before, when set, runs once before the header is written (auditing);
	// when it returns another status it has answered the request itself
	// and the handler's response is discarded.
	before  func(code int) int
	discard bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if before := w.before; before != nil {
			w.before = nil
			if c := before(code); c != code {
				w.status, w.discard = c, true
			}
		}
	}
	if !w.discard {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(p), nil
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) wrap(route string, sf *Surface, h HandlerFunc, authenticate bool) http.Handler {
	var art *audit.Route
	if s.auditor != nil {
		art = audit.ParseRoute(route)
	}
	if i := strings.IndexByte(route, ' '); i >= 0 {
		route = route[i+1:]
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		w := &statusWriter{ResponseWriter: rw}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		principal := ""
		ac := s.beginAudit(art, sf, r, w, start, id)
		var err error
		func() {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
				}
			}()
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
			}
			if authenticate {
				var ident *auth.Identity
				ident, err = s.authenticate(ctx, r)
				if err != nil {
					return
				}
				principal = ident.Principal.Name
				ctx = auth.WithIdentity(ctx, ident)
				if ac != nil {
					ac.ident = ident
				}
			}
			err = h(w, r.WithContext(ctx))
		}()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				err = errs.E(errs.TooLarge, "REQUEST_LIMIT_EXCEEDED", "request body exceeds the limit of %d bytes", mbe.Limit)
			}
			if errs.KindOf(err) == errs.Internal {
				s.log.Error("request failed", "request_id", id, "route", route, "err", err.Error())
			}
			if ac != nil {
				ac.err = err
			}
			if w.status == 0 {
				sf.render(w, err, id)
			}
		}
		if ac != nil && w.status == 0 {
			w.WriteHeader(http.StatusOK) // record the event before net/http answers
		}
		status := w.status
		if status == 0 {
			status = http.StatusOK
		}
		d := time.Since(start)
		s.reqs.WithLabelValues(sf.Name, route, r.Method, strconv.Itoa(status)).Inc()
		s.latency.WithLabelValues(sf.Name, route, r.Method).Observe(d.Seconds())
		s.log.Info("http request", "request_id", id, "method", r.Method, "route", route, "path", r.URL.Path,
			"status", status, "duration_ms", float64(d.Microseconds())/1000, "bytes", w.bytes, "principal", principal)
	})
}

func (s *Server) authenticate(ctx context.Context, r *http.Request) (*auth.Identity, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return nil, errs.E(errs.Unauthenticated, "UNAUTHENTICATED", "missing Authorization header; send Authorization: Bearer <token>")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, errs.E(errs.Unauthenticated, "UNAUTHENTICATED", "malformed Authorization header; expected: Bearer <token>")
	}
	return s.authn.Authenticate(ctx, strings.TrimSpace(token))
}

// DecodeJSON reads a JSON request body into v. An empty body leaves v as is.
// Errors: errs.Invalid naming the problem; errs.TooLarge past the body limit.
func DecodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errs.E(errs.TooLarge, "REQUEST_LIMIT_EXCEEDED", "request body exceeds the limit of %d bytes", mbe.Limit)
		}
		return errs.Wrap(errs.Invalid, "MALFORMED_REQUEST", err, "cannot read request body")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errs.E(errs.Invalid, "MALFORMED_REQUEST", "invalid value for field %q: expected %s", te.Field, te.Type)
		}
		return errs.E(errs.Invalid, "MALFORMED_REQUEST", "request body is not valid JSON: %v", err)
	}
	return nil
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
