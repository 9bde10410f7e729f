package catalog

import (
	"context"
	"sort"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// securableAccess loads the caller's access to any securable type,
// including the metastore.
func (s *Service) securableAccess(ctx context.Context, t SecurableType, full string) (*access, error) {
	if t == TypeMetastore {
		id, err := caller(ctx)
		if err != nil {
			return nil, err
		}
		return s.accessOn(ctx, id, []Record{{ID: s.metastore(), Type: TypeMetastore, FullName: metastoreName, Owner: "admins"}})
	}
	return s.load(ctx, t, full)
}

// GetPermissions lists the direct grants on a securable, optionally for
// one principal. Visible to whoever may see the securable.
func (s *Service) GetPermissions(ctx context.Context, t SecurableType, full, principal string) (PermissionsList, error) {
	a, err := s.securableAccess(ctx, t, full)
	if err != nil {
		return PermissionsList{}, err
	}
	if t != TypeMetastore {
		if err := a.see(); err != nil {
			return PermissionsList{}, err
		}
	}
	var ps []string
	if principal != "" {
		ps = []string{principal}
	}
	gs, err := s.store.Grants(ctx, []string{a.rec().ID}, ps)
	if err != nil {
		return PermissionsList{}, err
	}
	return assignments(gs), nil
}

func assignments(gs []Grant) PermissionsList {
	out := PermissionsList{PrivilegeAssignments: []PrivilegeAssignment{}}
	for _, g := range gs {
		n := len(out.PrivilegeAssignments)
		if n == 0 || out.PrivilegeAssignments[n-1].Principal != g.Principal {
			out.PrivilegeAssignments = append(out.PrivilegeAssignments, PrivilegeAssignment{Principal: g.Principal})
			n++
		}
		pa := &out.PrivilegeAssignments[n-1]
		pa.Privileges = append(pa.Privileges, g.Privilege)
	}
	return out
}

// UpdatePermissions applies grant and revoke changes atomically. Needs
// ownership of the securable or a container, MANAGE, or metastore admin
// (the metastore: admins only). Grants to unknown principals are refused
// with errs.NotFound; privileges that do not apply to the type with
// errs.Invalid. Changes take effect on the next check.
func (s *Service) UpdatePermissions(ctx context.Context, t SecurableType, full string, req UpdatePermissions) (PermissionsList, error) {
	a, err := s.securableAccess(ctx, t, full)
	if err != nil {
		return PermissionsList{}, err
	}
	if t == TypeMetastore {
		if !a.admin() {
			return PermissionsList{}, denied("only metastore admins may change metastore grants")
		}
	} else if err := a.manage(); err != nil {
		return PermissionsList{}, err
	}
	if len(req.Changes) == 0 {
		return PermissionsList{}, invalid("changes must list at least one {principal, add, remove}")
	}
	id := a.rec().ID
	var add, remove []Grant
	for _, c := range req.Changes {
		if err := s.checkPrincipal(ctx, c.Principal); err != nil {
			return PermissionsList{}, err
		}
		for _, list := range []struct {
			ps  []Privilege
			dst *[]Grant
		}{{c.Add, &add}, {c.Remove, &remove}} {
			for _, raw := range list.ps {
				p, err := ParsePrivilege(string(raw))
				if err != nil {
					return PermissionsList{}, err
				}
				if !Applicable(t, p) {
					return PermissionsList{}, invalid("privilege %s cannot be granted on a %s; applicable: %s", p, typeLabel(t), joinPrivs(applicable[t]))
				}
				*list.dst = append(*list.dst, Grant{SecurableID: id, Principal: c.Principal, Privilege: p})
			}
		}
	}
	if err := s.store.UpdateGrants(ctx, add, remove); err != nil {
		return PermissionsList{}, err
	}
	gs, err := s.store.Grants(ctx, []string{id}, nil)
	if err != nil {
		return PermissionsList{}, err
	}
	return assignments(gs), nil
}

func joinPrivs(ps []Privilege) string {
	ss := make([]string, len(ps))
	for i, p := range ps {
		ss[i] = string(p)
	}
	return strings.Join(ss, ", ")
}

// EffectivePermissions lists, per principal, the privileges that hold on a
// securable: granted on it or inherited from its catalog or schema (with
// inherited_from_type/name), as Databricks' effective-permissions API does.
// With principal set, the list is that principal's plus, for a user or
// service principal, those of the groups it belongs to (each under the
// group's name). Callers other than admins, owners and MANAGE holders may
// only ask about themselves.
func (s *Service) EffectivePermissions(ctx context.Context, t SecurableType, full, principal string) (EffectivePermissionsList, error) {
	a, err := s.securableAccess(ctx, t, full)
	if err != nil {
		return EffectivePermissionsList{}, err
	}
	var names []string
	if principal != "" {
		names = []string{principal}
		if principal != AccountUsers && s.dir != nil {
			pid, err := s.dir.Lookup(ctx, principal)
			if errs.Is(err, errs.NotFound) {
				return EffectivePermissionsList{}, errs.E(errs.NotFound, "PRINCIPAL_DOES_NOT_EXIST", "principal %q does not exist", principal)
			}
			if err != nil {
				return EffectivePermissionsList{}, err
			}
			names = append(names, pid.Groups...)
		}
		names = append(names, AccountUsers)
	}
	self := principal != "" && (principal == a.id.Principal.Name || a.names[principal])
	if !self {
		if t == TypeMetastore {
			if !a.admin() {
				return EffectivePermissionsList{}, denied("only metastore admins may list others' metastore privileges")
			}
		} else if err := a.manage(); err != nil {
			return EffectivePermissionsList{}, err
		}
	}
	ids := make([]string, len(a.chain))
	for i, r := range a.chain {
		ids[i] = r.ID
	}
	gs, err := s.store.Grants(ctx, ids, names)
	if err != nil {
		return EffectivePermissionsList{}, err
	}
	level := map[string]int{}
	for i, r := range a.chain {
		level[r.ID] = i
	}
	leaf := a.leaf()
	leafType := a.rec().Type
	byPrincipal := map[string][]EffectivePrivilege{}
	for _, g := range gs {
		i := level[g.SecurableID]
		if i != leaf && g.Privilege != PrivAllPrivileges && !Applicable(leafType, g.Privilege) {
			continue // e.g. USE CATALOG does not apply to a table
		}
		ep := EffectivePrivilege{Privilege: g.Privilege}
		if i != leaf {
			ep.InheritedFromType, ep.InheritedFromName = a.chain[i].Type, a.chain[i].FullName
		}
		byPrincipal[g.Principal] = append(byPrincipal[g.Principal], ep)
	}
	out := EffectivePermissionsList{PrivilegeAssignments: []EffectivePrivilegeAssignment{}}
	keys := make([]string, 0, len(byPrincipal))
	for k := range byPrincipal {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ps := byPrincipal[k]
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Privilege < ps[j].Privilege })
		out.PrivilegeAssignments = append(out.PrivilegeAssignments, EffectivePrivilegeAssignment{Principal: k, Privileges: ps})
	}
	return out, nil
}
