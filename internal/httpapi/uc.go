package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
)

// UCPrefix is the base path of the Unity Catalog API.
const UCPrefix = "/api/2.1/unity-catalog"

// UCErrorDetail is a google.rpc.ErrorInfo entry of a UC error.
type UCErrorDetail struct {
	Type   string `json:"@type"`
	Reason string `json:"reason"`
}

// UCError is the error body of the Unity Catalog API.
type UCError struct {
	ErrorCode  string          `json:"error_code"`
	Message    string          `json:"message"`
	Details    []UCErrorDetail `json:"details"`
	StackTrace *string         `json:"stack_trace"`
}

var ucCodes = map[string]bool{
	"INVALID_ARGUMENT": true, "FAILED_PRECONDITION": true, "OUT_OF_RANGE": true, "UNSUPPORTED_TABLE_FORMAT": true,
	"UNAUTHENTICATED": true, "PERMISSION_DENIED": true, "NOT_FOUND": true, "CATALOG_NOT_FOUND": true,
	"SCHEMA_NOT_FOUND": true, "TABLE_NOT_FOUND": true, "ALREADY_EXISTS": true, "ABORTED": true,
	"RESOURCE_ALREADY_EXISTS": true, "CATALOG_ALREADY_EXISTS": true, "SCHEMA_ALREADY_EXISTS": true,
	"TABLE_ALREADY_EXISTS": true, "STORAGE_CREDENTIAL_ALREADY_EXISTS": true, "EXTERNAL_LOCATION_ALREADY_EXISTS": true,
	"RESOURCE_EXHAUSTED": true, "INTERNAL": true, "DATA_LOSS": true, "UNIMPLEMENTED": true,
}

// ucCode is the UC error_code of err: its reason when UC knows it, else
// the kind's code.
func ucCode(err error) string {
	k := errs.KindOf(err)
	if r := errs.ReasonOf(err); r != "" && ucCodes[r] && k != errs.Internal {
		return r
	}
	switch k {
	case errs.Invalid, errs.TooLarge:
		return "INVALID_ARGUMENT"
	case errs.FailedPrecondition:
		return "FAILED_PRECONDITION"
	case errs.NotFound:
		return "NOT_FOUND"
	case errs.AlreadyExists:
		return "RESOURCE_ALREADY_EXISTS"
	case errs.Conflict:
		return "ABORTED"
	case errs.PermissionDenied:
		return "PERMISSION_DENIED"
	case errs.Unauthenticated:
		return "UNAUTHENTICATED"
	case errs.ResourceExhausted:
		return "RESOURCE_EXHAUSTED"
	case errs.Unimplemented:
		return "UNIMPLEMENTED"
	case errs.Unavailable:
		return "TEMPORARILY_UNAVAILABLE"
	case errs.Canceled:
		return "CANCELLED"
	}
	return "INTERNAL"
}

// UC is the surface of the Unity Catalog API: UC's error envelope, and the
// legacy 400 for *_ALREADY_EXISTS codes (409 for ALREADY_EXISTS/ABORTED).
var UC = &Surface{
	Name: "uc",
	Status: func(err error) int {
		code := ucCode(err)
		switch {
		case code == "ALREADY_EXISTS" || code == "ABORTED":
			return http.StatusConflict
		case strings.HasSuffix(code, "ALREADY_EXISTS"), code == "OUT_OF_RANGE", code == "UNSUPPORTED_TABLE_FORMAT":
			return http.StatusBadRequest
		}
		return KindStatus(errs.KindOf(err))
	},
	Body: func(err error, _ int, msg string) any {
		code := ucCode(err)
		return UCError{ErrorCode: code, Message: msg,
			Details: []UCErrorDetail{{Type: "type.googleapis.com/google.rpc.ErrorInfo", Reason: code}}}
	},
}

type ucAPI struct{ cat *catalog.Service }

func ucPage(r *http.Request) (catalog.Page, error) {
	p := catalog.Page{Token: r.URL.Query().Get("page_token")}
	if v := r.URL.Query().Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, errs.E(errs.Invalid, "INVALID_ARGUMENT", "max_results must be an integer; got %q", v)
		}
		p.MaxResults = n
	}
	return p, nil
}

func ucBool(r *http.Request, name string) bool {
	v, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return v
}

