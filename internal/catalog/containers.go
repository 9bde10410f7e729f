package catalog

import (
	"context"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

func catalogInfo(r Record) CatalogInfo {
	var c CatalogInfo
	decodeBody(r, &c)
	c.Name, c.Comment, c.Owner, c.ID = r.Name, r.Comment, r.Owner, r.ID
	c.CreatedAt, c.CreatedBy, c.UpdatedAt, c.UpdatedBy = ms(r.CreatedAt), r.CreatedBy, ms(r.UpdatedAt), r.UpdatedBy
	c.StorageLocation = r.Location
	return c
}

func schemaInfo(r Record) SchemaInfo {
	var c SchemaInfo
	decodeBody(r, &c)
	p := parts(r.FullName)
	c.Name, c.CatalogName, c.FullName, c.Comment, c.Owner, c.SchemaID = r.Name, p[0], r.FullName, r.Comment, r.Owner, r.ID
	c.CreatedAt, c.CreatedBy, c.UpdatedAt, c.UpdatedBy = ms(r.CreatedAt), r.CreatedBy, ms(r.UpdatedAt), r.UpdatedBy
	c.StorageLocation = r.Location
	return c
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// managedRootURL checks a storage_root for a catalog or schema: it must lie
// inside the warehouse. Errors: errs.Invalid.
func (s *Service) managedRootURL(raw string) (string, error) {
	u, err := normalizeURL(raw)
	if err != nil {
		return "", err
	}
	if s.o.WarehouseURL == "" || !under(u, s.o.WarehouseURL) {
		return "", invalid("managed storage root %q is outside the warehouse %s; managed storage must lie inside the warehouse (use an EXTERNAL table or volume for other locations)", raw, s.o.WarehouseURL)
	}
	if under(u, s.o.WarehouseURL+"/__lakebox") && u != s.o.WarehouseURL+"/__lakebox" {
		return "", invalid("storage root %q is inside Lakebox's reserved __lakebox directory", raw)
	}
	return u, nil
}

// managedLocation allocates storage for a managed securable of kind
// ("tables", "volumes", "models") below schema and catalog.
func (s *Service) managedLocation(cat, sch Record, kind, id string) string {
	switch {
	case sch.Location != "":
		return sch.Location + "/" + kind + "/" + id
	case cat.Location != "":
		return cat.Location + "/" + kind + "/" + id
	}
	return s.o.WarehouseURL + "/__lakebox/managed/" + id
}

// CreateCatalog creates a catalog owned by the caller. Needs CREATE CATALOG
// on the metastore (admins pass). Errors: errs.Invalid, errs.AlreadyExists
// (CATALOG_ALREADY_EXISTS), errs.PermissionDenied.
func (s *Service) CreateCatalog(ctx context.Context, req CreateCatalog) (CatalogInfo, error) {
	if err := req.Validate(); err != nil {
		return CatalogInfo{}, err
	}
	if err := s.Authorize(ctx, TypeMetastore, "", PrivCreateCatalog); err != nil {
		return CatalogInfo{}, err
	}
	id, _ := caller(ctx)
	r := s.newRecord(id, TypeCatalog, nil, req.Name, req.Comment)
	if req.StorageRoot != "" {
		root, err := s.managedRootURL(req.StorageRoot)
		if err != nil {
			return CatalogInfo{}, err
		}
		req.StorageRoot = root
		r.Location = root + "/__unitystorage/catalogs/" + r.ID
	}
	r.Body = mustJSON(CatalogInfo{Properties: req.Properties, StorageRoot: req.StorageRoot})
	if err := s.store.Create(ctx, r); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return CatalogInfo{}, alreadyExists(TypeCatalog, r.FullName)
		}
		return CatalogInfo{}, err
	}
	return catalogInfo(r), nil
}

// GetCatalog returns a catalog the caller may see.
func (s *Service) GetCatalog(ctx context.Context, name string) (CatalogInfo, error) {
	a, err := s.load(ctx, TypeCatalog, name)
	if err != nil {
		return CatalogInfo{}, err
	}
	if err := a.see(); err != nil {
		return CatalogInfo{}, err
	}
	return catalogInfo(a.rec()), nil
}

