package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/lakebox/lakebox/internal/registry"
	"github.com/lakebox/lakebox/internal/tracking"
)

// flexString is a string field that also accepts a JSON number (model
// versions are strings in MLflow's proto but some clients send numbers).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return tracking.Invalid("expected a string or a number, got %s", string(b))
	}
	*f = flexString(n.String())
	return nil
}

// registryReq is the union of registry request fields.
type registryReq struct {
	Name                    string         `json:"name"`
	NewName                 string         `json:"new_name"`
	Version                 flexString     `json:"version"`
	Description             *string        `json:"description"`
	Key                     string         `json:"key"`
	Value                   *string        `json:"value"`
	Alias                   string         `json:"alias"`
	Stage                   string         `json:"stage"`
	Stages                  []string       `json:"stages"`
	ArchiveExistingVersions bool           `json:"archive_existing_versions"`
	Source                  string         `json:"source"`
	RunID                   string         `json:"run_id"`
	RunLink                 string         `json:"run_link"`
	ModelID                 string         `json:"model_id"`
	Tags                    []tracking.Tag `json:"tags"`
	Filter                  string         `json:"filter"`
	MaxResults              i64            `json:"max_results"`
	OrderBy                 []string       `json:"order_by"`
	PageToken               string         `json:"page_token"`
}

