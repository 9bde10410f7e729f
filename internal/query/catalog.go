package query

import (
	"context"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/catalog"
)

// Catalog is what the SQL engine needs of Unity Catalog. *catalog.Service
// provides most of it; internal/app adapts the rest. Every method acts as
// the identity in ctx and returns errs.NotFound, errs.AlreadyExists,
// errs.PermissionDenied or errs.Invalid as the catalog does.
type Catalog interface {
	// Authorize checks that the caller holds privilege on a securable
	// (with the usage gates of its containers).
	Authorize(ctx context.Context, t catalog.SecurableType, fullName string, p catalog.Privilege) error
	// ResolveTable returns a table or view the caller may see.
	ResolveTable(ctx context.Context, fullName string) (catalog.TableInfo, error)
	// ResolveVolume returns a volume the caller may see.
	ResolveVolume(ctx context.Context, fullName string) (catalog.VolumeInfo, error)
	// GetFunction returns a function.
	GetFunction(ctx context.Context, fullName string) (catalog.FunctionInfo, error)
	// Principal returns the identity (with groups) of a principal by name;
	// views and policy functions run with their owner's identity.
	Principal(ctx context.Context, name string) (*auth.Identity, error)

	CreateCatalog(ctx context.Context, req catalog.CreateCatalog) (catalog.CatalogInfo, error)
	GetCatalog(ctx context.Context, name string) (catalog.CatalogInfo, error)
	ListCatalogs(ctx context.Context, p catalog.Page) (catalog.ListCatalogsResponse, error)
	UpdateCatalog(ctx context.Context, name string, u catalog.Update) (catalog.CatalogInfo, error)
	DeleteCatalog(ctx context.Context, name string, force bool) error

	CreateSchema(ctx context.Context, req catalog.CreateSchema) (catalog.SchemaInfo, error)
	GetSchema(ctx context.Context, full string) (catalog.SchemaInfo, error)
	ListSchemas(ctx context.Context, catalogName string, p catalog.Page) (catalog.ListSchemasResponse, error)
	UpdateSchema(ctx context.Context, full string, u catalog.Update) (catalog.SchemaInfo, error)
	DeleteSchema(ctx context.Context, full string, force bool) error

	CreateStagingTable(ctx context.Context, req catalog.CreateStagingTable) (catalog.StagingTableInfo, error)
	CreateTable(ctx context.Context, req catalog.CreateTable) (catalog.TableInfo, error)
	ListTables(ctx context.Context, catalogName, schema string, p catalog.Page) (catalog.ListTablesResponse, error)
	UpdateTable(ctx context.Context, full string, u catalog.TableUpdate) (catalog.TableInfo, error)
	DeleteTable(ctx context.Context, full string) error
	// RenameTable renames a table or view within its schema.
	RenameTable(ctx context.Context, full, newName string) (catalog.TableInfo, error)
	SetRowFilter(ctx context.Context, table string, filter *catalog.RowFilter) (catalog.TableInfo, error)
	SetColumnMask(ctx context.Context, table, column string, mask *catalog.ColumnMask) (catalog.TableInfo, error)

	CreateFunction(ctx context.Context, req catalog.CreateFunctionRequest) (catalog.FunctionInfo, error)
	DeleteFunction(ctx context.Context, full string) error
	// ListFunctions lists the functions of a schema the caller may see.
	ListFunctions(ctx context.Context, catalogName, schema string, p catalog.Page) (catalog.ListFunctionsResponse, error)

	// GetPermissions and UpdatePermissions read and change grants.
	GetPermissions(ctx context.Context, t catalog.SecurableType, fullName, principal string) (catalog.PermissionsList, error)
	UpdatePermissions(ctx context.Context, t catalog.SecurableType, fullName string, req catalog.UpdatePermissions) (catalog.PermissionsList, error)
}

// Storage opens buckets for storage URLs (as catalog.Storage). The engine
// needs local paths for DuckDB: buckets on local disk expose Dir().
type Storage interface {
	// Open returns a bucket rooted at u. Errors: errs.Invalid.
	Open(ctx context.Context, u string) (blob.Bucket, error)
}

// LocalDir is implemented by buckets on local disk (localfs).
type LocalDir interface{ Dir() string }

// LineageEvent is one write's lineage: the tables read and the table
// written, with column-level edges where they were derivable.
type LineageEvent struct {
	StatementID string
	Principal   string
	Operation   string   // INSERT, MERGE, CTAS, ...
	Sources     []string // full names of tables read (with @v<version>)
	Target      string   // full name of the table written
	Version     int64    // the committed version of Target
	// Columns maps a target column to the source columns it was computed
	// from ("cat.sch.tbl.col"); empty when not derivable.
	Columns map[string][]string
}

// LineageRecorder receives lineage of committed writes (implemented by
// internal/lineage, wired in internal/app). Errors are logged, not
// returned to the user: the write is already committed.
type LineageRecorder interface {
	RecordLineage(ctx context.Context, ev LineageEvent) error
}

// AuditEvent is one executed (or refused) statement.
type AuditEvent struct {
	StatementID string
	Principal   string
	Statement   string // the statement text
	Kind        string // SELECT, INSERT, CREATE TABLE, GRANT, ...
	Tables      []string
	Status      string // SUCCEEDED, FAILED
	ErrorCode   string
	DurationMS  int64
}

// AuditRecorder receives an event for every statement (implemented by
// internal/audit, wired in internal/app).
type AuditRecorder interface {
	RecordAudit(ctx context.Context, ev AuditEvent) error
}

// ServiceCatalog adapts the catalog service and a principal directory to
// Catalog.
type ServiceCatalog struct {
	*catalog.Service
	Directory catalog.Directory
}

// Principal implements Catalog.
func (c ServiceCatalog) Principal(ctx context.Context, name string) (*auth.Identity, error) {
	return c.Directory.Lookup(ctx, name)
}

var _ Catalog = ServiceCatalog{}
