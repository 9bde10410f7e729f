package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/errs"
)

// TokenPrefix starts every token Lakebox issues, so that secret scanners and
// log redaction can recognise them.
const TokenPrefix = "lbx_"

// Service applies identity rules (who may manage whom, token lifetimes,
// cycle-free groups) on top of a Store.
type Service struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
	newID func() string
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithIDs sets the id generator (tests).
func WithIDs(newID func() string) Option { return func(s *Service) { s.newID = newID } }

// WithLogger sets the logger; nil discards.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns a Service on store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, newID: uuid.NewString}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// HashToken returns the stored hash of a token secret.
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

var errBadToken = errs.E(errs.Unauthenticated, "UNAUTHENTICATED",
	"invalid or expired access token; create a new one with `lakebox tokens create` or `lakebox auth login`")

// Authenticate resolves a bearer token to an Identity.
// Errors: errs.Unauthenticated for an unknown, expired or revoked token or an
// inactive principal.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Identity, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, errBadToken
	}
	hash := HashToken(secret)
	t, p, groups, err := s.resolve(ctx, hash)
	if errs.Is(err, errs.NotFound) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("resolve token: %w", err)
	}
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 || t.Expired(s.now()) {
		return nil, errBadToken
	}
	if !p.Active {
		return nil, errs.E(errs.Unauthenticated, "UNAUTHENTICATED", "principal %q is disabled", p.Name)
	}
	id := newIdentity(p, groups)
	id.TokenID = t.ID
	return id, nil
}

// resolve loads a token, its principal and transitive groups, in one step
// when the store implements TokenResolver.
func (s *Service) resolve(ctx context.Context, hash []byte) (Token, Principal, []Principal, error) {
	if r, ok := s.store.(TokenResolver); ok {
		return r.ResolveToken(ctx, hash)
	}
	t, err := s.store.TokenByHash(ctx, hash)
	if err != nil {
		return Token{}, Principal{}, nil, err
	}
	p, err := s.store.GetPrincipal(ctx, t.PrincipalID)
	if err != nil {
		return Token{}, Principal{}, nil, err
	}
	groups, err := s.transitiveGroups(ctx, p.ID)
	return t, p, groups, err
}

func newIdentity(p Principal, groups []Principal) *Identity {
	id := &Identity{Principal: p}
	for _, g := range groups {
		id.Groups = append(id.Groups, g.Name)
		if g.Name == AdminsGroup {
			id.Admin = true
		}
	}
	return id
}

// identityOf computes the transitive groups of p.
func (s *Service) identityOf(ctx context.Context, p Principal) (*Identity, error) {
	groups, err := s.transitiveGroups(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return newIdentity(p, groups), nil
}

// transitiveGroups returns every group principalID belongs to, directly or
// through nesting, each once.
func (s *Service) transitiveGroups(ctx context.Context, principalID string) ([]Principal, error) {
	seen := map[string]bool{}
	var out []Principal
	queue := []string{principalID}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		gs, err := s.store.DirectGroups(ctx, cur)
		if err != nil {
			return nil, fmt.Errorf("load groups: %w", err)
		}
		for _, g := range gs {
			if seen[g.ID] {
				continue
			}
			seen[g.ID] = true
			out = append(out, g)
			queue = append(queue, g.ID)
		}
	}
	return out, nil
}

// IdentityOf returns the identity of an existing principal, as if it had
// authenticated (used for ownership and effective-permission checks).
func (s *Service) IdentityOf(ctx context.Context, principalID string) (*Identity, error) {
	p, err := s.store.GetPrincipal(ctx, principalID)
	if err != nil {
		return nil, err
	}
	return s.identityOf(ctx, p)
}

func caller(ctx context.Context) (*Identity, error) {
	id := IdentityFrom(ctx)
	if id == nil {
		return nil, errs.E(errs.Unauthenticated, "UNAUTHENTICATED", "authentication required")
	}
	return id, nil
}

func requireAdmin(ctx context.Context) (*Identity, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !id.Admin {
		return nil, errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "only metastore admins (members of the %q group) may manage principals", AdminsGroup)
	}
	return id, nil
}

