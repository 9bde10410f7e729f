package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// AccountUsers is the implicit group every authenticated principal belongs
// to (as in Databricks); grants to it apply to everyone.
const AccountUsers = "account users"

// access is what one principal may do along the chain of a securable:
// chain[0] is the top-level securable (catalog, external location,
// credential or the metastore) and chain[len-1] the securable itself.
type access struct {
	id     *auth.Identity
	names  map[string]bool
	chain  []Record
	grants [][]Privilege // per chain level, to the principal or its groups
	meta   []Privilege   // on the metastore
}

func principalNames(id *auth.Identity) []string {
	out := make([]string, 0, len(id.Groups)+2)
	out = append(out, id.Principal.Name, AccountUsers)
	return append(out, id.Groups...)
}

// chainKeys returns the keys of a securable and its containers, top first.
func chainKeys(t SecurableType, full string) ([]Key, error) {
	if t == TypeMetastore {
		return []Key{{TypeMetastore, metastoreName}}, nil
	}
	ps, err := splitFullName(t, full, depth(t))
	if err != nil {
		return nil, err
	}
	switch len(ps) {
	case 1:
		return []Key{{t, ps[0]}}, nil
	case 2:
		return []Key{{TypeCatalog, ps[0]}, {TypeSchema, ps[0] + "." + ps[1]}}, nil
	default:
		return []Key{{TypeCatalog, ps[0]}, {TypeSchema, ps[0] + "." + ps[1]}, {t, strings.Join(ps, ".")}}, nil
	}
}

// loadChain returns the live records of keys in order. Errors: the
// not-found error of the first missing level.
func (s *Service) loadChain(ctx context.Context, keys []Key) ([]Record, error) {
	recs, err := s.store.Lookup(ctx, keys)
	if err != nil {
		return nil, err
	}
	chain := make([]Record, len(keys))
	for _, r := range recs {
		for i, k := range keys {
			if r.Type == k.Type && r.FullName == k.FullName {
				chain[i] = r
			}
		}
	}
	for i, k := range keys {
		if chain[i].ID == "" {
			return nil, notFound(k.Type, k.FullName)
		}
	}
	return chain, nil
}

// load returns the caller's access to the securable t/full.
func (s *Service) load(ctx context.Context, t SecurableType, full string) (*access, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := chainKeys(t, full)
	if err != nil {
		return nil, err
	}
	chain, err := s.loadChain(ctx, keys)
	if err != nil {
		return nil, err
	}
	return s.accessOn(ctx, id, chain)
}

// accessOn loads id's grants on chain (and the metastore).
func (s *Service) accessOn(ctx context.Context, id *auth.Identity, chain []Record) (*access, error) {
	a := &access{id: id, names: map[string]bool{}, chain: chain, grants: make([][]Privilege, len(chain))}
	names := principalNames(id)
	for _, n := range names {
		a.names[n] = true
	}
	if id.Admin {
		return a, nil
	}
	ids := make([]string, 0, len(chain)+1)
	for _, r := range chain {
		ids = append(ids, r.ID)
	}
	ms := s.metastore()
	ids = append(ids, ms)
	gs, err := s.store.Grants(ctx, ids, names)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		if g.SecurableID == ms && chain[0].ID != ms {
			a.meta = append(a.meta, g.Privilege)
			continue
		}
		for i, r := range chain {
			if r.ID == g.SecurableID {
				a.grants[i] = append(a.grants[i], g.Privilege)
			}
		}
	}
	return a, nil
}

func (a *access) leaf() int         { return len(a.chain) - 1 }
func (a *access) rec() Record       { return a.chain[a.leaf()] }
func (a *access) admin() bool       { return a.id.Admin }
func (a *access) ownsAt(i int) bool { return a.names[a.chain[i].Owner] }

// ownsAbove reports whether the principal owns level i or a container of it.
func (a *access) ownsAbove(i int) bool {
	for j := 0; j <= i; j++ {
		if a.ownsAt(j) {
			return true
		}
	}
	return false
}

// holds reports whether p is granted on level i or inherited from a
// container, and the level it comes from. ALL PRIVILEGES stands for every
// privilege but MANAGE and BROWSE (which bypasses the usage gates, so it
// must be granted explicitly).
func (a *access) holds(i int, p Privilege) (bool, int) {
	for j := i; j >= 0; j-- {
		for _, g := range a.grants[j] {
			if g == p || g == PrivAllPrivileges && p != PrivManage && p != PrivBrowse {
				return true, j
			}
		}
	}
	return false, -1
}

func (a *access) has(i int, p Privilege) bool { ok, _ := a.holds(i, p); return ok }

// gate returns the error for the first container above level i whose usage
// privilege the principal lacks, or nil.
func (a *access) gate(i int) error {
	if a.admin() {
		return nil
	}
	for j := 0; j < i; j++ {
		r := a.chain[j]
		var need Privilege
		switch r.Type {
		case TypeCatalog:
			need = PrivUseCatalog
		case TypeSchema:
			need = PrivUseSchema
		default:
			continue
		}
		if !a.ownsAbove(j) && !a.has(j, need) {
			return a.deny(need, j)
		}
	}
	return nil
}

func (a *access) deny(p Privilege, i int) error {
	r := a.chain[i]
	return denied("%s does not have %s on %s '%s'", a.id.Principal.Name, p, typeLabel(r.Type), r.FullName)
}

// allow checks that the principal may exercise p on the leaf: usage gates
// plus ownership of the leaf or a container, or p (granted or inherited).
func (a *access) allow(p Privilege) error {
	if a.admin() {
		return nil
	}
	i := a.leaf()
	if err := a.gate(i); err != nil {
		return err
	}
	if a.ownsAbove(i) || a.has(i, p) {
		return nil
	}
	return a.deny(p, i)
}

