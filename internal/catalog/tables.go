package catalog

import (
	"context"
	"strings"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

func (s *Service) tableInfo(_ context.Context, r Record) (TableInfo, error) {
	var t TableInfo
	decodeBody(r, &t)
	p := parts(r.FullName)
	t.Name, t.CatalogName, t.SchemaName, t.FullName = r.Name, p[0], p[1], r.FullName
	t.Comment, t.Owner, t.TableID, t.StorageLocation = r.Comment, r.Owner, r.ID, r.Location
	t.CreatedAt, t.CreatedBy, t.UpdatedAt, t.UpdatedBy = ms(r.CreatedAt), r.CreatedBy, ms(r.UpdatedAt), r.UpdatedBy
	t.DeletedAt = ms(r.DroppedAt)
	if t.Columns == nil {
		t.Columns = []ColumnInfo{}
	}
	return t, nil
}

// tableBody is what a table's record body keeps (names live in columns).
func tableBody(t TableInfo) []byte {
	return mustJSON(TableInfo{TableType: t.TableType, DataSourceFormat: t.DataSourceFormat, Columns: t.Columns,
		Properties: t.Properties, ViewDefinition: t.ViewDefinition, ViewDependencies: t.ViewDependencies, RowFilter: t.RowFilter})
}

// createIn checks that the caller may create an object needing priv in
// catalog.schema: USE CATALOG, USE SCHEMA and priv (or ownership of the
// schema or catalog). It returns the access on the schema.
func (s *Service) createIn(ctx context.Context, catalog, schema string, priv Privilege) (*access, error) {
	a, err := s.load(ctx, TypeSchema, catalog+"."+schema)
	if err != nil {
		return nil, err
	}
	if err := a.allow(priv); err != nil {
		return nil, err
	}
	if !a.admin() && !a.ownsAbove(1) && !a.has(1, PrivUseSchema) {
		return nil, a.deny(PrivUseSchema, 1)
	}
	return a, nil
}

// external checks an external storage URL: outside the warehouse, under a
// registered external location on which the caller holds priv (or owns it).
// It returns the normalised URL.
func (s *Service) external(ctx context.Context, id *auth.Identity, raw string, priv Privilege) (string, error) {
	u, err := normalizeURL(raw)
	if err != nil {
		return "", err
	}
	if s.o.WarehouseURL != "" && (under(u, s.o.WarehouseURL) || under(s.o.WarehouseURL, u)) {
		return "", invalid("storage_location %q overlaps the warehouse %s (managed storage); external tables and volumes must live under a registered external location outside it", raw, s.o.WarehouseURL)
	}
	locs, err := s.store.List(ctx, ListQuery{Type: TypeExternalLocation})
	if err != nil {
		return "", err
	}
	var best *Record
	for i, l := range locs {
		if under(u, l.Location) && (best == nil || len(l.Location) > len(best.Location)) {
			best = &locs[i]
		}
	}
	if best == nil {
		return "", invalid("storage_location %q is not under any registered external location; a metastore admin registers one with POST /api/2.1/unity-catalog/external-locations", raw)
	}
	a, err := s.accessOn(ctx, id, []Record{*best})
	if err != nil {
		return "", err
	}
	if !a.admin() && !a.ownsAt(0) && !a.has(0, priv) {
		return "", a.deny(priv, 0)
	}
	return u, nil
}

// initDelta creates an empty Delta table with cols at loc unless one exists.
func (s *Service) initDelta(ctx context.Context, loc string, cols []ColumnInfo, name, comment string) (bool, error) {
	st, pcols, err := deltaSchema(cols)
	if err != nil {
		return false, err
	}
	if s.storage == nil {
		return false, nil
	}
	b, err := s.storage.Open(ctx, loc)
	if err != nil {
		return false, err
	}
	defer closeBucket(b)
	_, err = delta.NewTable(b, "").CreateTable(ctx, delta.CreateTableOptions{Schema: st, PartitionColumns: pcols, Name: name, Description: comment})
	if errs.Is(err, errs.AlreadyExists) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// CreateTable creates a table. MANAGED tables get storage under the
// warehouse (or use a staging table's location) and, when columns are given
// and the format is DELTA, an empty Delta table there; EXTERNAL tables must
// lie under an external location on which the caller holds CREATE EXTERNAL
// TABLE. Needs USE CATALOG, USE SCHEMA and CREATE TABLE.
func (s *Service) CreateTable(ctx context.Context, req CreateTable) (TableInfo, error) {
	if err := req.Validate(); err != nil {
		return TableInfo{}, err
	}
	a, err := s.createIn(ctx, req.CatalogName, req.SchemaName, PrivCreateTable)
	if err != nil {
		return TableInfo{}, err
	}
	cat, sch := a.chain[0], a.chain[1]
	r := s.newRecord(a.id, TypeTable, &sch, req.Name, req.Comment)
	if _, err := s.store.Get(ctx, TypeTable, r.FullName); err == nil {
		return TableInfo{}, alreadyExists(TypeTable, r.FullName)
	} else if !errs.Is(err, errs.NotFound) {
		return TableInfo{}, err
	}
	var staging *Record
	switch req.TableType {
	case TableExternal:
		if r.Location, err = s.external(ctx, a.id, req.StorageLocation, PrivCreateExternalTable); err != nil {
			return TableInfo{}, err
		}
	case TableManaged:
		if req.StorageLocation != "" {
			u, err := normalizeURL(req.StorageLocation)
			if err != nil {
				return TableInfo{}, err
			}
			st, err := s.store.Get(ctx, typeStaging, r.FullName)
			if err != nil || st.Location != u {
				return TableInfo{}, invalid("storage_location %q of a MANAGED table must be the staging_location of a staging table created for %s (POST /staging-tables); omit it to let Lakebox allocate storage", req.StorageLocation, r.FullName)
			}
			staging, r.Location = &st, u
		} else {
			r.Location = s.managedLocation(cat, sch, "tables", r.ID)
		}
		r.Managed = true
	}
	info := TableInfo{TableType: req.TableType, DataSourceFormat: req.DataSourceFormat, Columns: req.Columns, Properties: req.Properties,
		ViewDefinition: req.ViewDefinition, ViewDependencies: req.ViewDependencies}
	if info.Columns == nil {
		info.Columns = []ColumnInfo{}
	}
	r.Body = tableBody(info)
	created := false
	if req.TableType == TableManaged && req.DataSourceFormat == FormatDelta && len(req.Columns) > 0 {
		if created, err = s.initDelta(ctx, r.Location, req.Columns, r.FullName, req.Comment); err != nil {
			return TableInfo{}, err
		}
	} else if req.TableType != TableView && len(req.Columns) > 0 {
		if _, _, err := deltaSchema(req.Columns); err != nil {
			return TableInfo{}, err
		}
	}
	if err := s.store.Create(ctx, r); err != nil {
		if created && staging == nil {
			s.removeData(ctx, r.Location)
		}
		if errs.Is(err, errs.AlreadyExists) {
			return TableInfo{}, alreadyExists(TypeTable, r.FullName)
		}
		return TableInfo{}, err
	}
	if staging != nil {
		if err := s.store.Delete(ctx, []string{staging.ID}); err != nil {
			s.log.Warn("remove staging table record", "id", staging.ID, "err", err.Error())
		}
	}
	return s.tableInfo(ctx, r)
}

// CreateStagingTable allocates managed storage for a table about to be
// created (see the UC staging-table flow). Needs what CreateTable needs.
func (s *Service) CreateStagingTable(ctx context.Context, req CreateStagingTable) (StagingTableInfo, error) {
	if err := req.Validate(); err != nil {
		return StagingTableInfo{}, err
	}
	a, err := s.createIn(ctx, req.CatalogName, req.SchemaName, PrivCreateTable)
	if err != nil {
		return StagingTableInfo{}, err
	}
	sch := a.chain[1]
	r := s.newRecord(a.id, typeStaging, &sch, req.Name, "")
	if _, err := s.store.Get(ctx, TypeTable, r.FullName); err == nil {
		return StagingTableInfo{}, alreadyExists(TypeTable, r.FullName)
	}
	if old, err := s.store.Get(ctx, typeStaging, r.FullName); err == nil {
		if err := s.store.Delete(ctx, []string{old.ID}); err != nil {
			return StagingTableInfo{}, err
		}
	}
	r.Location = s.managedLocation(a.chain[0], sch, "tables", r.ID)
	r.Managed = true
	r.Body = []byte("{}")
	if err := s.store.Create(ctx, r); err != nil {
		return StagingTableInfo{}, err
	}
	p := parts(r.FullName)
	return StagingTableInfo{Name: r.Name, CatalogName: p[0], SchemaName: p[1], ID: r.ID, StagingLocation: r.Location}, nil
}

// GetTable returns a table the caller may see.
func (s *Service) GetTable(ctx context.Context, full string) (TableInfo, error) {
	return s.ResolveTable(ctx, full)
}

// ListTables lists the tables of a schema the caller may see.
func (s *Service) ListTables(ctx context.Context, catalog, schema string, p Page) (ListTablesResponse, error) {
	recs, next, err := s.listChildren(ctx, catalog, schema, TypeTable, p)
	if err != nil {
		return ListTablesResponse{}, err
	}
	out := ListTablesResponse{Tables: make([]TableInfo, 0, len(recs)), NextPageToken: next}
	for _, r := range recs {
		t, err := s.tableInfo(ctx, r)
		if err != nil {
			return ListTablesResponse{}, err
		}
		out.Tables = append(out.Tables, t)
	}
	return out, nil
}

// listChildren pages through the visible objects of type t in a schema.
// The caller must pass the catalog and schema usage gates.
func (s *Service) listChildren(ctx context.Context, catalog, schema string, t SecurableType, p Page) ([]Record, string, error) {
	if err := validateParent(catalog, schema); err != nil {
		return nil, "", err
	}
	a, err := s.load(ctx, TypeSchema, catalog+"."+schema)
	if err != nil {
		return nil, "", err
	}
	if err := a.gate(1); err != nil {
		return nil, "", err
	}
	return s.listVisible(ctx, ListQuery{Type: t, ParentID: a.rec().ID}, p, func(rs []Record) ([]Record, error) {
		return s.visibleChildren(ctx, a.id, a.chain, rs)
	})
}

// DeleteTable drops a table. A MANAGED table is kept, dropped, for the
// retention window (UndropTable restores it); other tables are forgotten
// (their data is not touched). Needs ownership or MANAGE.
func (s *Service) DeleteTable(ctx context.Context, full string) error {
	return s.dropObject(ctx, TypeTable, full)
}

// RenameTable gives a table or view a new name in its schema (the SQL
// ALTER TABLE … RENAME TO). Its id, storage, grants, row filter and column
// masks stay; views naming the old name no longer resolve. Needs ownership
// or MANAGE. Errors: errs.NotFound, errs.PermissionDenied, errs.Invalid for
// a bad name, errs.AlreadyExists when the schema has an object of that name.
func (s *Service) RenameTable(ctx context.Context, full, newName string) (TableInfo, error) {
	r, err := s.updateObject(ctx, TypeTable, full, Update{NewName: newName}, nil)
	if err != nil {
		return TableInfo{}, err
	}
	return s.tableInfo(ctx, r)
}

// UndropTable restores the most recently dropped managed table named full
// within the retention window. Needs ownership or MANAGE (as it was when
// dropped) and usage on the live catalog and schema. Errors:
// errs.NotFound, errs.AlreadyExists when a live table took the name.
func (s *Service) UndropTable(ctx context.Context, full string) (TableInfo, error) {
	r, err := s.undrop(ctx, TypeTable, full)
	if err != nil {
		return TableInfo{}, err
	}
	return s.tableInfo(ctx, r)
}

func (s *Service) undrop(ctx context.Context, t SecurableType, full string) (Record, error) {
	id, err := caller(ctx)
	if err != nil {
		return Record{}, err
	}
	keys, err := chainKeys(t, full)
	if err != nil {
		return Record{}, err
	}
	chain, err := s.loadChain(ctx, keys[:2])
	if err != nil {
		return Record{}, err
	}
	r, err := s.store.LatestDropped(ctx, t, keys[2].FullName)
	if err != nil {
		return Record{}, notFound(t, keys[2].FullName)
	}
	if r.ParentID != chain[1].ID {
		return Record{}, notFound(t, keys[2].FullName)
	}
	a, err := s.accessOn(ctx, id, append(chain, r))
	if err != nil {
		return Record{}, err
	}
	if err := a.manage(); err != nil {
		return Record{}, err
	}
	if err := s.store.SetDropped(ctx, []string{r.ID}, timeZero); err != nil {
		if errs.Is(err, errs.AlreadyExists) {
			return Record{}, alreadyExists(t, r.FullName)
		}
		return Record{}, err
	}
	r.DroppedAt = timeZero
	return r, nil
}

// UpdateTable applies the Lakebox PATCH /tables/{full_name} extension:
// comments need MODIFY (or ownership/MANAGE); owner, properties, row
// filters, column masks and a schema change need ownership or MANAGE, and
// EXECUTE on the filter or mask function.
func (s *Service) UpdateTable(ctx context.Context, full string, u TableUpdate) (TableInfo, error) {
	a, err := s.load(ctx, TypeTable, full)
	if err != nil {
		return TableInfo{}, err
	}
	governance := u.Owner != "" || u.Properties != nil || u.RowFilter != nil || u.DropRowFilter || u.Schema != nil
	for _, c := range u.Columns {
		if c.Mask != nil || c.DropMask {
			governance = true
		}
	}
	if governance {
		if err := a.manage(); err != nil {
			return TableInfo{}, err
		}
	} else if err := a.manage(); err != nil {
		if err := a.allow(PrivModify); err != nil {
			return TableInfo{}, err
		}
	}
	r := a.rec()
	t, _ := s.tableInfo(ctx, r)
	if u.Owner != "" && u.Owner != r.Owner {
		if err := s.checkPrincipal(ctx, u.Owner); err != nil {
			return TableInfo{}, err
		}
		r.Owner = u.Owner
	}
	if u.Comment != nil {
		r.Comment = *u.Comment
	}
	if u.Properties != nil {
		t.Properties = u.Properties
	}
	if u.Schema != nil {
		if err := u.Schema.Apply(&t); err != nil {
			return TableInfo{}, err
		}
	}
	colIdx := map[string]int{}
	for i, c := range t.Columns {
		colIdx[strings.ToLower(c.Name)] = i
	}
	checkCols := func(names []string) error {
		for _, n := range names {
			if _, ok := colIdx[strings.ToLower(n)]; !ok {
				return invalid("column %q does not exist in table %s", n, r.FullName)
			}
		}
		return nil
	}
	if u.DropRowFilter {
		t.RowFilter = nil
	}
	if u.RowFilter != nil {
		if err := checkCols(u.RowFilter.InputColumnNames); err != nil {
			return TableInfo{}, err
		}
		fn, err := s.policyFunction(ctx, u.RowFilter.FunctionName)
		if err != nil {
			return TableInfo{}, err
		}
		t.RowFilter = &RowFilter{FunctionName: fn, InputColumnNames: nonNil(u.RowFilter.InputColumnNames)}
	}
	for _, cu := range u.Columns {
		i, ok := colIdx[strings.ToLower(cu.Name)]
		if !ok {
			return TableInfo{}, invalid("column %q does not exist in table %s", cu.Name, r.FullName)
		}
		if cu.Comment != nil {
			t.Columns[i].Comment = *cu.Comment
		}
		if cu.DropMask {
			t.Columns[i].Mask = nil
		}
		if cu.Mask != nil {
			if err := checkCols(cu.Mask.UsingColumnNames); err != nil {
				return TableInfo{}, err
			}
			fn, err := s.policyFunction(ctx, cu.Mask.FunctionName)
			if err != nil {
				return TableInfo{}, err
			}
			t.Columns[i].Mask = &ColumnMask{FunctionName: fn, UsingColumnNames: nonNil(cu.Mask.UsingColumnNames)}
		}
	}
	r.Body = tableBody(t)
	s.touch(&r, a.id)
	if err := s.store.Update(ctx, r); err != nil {
		return TableInfo{}, err
	}
	return s.tableInfo(ctx, r)
}

// Apply replaces t's columns and row filter by their state after the
// change. Errors: errs.Invalid for a bad column list; errs.FailedPrecondition
// when a mask or the row filter would name a column that no longer exists
// (a policy is never dropped or left dangling silently).
func (c *SchemaChange) Apply(t *TableInfo) error {
	cols := append([]ColumnInfo(nil), c.Columns...)
	if err := validateColumns(cols); err != nil {
		return err
	}
	newName := func(n string) (string, bool) {
		for from, to := range c.Renamed {
			if strings.EqualFold(n, from) {
				return to, true
			}
		}
		return n, false
	}
	renameAll := func(ns []string) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i], _ = newName(n)
		}
		return out
	}
	idx := map[string]int{}
	for i, col := range cols {
		idx[strings.ToLower(col.Name)] = i
	}
	targets := map[string]bool{}
	for _, to := range c.Renamed {
		targets[strings.ToLower(to)] = true
	}
	for _, old := range t.Columns {
		n, renamed := newName(old.Name)
		i, ok := idx[strings.ToLower(n)]
		if !ok || (!renamed && targets[strings.ToLower(n)]) {
			if old.Mask != nil {
				return policyLost("column %s of %s has a mask but is not in the new schema; drop the mask first, or if an earlier RENAME COLUMN did not reach the catalog, run it again", old.Name, t.FullName)
			}
			continue
		}
		if cols[i].Comment == "" {
			cols[i].Comment = old.Comment
		}
		if old.Mask != nil {
			cols[i].Mask = &ColumnMask{FunctionName: old.Mask.FunctionName, UsingColumnNames: renameAll(old.Mask.UsingColumnNames)}
		}
	}
	check := func(policy string, names []string) error {
		for _, n := range names {
			if _, ok := idx[strings.ToLower(n)]; !ok {
				return policyLost("%s of %s uses column %s, which is not in the new schema; change the policy first", policy, t.FullName, n)
			}
		}
		return nil
	}
	for _, col := range cols {
		if col.Mask != nil {
			if err := check("the mask of column "+col.Name, col.Mask.UsingColumnNames); err != nil {
				return err
			}
		}
	}
	var rf *RowFilter
	if t.RowFilter != nil {
		rf = &RowFilter{FunctionName: t.RowFilter.FunctionName, InputColumnNames: renameAll(t.RowFilter.InputColumnNames)}
		if err := check("the row filter", rf.InputColumnNames); err != nil {
			return err
		}
	}
	t.Columns, t.RowFilter = cols, rf
	return nil
}

