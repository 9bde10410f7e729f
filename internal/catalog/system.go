package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// InternalTable is a table whose data Lakebox itself writes at a fixed place
// in the warehouse (the system.access tables under __lakebox/system, the
// inference tables under __inference_tables) and registers in the catalog
// so that SQL and the UC API can read it under a three-level name.
type InternalTable struct {
	// FullName is catalog.schema.table.
	FullName string
	// Location is the table root as a key of the warehouse bucket
	// (e.g. __lakebox/system/access/audit); it must not escape it.
	Location string
	// Owner owns the table (and the catalog and schema when they are
	// created here).
	Owner   string
	Comment string
	// Create describes the Delta table; it is created empty at Location
	// when no table is there yet.
	Create delta.CreateTableOptions
	// CreateContainers creates the catalog and schema, owned by Owner, when
	// they are missing, and refuses existing ones owned by someone else
	// (errs.Conflict); otherwise they must exist (errs.NotFound).
	CreateContainers bool
}

// RegisterInternalTable makes sure the Delta table t exists at its
// warehouse location and is registered in the catalog as t.FullName, owned
// by t.Owner. It is privileged: it checks no caller and bypasses the rule
// that managed tables get Lakebox-allocated storage and external tables lie
// under an external location, so only the composition root may call it,
// for data Lakebox writes itself, after authorising the request that led
// to it. The record is not Managed: dropping the table forgets it and
// leaves the data, which its writer owns.
//
// It is idempotent and safe on several replicas at once: an existing table
// at the same location (or one created concurrently) is success. Errors:
// errs.Invalid for a bad name or location; errs.NotFound for a missing
// catalog or schema without CreateContainers; errs.Conflict for a catalog
// or schema owned by someone else with CreateContainers; errs.AlreadyExists
// (TABLE_ALREADY_EXISTS) when another table already holds the name.
func (s *Service) RegisterInternalTable(ctx context.Context, t InternalTable) (TableInfo, error) {
	ps, err := splitFullName(TypeTable, t.FullName, 3)
	if err != nil {
		return TableInfo{}, err
	}
	loc := strings.Trim(t.Location, "/")
	if loc == "" || strings.Contains("/"+loc+"/", "/../") || strings.Contains("/"+loc+"/", "/./") {
		return TableInfo{}, invalid("internal table location %q must be a key inside the warehouse", t.Location)
	}
	if s.o.WarehouseURL == "" {
		return TableInfo{}, invalid("internal tables need a warehouse")
	}
	url := s.o.WarehouseURL + "/" + loc
	if t.Owner == "" {
		return TableInfo{}, invalid("internal table %s needs an owner", t.FullName)
	}
	if err := s.initInternalDelta(ctx, url, t); err != nil {
		return TableInfo{}, err
	}
	var parent *Record
	for i, typ := range []SecurableType{TypeCatalog, TypeSchema} {
		full := strings.Join(ps[:i+1], ".")
		r, err := s.store.Get(ctx, typ, full)
		if errs.Is(err, errs.NotFound) && t.CreateContainers {
			r = s.internalRecord(typ, parent, ps[i], t.Owner, "")
			if typ == TypeCatalog {
				r.Body = mustJSON(CatalogInfo{})
			} else {
				r.Body = mustJSON(SchemaInfo{})
			}
			if err = s.store.Create(ctx, r); errs.Is(err, errs.AlreadyExists) {
				r, err = s.store.Get(ctx, typ, full)
			}
		}
		if errs.Is(err, errs.NotFound) {
			return TableInfo{}, notFound(typ, full)
		}
		if err != nil {
			return TableInfo{}, fmt.Errorf("register internal table %s: %w", t.FullName, err)
		}
		if t.CreateContainers && r.Owner != t.Owner {
			// Someone else's container would let its owner read the table.
			return TableInfo{}, errs.E(errs.Conflict, "RESOURCE_CONFLICT",
				"%s '%s' is owned by %s, not %s, so Lakebox will not register %s in it; transfer its ownership to %s or drop it",
				typeLabel(typ), full, r.Owner, t.Owner, t.FullName, t.Owner)
		}
		parent = &r
	}
	r := s.internalRecord(TypeTable, parent, ps[2], t.Owner, t.Comment)
	r.Location = url
	r.Body = tableBody(TableInfo{TableType: TableManaged, DataSourceFormat: FormatDelta, Columns: columnsOf(t.Create.Schema, t.Create.PartitionColumns)})
	err = s.store.Create(ctx, r)
	if errs.Is(err, errs.AlreadyExists) {
		old, gerr := s.store.Get(ctx, TypeTable, r.FullName)
		if gerr != nil {
			return TableInfo{}, gerr
		}
		if old.Location != url {
			return TableInfo{}, errs.E(errs.AlreadyExists, "TABLE_ALREADY_EXISTS",
				"table %s already exists at %s; drop or rename it so Lakebox can register its table at %s", r.FullName, old.Location, url)
		}
		return s.tableInfo(ctx, old)
	}
	if err != nil {
		return TableInfo{}, fmt.Errorf("register internal table %s: %w", t.FullName, err)
	}
	return s.tableInfo(ctx, r)
}

