package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/lakebox/lakebox/internal/httpapi"
)

const scim = "/api/2.0/preview/scim/v2"

// Me returns the caller's identity.
func (c *Client) Me(ctx context.Context) (httpapi.SCIMResource, error) {
	var out httpapi.SCIMResource
	return out, c.Do(ctx, "GET", scim+"/Me", nil, nil, &out)
}

// CreateToken creates a token for the caller; lifetimeSeconds 0 = no expiry.
func (c *Client) CreateToken(ctx context.Context, lifetimeSeconds int64, comment string) (httpapi.CreateTokenResponse, error) {
	var out httpapi.CreateTokenResponse
	req := httpapi.CreateTokenRequest{Comment: comment}
	if lifetimeSeconds != 0 {
		req.LifetimeSeconds = &lifetimeSeconds
	}
	return out, c.Do(ctx, "POST", "/api/2.0/token/create", nil, req, &out)
}

// CreateTokenOnBehalfOf creates a token for a service principal (admins).
func (c *Client) CreateTokenOnBehalfOf(ctx context.Context, applicationID string, lifetimeSeconds int64, comment string) (httpapi.CreateTokenResponse, error) {
	var out httpapi.CreateTokenResponse
	req := httpapi.CreateTokenRequest{Comment: comment, ApplicationID: applicationID}
	if lifetimeSeconds != 0 {
		req.LifetimeSeconds = &lifetimeSeconds
	}
	return out, c.Do(ctx, "POST", "/api/2.0/token-management/on-behalf-of/tokens", nil, req, &out)
}

// ListTokens lists the caller's tokens, or every token with all (admins).
func (c *Client) ListTokens(ctx context.Context, all bool) ([]httpapi.TokenInfo, error) {
	var out struct {
		TokenInfos []httpapi.TokenInfo `json:"token_infos"`
	}
	path := "/api/2.0/token/list"
	if all {
		path = "/api/2.0/token-management/tokens"
	}
	return out.TokenInfos, c.Do(ctx, "GET", path, nil, nil, &out)
}

// RevokeToken deletes a token.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.Do(ctx, "POST", "/api/2.0/token/delete", nil, map[string]string{"token_id": id}, nil)
}

// Resource names the SCIM resource types.
type Resource string

// The SCIM resource types.
const (
	Users             Resource = "Users"
	Groups            Resource = "Groups"
	ServicePrincipals Resource = "ServicePrincipals"
)

// ListPrincipals lists one kind of principal; filter is a SCIM filter such
// as `userName eq "alice"` ("" for all).
func (c *Client) ListPrincipals(ctx context.Context, kind Resource, filter string, startIndex, count int) (httpapi.SCIMList, error) {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", filter)
	}
	if startIndex > 0 {
		q.Set("startIndex", strconv.Itoa(startIndex))
	}
	if count > 0 {
		q.Set("count", strconv.Itoa(count))
	}
	var out httpapi.SCIMList
	return out, c.Do(ctx, "GET", scim+"/"+string(kind), q, nil, &out)
}

// GetPrincipal returns one principal by id.
func (c *Client) GetPrincipal(ctx context.Context, kind Resource, id string) (httpapi.SCIMResource, error) {
	var out httpapi.SCIMResource
	return out, c.Do(ctx, "GET", scim+"/"+string(kind)+"/"+url.PathEscape(id), nil, nil, &out)
}

// CreatePrincipal creates a principal.
func (c *Client) CreatePrincipal(ctx context.Context, kind Resource, in httpapi.SCIMResource) (httpapi.SCIMResource, error) {
	var out httpapi.SCIMResource
	return out, c.Do(ctx, "POST", scim+"/"+string(kind), nil, in, &out)
}

// DeletePrincipal deletes a principal by id.
func (c *Client) DeletePrincipal(ctx context.Context, kind Resource, id string) error {
	return c.Do(ctx, "DELETE", scim+"/"+string(kind)+"/"+url.PathEscape(id), nil, nil, nil)
}

// PatchGroupMembers adds (op "add") or removes (op "remove") members.
func (c *Client) PatchGroupMembers(ctx context.Context, groupID, op string, memberIDs ...string) (httpapi.SCIMResource, error) {
	var refs []map[string]string
	for _, id := range memberIDs {
		refs = append(refs, map[string]string{"value": id})
	}
	body := map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": op, "path": "members", "value": refs}},
	}
	var out httpapi.SCIMResource
	return out, c.Do(ctx, "PATCH", scim+"/Groups/"+url.PathEscape(groupID), nil, body, &out)
}

// FindPrincipal resolves a name (userName, group displayName or
// applicationId) or id to a principal of kind.
func (c *Client) FindPrincipal(ctx context.Context, kind Resource, nameOrID string) (httpapi.SCIMResource, error) {
	attr := map[Resource]string{Users: "userName", Groups: "displayName", ServicePrincipals: "applicationId"}[kind]
	l, err := c.ListPrincipals(ctx, kind, attr+` eq "`+nameOrID+`"`, 0, 0)
	if err == nil && len(l.Resources) == 1 {
		nameOrID = l.Resources[0].ID // list entries omit members and groups
	}
	return c.GetPrincipal(ctx, kind, nameOrID)
}