// MountMLflowRegistry registers the MLflow model registry API and webhooks on s.
func (s *Server) MountMLflowRegistry(reg *registry.Service) {
	m := s.handleMLflow
	h := func(fn func(r *http.Request, req registryReq) (any, error)) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			var req registryReq
			if r.Method == http.MethodGet {
				if err := decodeQuery(r, &req); err != nil {
					return err
				}
				if v := r.URL.Query().Get("version"); v != "" {
					req.Version = flexString(v)
				}
			} else if err := decodeMLflow(r, &req); err != nil {
				return err
			}
			out, err := fn(r, req)
			if err != nil {
				return err
			}
			return writeMLflow(w, out)
		}
	}
	model := func(rm registry.RegisteredModel, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return map[string]any{"registered_model": rm}, nil
	}
	version := func(mv registry.ModelVersion, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return map[string]any{"model_version": mv}, nil
	}
	empty := func(err error) (any, error) { return nil, err }

	m("POST", "registered-models/create", h(func(r *http.Request, q registryReq) (any, error) {
		desc := ""
		if q.Description != nil {
			desc = *q.Description
		}
		return model(reg.CreateRegisteredModel(r.Context(), q.Name, desc, q.Tags))
	}))
	m("GET", "registered-models/get", h(func(r *http.Request, q registryReq) (any, error) {
		return model(reg.GetRegisteredModel(r.Context(), q.Name))
	}))
	m("PATCH", "registered-models/update", h(func(r *http.Request, q registryReq) (any, error) {
		return model(reg.UpdateRegisteredModel(r.Context(), q.Name, q.Description))
	}))
	m("POST", "registered-models/rename", h(func(r *http.Request, q registryReq) (any, error) {
		return model(reg.RenameRegisteredModel(r.Context(), q.Name, q.NewName))
	}))
	m("DELETE", "registered-models/delete", h(func(r *http.Request, q registryReq) (any, error) {
		return empty(reg.DeleteRegisteredModel(r.Context(), q.Name))
	}))
	searchModels := h(func(r *http.Request, q registryReq) (any, error) {
		ms, next, err := reg.SearchRegisteredModels(r.Context(), q.Filter, int64(q.MaxResults), q.OrderBy, q.PageToken)
		if err != nil {
			return nil, err
		}
		return struct {
			RegisteredModels []registry.RegisteredModel `json:"registered_models,omitempty"`
			NextPageToken    string                     `json:"next_page_token,omitempty"`
		}{ms, next}, nil
	})
	m("GET", "registered-models/search", searchModels)
	m("POST", "registered-models/search", searchModels)
	m("POST", "registered-models/set-tag", h(func(r *http.Request, q registryReq) (any, error) {
		if q.Value == nil {
			return nil, tracking.Missing("value")
		}
		return empty(reg.SetRegisteredModelTag(r.Context(), q.Name, q.Key, q.Value))
	}))
	m("DELETE", "registered-models/delete-tag", h(func(r *http.Request, q registryReq) (any, error) {
		return empty(reg.SetRegisteredModelTag(r.Context(), q.Name, q.Key, nil))
	}))
	m("POST", "registered-models/alias", h(func(r *http.Request, q registryReq) (any, error) {
		return empty(reg.SetAlias(r.Context(), q.Name, q.Alias, string(q.Version)))
	}))
	m("DELETE", "registered-models/alias", h(func(r *http.Request, q registryReq) (any, error) {
		return empty(reg.DeleteAlias(r.Context(), q.Name, q.Alias))
	}))
	m("GET", "registered-models/alias", h(func(r *http.Request, q registryReq) (any, error) {
		return version(reg.GetByAlias(r.Context(), q.Name, q.Alias))
	}))
	latest := h(func(r *http.Request, q registryReq) (any, error) {
		vs, err := reg.GetLatestVersions(r.Context(), q.Name, q.Stages)
		if err != nil {
			return nil, err
		}
		return struct {
			ModelVersions []registry.ModelVersion `json:"model_versions,omitempty"`
		}{vs}, nil
	})
	m("POST", "registered-models/get-latest-versions", latest)
	m("GET", "registered-models/get-latest-versions", latest)

	m("POST", "model-versions/create", h(func(r *http.Request, q registryReq) (any, error) {
		desc := ""
		if q.Description != nil {
			desc = *q.Description
		}
		return version(reg.CreateModelVersion(r.Context(), registry.CreateVersionRequest{Name: q.Name, Source: q.Source, RunID: q.RunID,
			Tags: q.Tags, RunLink: q.RunLink, Description: desc, ModelID: q.ModelID}))
	}))
	m("GET", "model-versions/get", h(func(r *http.Request, q registryReq) (any, error) {
		return version(reg.GetModelVersion(r.Context(), q.Name, string(q.Version)))
	}))
	m("PATCH", "model-versions/update", h(func(r *http.Request, q registryReq) (any, error) {
		return version(reg.UpdateModelVersion(r.Context(), q.Name, string(q.Version), q.Description))
	}))
	m("DELETE", "model-versions/delete", h(func(r *http.Request, q registryReq) (any, error) {
		return empty(reg.DeleteModelVersion(r.Context(), q.Name, string(q.Version)))
	}))
	searchVersions := h(func(r *http.Request, q registryReq) (any, error) {
		vs, next, err := reg.SearchModelVersions(r.Context(), q.Filter, int64(q.MaxResults), q.OrderBy, q.PageToken)
		if err != nil {
			return nil, err
		}
		return struct {
			ModelVersions []registry.ModelVersion `json:"model_versions,omitempty"`
			NextPageToken string                  `json:"next_page_token,omitempty"`
		}{vs, next}, nil
	})
	m("GET", "model-versions/search", searchVersions)
	m("POST", "model-versions/search", searchVersions)
	m("POST", "model-versions/set-tag", h(func(r *http.Request, q registryReq) (any, error) {
		if q.Value == nil {
			return nil, tracking.Missing("value")
		}
		return empty(reg.SetModelVersionTag(r.Context(), q.Name, string(q.Version), q.Key, q.Value))
	}))
	m("DELETE", "model-versions/delete-tag", h(func(r *http.Request, q registryReq) (any, error) {
		return empty(reg.SetModelVersionTag(r.Context(), q.Name, string(q.Version), q.Key, nil))
	}))
	m("POST", "model-versions/transition-stage", h(func(r *http.Request, q registryReq) (any, error) {
		return version(reg.TransitionStage(r.Context(), q.Name, string(q.Version), q.Stage, q.ArchiveExistingVersions))
	}))
	m("GET", "model-versions/get-download-uri", h(func(r *http.Request, q registryReq) (any, error) {
		uri, err := reg.GetDownloadURI(r.Context(), q.Name, string(q.Version))
		if err != nil {
			return nil, err
		}
		return map[string]string{"artifact_uri": uri}, nil
	}))
	// Lakebox extension: the table versions a model version was trained on.
	m("GET", "model-versions/lineage", h(func(r *http.Request, q registryReq) (any, error) {
		ts, err := reg.VersionTables(r.Context(), q.Name, string(q.Version))
		if err != nil {
			return nil, err
		}
		return struct {
			Tables []tracking.TableRef `json:"tables"`
		}{append([]tracking.TableRef{}, ts...)}, nil
	}))

	// webhooks
	type webhookReq struct {
		registry.WebhookUpdate
		ModelName string `json:"model_name"`
	}
	hook := func(w registry.Webhook, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return map[string]any{"webhook": w}, nil
	}
	wh := func(fn func(r *http.Request, req webhookReq) (any, error)) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			var req webhookReq
			if r.Method != http.MethodGet && r.Method != http.MethodDelete {
				if err := decodeMLflow(r, &req); err != nil {
					return err
				}
			}
			out, err := fn(r, req)
			if err != nil {
				return err
			}
			return writeMLflow(w, out)
		}
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	m("POST", "webhooks", wh(func(r *http.Request, q webhookReq) (any, error) {
		return hook(reg.CreateWebhook(r.Context(), registry.Webhook{Name: str(q.Name), URL: str(q.URL), Events: q.Events,
			Description: str(q.Description), Status: strings.ToUpper(str(q.Status)), Secret: str(q.Secret), ModelName: q.ModelName}))
	}))
	m("GET", "webhooks", wh(func(r *http.Request, _ webhookReq) (any, error) {
		ws, err := reg.ListWebhooks(r.Context())
		if err != nil {
			return nil, err
		}
		return struct {
			Webhooks []registry.Webhook `json:"webhooks,omitempty"`
		}{ws}, nil
	}))
	m("GET", "webhooks/{webhook_id}", wh(func(r *http.Request, _ webhookReq) (any, error) {
		return hook(reg.GetWebhook(r.Context(), r.PathValue("webhook_id")))
	}))
	m("PATCH", "webhooks/{webhook_id}", wh(func(r *http.Request, q webhookReq) (any, error) {
		if q.Status != nil {
			up := strings.ToUpper(*q.Status)
			q.Status = &up
		}
		return hook(reg.UpdateWebhook(r.Context(), r.PathValue("webhook_id"), q.WebhookUpdate))
	}))
	m("DELETE", "webhooks/{webhook_id}", wh(func(r *http.Request, _ webhookReq) (any, error) {
		return empty(reg.DeleteWebhook(r.Context(), r.PathValue("webhook_id")))
	}))
	m("POST", "webhooks/{webhook_id}/test", wh(func(r *http.Request, _ webhookReq) (any, error) {
		res, err := reg.TestWebhook(r.Context(), r.PathValue("webhook_id"))
		if err != nil {
			return nil, err
		}
		return map[string]any{"result": res}, nil
	}))
	m("GET", "webhooks/{webhook_id}/deliveries", wh(func(r *http.Request, _ webhookReq) (any, error) {
		ds, err := reg.WebhookDeliveries(r.Context(), r.PathValue("webhook_id"))
		if err != nil {
			return nil, err
		}
		return struct {
			Deliveries []registry.Delivery `json:"deliveries,omitempty"`
		}{ds}, nil
	}))
}