// internalRecord is a new record created by Lakebox for owner.
func (s *Service) internalRecord(t SecurableType, parent *Record, name, owner, comment string) Record {
	now := s.o.Now()
	full := strings.ToLower(name)
	parentID := ""
	if parent != nil {
		full, parentID = parent.FullName+"."+full, parent.ID
	}
	return Record{ID: s.o.NewID(), Type: t, ParentID: parentID, Name: strings.ToLower(name), FullName: full, Owner: owner,
		Comment: comment, CreatedAt: now, CreatedBy: "system", UpdatedAt: now, UpdatedBy: "system"}
}

// initInternalDelta creates t's Delta table at url unless one exists (a
// concurrent creation by the table's writer or another replica counts as
// existing).
func (s *Service) initInternalDelta(ctx context.Context, url string, t InternalTable) error {
	if s.storage == nil || t.Create.Schema == nil {
		return nil
	}
	b, err := s.storage.Open(ctx, url)
	if err != nil {
		return err
	}
	defer closeBucket(b)
	_, err = delta.NewTable(b, "").CreateTable(ctx, t.Create)
	if err != nil && !errs.Is(err, errs.AlreadyExists) && !errs.Is(err, errs.Conflict) {
		return fmt.Errorf("create internal table %s: %w", t.FullName, err)
	}
	return nil
}

// columnsOf lists a Delta schema as catalog columns.
func columnsOf(st *delta.StructType, partitions []string) []ColumnInfo {
	cols := []ColumnInfo{}
	if st == nil {
		return cols
	}
	pidx := map[string]int{}
	for i, p := range partitions {
		pidx[strings.ToLower(p)] = i
	}
	for i, f := range st.Fields {
		tj, _ := delta.MarshalDataType(f.Type)
		name := strings.ToUpper(strings.Trim(string(tj), `"`))
		if strings.ContainsAny(name, "({") {
			name = complexTypeName(f.Type)
		}
		switch name {
		case "INTEGER":
			name = "INT"
		}
		nullable := f.Nullable
		c := ColumnInfo{Name: f.Name, TypeText: strings.ToLower(name), TypeName: name, Position: i, Nullable: &nullable,
			TypeJSON: fmt.Sprintf(`{"name":%q,"type":%s,"nullable":%t,"metadata":{}}`, f.Name, tj, f.Nullable)}
		if j, ok := pidx[strings.ToLower(f.Name)]; ok {
			jj := j
			c.PartitionIndex = &jj
		}
		cols = append(cols, c)
	}
	return cols
}

func complexTypeName(t delta.DataType) string {
	switch t.(type) {
	case *delta.StructType:
		return "STRUCT"
	case *delta.MapType:
		return "MAP"
	case *delta.ArrayType:
		return "ARRAY"
	case *delta.DecimalType:
		return "DECIMAL"
	}
	return "STRING"
}
