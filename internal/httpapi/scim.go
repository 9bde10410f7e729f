package httpapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// SCIM schema URNs.
const (
	scimUser     = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroup    = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimSP       = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"
	scimList     = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimPatchOp  = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimDefCount = 50
)

// scimPrefixes are where the SCIM resources are mounted: the Databricks
// workspace path and the Unity Catalog control-plane path.
var scimPrefixes = []string{"/api/2.0/preview/scim/v2", "/api/1.0/unity-control/scim2"}

// SCIMEmail is a SCIM email entry.
type SCIMEmail struct {
	Value   string `json:"value"`
	Primary bool   `json:"primary,omitempty"`
}

// SCIMRef points at another SCIM resource (group member, user's group).
type SCIMRef struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Ref     string `json:"$ref,omitempty"`
}

// SCIMMeta is a resource's metadata.
type SCIMMeta struct {
	ResourceType string `json:"resourceType,omitempty"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

// SCIMResource is a user, group or service principal on the wire. The user
// fields follow the Unity Catalog control API's UserResource.
type SCIMResource struct {
	Schemas       []string    `json:"schemas,omitempty"`
	ID            string      `json:"id,omitempty"`
	UserName      string      `json:"userName,omitempty"`
	ApplicationID string      `json:"applicationId,omitempty"`
	DisplayName   string      `json:"displayName,omitempty"`
	ExternalID    string      `json:"externalId,omitempty"`
	Emails        []SCIMEmail `json:"emails,omitempty"`
	Active        *bool       `json:"active,omitempty"`
	Members       []SCIMRef   `json:"members,omitempty"`
	Groups        []SCIMRef   `json:"groups,omitempty"`
	Meta          *SCIMMeta   `json:"meta,omitempty"`
}

// SCIMList is a SCIM list response.
type SCIMList struct {
	Schemas      []string       `json:"schemas"`
	TotalResults int            `json:"totalResults"`
	ItemsPerPage int            `json:"itemsPerPage"`
	StartIndex   int            `json:"startIndex"`
	Resources    []SCIMResource `json:"Resources"`
}

// SCIMPatch is a SCIM PATCH request.
type SCIMPatch struct {
	Schemas    []string `json:"schemas"`
	Operations []struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	} `json:"Operations"`
}

type scimKind struct {
	kind     auth.Kind
	resource string // "Users"
	schema   string
	// filterAttrs maps filterable attributes to the principal name.
	filterAttrs []string
}

var scimKinds = []scimKind{
	{auth.KindUser, "Users", scimUser, []string{"userName", "emails.value", "emails"}},
	{auth.KindGroup, "Groups", scimGroup, []string{"displayName"}},
	{auth.KindServicePrincipal, "ServicePrincipals", scimSP, []string{"applicationId"}},
}

func scimTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (p *platformAPI) toSCIM(r *http.Request, k scimKind, pr auth.Principal, withRefs bool) (SCIMResource, error) {
	active := pr.Active
	res := SCIMResource{
		Schemas: []string{k.schema}, ID: pr.ID, DisplayName: pr.DisplayName, ExternalID: pr.ExternalID, Active: &active,
		Meta: &SCIMMeta{ResourceType: strings.TrimSuffix(k.resource, "s"), Created: scimTime(pr.CreatedAt), LastModified: scimTime(pr.UpdatedAt)},
	}
	switch pr.Kind {
	case auth.KindUser:
		res.UserName = pr.Name
		email := pr.Email
		if email == "" && strings.Contains(pr.Name, "@") {
			email = pr.Name
		}
		if email != "" {
			res.Emails = []SCIMEmail{{Value: email, Primary: true}}
		}
	case auth.KindGroup:
		res.DisplayName = pr.Name
		res.Active = nil
		if withRefs {
			ms, err := p.auth.Members(r.Context(), pr.ID)
			if err != nil {
				return res, err
			}
			for _, m := range ms {
				res.Members = append(res.Members, SCIMRef{Value: m.ID, Display: m.DisplayName, Ref: kindResource(m.Kind) + "/" + m.ID})
			}
		}
	case auth.KindServicePrincipal:
		res.ApplicationID = pr.Name
	}
	if withRefs {
		gs, err := p.auth.DirectGroups(r.Context(), pr.ID)
		if err != nil {
			return res, err
		}
		for _, g := range gs {
			res.Groups = append(res.Groups, SCIMRef{Value: g.ID, Display: g.Name, Ref: "Groups/" + g.ID})
		}
	}
	return res, nil
}

func kindResource(k auth.Kind) string {
	for _, sk := range scimKinds {
		if sk.kind == k {
			return sk.resource
		}
	}
	return ""
}

// fromSCIM builds a principal from a request body.
func fromSCIM(k scimKind, in SCIMResource) auth.Principal {
	p := auth.Principal{Kind: k.kind, DisplayName: in.DisplayName, ExternalID: in.ExternalID, Active: in.Active == nil || *in.Active}
	for _, e := range in.Emails {
		if p.Email == "" || e.Primary {
			p.Email = e.Value
		}
	}
	switch k.kind {
	case auth.KindUser:
		p.Name = in.UserName
		if p.Name == "" {
			p.Name = p.Email
		}
		if p.Name == "" {
			p.Name = in.DisplayName
		}
	case auth.KindGroup:
		p.Name = in.DisplayName
	case auth.KindServicePrincipal:
		p.Name = in.ApplicationID
	}
	return p
}

var filterRE = regexp.MustCompile(`^\s*([A-Za-z.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$`)

func parseFilter(k scimKind, filter string) (string, error) {
	if filter == "" {
		return "", nil
	}
	m := filterRE.FindStringSubmatch(filter)
	if m != nil {
		for _, a := range k.filterAttrs {
			if strings.EqualFold(a, m[1]) {
				return strings.ReplaceAll(m[2], `\"`, `"`), nil
			}
		}
	}
	return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "unsupported filter %q: accepted is %s eq \"value\"", filter, strings.Join(k.filterAttrs, " | "))
}

func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "%s must be a non-negative integer, got %q", name, v)
	}
	return n, nil
}

func (p *platformAPI) mountSCIM(s *Server) {
	for _, prefix := range scimPrefixes {
		for _, k := range scimKinds {
			base := prefix + "/" + k.resource
			s.Handle("GET "+base, SCIM, p.scimList(k))
			// The Unity Catalog control API answers 200 where Databricks'
			// SCIM answers 201 (create) and 204 (delete).
			uc := strings.HasPrefix(prefix, "/api/1.0/")
			s.Handle("POST "+base, SCIM, p.scimCreate(k, uc))
			s.Handle("GET "+base+"/{id}", SCIM, p.scimGet(k))
			s.Handle("PUT "+base+"/{id}", SCIM, p.scimReplace(k))
			s.Handle("PATCH "+base+"/{id}", SCIM, p.scimPatch(k))
			s.Handle("DELETE "+base+"/{id}", SCIM, p.scimDelete(k, uc))
		}
		s.Handle("GET "+prefix+"/Me", SCIM, func(w http.ResponseWriter, r *http.Request) error {
			id := auth.IdentityFrom(r.Context())
			k := scimKinds[0]
			if id.Principal.Kind == auth.KindServicePrincipal {
				k = scimKinds[2]
			}
			res, err := p.toSCIM(r, k, id.Principal, true)
			if err != nil {
				return err
			}
			return WriteJSON(w, http.StatusOK, res)
		})
		s.HandleFallback(prefix+"/", SCIM)
	}
}

func (p *platformAPI) scimList(k scimKind) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name, err := parseFilter(k, r.URL.Query().Get("filter"))
		if err != nil {
			return err
		}
		start, err := queryInt(r, "startIndex", 1)
		if err != nil {
			return err
		}
		if start < 1 {
			start = 1
		}
		count, err := queryInt(r, "count", scimDefCount)
		if err != nil {
			return err
		}
		if count > 10000 {
			count = 10000
		}
		ps, total, err := p.auth.ListPrincipals(r.Context(), k.kind, auth.ListFilter{Name: name, Offset: start - 1, Limit: count})
		if err != nil {
			return err
		}
		out := SCIMList{Schemas: []string{scimList}, TotalResults: total, StartIndex: start, Resources: []SCIMResource{}}
		for _, pr := range ps {
			res, err := p.toSCIM(r, k, pr, false)
			if err != nil {
				return err
			}
			out.Resources = append(out.Resources, res)
		}
		out.ItemsPerPage = len(out.Resources)
		return writeSCIM(w, http.StatusOK, out)
	}
}

func writeSCIM(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

func (p *platformAPI) getKind(r *http.Request, k scimKind) (auth.Principal, error) {
	pr, err := p.auth.GetPrincipal(r.Context(), r.PathValue("id"))
	if err != nil {
		return pr, err
	}
	if pr.Kind != k.kind {
		return pr, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "%s %q does not exist", strings.TrimSuffix(k.resource, "s"), r.PathValue("id"))
	}
	return pr, nil
}

func (p *platformAPI) scimGet(k scimKind) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		pr, err := p.getKind(r, k)
		if err != nil {
			return err
		}
		res, err := p.toSCIM(r, k, pr, true)
		if err != nil {
			return err
		}
		return writeSCIM(w, http.StatusOK, res)
	}
}

func (p *platformAPI) scimCreate(k scimKind, uc bool) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in SCIMResource
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		pr := fromSCIM(k, in)
		if k.kind == auth.KindServicePrincipal && pr.Name == "" {
			pr.Name = newAppID()
		}
		if pr.Name == "" {
			return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "%s", missingName(k))
		}
		created, err := p.auth.CreatePrincipal(r.Context(), pr)
		if err != nil {
			return err
		}
		for _, m := range in.Members {
			if err := p.auth.AddMember(r.Context(), created.ID, m.Value); err != nil {
				p.auth.DeletePrincipal(r.Context(), created.ID)
				return err
			}
		}
		res, err := p.toSCIM(r, k, created, true)
		if err != nil {
			return err
		}
		if uc {
			return writeSCIM(w, http.StatusOK, res)
		}
		return writeSCIM(w, http.StatusCreated, res)
	}
}

func missingName(k scimKind) string {
	switch k.kind {
	case auth.KindUser:
		return "userName (or a primary email) is required"
	case auth.KindGroup:
		return "displayName is required"
	}
	return "applicationId is required"
}

func (p *platformAPI) scimReplace(k scimKind) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		old, err := p.getKind(r, k)
		if err != nil {
			return err
		}
		var in SCIMResource
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		pr := fromSCIM(k, in)
		pr.ID = old.ID
		if pr.Name == "" {
			pr.Name = old.Name
		}
		updated, err := p.auth.UpdatePrincipal(r.Context(), pr)
		if err != nil {
			return err
		}
		if k.kind == auth.KindGroup && in.Members != nil {
			if err := p.setMembers(r, old.ID, in.Members); err != nil {
				return err
			}
		}
		res, err := p.toSCIM(r, k, updated, true)
		if err != nil {
			return err
		}
		return writeSCIM(w, http.StatusOK, res)
	}
}

func (p *platformAPI) setMembers(r *http.Request, groupID string, want []SCIMRef) error {
	cur, err := p.auth.Members(r.Context(), groupID)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, m := range want {
		keep[m.Value] = true
		if err := p.auth.AddMember(r.Context(), groupID, m.Value); err != nil {
			return err
		}
	}
	for _, m := range cur {
		if !keep[m.ID] {
			if err := p.auth.RemoveMember(r.Context(), groupID, m.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

var memberPathRE = regexp.MustCompile(`^members\[value eq "([^"]+)"\]$`)

func refsOf(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		if m, isMap := v.(map[string]any); isMap {
			list = []any{m}
		} else {
			return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", `members value must be a list of {"value": "<principal id>"}`)
		}
	}
	var ids []string
	for _, item := range list {
		m, ok := item.(map[string]any)
		id, _ := m["value"].(string)
		if !ok || id == "" {
			return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", `members value must be a list of {"value": "<principal id>"}`)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (p *platformAPI) scimPatch(k scimKind) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		pr, err := p.getKind(r, k)
		if err != nil {
			return err
		}
		var req SCIMPatch
		if err := DecodeJSON(r, &req); err != nil {
			return err
		}
		if len(req.Operations) == 0 {
			return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "PATCH needs Operations: [{op: add|remove|replace, path, value}]")
		}
		changed := pr
		for _, op := range req.Operations {
			opName := strings.ToLower(op.Op)
			switch {
			case k.kind == auth.KindGroup && op.Path == "members" && opName == "add":
				ids, err := refsOf(op.Value)
				if err != nil {
					return err
				}
				for _, id := range ids {
					if err := p.auth.AddMember(r.Context(), pr.ID, id); err != nil {
						return err
					}
				}
			case k.kind == auth.KindGroup && opName == "remove" && memberPathRE.MatchString(op.Path):
				id := memberPathRE.FindStringSubmatch(op.Path)[1]
				if err := p.auth.RemoveMember(r.Context(), pr.ID, id); err != nil {
					return err
				}
			case k.kind == auth.KindGroup && opName == "remove" && op.Path == "members":
				ids, err := refsOf(op.Value)
				if err != nil {
					return err
				}
				for _, id := range ids {
					if err := p.auth.RemoveMember(r.Context(), pr.ID, id); err != nil {
						return err
					}
				}
			case opName == "replace" && op.Path == "active":
				b, ok := op.Value.(bool)
				if !ok {
					return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "active must be true or false")
				}
				changed.Active = b
			case opName == "replace" && op.Path == "displayName":
				s, ok := op.Value.(string)
				if !ok {
					return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "displayName must be a string")
				}
				changed.DisplayName = s
				if k.kind == auth.KindGroup {
					changed.Name = s
				}
			default:
				return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE",
					"unsupported PATCH operation %q on path %q: accepted are add/remove on members (groups), replace on active and displayName", op.Op, op.Path)
			}
		}
		if changed != pr {
			if pr, err = p.auth.UpdatePrincipal(r.Context(), changed); err != nil {
				return err
			}
		}
		res, err := p.toSCIM(r, k, pr, true)
		if err != nil {
			return err
		}
		return writeSCIM(w, http.StatusOK, res)
	}
}

func (p *platformAPI) scimDelete(k scimKind, uc bool) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		pr, err := p.getKind(r, k)
		if err != nil {
			return err
		}
		if err := p.auth.DeletePrincipal(r.Context(), pr.ID); err != nil {
			return err
		}
		if uc {
			return WriteJSON(w, http.StatusOK, struct{}{})
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
