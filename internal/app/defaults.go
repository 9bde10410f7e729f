package app

import (
	"context"
	"fmt"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
)

// The workspace's default namespace, as on Databricks: unqualified names in
// SQL and MLflow resolve to main.default.
const (
	defaultCatalog = "main"
	defaultSchema  = "default"
)

// ensureDefaultNamespace creates the catalog `main` and the schema
// `main.default` on first start, owned by the admins group, and lets every
// user work there as in a new Databricks workspace: USE CATALOG on main;
// USE SCHEMA and CREATE TABLE / VOLUME / FUNCTION / MODEL on main.default.
// What a user creates there is theirs; reading another user's table still
// needs a grant. Existing objects and grants are left alone, so admins can
// tighten this, and replicas starting together are safe.
func (a *App) ensureDefaultNamespace(ctx context.Context) error {
	ctx = auth.WithIdentity(ctx, &auth.Identity{
		Principal: auth.Principal{Kind: auth.KindServicePrincipal, Name: "lakebox-bootstrap"}, Admin: true})
	created := false
	if _, err := a.Catalog.CreateCatalog(ctx, catalog.CreateCatalog{Name: defaultCatalog, Comment: "Default catalog"}); err == nil {
		created = true
	} else if !errs.Is(err, errs.AlreadyExists) {
		return fmt.Errorf("create catalog %s: %w", defaultCatalog, err)
	}
	if _, err := a.Catalog.CreateSchema(ctx, catalog.CreateSchema{Name: defaultSchema, CatalogName: defaultCatalog, Comment: "Default schema"}); err == nil {
		created = true
	} else if !errs.Is(err, errs.AlreadyExists) {
		return fmt.Errorf("create schema %s.%s: %w", defaultCatalog, defaultSchema, err)
	}
	if !created {
		return nil
	}
	owner := auth.AdminsGroup
	if _, err := a.Catalog.UpdateCatalog(ctx, defaultCatalog, catalog.Update{Owner: owner}); err != nil {
		return fmt.Errorf("set owner of %s: %w", defaultCatalog, err)
	}
	full := defaultCatalog + "." + defaultSchema
	if _, err := a.Catalog.UpdateSchema(ctx, full, catalog.Update{Owner: owner}); err != nil {
		return fmt.Errorf("set owner of %s: %w", full, err)
	}
	grant := func(t catalog.SecurableType, name string, privs ...catalog.Privilege) error {
		_, err := a.Catalog.UpdatePermissions(ctx, t, name, catalog.UpdatePermissions{
			Changes: []catalog.PermissionsChange{{Principal: catalog.AccountUsers, Add: privs}}})
		return err
	}
	if err := grant(catalog.TypeCatalog, defaultCatalog, catalog.PrivUseCatalog); err != nil {
		return fmt.Errorf("grant on %s: %w", defaultCatalog, err)
	}
	if err := grant(catalog.TypeSchema, full, catalog.PrivUseSchema, catalog.PrivCreateTable, catalog.PrivCreateVolume,
		catalog.PrivCreateFunction, catalog.PrivCreateModel); err != nil {
		return fmt.Errorf("grant on %s: %w", full, err)
	}
	return nil
}