// visibleChildren keeps the records of recs (children of prefix) the caller
// may see, loading grants for the whole batch in one query.
func (s *Service) visibleChildren(ctx context.Context, id *auth.Identity, prefix []Record, recs []Record) ([]Record, error) {
	if id.Admin || len(recs) == 0 {
		return recs, nil
	}
	base, err := s.accessOn(ctx, id, prefix)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	gs, err := s.store.Grants(ctx, ids, principalNames(id))
	if err != nil {
		return nil, err
	}
	byID := map[string][]Privilege{}
	for _, g := range gs {
		byID[g.SecurableID] = append(byID[g.SecurableID], g.Privilege)
	}
	var out []Record
	for _, r := range recs {
		a := &access{id: id, names: base.names, chain: append(append([]Record{}, prefix...), r),
			grants: append(append([][]Privilege{}, base.grants...), byID[r.ID]), meta: base.meta}
		if a.visible() {
			out = append(out, r)
		}
	}
	return out, nil
}

// ListCatalogs lists the catalogs the caller may see, by name.
func (s *Service) ListCatalogs(ctx context.Context, p Page) (ListCatalogsResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return ListCatalogsResponse{}, err
	}
	recs, next, err := s.listVisible(ctx, ListQuery{Type: TypeCatalog}, p, func(rs []Record) ([]Record, error) {
		return s.visibleChildren(ctx, id, nil, rs)
	})
	if err != nil {
		return ListCatalogsResponse{}, err
	}
	out := ListCatalogsResponse{Catalogs: []CatalogInfo{}, NextPageToken: next}
	for _, r := range recs {
		out.Catalogs = append(out.Catalogs, catalogInfo(r))
	}
	return out, nil
}

// applyUpdate applies the common update fields to r after the caller has
// passed the manage check. It returns whether a rename is pending.
func (s *Service) applyUpdate(ctx context.Context, a *access, r *Record, u Update, props *PropertiesMap) error {
	if u.Owner != "" && u.Owner != r.Owner {
		if err := s.checkPrincipal(ctx, u.Owner); err != nil {
			return err
		}
		r.Owner = u.Owner
	}
	if u.Comment != nil {
		r.Comment = *u.Comment
	}
	if u.Properties != nil && props != nil {
		*props = u.Properties
	}
	s.touch(r, a.id)
	return nil
}

// rename renames r (and its descendants' full names) to newName.
func (s *Service) rename(ctx context.Context, a *access, r *Record, newName string) error {
	newName = strings.ToLower(newName)
	if newName == r.Name {
		return nil
	}
	full := newName
	if i := strings.LastIndexByte(r.FullName, '.'); i >= 0 {
		full = r.FullName[:i+1] + newName
	}
	if err := s.store.Rename(ctx, r.ID, newName, full, s.o.Now(), a.id.Principal.Name); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return alreadyExists(r.Type, full)
		}
		return err
	}
	r.Name, r.FullName = newName, full
	return nil
}

// UpdateCatalog changes a catalog's comment, properties, owner or name.
// Needs ownership (of the catalog), MANAGE or metastore admin.
func (s *Service) UpdateCatalog(ctx context.Context, name string, u Update) (CatalogInfo, error) {
	if err := u.Validate(); err != nil {
		return CatalogInfo{}, err
	}
	a, err := s.load(ctx, TypeCatalog, name)
	if err != nil {
		return CatalogInfo{}, err
	}
	if err := a.manage(); err != nil {
		return CatalogInfo{}, err
	}
	r := a.rec()
	info := catalogInfo(r)
	if err := s.applyUpdate(ctx, a, &r, u, &info.Properties); err != nil {
		return CatalogInfo{}, err
	}
	r.Body = mustJSON(CatalogInfo{Properties: info.Properties, StorageRoot: info.StorageRoot})
	if err := s.store.Update(ctx, r); err != nil {
		return CatalogInfo{}, err
	}
	if u.NewName != "" {
		if err := s.rename(ctx, a, &r, u.NewName); err != nil {
			return CatalogInfo{}, err
		}
	}
	return catalogInfo(r), nil
}

// dropTree marks r and everything below it dropped at now. Without force a
// container with live children is refused.
func (s *Service) dropTree(ctx context.Context, r Record, force bool) error {
	var ids []string
	var walk func(Record) error
	walk = func(x Record) error {
		kids, err := s.store.Children(ctx, x.ID)
		if err != nil {
			return err
		}
		for _, k := range kids {
			if !k.DroppedAt.IsZero() {
				continue
			}
			if !force && k.Type != typeStaging {
				return precondition("%s '%s' is not empty (it contains %s '%s'); delete its contents first or pass force=true", typeLabel(r.Type), r.FullName, typeLabel(k.Type), k.FullName)
			}
			if err := walk(k); err != nil {
				return err
			}
		}
		ids = append(ids, x.ID)
		return nil
	}
	if err := walk(r); err != nil {
		return err
	}
	return s.store.SetDropped(ctx, ids, s.o.Now())
}

