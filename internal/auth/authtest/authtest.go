// Package authtest is the conformance suite for auth.Store implementations.
// Every backend runs it: RunStore(t, func(t) auth.Store { … }).
package authtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// RunStore runs the store conformance suite; newStore returns an empty store.
func RunStore(t *testing.T, newStore func(t *testing.T) auth.Store) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000).UTC()
	mk := func(id string, kind auth.Kind, name string) auth.Principal {
		return auth.Principal{ID: id, Kind: kind, Name: name, DisplayName: "D " + name, Email: name + "@example.com", Active: true, CreatedAt: now, UpdatedAt: now}
	}

	t.Run("Principals", func(t *testing.T) {
		s := newStore(t)
		u := mk("u1", auth.KindUser, "alice")
		require.NoError(t, s.CreatePrincipal(ctx, u))
		got, err := s.GetPrincipal(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, u, got)
		got, err = s.GetPrincipalByName(ctx, auth.KindUser, "alice")
		require.NoError(t, err)
		require.Equal(t, u, got)

		t.Run("ErrAlreadyExists", func(t *testing.T) {
			err := s.CreatePrincipal(ctx, mk("u2", auth.KindUser, "alice"))
			require.True(t, errs.Is(err, errs.AlreadyExists), "got %v", err)
		})
		t.Run("SameNameOtherKind", func(t *testing.T) {
			require.NoError(t, s.CreatePrincipal(ctx, mk("g-alice", auth.KindGroup, "alice")))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := s.GetPrincipal(ctx, "nope")
			require.True(t, errs.Is(err, errs.NotFound), "got %v", err)
			_, err = s.GetPrincipalByName(ctx, auth.KindServicePrincipal, "alice")
			require.True(t, errs.Is(err, errs.NotFound), "got %v", err)
			require.True(t, errs.Is(s.DeletePrincipal(ctx, "nope"), errs.NotFound))
			require.True(t, errs.Is(s.UpdatePrincipal(ctx, mk("nope", auth.KindUser, "x")), errs.NotFound))
		})
		t.Run("Update", func(t *testing.T) {
			u.DisplayName, u.Active, u.UpdatedAt = "Alice A.", false, now.Add(time.Hour)
			require.NoError(t, s.UpdatePrincipal(ctx, u))
			got, err := s.GetPrincipal(ctx, "u1")
			require.NoError(t, err)
			require.Equal(t, u, got)
		})
		t.Run("UpdateNameCollision", func(t *testing.T) {
			require.NoError(t, s.CreatePrincipal(ctx, mk("u3", auth.KindUser, "bob")))
			b := mk("u3", auth.KindUser, "alice")
			require.True(t, errs.Is(s.UpdatePrincipal(ctx, b), errs.AlreadyExists))
		})
	})

	t.Run("ListPaging", func(t *testing.T) {
		s := newStore(t)
		for i := 9; i >= 0; i-- {
			require.NoError(t, s.CreatePrincipal(ctx, mk(fmt.Sprintf("id%d", i), auth.KindUser, fmt.Sprintf("user%02d", i))))
		}
		require.NoError(t, s.CreatePrincipal(ctx, mk("g", auth.KindGroup, "group")))
		all, total, err := s.ListPrincipals(ctx, auth.KindUser, auth.ListFilter{})
		require.NoError(t, err)
		require.Equal(t, 10, total)
		require.Len(t, all, 10)
		for i, p := range all {
			require.Equal(t, fmt.Sprintf("user%02d", i), p.Name)
		}
		page, total, err := s.ListPrincipals(ctx, auth.KindUser, auth.ListFilter{Offset: 3, Limit: 4})
		require.NoError(t, err)
		require.Equal(t, 10, total)
		require.Equal(t, []string{"user03", "user04", "user05", "user06"}, names(page))
		tail, _, err := s.ListPrincipals(ctx, auth.KindUser, auth.ListFilter{Offset: 8})
		require.NoError(t, err)
		require.Equal(t, []string{"user08", "user09"}, names(tail))
		one, total, err := s.ListPrincipals(ctx, auth.KindUser, auth.ListFilter{Name: "user05"})
		require.NoError(t, err)
		require.Equal(t, 1, total)
		require.Equal(t, []string{"user05"}, names(one))
	})

	t.Run("Membership", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.CreatePrincipal(ctx, mk("u", auth.KindUser, "u")))
		require.NoError(t, s.CreatePrincipal(ctx, mk("g1", auth.KindGroup, "g1")))
		require.NoError(t, s.CreatePrincipal(ctx, mk("g2", auth.KindGroup, "g2")))
		require.NoError(t, s.AddMember(ctx, "g1", "u"))
		require.NoError(t, s.AddMember(ctx, "g1", "u"), "idempotent")
		require.NoError(t, s.AddMember(ctx, "g2", "g1"))
		ms, err := s.Members(ctx, "g1")
		require.NoError(t, err)
		require.Equal(t, []string{"u"}, names(ms))
		gs, err := s.DirectGroups(ctx, "g1")
		require.NoError(t, err)
		require.Equal(t, []string{"g2"}, names(gs))
		t.Run("ErrNotFound", func(t *testing.T) {
			require.True(t, errs.Is(s.AddMember(ctx, "g1", "ghost"), errs.NotFound))
		})
		require.NoError(t, s.RemoveMember(ctx, "g1", "u"))
		ms, err = s.Members(ctx, "g1")
		require.NoError(t, err)
		require.Empty(t, ms)
		t.Run("DeleteCascades", func(t *testing.T) {
			require.NoError(t, s.DeletePrincipal(ctx, "g1"))
			ms, err := s.Members(ctx, "g2")
			require.NoError(t, err)
			require.Empty(t, ms)
		})
	})

	t.Run("ResolveToken", func(t *testing.T) { runResolver(t, newStore(t), mk, now) })

	t.Run("Tokens", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.CreatePrincipal(ctx, mk("u", auth.KindUser, "u")))
		require.NoError(t, s.CreatePrincipal(ctx, mk("v", auth.KindUser, "v")))
		t1 := auth.Token{ID: "t1", PrincipalID: "u", Hash: auth.HashToken("lbx_a"), Comment: "ci", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		t2 := auth.Token{ID: "t2", PrincipalID: "u", Hash: auth.HashToken("lbx_b"), CreatedAt: now.Add(time.Second)}
		t3 := auth.Token{ID: "t3", PrincipalID: "v", Hash: auth.HashToken("lbx_c"), CreatedAt: now}
		for _, tk := range []auth.Token{t1, t2, t3} {
			require.NoError(t, s.CreateToken(ctx, tk))
		}
		got, err := s.TokenByHash(ctx, auth.HashToken("lbx_a"))
		require.NoError(t, err)
		require.Equal(t, t1, got)
		t.Run("ErrDuplicateHash", func(t *testing.T) {
			dup := t3
			dup.ID = "t4"
			require.True(t, errs.Is(s.CreateToken(ctx, dup), errs.AlreadyExists))
		})
		t.Run("ErrUnknownPrincipal", func(t *testing.T) {
			require.True(t, errs.Is(s.CreateToken(ctx, auth.Token{ID: "t9", PrincipalID: "ghost", Hash: []byte{1}, CreatedAt: now}), errs.NotFound))
		})
		mine, err := s.ListTokens(ctx, "u")
		require.NoError(t, err)
		require.Equal(t, []string{"t2", "t1"}, tokenIDs(mine))
		all, err := s.ListTokens(ctx, "")
		require.NoError(t, err)
		require.Len(t, all, 3)
		require.NoError(t, s.DeleteToken(ctx, "t1"))
		_, err = s.TokenByHash(ctx, auth.HashToken("lbx_a"))
		require.True(t, errs.Is(err, errs.NotFound))
		require.True(t, errs.Is(s.DeleteToken(ctx, "t1"), errs.NotFound))
		t.Run("DeletePrincipalRevokes", func(t *testing.T) {
			require.NoError(t, s.DeletePrincipal(ctx, "v"))
			_, err := s.TokenByHash(ctx, auth.HashToken("lbx_c"))
			require.True(t, errs.Is(err, errs.NotFound))
		})
	})
}