// Bootstrap makes sure the admin user and the admins group exist. When the
// admin user is new, it gets a token: adminToken if non-empty, otherwise a
// generated one, which is returned (and must be shown once). When the admin
// user exists and adminToken is set but unknown, adminToken is added as a new
// token of the admin, so that LAKEBOX_ADMIN_TOKEN always works.
//
// Bootstrap is safe when several replicas run it at once: the loser of a
// creation race re-reads what the winner created.
func (s *Service) Bootstrap(ctx context.Context, adminToken string) (generated string, err error) {
	if adminToken != "" && !strings.HasPrefix(adminToken, TokenPrefix) {
		return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "LAKEBOX_ADMIN_TOKEN must start with %q (for example, generate one with: echo %s$(openssl rand -hex 24))", TokenPrefix, TokenPrefix)
	}
	group, _, err := s.ensure(ctx, Principal{Kind: KindGroup, Name: AdminsGroup, DisplayName: AdminsGroup, Active: true})
	if err != nil {
		return "", err
	}
	admin, created, err := s.ensure(ctx, Principal{Kind: KindUser, Name: "admin", DisplayName: "Lakebox admin", Active: true})
	if err != nil {
		return "", err
	}
	if err := s.store.AddMember(ctx, group.ID, admin.ID); err != nil {
		return "", fmt.Errorf("add admin to admins: %w", err)
	}
	switch {
	case adminToken != "":
		if _, err := s.store.TokenByHash(ctx, HashToken(adminToken)); err == nil {
			return "", nil
		} else if !errs.Is(err, errs.NotFound) {
			return "", err
		}
		err := s.store.CreateToken(ctx, Token{ID: s.newID(), PrincipalID: admin.ID, Hash: HashToken(adminToken), Comment: "LAKEBOX_ADMIN_TOKEN", CreatedAt: s.now()})
		if err != nil && !errs.Is(err, errs.AlreadyExists) {
			return "", fmt.Errorf("store admin token: %w", err)
		}
		return "", nil
	case created:
		secret, err := newSecret()
		if err != nil {
			return "", err
		}
		if err := s.store.CreateToken(ctx, Token{ID: s.newID(), PrincipalID: admin.ID, Hash: HashToken(secret), Comment: "bootstrap admin token", CreatedAt: s.now()}); err != nil {
			return "", fmt.Errorf("store admin token: %w", err)
		}
		return secret, nil
	}
	return "", nil
}

func (s *Service) ensure(ctx context.Context, p Principal) (Principal, bool, error) {
	got, err := s.store.GetPrincipalByName(ctx, p.Kind, p.Name)
	if err == nil {
		return got, false, nil
	}
	if !errs.Is(err, errs.NotFound) {
		return Principal{}, false, err
	}
	p.ID = s.newID()
	p.CreatedAt, p.UpdatedAt = s.now(), s.now()
	err = s.store.CreatePrincipal(ctx, p)
	if errs.Is(err, errs.AlreadyExists) {
		got, err := s.store.GetPrincipalByName(ctx, p.Kind, p.Name)
		return got, false, err
	}
	if err != nil {
		return Principal{}, false, fmt.Errorf("create %s %q: %w", p.Kind, p.Name, err)
	}
	return p, true, nil
}

// CreatePrincipal creates a principal. Only admins may.
// Errors: errs.Invalid, errs.AlreadyExists, errs.PermissionDenied.
func (s *Service) CreatePrincipal(ctx context.Context, p Principal) (Principal, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return Principal{}, err
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	if err := p.Validate(); err != nil {
		return Principal{}, err
	}
	p.ID = s.newID()
	p.CreatedAt, p.UpdatedAt = s.now(), s.now()
	if err := s.store.CreatePrincipal(ctx, p); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// GetPrincipal returns a principal; any authenticated caller may look.
func (s *Service) GetPrincipal(ctx context.Context, id string) (Principal, error) {
	if _, err := caller(ctx); err != nil {
		return Principal{}, err
	}
	return s.store.GetPrincipal(ctx, id)
}

// GetPrincipalByName returns the principal of kind named name.
func (s *Service) GetPrincipalByName(ctx context.Context, kind Kind, name string) (Principal, error) {
	if _, err := caller(ctx); err != nil {
		return Principal{}, err
	}
	return s.store.GetPrincipalByName(ctx, kind, name)
}

// ListPrincipals lists principals of kind; any authenticated caller may.
func (s *Service) ListPrincipals(ctx context.Context, kind Kind, f ListFilter) ([]Principal, int, error) {
	if _, err := caller(ctx); err != nil {
		return nil, 0, err
	}
	if f.Offset < 0 || f.Limit < 0 {
		return nil, 0, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "paging offsets and counts must not be negative")
	}
	return s.store.ListPrincipals(ctx, kind, f)
}

// UpdatePrincipal replaces a principal's mutable fields. Admins only.
func (s *Service) UpdatePrincipal(ctx context.Context, p Principal) (Principal, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return Principal{}, err
	}
	old, err := s.store.GetPrincipal(ctx, p.ID)
	if err != nil {
		return Principal{}, err
	}
	p.Kind, p.CreatedAt, p.UpdatedAt = old.Kind, old.CreatedAt, s.now()
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	if err := p.Validate(); err != nil {
		return Principal{}, err
	}
	if old.Kind == KindGroup && old.Name == AdminsGroup && p.Name != AdminsGroup {
		return Principal{}, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "the %q group cannot be renamed", AdminsGroup)
	}
	if err := s.store.UpdatePrincipal(ctx, p); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// DeletePrincipal deletes a principal with its memberships and tokens.
// Admins only; the admins group and the caller itself cannot be deleted.
func (s *Service) DeletePrincipal(ctx context.Context, id string) error {
	me, err := requireAdmin(ctx)
	if err != nil {
		return err
	}
	p, err := s.store.GetPrincipal(ctx, id)
	if err != nil {
		return err
	}
	if p.Kind == KindGroup && p.Name == AdminsGroup {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "the %q group cannot be deleted", AdminsGroup)
	}
	if p.ID == me.Principal.ID {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "you cannot delete yourself; ask another admin")
	}
	return s.store.DeletePrincipal(ctx, id)
}