func ucOK(w http.ResponseWriter, v any) error { return WriteJSON(w, http.StatusOK, v) }

func ucEmpty(w http.ResponseWriter) error { return WriteJSON(w, http.StatusOK, struct{}{}) }

// handle registers a UC route relative to UCPrefix.
func (s *Server) uc(pattern string, h HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.Handle(method+" "+UCPrefix+path, UC, h)
}

// decode reads a JSON body into v and validates it when it can.
func ucDecode(r *http.Request, v any) error {
	if err := DecodeJSON(r, v); err != nil {
		return errs.E(errs.Invalid, "INVALID_ARGUMENT", "%s", errs.Message(err))
	}
	if vv, ok := v.(interface{ Validate() error }); ok {
		return vv.Validate()
	}
	return nil
}

func ucBody[T any](r *http.Request) (T, error) {
	var v T
	return v, ucDecode(r, &v)
}

func ucWithPage[T any](w http.ResponseWriter, r *http.Request, f func(catalog.Page) (T, error)) error {
	p, err := ucPage(r)
	if err != nil {
		return err
	}
	v, err := f(p)
	if err != nil {
		return err
	}
	return ucOK(w, v)
}

// reply returns a function that writes (v, err) as the answer: ucReply(w)(call()).
func ucReply(w http.ResponseWriter) func(any, error) error {
	return func(v any, err error) error {
		if err != nil {
			return err
		}
		return ucOK(w, v)
	}
}

func ucDone(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	return ucEmpty(w)
}

func ucRequired(r *http.Request, names ...string) error {
	for _, n := range names {
		if r.URL.Query().Get(n) == "" {
			return errs.E(errs.Invalid, "INVALID_ARGUMENT", "query parameter %s is required", n)
		}
	}
	return nil
}

// MountUC registers the Unity Catalog API and the volume file API.
func (s *Server) MountUC(cat *catalog.Service) {
	a := &ucAPI{cat: cat}
	a.mountSecurables(s)
	a.mountGovernance(s)
	a.mountFiles(s)
	s.HandleFallback(UCPrefix+"/", UC)
}