func policyLost(format string, args ...any) error {
	return errs.E(errs.FailedPrecondition, "POLICY_COLUMN_MISSING", format, args...)
}

// SetRowFilter sets (filter non-nil) or drops a table's row filter; the
// service form of ALTER TABLE … SET/DROP ROW FILTER.
func (s *Service) SetRowFilter(ctx context.Context, table string, filter *RowFilter) (TableInfo, error) {
	return s.UpdateTable(ctx, table, TableUpdate{RowFilter: filter, DropRowFilter: filter == nil})
}

// SetColumnMask sets (mask non-nil) or drops a column mask; the service
// form of ALTER TABLE … ALTER COLUMN … SET/DROP MASK.
func (s *Service) SetColumnMask(ctx context.Context, table, column string, mask *ColumnMask) (TableInfo, error) {
	return s.UpdateTable(ctx, table, TableUpdate{Columns: []ColumnUpdate{{Name: column, Mask: mask, DropMask: mask == nil}}})
}

// policyFunction checks that a row-filter or mask function exists and the
// caller may EXECUTE it; it returns its full name.
func (s *Service) policyFunction(ctx context.Context, name string) (string, error) {
	fa, err := s.load(ctx, TypeFunction, name)
	if err != nil {
		return "", err
	}
	if err := fa.allow(PrivExecute); err != nil {
		return "", err
	}
	return fa.rec().FullName, nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