// runResolver checks the optional TokenResolver upgrade.
func runResolver(t *testing.T, s auth.Store, mk func(string, auth.Kind, string) auth.Principal, now time.Time) {
	r, ok := s.(auth.TokenResolver)
	if !ok {
		t.Skip("store does not implement auth.TokenResolver")
	}
	ctx := context.Background()
	for _, p := range []auth.Principal{mk("u", auth.KindUser, "u"), mk("g1", auth.KindGroup, "g1"), mk("g2", auth.KindGroup, "g2"),
		mk("g3", auth.KindGroup, "g3"), mk("other", auth.KindGroup, "other")} {
		require.NoError(t, s.CreatePrincipal(ctx, p))
	}
	// u ∈ g1 ∈ g2 ∈ g3, and g3 ∈ g1 closes a cycle the store must survive.
	require.NoError(t, s.AddMember(ctx, "g1", "u"))
	require.NoError(t, s.AddMember(ctx, "g2", "g1"))
	require.NoError(t, s.AddMember(ctx, "g3", "g2"))
	require.NoError(t, s.AddMember(ctx, "g1", "g3"))
	tok := auth.Token{ID: "t", PrincipalID: "u", Hash: auth.HashToken("lbx_r"), CreatedAt: now}
	require.NoError(t, s.CreateToken(ctx, tok))
	gotT, gotP, groups, err := r.ResolveToken(ctx, tok.Hash)
	require.NoError(t, err)
	require.Equal(t, tok, gotT)
	require.Equal(t, "u", gotP.Name)
	require.Equal(t, []string{"g1", "g2", "g3"}, names(groups))
	_, _, _, err = r.ResolveToken(ctx, auth.HashToken("lbx_unknown"))
	require.True(t, errs.Is(err, errs.NotFound), "got %v", err)
}

func names(ps []auth.Principal) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func tokenIDs(ts []auth.Token) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}
