package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/sqldb"
)

// BenchmarkResolveToken measures the metastore part of authenticating a
// request (token + principal, then transitive groups) on each backend.
//
//	go test -run '^$' -bench BenchmarkResolveToken ./internal/sqldb/
func BenchmarkResolveToken(b *testing.B) {
	for name, open := range backends() {
		b.Run(name, func(b *testing.B) {
			s := sqldb.NewAuthStore(open(b))
			ctx := context.Background()
			now := time.Now()
			for _, p := range []auth.Principal{
				{ID: "u", Kind: auth.KindUser, Name: "u", DisplayName: "u", Active: true, CreatedAt: now, UpdatedAt: now},
				{ID: "g", Kind: auth.KindGroup, Name: "g", DisplayName: "g", Active: true, CreatedAt: now, UpdatedAt: now},
			} {
				if err := s.CreatePrincipal(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.AddMember(ctx, "g", "u"); err != nil {
				b.Fatal(err)
			}
			hash := auth.HashToken("lbx_bench")
			if err := s.CreateToken(ctx, auth.Token{ID: "t", PrincipalID: "u", Hash: hash, CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, _, _, err := s.ResolveToken(ctx, hash); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