// DeleteCatalog drops a catalog; with force, everything in it. Managed data
// is removed after the retention window. Needs ownership or MANAGE.
func (s *Service) DeleteCatalog(ctx context.Context, name string, force bool) error {
	a, err := s.load(ctx, TypeCatalog, name)
	if err != nil {
		return err
	}
	if err := a.manage(); err != nil {
		return err
	}
	return s.dropTree(ctx, a.rec(), force)
}

// CreateSchema creates a schema owned by the caller. Needs USE CATALOG and
// CREATE SCHEMA on the catalog, or its ownership.
func (s *Service) CreateSchema(ctx context.Context, req CreateSchema) (SchemaInfo, error) {
	if err := req.Validate(); err != nil {
		return SchemaInfo{}, err
	}
	a, err := s.load(ctx, TypeCatalog, req.CatalogName)
	if err != nil {
		return SchemaInfo{}, err
	}
	if err := a.allow(PrivCreateSchema); err != nil {
		return SchemaInfo{}, err
	}
	if !a.admin() && !a.ownsAt(0) && !a.has(0, PrivUseCatalog) {
		return SchemaInfo{}, a.deny(PrivUseCatalog, 0)
	}
	cat := a.rec()
	r := s.newRecord(a.id, TypeSchema, &cat, req.Name, req.Comment)
	if req.StorageRoot != "" {
		root, err := s.managedRootURL(req.StorageRoot)
		if err != nil {
			return SchemaInfo{}, err
		}
		req.StorageRoot = root
		r.Location = root + "/__unitystorage/schemas/" + r.ID
	}
	r.Body = mustJSON(SchemaInfo{Properties: req.Properties, StorageRoot: req.StorageRoot})
	if err := s.store.Create(ctx, r); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return SchemaInfo{}, alreadyExists(TypeSchema, r.FullName)
		}
		return SchemaInfo{}, err
	}
	return schemaInfo(r), nil
}

// GetSchema returns a schema the caller may see.
func (s *Service) GetSchema(ctx context.Context, full string) (SchemaInfo, error) {
	a, err := s.load(ctx, TypeSchema, full)
	if err != nil {
		return SchemaInfo{}, err
	}
	if err := a.see(); err != nil {
		return SchemaInfo{}, err
	}
	return schemaInfo(a.rec()), nil
}

// ListSchemas lists the schemas of a catalog the caller may see.
func (s *Service) ListSchemas(ctx context.Context, catalog string, p Page) (ListSchemasResponse, error) {
	a, err := s.load(ctx, TypeCatalog, catalog)
	if err != nil {
		return ListSchemasResponse{}, err
	}
	if err := a.see(); err != nil {
		return ListSchemasResponse{}, err
	}
	recs, next, err := s.listVisible(ctx, ListQuery{Type: TypeSchema, ParentID: a.rec().ID}, p, func(rs []Record) ([]Record, error) {
		return s.visibleChildren(ctx, a.id, a.chain, rs)
	})
	if err != nil {
		return ListSchemasResponse{}, err
	}
	out := ListSchemasResponse{Schemas: []SchemaInfo{}, NextPageToken: next}
	for _, r := range recs {
		out.Schemas = append(out.Schemas, schemaInfo(r))
	}
	return out, nil
}

// UpdateSchema changes a schema's comment, properties, owner or name.
func (s *Service) UpdateSchema(ctx context.Context, full string, u Update) (SchemaInfo, error) {
	if err := u.Validate(); err != nil {
		return SchemaInfo{}, err
	}
	a, err := s.load(ctx, TypeSchema, full)
	if err != nil {
		return SchemaInfo{}, err
	}
	if err := a.manage(); err != nil {
		return SchemaInfo{}, err
	}
	r := a.rec()
	info := schemaInfo(r)
	if err := s.applyUpdate(ctx, a, &r, u, &info.Properties); err != nil {
		return SchemaInfo{}, err
	}
	r.Body = mustJSON(SchemaInfo{Properties: info.Properties, StorageRoot: info.StorageRoot})
	if err := s.store.Update(ctx, r); err != nil {
		return SchemaInfo{}, err
	}
	if u.NewName != "" {
		if err := s.rename(ctx, a, &r, u.NewName); err != nil {
			return SchemaInfo{}, err
		}
	}
	return schemaInfo(r), nil
}

// DeleteSchema drops a schema; with force, everything in it.
func (s *Service) DeleteSchema(ctx context.Context, full string, force bool) error {
	a, err := s.load(ctx, TypeSchema, full)
	if err != nil {
		return err
	}
	if err := a.manage(); err != nil {
		return err
	}
	return s.dropTree(ctx, a.rec(), force)
}