func (a *ucAPI) mountSecurables(s *Server) {
	c := a.cat
	// Catalogs.
	s.uc("POST /catalogs", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateCatalog](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateCatalog(r.Context(), req))
	})
	s.uc("GET /catalogs", func(w http.ResponseWriter, r *http.Request) error {
		return ucWithPage(w, r, func(p catalog.Page) (catalog.ListCatalogsResponse, error) { return c.ListCatalogs(r.Context(), p) })
	})
	s.uc("GET /catalogs/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.GetCatalog(r.Context(), r.PathValue("name")))
	})
	s.uc("PATCH /catalogs/{name}", func(w http.ResponseWriter, r *http.Request) error {
		u, err := ucBody[catalog.Update](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.UpdateCatalog(r.Context(), r.PathValue("name"), u))
	})
	s.uc("DELETE /catalogs/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucDone(w, c.DeleteCatalog(r.Context(), r.PathValue("name"), ucBool(r, "force")))
	})
	// Schemas.
	s.uc("POST /schemas", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateSchema](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateSchema(r.Context(), req))
	})
	s.uc("GET /schemas", func(w http.ResponseWriter, r *http.Request) error {
		if err := ucRequired(r, "catalog_name"); err != nil {
			return err
		}
		return ucWithPage(w, r, func(p catalog.Page) (catalog.ListSchemasResponse, error) {
			return c.ListSchemas(r.Context(), r.URL.Query().Get("catalog_name"), p)
		})
	})
	s.uc("GET /schemas/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.GetSchema(r.Context(), r.PathValue("full_name")))
	})
	s.uc("PATCH /schemas/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		u, err := ucBody[catalog.Update](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.UpdateSchema(r.Context(), r.PathValue("full_name"), u))
	})
	s.uc("DELETE /schemas/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucDone(w, c.DeleteSchema(r.Context(), r.PathValue("full_name"), ucBool(r, "force")))
	})
	// Tables.
	s.uc("POST /staging-tables", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateStagingTable](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateStagingTable(r.Context(), req))
	})
	s.uc("POST /tables", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateTable](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateTable(r.Context(), req))
	})
	s.uc("GET /tables", func(w http.ResponseWriter, r *http.Request) error {
		if err := ucRequired(r, "catalog_name", "schema_name"); err != nil {
			return err
		}
		q := r.URL.Query()
		return ucWithPage(w, r, func(p catalog.Page) (catalog.ListTablesResponse, error) {
			return c.ListTables(r.Context(), q.Get("catalog_name"), q.Get("schema_name"), p)
		})
	})
	s.uc("GET /tables/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.GetTable(r.Context(), r.PathValue("full_name")))
	})
	s.uc("PATCH /tables/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		u, err := ucBody[catalog.TableUpdate](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.UpdateTable(r.Context(), r.PathValue("full_name"), u))
	})
	s.uc("DELETE /tables/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucDone(w, c.DeleteTable(r.Context(), r.PathValue("full_name")))
	})
	s.uc("POST /tables/{full_name}/undrop", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.UndropTable(r.Context(), r.PathValue("full_name")))
	})
	// Volumes.
	s.uc("POST /volumes", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateVolume](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateVolume(r.Context(), req))
	})
	s.uc("GET /volumes", func(w http.ResponseWriter, r *http.Request) error {
		if err := ucRequired(r, "catalog_name", "schema_name"); err != nil {
			return err
		}
		q := r.URL.Query()
		return ucWithPage(w, r, func(p catalog.Page) (catalog.ListVolumesResponse, error) {
			return c.ListVolumes(r.Context(), q.Get("catalog_name"), q.Get("schema_name"), p)
		})
	})
	s.uc("GET /volumes/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.GetVolume(r.Context(), r.PathValue("name")))
	})
	s.uc("PATCH /volumes/{name}", func(w http.ResponseWriter, r *http.Request) error {
		u, err := ucBody[catalog.Update](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.UpdateVolume(r.Context(), r.PathValue("name"), u))
	})
	s.uc("DELETE /volumes/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucDone(w, c.DeleteVolume(r.Context(), r.PathValue("name")))
	})
	s.uc("POST /volumes/{name}/undrop", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.UndropVolume(r.Context(), r.PathValue("name")))
	})
	// Functions.
	s.uc("POST /functions", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateFunctionRequest](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateFunction(r.Context(), req))
	})
	s.uc("GET /functions", func(w http.ResponseWriter, r *http.Request) error {
		if err := ucRequired(r, "catalog_name", "schema_name"); err != nil {
			return err
		}
		q := r.URL.Query()
		return ucWithPage(w, r, func(p catalog.Page) (catalog.ListFunctionsResponse, error) {
			return c.ListFunctions(r.Context(), q.Get("catalog_name"), q.Get("schema_name"), p)
		})
	})
	s.uc("GET /functions/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.GetFunction(r.Context(), r.PathValue("name")))
	})
	s.uc("DELETE /functions/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucDone(w, c.DeleteFunction(r.Context(), r.PathValue("name")))
	})
	// Registered models and versions.
	s.uc("POST /models", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateRegisteredModel](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateRegisteredModel(r.Context(), req))
	})
	s.uc("GET /models", func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		if (q.Get("catalog_name") == "") != (q.Get("schema_name") == "") {
			return errs.E(errs.Invalid, "INVALID_ARGUMENT", "pass both catalog_name and schema_name, or neither")
		}
		return ucWithPage(w, r, func(p catalog.Page) (catalog.ListRegisteredModelsResponse, error) {
			return c.ListRegisteredModels(r.Context(), q.Get("catalog_name"), q.Get("schema_name"), p)
		})
	})
	s.uc("GET /models/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.GetRegisteredModel(r.Context(), r.PathValue("full_name")))
	})
	s.uc("PATCH /models/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		u, err := ucBody[catalog.Update](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.UpdateRegisteredModel(r.Context(), r.PathValue("full_name"), u))
	})
	s.uc("DELETE /models/{full_name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucDone(w, c.DeleteRegisteredModel(r.Context(), r.PathValue("full_name"), ucBool(r, "force")))
	})
	s.uc("POST /models/versions", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateModelVersion](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateModelVersion(r.Context(), req))
	})
	s.uc("GET /models/{full_name}/versions", func(w http.ResponseWriter, r *http.Request) error {
		return ucWithPage(w, r, func(p catalog.Page) (catalog.ListModelVersionsResponse, error) {
			return c.ListModelVersions(r.Context(), r.PathValue("full_name"), p)
		})
	})
	s.uc("GET /models/{full_name}/versions/{version}", func(w http.ResponseWriter, r *http.Request) error {
		v, err := ucVersion(r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.GetModelVersion(r.Context(), r.PathValue("full_name"), v))
	})
	s.uc("PATCH /models/{full_name}/versions/{version}", func(w http.ResponseWriter, r *http.Request) error {
		v, err := ucVersion(r)
		if err != nil {
			return err
		}
		var u struct {
			Comment *string `json:"comment"`
		}
		if err := ucDecode(r, &u); err != nil {
			return err
		}
		return ucReply(w)(c.UpdateModelVersion(r.Context(), r.PathValue("full_name"), v, u.Comment))
	})
	s.uc("DELETE /models/{full_name}/versions/{version}", func(w http.ResponseWriter, r *http.Request) error {
		v, err := ucVersion(r)
		if err != nil {
			return err
		}
		return ucDone(w, c.DeleteModelVersion(r.Context(), r.PathValue("full_name"), v))
	})
	s.uc("PATCH /models/{full_name}/versions/{version}/finalize", func(w http.ResponseWriter, r *http.Request) error {
		v, err := ucVersion(r)
		if err != nil {
			return err
		}
		var f struct {
			FullName string `json:"full_name"`
			Version  int64  `json:"version"`
		}
		if err := ucDecode(r, &f); err != nil {
			return err
		}
		if f.FullName != "" && !strings.EqualFold(f.FullName, r.PathValue("full_name")) || f.Version != 0 && f.Version != v {
			return errs.E(errs.Invalid, "INVALID_ARGUMENT", "full_name and version in the body must match the path")
		}
		return ucReply(w)(c.FinalizeModelVersion(r.Context(), r.PathValue("full_name"), v))
	})
	// Credentials and external locations.
	s.uc("POST /credentials", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateCredential](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateCredential(r.Context(), req))
	})
	s.uc("GET /credentials", func(w http.ResponseWriter, r *http.Request) error {
		return ucWithPage(w, r, func(p catalog.Page) (catalog.ListCredentialsResponse, error) {
			return c.ListCredentials(r.Context(), p)
		})
	})
	s.uc("GET /credentials/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.GetCredential(r.Context(), r.PathValue("name")))
	})
	s.uc("PATCH /credentials/{name}", func(w http.ResponseWriter, r *http.Request) error {
		u, err := ucBody[catalog.CredentialUpdate](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.UpdateCredential(r.Context(), r.PathValue("name"), u))
	})
	s.uc("DELETE /credentials/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucDone(w, c.DeleteCredential(r.Context(), r.PathValue("name"), ucBool(r, "force")))
	})
	s.uc("POST /external-locations", func(w http.ResponseWriter, r *http.Request) error {
		req, err := ucBody[catalog.CreateExternalLocation](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.CreateExternalLocation(r.Context(), req))
	})
	s.uc("GET /external-locations", func(w http.ResponseWriter, r *http.Request) error {
		return ucWithPage(w, r, func(p catalog.Page) (catalog.ListExternalLocationsResponse, error) {
			return c.ListExternalLocations(r.Context(), p)
		})
	})
	s.uc("GET /external-locations/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.GetExternalLocation(r.Context(), r.PathValue("name")))
	})
	s.uc("PATCH /external-locations/{name}", func(w http.ResponseWriter, r *http.Request) error {
		u, err := ucBody[catalog.ExternalLocationUpdate](r)
		if err != nil {
			return err
		}
		return ucReply(w)(c.UpdateExternalLocation(r.Context(), r.PathValue("name"), u))
	})
	s.uc("DELETE /external-locations/{name}", func(w http.ResponseWriter, r *http.Request) error {
		return ucDone(w, c.DeleteExternalLocation(r.Context(), r.PathValue("name"), ucBool(r, "force")))
	})
	s.uc("GET /metastore_summary", func(w http.ResponseWriter, r *http.Request) error {
		return ucReply(w)(c.MetastoreSummary(r.Context()))
	})
}

func ucVersion(r *http.Request) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || v < 1 {
		return 0, errs.E(errs.Invalid, "INVALID_ARGUMENT", "version must be a positive integer; got %q", r.PathValue("version"))
	}
	return v, nil
}
