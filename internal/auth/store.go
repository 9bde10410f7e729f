package auth

import "context"

// PrincipalStore persists principals.
type PrincipalStore interface {
	// CreatePrincipal inserts p (ID, timestamps set by the caller).
	// Errors: errs.AlreadyExists if a principal of the same kind has p.Name.
	CreatePrincipal(ctx context.Context, p Principal) error
	// GetPrincipal returns the principal with id. Errors: errs.NotFound.
	GetPrincipal(ctx context.Context, id string) (Principal, error)
	// GetPrincipalByName returns the principal of kind named name.
	// Errors: errs.NotFound.
	GetPrincipalByName(ctx context.Context, kind Kind, name string) (Principal, error)
	// ListPrincipals returns principals of kind matching f, ordered by name,
	// and the total number that match before paging.
	ListPrincipals(ctx context.Context, kind Kind, f ListFilter) ([]Principal, int, error)
	// UpdatePrincipal replaces the mutable fields of the principal with p.ID.
	// Errors: errs.NotFound; errs.AlreadyExists on a name collision.
	UpdatePrincipal(ctx context.Context, p Principal) error
	// DeletePrincipal removes the principal, its memberships (both ways) and
	// its tokens. Errors: errs.NotFound.
	DeletePrincipal(ctx context.Context, id string) error
}

// ListFilter narrows ListPrincipals.
type ListFilter struct {
	Name   string // exact name match when non-empty
	Offset int    // 0-based
	Limit  int    // 0 = no limit
}

// MembershipStore persists direct group membership edges.
type MembershipStore interface {
	// AddMember makes memberID a direct member of groupID (idempotent).
	// Errors: errs.NotFound if either does not exist.
	AddMember(ctx context.Context, groupID, memberID string) error
	// RemoveMember removes the direct edge (idempotent).
	RemoveMember(ctx context.Context, groupID, memberID string) error
	// Members returns the direct members of groupID, ordered by name.
	Members(ctx context.Context, groupID string) ([]Principal, error)
	// DirectGroups returns the groups memberID belongs to directly.
	DirectGroups(ctx context.Context, memberID string) ([]Principal, error)
}

// TokenStore persists token records.
type TokenStore interface {
	// CreateToken inserts t. Errors: errs.AlreadyExists on a duplicate hash.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token whose hash is hash. Errors: errs.NotFound.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// ListTokens returns the tokens of principalID ("" = every principal),
	// newest first.
	ListTokens(ctx context.Context, principalID string) ([]Token, error)
	// DeleteToken removes the token. Errors: errs.NotFound.
	DeleteToken(ctx context.Context, id string) error
}

// Store is everything auth persists.
type Store interface {
	PrincipalStore
	MembershipStore
	TokenStore
}

// TokenResolver is an optional upgrade of Store: a backend that can resolve
// a token, its principal and the principal's transitive groups in a few
// queries implements it, and Authenticate uses it instead of walking the
// membership graph one level per query.
type TokenResolver interface {
	// ResolveToken returns the token with hash, its principal and every
	// group the principal belongs to directly or through nesting.
	// Errors: errs.NotFound for an unknown hash.
	ResolveToken(ctx context.Context, hash []byte) (Token, Principal, []Principal, error)
}