// manage checks ownership-level rights: owner of the leaf or a container,
// metastore admin, or MANAGE (granted or inherited), plus usage gates.
func (a *access) manage() error {
	if a.admin() {
		return nil
	}
	i := a.leaf()
	if err := a.gate(i); err != nil {
		return err
	}
	if a.ownsAbove(i) || a.has(i, PrivManage) {
		return nil
	}
	r := a.rec()
	return denied("%s is not the owner of %s '%s' and does not have MANAGE on it", a.id.Principal.Name, typeLabel(r.Type), r.FullName)
}

// visible reports whether the principal may see the leaf's metadata: admins
// and owners; BROWSE anywhere above; or the usage gates plus any privilege
// applicable to the leaf, granted on it or a container.
func (a *access) visible() bool {
	if a.admin() {
		return true
	}
	i := a.leaf()
	if a.ownsAbove(i) || a.has(i, PrivBrowse) {
		return true
	}
	if a.gate(i) != nil {
		return false
	}
	t := a.chain[i].Type
	for j := 0; j <= i; j++ {
		for _, g := range a.grants[j] {
			if g == PrivAllPrivileges || Applicable(t, g) {
				return true
			}
		}
	}
	return false
}

func (a *access) see() error {
	if a.visible() {
		return nil
	}
	r := a.rec()
	return denied("%s has no privileges on %s '%s' (or lacks USE CATALOG / USE SCHEMA on its containers)", a.id.Principal.Name, typeLabel(r.Type), r.FullName)
}

// metaAllow checks a metastore-level privilege.
func (a *access) metaAllow(p Privilege) error {
	if a.admin() {
		return nil
	}
	for _, g := range a.meta {
		if g == p {
			return nil
		}
	}
	return denied("%s does not have %s on the metastore", a.id.Principal.Name, p)
}

// Authorize checks that the caller (the identity in ctx) may exercise
// privilege on the securable of type t named fullName, following the rules
// in the package documentation: usage gates (USE CATALOG, USE SCHEMA),
// ownership of the securable or a container, inheritance of grants from
// containers, group membership and ALL PRIVILEGES. Pass PrivManage to
// check ownership-level rights. Errors: errs.Unauthenticated without an
// identity; errs.Invalid for a malformed name; errs.NotFound (reasons
// CATALOG_NOT_FOUND, SCHEMA_NOT_FOUND, TABLE_NOT_FOUND, NOT_FOUND) for a
// missing securable; errs.PermissionDenied naming what is missing.
func (s *Service) Authorize(ctx context.Context, t SecurableType, fullName string, privilege Privilege) error {
	if t == TypeMetastore {
		id, err := caller(ctx)
		if err != nil {
			return err
		}
		a, err := s.accessOn(ctx, id, []Record{{ID: s.metastore(), Type: TypeMetastore, FullName: metastoreName, Owner: "admins"}})
		if err != nil {
			return err
		}
		a.meta = a.grants[0]
		return a.metaAllow(privilege)
	}
	a, err := s.load(ctx, t, fullName)
	if err != nil {
		return err
	}
	if privilege == PrivManage {
		return a.manage()
	}
	return a.allow(privilege)
}

// ResolveTable returns the live table fullName if the caller may see it
// (see the visibility rule in authz.go: admins, owners, BROWSE, or the
// usage gates plus any table privilege). It does not check SELECT or
// MODIFY: call Authorize for the operation. Errors: as Authorize.
func (s *Service) ResolveTable(ctx context.Context, fullName string) (TableInfo, error) {
	a, err := s.load(ctx, TypeTable, fullName)
	if err != nil {
		return TableInfo{}, err
	}
	if err := a.see(); err != nil {
		return TableInfo{}, err
	}
	return s.tableInfo(ctx, a.rec())
}

// ResolveVolume returns the live volume fullName if the caller may see it.
// Errors: as Authorize.
func (s *Service) ResolveVolume(ctx context.Context, fullName string) (VolumeInfo, error) {
	a, err := s.load(ctx, TypeVolume, fullName)
	if err != nil {
		return VolumeInfo{}, err
	}
	if err := a.see(); err != nil {
		return VolumeInfo{}, err
	}
	return volumeInfo(a.rec()), nil
}

// checkPrincipal verifies that a grantee or new owner exists.
func (s *Service) checkPrincipal(ctx context.Context, name string) error {
	if name == AccountUsers {
		return nil
	}
	if name == "" || strings.TrimSpace(name) != name {
		return invalid("principal name %q is empty or has leading or trailing spaces", name)
	}
	if s.dir == nil {
		return nil
	}
	if _, err := s.dir.Lookup(ctx, name); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.E(errs.NotFound, "PRINCIPAL_DOES_NOT_EXIST", "principal %q does not exist: create the user, group or service principal first", name)
		}
		return fmt.Errorf("look up principal: %w", err)
	}
	return nil
}

// AuthDirectory resolves principals through the identity service.
type AuthDirectory struct{ Auth *auth.Service }

// Lookup implements Directory.
func (d AuthDirectory) Lookup(ctx context.Context, name string) (*auth.Identity, error) {
	for _, k := range []auth.Kind{auth.KindUser, auth.KindGroup, auth.KindServicePrincipal} {
		p, err := d.Auth.GetPrincipalByName(ctx, k, name)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return d.Auth.IdentityOf(ctx, p.ID)
	}
	return nil, errs.E(errs.NotFound, "PRINCIPAL_DOES_NOT_EXIST", "principal %q does not exist", name)
}
