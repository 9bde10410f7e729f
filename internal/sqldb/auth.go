package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// AuthStore implements auth.Store.
type AuthStore struct{ db *DB }

var (
	_ auth.Store         = (*AuthStore)(nil)
	_ auth.TokenResolver = (*AuthStore)(nil)
)

// NewAuthStore returns the identity store on db.
func NewAuthStore(db *DB) *AuthStore { return &AuthStore{db: db} }

const principalCols = `id, kind, name, display_name, email, external_id, active, created_at, updated_at`

func scanPrincipal(sc interface{ Scan(...any) error }) (auth.Principal, error) {
	var p auth.Principal
	var kind string
	var created, updated int64
	err := sc.Scan(&p.ID, &kind, &p.Name, &p.DisplayName, &p.Email, &p.ExternalID, &p.Active, &created, &updated)
	p.Kind = auth.Kind(kind)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, translate(err)
}

func principalNotFound(what string) error {
	return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "principal %s does not exist", what)
}

// CreatePrincipal implements auth.PrincipalStore.
func (s *AuthStore) CreatePrincipal(ctx context.Context, p auth.Principal) error {
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO principals (`+principalCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, string(p.Kind), p.Name, p.DisplayName, p.Email, p.ExternalID, p.Active, ms(p.CreatedAt), ms(p.UpdatedAt))
	if errs.Is(err, errs.AlreadyExists) {
		return errs.Wrap(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", err, "a %s named %q already exists", p.Kind, p.Name)
	}
	return err
}

// GetPrincipal implements auth.PrincipalStore.
func (s *AuthStore) GetPrincipal(ctx context.Context, id string) (auth.Principal, error) {
	p, err := scanPrincipal(s.db.queryRow(ctx, s.db.sql, `SELECT `+principalCols+` FROM principals WHERE id = ?`, id))
	if errs.Is(err, errs.NotFound) {
		return p, principalNotFound(fmt.Sprintf("with id %q", id))
	}
	return p, err
}

// GetPrincipalByName implements auth.PrincipalStore.
func (s *AuthStore) GetPrincipalByName(ctx context.Context, kind auth.Kind, name string) (auth.Principal, error) {
	p, err := scanPrincipal(s.db.queryRow(ctx, s.db.sql, `SELECT `+principalCols+` FROM principals WHERE kind = ? AND name = ?`, string(kind), name))
	if errs.Is(err, errs.NotFound) {
		return p, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "%s %q does not exist", kind, name)
	}
	return p, err
}

// ListPrincipals implements auth.PrincipalStore.
func (s *AuthStore) ListPrincipals(ctx context.Context, kind auth.Kind, f auth.ListFilter) ([]auth.Principal, int, error) {
	where, args := `kind = ?`, []any{string(kind)}
	if f.Name != "" {
		where += ` AND name = ?`
		args = append(args, f.Name)
	}
	var total int
	if err := s.db.queryRow(ctx, s.db.sql, `SELECT COUNT(*) FROM principals WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = math.MaxInt32
	}
	q := `SELECT ` + principalCols + ` FROM principals WHERE ` + where + ` ORDER BY name, id LIMIT ? OFFSET ?`
	args = append(args, limit, f.Offset)
	ps, err := s.principals(ctx, s.db.sql, q, args...)
	return ps, total, err
}