// AddMember adds memberID to groupID. Admins only.
// Errors: errs.NotFound, errs.Invalid (not a group, or a cycle).
func (s *Service) AddMember(ctx context.Context, groupID, memberID string) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	g, err := s.store.GetPrincipal(ctx, groupID)
	if err != nil {
		return err
	}
	if g.Kind != KindGroup {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "%q is a %s, not a group", g.Name, g.Kind)
	}
	m, err := s.store.GetPrincipal(ctx, memberID)
	if err != nil {
		return err
	}
	if m.ID == g.ID {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "group %q cannot be a member of itself", g.Name)
	}
	if m.Kind == KindGroup {
		// A cycle appears if g is already (transitively) inside m.
		anc, err := s.transitiveGroups(ctx, g.ID)
		if err != nil {
			return err
		}
		for _, a := range anc {
			if a.ID == m.ID {
				return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE",
					"adding group %q to %q would create a membership cycle (%q already contains %q)", m.Name, g.Name, m.Name, g.Name)
			}
		}
	}
	return s.store.AddMember(ctx, g.ID, m.ID)
}

// RemoveMember removes memberID from groupID. Admins only. Removing the last
// admin from the admins group is refused.
func (s *Service) RemoveMember(ctx context.Context, groupID, memberID string) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	g, err := s.store.GetPrincipal(ctx, groupID)
	if err != nil {
		return err
	}
	if g.Name == AdminsGroup && g.Kind == KindGroup {
		ms, err := s.store.Members(ctx, g.ID)
		if err != nil {
			return err
		}
		if len(ms) == 1 && ms[0].ID == memberID {
			return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "cannot remove the last member of %q", AdminsGroup)
		}
	}
	return s.store.RemoveMember(ctx, groupID, memberID)
}

// Members returns the direct members of a group.
func (s *Service) Members(ctx context.Context, groupID string) ([]Principal, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	return s.store.Members(ctx, groupID)
}

// DirectGroups returns the groups a principal belongs to directly.
func (s *Service) DirectGroups(ctx context.Context, principalID string) ([]Principal, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	return s.store.DirectGroups(ctx, principalID)
}

// MaxTokenLifetime bounds the lifetime a caller may ask for.
const MaxTokenLifetime = 10 * 365 * 24 * time.Hour

// CreateToken issues a token for principalID ("" = the caller). A caller may
// create tokens for itself; admins may create them for anyone (for service
// principals this is the on-behalf-of flow). lifetime 0 means no expiry.
// The secret is returned once and never stored.
func (s *Service) CreateToken(ctx context.Context, principalID string, lifetime time.Duration, comment string) (string, Token, error) {
	me, err := caller(ctx)
	if err != nil {
		return "", Token{}, err
	}
	if principalID == "" {
		principalID = me.Principal.ID
	}
	if principalID != me.Principal.ID && !me.Admin {
		return "", Token{}, errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "only admins may create tokens for other principals")
	}
	if lifetime < 0 || lifetime > MaxTokenLifetime {
		return "", Token{}, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "token lifetime must be between 0 (no expiry) and %d seconds", int64(MaxTokenLifetime/time.Second))
	}
	if len(comment) > 1000 {
		return "", Token{}, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "token comment is limited to 1000 characters")
	}
	p, err := s.store.GetPrincipal(ctx, principalID)
	if err != nil {
		return "", Token{}, err
	}
	if p.Kind == KindGroup {
		return "", Token{}, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "groups cannot hold tokens; create one for a user or service principal")
	}
	secret, err := newSecret()
	if err != nil {
		return "", Token{}, err
	}
	now := s.now()
	t := Token{ID: s.newID(), PrincipalID: p.ID, Hash: HashToken(secret), Comment: comment, CreatedAt: now}
	if lifetime > 0 {
		t.ExpiresAt = now.Add(lifetime)
	}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

// ListTokens lists the caller's tokens, or with all=true (admins only) every
// principal's.
func (s *Service) ListTokens(ctx context.Context, all bool) ([]Token, error) {
	me, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if all {
		if !me.Admin {
			return nil, errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "only admins may list every principal's tokens")
		}
		return s.store.ListTokens(ctx, "")
	}
	return s.store.ListTokens(ctx, me.Principal.ID)
}

// RevokeToken deletes a token. The token's owner and admins may.
// Errors: errs.NotFound (also for another principal's token, so ids do not leak).
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	me, err := caller(ctx)
	if err != nil {
		return err
	}
	if !me.Admin {
		mine, err := s.store.ListTokens(ctx, me.Principal.ID)
		if err != nil {
			return err
		}
		found := false
		for _, t := range mine {
			found = found || t.ID == id
		}
		if !found {
			return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "token %q does not exist", id)
		}
	}
	return s.store.DeleteToken(ctx, id)
}
