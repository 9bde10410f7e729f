package httpapi

import (
	"errors"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/serving"
)

// MaxInvocationBytes is the payload limit of an invocation (413 above).
const MaxInvocationBytes = 16 << 20

// Serving is the surface of the serving-endpoints API and the data plane:
// the Databricks error shape ({"error_code", "message"}) with the MLflow
// scoring server's statuses (415 for a content type, 504 for a timeout).
var Serving = &Surface{
	Name:   "serving",
	Status: serving.StatusOf,
	Body: func(err error, status int, msg string) any {
		code := errorCode(err)
		if status == http.StatusBadRequest && code == "INVALID_PARAMETER_VALUE" && errs.ReasonOf(err) == "" {
			code = "BAD_REQUEST"
		}
		return DatabricksError{ErrorCode: code, Message: msg}
	},
}

// MountServing registers /api/2.0/serving-endpoints (control plane) and
// /serving-endpoints/{name}/invocations (data plane) on s.
func (s *Server) MountServing(svc *serving.Service, gatherer prometheus.Gatherer) {
	const base = "/api/2.0/serving-endpoints"
	s.Handle("POST "+base, Serving, func(w http.ResponseWriter, r *http.Request) error {
		var req serving.CreateRequest
		if err := DecodeJSON(r, &req); err != nil {
			return err
		}
		v, err := svc.Create(r.Context(), &req)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, v)
	})
	s.Handle("GET "+base, Serving, func(w http.ResponseWriter, r *http.Request) error {
		vs, err := svc.List(r.Context())
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"endpoints": vs})
	})
	s.Handle("GET "+base+"/{name}", Serving, func(w http.ResponseWriter, r *http.Request) error {
		v, err := svc.Get(r.Context(), r.PathValue("name"))
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, v)
	})
	s.Handle("DELETE "+base+"/{name}", Serving, func(w http.ResponseWriter, r *http.Request) error {
		if err := svc.Delete(r.Context(), r.PathValue("name")); err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{})
	})
	s.Handle("PUT "+base+"/{name}/config", Serving, func(w http.ResponseWriter, r *http.Request) error {
		var cfg serving.EndpointConfig
		if err := DecodeJSON(r, &cfg); err != nil {
			return err
		}
		v, err := svc.UpdateConfig(r.Context(), r.PathValue("name"), &cfg)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, v)
	})
	s.Handle("GET "+base+"/{name}/events", Serving, func(w http.ResponseWriter, r *http.Request) error {
		evs, err := svc.Events(r.Context(), r.PathValue("name"))
		if err != nil {
			return err
		}
		if evs == nil {
			evs = []serving.Event{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"events": evs})
	})
	logs := func(w http.ResponseWriter, r *http.Request) error {
		text, err := svc.Logs(r.Context(), r.PathValue("name"), r.PathValue("served"))
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]string{"logs": text})
	}
	s.Handle("GET "+base+"/{name}/served-models/{served}/logs", Serving, logs)
	s.Handle("GET "+base+"/{name}/served-models/{served}/build-logs", Serving, logs)
	s.Handle("GET "+base+"/{name}/metrics", Serving, func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		if _, err := svc.Get(r.Context(), name); err != nil {
			return err
		}
		mfs, err := gatherer.Gather()
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			keep := mf.Metric[:0:0]
			for _, m := range mf.Metric {
				for _, l := range m.Label {
					if l.GetName() == "endpoint" && l.GetValue() == name {
						keep = append(keep, m)
						break
					}
				}
			}
			if len(keep) > 0 {
				mf.Metric = keep
				if err := enc.Encode(mf); err != nil {
					return err
				}
			}
		}
		return nil
	})
	invoke := func(w http.ResponseWriter, r *http.Request) error {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInvocationBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return errs.E(errs.TooLarge, "REQUEST_LIMIT_EXCEEDED", "the request body exceeds the limit of %d bytes", MaxInvocationBytes)
			}
			return errs.Wrap(errs.Invalid, "BAD_REQUEST", err, "cannot read the request body")
		}
		resp, err := svc.Invoke(r.Context(), &serving.InvokeRequest{Endpoint: r.PathValue("name"), Served: r.PathValue("served"),
			ContentType: r.Header.Get("Content-Type"), Body: body, RequestID: RequestID(r.Context())})
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("served-model-name", resp.ServedName)
		w.WriteHeader(http.StatusOK)
		_, err = w.Write(append(resp.Body, '\n'))
		return err
	}
	s.Handle("POST /serving-endpoints/{name}/invocations", Serving, invoke)
	s.Handle("POST /serving-endpoints/{name}/served-models/{served}/invocations", Serving, invoke)
	s.HandleFallback("/serving-endpoints/", Serving)
}