func (s *AuthStore) principals(ctx context.Context, q querier, query string, args ...any) ([]auth.Principal, error) {
	rows, err := s.db.query(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.Principal
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, translate(rows.Err())
}

// UpdatePrincipal implements auth.PrincipalStore.
func (s *AuthStore) UpdatePrincipal(ctx context.Context, p auth.Principal) error {
	res, err := s.db.exec(ctx, s.db.sql, `UPDATE principals SET name = ?, display_name = ?, email = ?, external_id = ?, active = ?, updated_at = ? WHERE id = ?`,
		p.Name, p.DisplayName, p.Email, p.ExternalID, p.Active, ms(p.UpdatedAt), p.ID)
	if errs.Is(err, errs.AlreadyExists) {
		return errs.Wrap(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", err, "a %s named %q already exists", p.Kind, p.Name)
	}
	if err != nil {
		return err
	}
	return mustAffect(res, principalNotFound(fmt.Sprintf("with id %q", p.ID)))
}

// DeletePrincipal implements auth.PrincipalStore. Memberships and tokens go
// with it (ON DELETE CASCADE).
func (s *AuthStore) DeletePrincipal(ctx context.Context, id string) error {
	res, err := s.db.exec(ctx, s.db.sql, `DELETE FROM principals WHERE id = ?`, id)
	if err != nil {
		return err
	}
	return mustAffect(res, principalNotFound(fmt.Sprintf("with id %q", id)))
}

func mustAffect(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// AddMember implements auth.MembershipStore.
func (s *AuthStore) AddMember(ctx context.Context, groupID, memberID string) error {
	q := `INSERT INTO group_members (group_id, member_id) VALUES (?, ?) ON CONFLICT DO NOTHING`
	_, err := s.db.exec(ctx, s.db.sql, q, groupID, memberID)
	if errs.Is(err, errs.NotFound) {
		return errs.Wrap(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", err, "group %q or member %q does not exist", groupID, memberID)
	}
	return err
}

// RemoveMember implements auth.MembershipStore.
func (s *AuthStore) RemoveMember(ctx context.Context, groupID, memberID string) error {
	_, err := s.db.exec(ctx, s.db.sql, `DELETE FROM group_members WHERE group_id = ? AND member_id = ?`, groupID, memberID)
	return err
}

// Members implements auth.MembershipStore.
func (s *AuthStore) Members(ctx context.Context, groupID string) ([]auth.Principal, error) {
	return s.principals(ctx, s.db.sql, `SELECT p.id, p.kind, p.name, p.display_name, p.email, p.external_id, p.active, p.created_at, p.updated_at
		FROM group_members m JOIN principals p ON p.id = m.member_id WHERE m.group_id = ? ORDER BY p.name, p.id`, groupID)
}

// DirectGroups implements auth.MembershipStore.
func (s *AuthStore) DirectGroups(ctx context.Context, memberID string) ([]auth.Principal, error) {
	return s.principals(ctx, s.db.sql, `SELECT p.id, p.kind, p.name, p.display_name, p.email, p.external_id, p.active, p.created_at, p.updated_at
		FROM group_members m JOIN principals p ON p.id = m.group_id WHERE m.member_id = ? ORDER BY p.name, p.id`, memberID)
}

const tokenCols = `id, principal_id, hash, comment, created_at, expires_at`

func scanToken(sc interface{ Scan(...any) error }) (auth.Token, error) {
	var t auth.Token
	var created, expires int64
	err := sc.Scan(&t.ID, &t.PrincipalID, &t.Hash, &t.Comment, &created, &expires)
	t.CreatedAt, t.ExpiresAt = fromMS(created), fromMS(expires)
	return t, translate(err)
}

// CreateToken implements auth.TokenStore.
func (s *AuthStore) CreateToken(ctx context.Context, t auth.Token) error {
	_, err := s.db.exec(ctx, s.db.sql, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.PrincipalID, t.Hash, t.Comment, ms(t.CreatedAt), ms(t.ExpiresAt))
	if errs.Is(err, errs.NotFound) {
		return errs.Wrap(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", err, "principal %q does not exist", t.PrincipalID)
	}
	return err
}

// TokenByHash implements auth.TokenStore.
func (s *AuthStore) TokenByHash(ctx context.Context, hash []byte) (auth.Token, error) {
	t, err := scanToken(s.db.queryRow(ctx, s.db.sql, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash))
	if errs.Is(err, errs.NotFound) {
		return t, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "token does not exist")
	}
	return t, err
}

// ListTokens implements auth.TokenStore.
func (s *AuthStore) ListTokens(ctx context.Context, principalID string) ([]auth.Token, error) {
	q, args := `SELECT `+tokenCols+` FROM tokens ORDER BY created_at DESC, id`, []any{}
	if principalID != "" {
		q, args = `SELECT `+tokenCols+` FROM tokens WHERE principal_id = ? ORDER BY created_at DESC, id`, []any{principalID}
	}
	rows, err := s.db.query(ctx, s.db.sql, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, translate(rows.Err())
}

// DeleteToken implements auth.TokenStore.
func (s *AuthStore) DeleteToken(ctx context.Context, id string) error {
	res, err := s.db.exec(ctx, s.db.sql, `DELETE FROM tokens WHERE id = ?`, id)
	if err != nil {
		return err
	}
	return mustAffect(res, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "token %q does not exist", id))
}

// ResolveToken implements auth.TokenResolver in two queries: the token with
// its principal, then the transitive groups by a recursive CTE (UNION, not
// UNION ALL, so a cycle — which the service forbids — would still end).
func (s *AuthStore) ResolveToken(ctx context.Context, hash []byte) (auth.Token, auth.Principal, []auth.Principal, error) {
	var t auth.Token
	var p auth.Principal
	var kind string
	var tc, te, pc, pu int64
	err := s.db.queryRow(ctx, s.db.sql, `SELECT t.id, t.principal_id, t.hash, t.comment, t.created_at, t.expires_at,
		p.id, p.kind, p.name, p.display_name, p.email, p.external_id, p.active, p.created_at, p.updated_at
		FROM tokens t JOIN principals p ON p.id = t.principal_id WHERE t.hash = ?`, hash).Scan(
		&t.ID, &t.PrincipalID, &t.Hash, &t.Comment, &tc, &te,
		&p.ID, &kind, &p.Name, &p.DisplayName, &p.Email, &p.ExternalID, &p.Active, &pc, &pu)
	if err := translate(err); errs.Is(err, errs.NotFound) {
		return t, p, nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "token does not exist")
	} else if err != nil {
		return t, p, nil, err
	}
	t.CreatedAt, t.ExpiresAt = fromMS(tc), fromMS(te)
	p.Kind, p.CreatedAt, p.UpdatedAt = auth.Kind(kind), fromMS(pc), fromMS(pu)
	groups, err := s.principals(ctx, s.db.sql, `WITH RECURSIVE g(id) AS (
			SELECT group_id FROM group_members WHERE member_id = ?
			UNION SELECT m.group_id FROM group_members m JOIN g ON m.member_id = g.id)
		SELECT p.id, p.kind, p.name, p.display_name, p.email, p.external_id, p.active, p.created_at, p.updated_at
		FROM principals p JOIN g ON p.id = g.id ORDER BY p.name, p.id`, p.ID)
	return t, p, groups, err
}
