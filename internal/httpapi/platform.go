package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// ReadyCheck reports whether a dependency is ready to serve.
type ReadyCheck func(ctx context.Context) error

// Platform endpoints are mounted on s: health, readiness, metrics, SCIM
// identity and tokens.
type platformAPI struct {
	auth    *auth.Service
	version string
}

// MountPlatform registers the platform API.
func (s *Server) MountPlatform(a *auth.Service, gatherer prometheus.Gatherer, version string, ready ...ReadyCheck) {
	p := &platformAPI{auth: a, version: version}
	s.HandlePublic("GET /healthz", Platform, func(w http.ResponseWriter, r *http.Request) error {
		return WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version})
	})
	s.HandlePublic("GET /readyz", Platform, func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		for _, check := range ready {
			if err := check(ctx); err != nil {
				return errs.Wrap(errs.Unavailable, "NOT_READY", err, "not ready")
			}
		}
		return WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	metrics := promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})
	s.HandlePublic("GET /metrics", Platform, func(w http.ResponseWriter, r *http.Request) error {
		metrics.ServeHTTP(w, r)
		return nil
	})
	s.Handle("GET /api/2.0/lakebox/version", Platform, func(w http.ResponseWriter, r *http.Request) error {
		return WriteJSON(w, http.StatusOK, map[string]string{"version": version})
	})
	p.mountTokens(s)
	p.mountSCIM(s)
	s.HandleFallback("/api/2.0/", Platform)
}
