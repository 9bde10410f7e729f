package auth

import (
	"regexp"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// Kind is the kind of a principal.
type Kind string

// The principal kinds.
const (
	KindUser             Kind = "user"
	KindGroup            Kind = "group"
	KindServicePrincipal Kind = "service_principal"
)

// AdminsGroup is the built-in group whose transitive members are metastore
// admins.
const AdminsGroup = "admins"

// Principal is a user, group or service principal.
//
// Name is the unique handle within its kind: a user's userName (usually an
// email address), a group's displayName, a service principal's applicationId.
type Principal struct {
	ID          string
	Kind        Kind
	Name        string
	DisplayName string
	Email       string
	ExternalID  string
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._@+\- ]{1,255}$`)

// Validate checks the fields a caller supplies.
func (p *Principal) Validate() error {
	switch p.Kind {
	case KindUser, KindGroup, KindServicePrincipal:
	default:
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "unknown principal kind %q; accepted: user, group, service_principal", p.Kind)
	}
	if strings.TrimSpace(p.Name) != p.Name || !nameRE.MatchString(p.Name) {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE",
			"invalid %s name %q: use 1-255 characters from letters, digits, space and . _ @ + - with no leading or trailing space", p.Kind, p.Name)
	}
	if len(p.DisplayName) > 255 || len(p.Email) > 255 || len(p.ExternalID) > 255 {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "display name, email and external id are limited to 255 characters")
	}
	return nil
}

// Token is a personal access token's stored record. The secret itself is
// never stored; Hash is its SHA-256.
type Token struct {
	ID          string
	PrincipalID string
	Hash        []byte
	Comment     string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never expires
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Identity is the authenticated caller of a request.
type Identity struct {
	Principal Principal
	// Groups are the names of every group the principal belongs to,
	// directly or through nesting.
	Groups []string
	// Admin is true for metastore admins.
	Admin bool
	// TokenID is the id of the token the request was authenticated with.
	TokenID string
}

// InGroup reports whether the identity belongs to the named group.
func (id *Identity) InGroup(name string) bool {
	for _, g := range id.Groups {
		if g == name {
			return true
		}
	}
	return false
}
