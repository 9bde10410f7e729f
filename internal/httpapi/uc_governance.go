package httpapi

import (
	"net/http"
	"strings"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
)

func (a *ucAPI) mountGovernance(s *Server) {
	c := a.cat
	securable := func(r *http.Request) (catalog.SecurableType, string, error) {
		t, err := catalog.ParseSecurableType(r.PathValue("securable_type"))
		return t, r.PathValue("full_name"), err
	}
	s.uc("GET /permissions/{securable_type}/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		t, name, err := securable(r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.GetPermissions(r.Context(), t, name, r.URL.Query().Get("principal")))
	})
	s.uc("PATCH /permissions/{securable_type}/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		t, name, err := securable(r)
		if err != nil {
			return err
		}
		var req catalog.UpdatePermissions
		if err := ucDecode(r, &req); err != nil {
			return err
		}
		return ucReply(w)(c.UpdatePermissions(r.Context(), t, name, req))
	})
	s.uc("GET /effective-permissions/{securable_type}/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		t, name, err := securable(r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.EffectivePermissions(r.Context(), t, name, r.URL.Query().Get("principal")))
	})
	// Temporary credentials.
	s.uc("POST /temporary-table-credentials", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			TableID   string `json:"table_id"`
			Operation string `json:"operation"`
		}
		if err := ucDecode(r, &req); err != nil {
			return err
		}
		return ucReply(w)(c.TableCredentials(r.Context(), req.TableID, req.Operation))
	})
	s.uc("POST /temporary-volume-credentials", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			VolumeID  string `json:"volume_id"`
			Operation string `json:"operation"`
		}
		if err := ucDecode(r, &req); err != nil {
			return err
		}
		return ucReply(w)(c.VolumeCredentials(r.Context(), req.VolumeID, req.Operation))
	})
	s.uc("POST /temporary-model-version-credentials", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			CatalogName string `json:"catalog_name"`
			SchemaName  string `json:"schema_name"`
			ModelName   string `json:"model_name"`
			Version     int64  `json:"version"`
			Operation   string `json:"operation"`
		}
		if err := ucDecode(r, &req); err != nil {
			return err
		}
		return ucReply(w)(c.ModelVersionCredentials(r.Context(), req.CatalogName, req.SchemaName, req.ModelName, req.Version, req.Operation))
	})
	s.uc("POST /temporary-path-credentials", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			URL       string `json:"url"`
			Operation string `json:"operation"`
		}
		if err := ucDecode(r, &req); err != nil {
			return err
		}
		return ucReply(w)(c.PathCredentials(r.Context(), req.URL, req.Operation))
	})
	// Tags (Databricks entity-tag-assignments shape).
	s.uc("POST /entity-tag-assignments", func(w http.ResponseWriter, r *http.Request) error {
		var req catalog.TagAssignment
		if err := ucDecode(r, &req); err != nil {
			return err
		}
		return ucReply(w)(c.SetTag(r.Context(), req))
	})
	s.uc("GET /entity-tag-assignments/{entity_type}/{entity_name}/tags", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.ListTags(r.Context(), r.PathValue("entity_type"), r.PathValue("entity_name")))
	})
	s.uc("DELETE /entity-tag-assignments/{entity_type}/{entity_name}/tags/{tag_key}", func(w http.ResponseWriter, r *http.Request) error {
		return ucDone(w, c.DeleteTag(r.Context(), r.PathValue("entity_type"), r.PathValue("entity_name"), r.PathValue("tag_key")))
	})
	// Search.
	s.uc("GET /search", func(w http.ResponseWriter, r *http.Request) error {
		var types []catalog.SecurableType
		if v := r.URL.Query().Get("securable_types"); v != "" {
			for _, t := range strings.Split(v, ",") {
				st, err := catalog.ParseSecurableType(t)
				if err != nil {
					return err
				}
				types = append(types, st)
			}
		}
		q := r.URL.Query().Get("query")
		if strings.TrimSpace(q) == "" {
			return errs.E(errs.Invalid, "INVALID_ARGUMENT", "query parameter query is required")
		}
		return ucWithPage(w, r, func(p catalog.Page) (catalog.SearchResponse, error) { return c.Search(r.Context(), q, types, p) })
	})
}
