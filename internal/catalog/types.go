package catalog

import (
	"strings"
)

// SecurableType names a kind of securable, spelled as on the wire.
type SecurableType string

// The securable types.
const (
	TypeMetastore        SecurableType = "metastore"
	TypeCatalog          SecurableType = "catalog"
	TypeSchema           SecurableType = "schema"
	TypeTable            SecurableType = "table"
	TypeFunction         SecurableType = "function"
	TypeVolume           SecurableType = "volume"
	TypeRegisteredModel  SecurableType = "registered_model"
	TypeExternalLocation SecurableType = "external_location"
	TypeCredential       SecurableType = "credential"
	// typeStaging is an internal record type for staging tables.
	typeStaging SecurableType = "staging_table"
)

// SecurableTypes lists the securable types the API accepts.
var SecurableTypes = []SecurableType{TypeMetastore, TypeCatalog, TypeSchema, TypeTable, TypeFunction, TypeVolume, TypeRegisteredModel, TypeExternalLocation, TypeCredential}

// ParseSecurableType accepts a securable type in any case, with "-" or "_",
// and the plural and Databricks aliases (tables, storage_credential, model).
// Errors: errs.Invalid naming the accepted values.
func ParseSecurableType(s string) (SecurableType, error) {
	v := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
	switch v {
	case "catalogs":
		v = "catalog"
	case "schemas":
		v = "schema"
	case "tables":
		v = "table"
	case "functions":
		v = "function"
	case "volumes":
		v = "volume"
	case "registered_models", "model", "models":
		v = "registered_model"
	case "external_locations":
		v = "external_location"
	case "storage_credential", "storage_credentials", "credentials":
		v = "credential"
	}
	for _, t := range SecurableTypes {
		if string(t) == v {
			return t, nil
		}
	}
	return "", invalid("unknown securable type %q; accepted: metastore, catalog, schema, table, function, volume, registered_model, external_location, credential", s)
}

// Privilege is a grantable privilege, spelled with spaces as on the wire.
type Privilege string

// The privileges.
const (
	PrivCreateCatalog           Privilege = "CREATE CATALOG"
	PrivUseCatalog              Privilege = "USE CATALOG"
	PrivCreateSchema            Privilege = "CREATE SCHEMA"
	PrivUseSchema               Privilege = "USE SCHEMA"
	PrivCreateTable             Privilege = "CREATE TABLE"
	PrivSelect                  Privilege = "SELECT"
	PrivModify                  Privilege = "MODIFY"
	PrivCreateFunction          Privilege = "CREATE FUNCTION"
	PrivExecute                 Privilege = "EXECUTE"
	PrivCreateVolume            Privilege = "CREATE VOLUME"
	PrivReadVolume              Privilege = "READ VOLUME"
	PrivWriteVolume             Privilege = "WRITE VOLUME"
	PrivCreateModel             Privilege = "CREATE MODEL"
	PrivCreateModelVersion      Privilege = "CREATE MODEL VERSION"
	PrivCreateExternalLocation  Privilege = "CREATE EXTERNAL LOCATION"
	PrivReadFiles               Privilege = "READ FILES"
	PrivWriteFiles              Privilege = "WRITE FILES"
	PrivCreateExternalTable     Privilege = "CREATE EXTERNAL TABLE"
	PrivCreateExternalVolume    Privilege = "CREATE EXTERNAL VOLUME"
	PrivCreateManagedStorage    Privilege = "CREATE MANAGED STORAGE"
	PrivCreateStorageCredential Privilege = "CREATE STORAGE CREDENTIAL"
	PrivApplyTag                Privilege = "APPLY TAG"
	PrivBrowse                  Privilege = "BROWSE"
	PrivManage                  Privilege = "MANAGE"
	PrivAllPrivileges           Privilege = "ALL PRIVILEGES"
)

// objectPrivileges are the privileges that apply to objects inside a schema,
// by type; a catalog or schema may hold any of them (inherited downwards).
var objectPrivileges = map[SecurableType][]Privilege{
	TypeTable:           {PrivSelect, PrivModify, PrivApplyTag, PrivBrowse, PrivManage, PrivAllPrivileges},
	TypeVolume:          {PrivReadVolume, PrivWriteVolume, PrivApplyTag, PrivBrowse, PrivManage, PrivAllPrivileges},
	TypeFunction:        {PrivExecute, PrivApplyTag, PrivBrowse, PrivManage, PrivAllPrivileges},
	TypeRegisteredModel: {PrivExecute, PrivCreateModelVersion, PrivApplyTag, PrivBrowse, PrivManage, PrivAllPrivileges},
}

// applicable lists the privileges that may be granted on each type.
var applicable = map[SecurableType][]Privilege{
	TypeMetastore: {PrivCreateCatalog, PrivCreateExternalLocation, PrivCreateStorageCredential},
	TypeCatalog: {PrivUseCatalog, PrivCreateSchema, PrivUseSchema, PrivCreateTable, PrivCreateVolume, PrivCreateFunction, PrivCreateModel, PrivCreateModelVersion,
		PrivSelect, PrivModify, PrivReadVolume, PrivWriteVolume, PrivExecute, PrivApplyTag, PrivBrowse, PrivManage, PrivAllPrivileges},
	TypeSchema: {PrivUseSchema, PrivCreateTable, PrivCreateVolume, PrivCreateFunction, PrivCreateModel, PrivCreateModelVersion,
		PrivSelect, PrivModify, PrivReadVolume, PrivWriteVolume, PrivExecute, PrivApplyTag, PrivBrowse, PrivManage, PrivAllPrivileges},
	TypeTable:           objectPrivileges[TypeTable],
	TypeVolume:          objectPrivileges[TypeVolume],
	TypeFunction:        objectPrivileges[TypeFunction],
	TypeRegisteredModel: objectPrivileges[TypeRegisteredModel],
	TypeExternalLocation: {PrivCreateExternalTable, PrivCreateExternalVolume, PrivReadFiles, PrivWriteFiles, PrivCreateManagedStorage,
		PrivBrowse, PrivManage, PrivAllPrivileges},
	TypeCredential: {PrivCreateExternalLocation, PrivCreateExternalTable, PrivReadFiles, PrivWriteFiles, PrivManage, PrivAllPrivileges},
}

// ParsePrivilege accepts a privilege in any case with spaces or underscores
// ("select", "USE_CATALOG"). Errors: errs.Invalid.
func ParsePrivilege(s string) (Privilege, error) {
	v := Privilege(strings.Join(strings.Fields(strings.ToUpper(strings.ReplaceAll(s, "_", " "))), " "))
	if v == "ALL" {
		v = PrivAllPrivileges
	}
	for _, ps := range applicable {
		for _, p := range ps {
			if p == v {
				return v, nil
			}
		}
	}
	return "", invalid("unknown privilege %q; accepted privileges include USE CATALOG, USE SCHEMA, SELECT, MODIFY, CREATE SCHEMA, CREATE TABLE, CREATE VOLUME, CREATE FUNCTION, CREATE MODEL, READ VOLUME, WRITE VOLUME, EXECUTE, APPLY TAG, BROWSE, MANAGE, ALL PRIVILEGES, CREATE CATALOG, CREATE EXTERNAL LOCATION", s)
}

// Applicable reports whether p may be granted on a securable of type t.
func Applicable(t SecurableType, p Privilege) bool {
	for _, q := range applicable[t] {
		if q == p {
			return true
		}
	}
	return false
}

// PropertiesMap is a securable's key/value properties.
type PropertiesMap map[string]string

// CatalogInfo is a catalog.
type CatalogInfo struct {
	Name            string        `json:"name"`
	Comment         string        `json:"comment,omitempty"`
	Properties      PropertiesMap `json:"properties,omitempty"`
	Owner           string        `json:"owner,omitempty"`
	CreatedAt       int64         `json:"created_at,omitempty"`
	CreatedBy       string        `json:"created_by,omitempty"`
	UpdatedAt       int64         `json:"updated_at,omitempty"`
	UpdatedBy       string        `json:"updated_by,omitempty"`
	ID              string        `json:"id,omitempty"`
	StorageRoot     string        `json:"storage_root,omitempty"`
	StorageLocation string        `json:"storage_location,omitempty"`
}

// CreateCatalog is the request to create a catalog.
type CreateCatalog struct {
	Name        string        `json:"name"`
	Comment     string        `json:"comment,omitempty"`
	Properties  PropertiesMap `json:"properties,omitempty"`
	StorageRoot string        `json:"storage_root,omitempty"`
}

// Validate checks the request.
func (r *CreateCatalog) Validate() error { return ValidateName("catalog", r.Name) }

// Update changes a securable's mutable fields; nil/empty fields are kept.
type Update struct {
	Comment    *string       `json:"comment,omitempty"`
	Properties PropertiesMap `json:"properties,omitempty"`
	NewName    string        `json:"new_name,omitempty"`
	Owner      string        `json:"owner,omitempty"`
}

// Validate checks the request.
func (u *Update) Validate() error {
	if u.NewName != "" {
		return ValidateName("new", u.NewName)
	}
	return nil
}

// SchemaInfo is a schema.
type SchemaInfo struct {
	Name            string        `json:"name"`
	CatalogName     string        `json:"catalog_name"`
	Comment         string        `json:"comment,omitempty"`
	Properties      PropertiesMap `json:"properties,omitempty"`
	FullName        string        `json:"full_name"`
	Owner           string        `json:"owner,omitempty"`
	CreatedAt       int64         `json:"created_at,omitempty"`
	CreatedBy       string        `json:"created_by,omitempty"`
	UpdatedAt       int64         `json:"updated_at,omitempty"`
	UpdatedBy       string        `json:"updated_by,omitempty"`
	SchemaID        string        `json:"schema_id,omitempty"`
	StorageRoot     string        `json:"storage_root,omitempty"`
	StorageLocation string        `json:"storage_location,omitempty"`
}

// CreateSchema is the request to create a schema.
type CreateSchema struct {
	Name        string        `json:"name"`
	CatalogName string        `json:"catalog_name"`
	Comment     string        `json:"comment,omitempty"`
	Properties  PropertiesMap `json:"properties,omitempty"`
	StorageRoot string        `json:"storage_root,omitempty"`
}

// Validate checks the request.
func (r *CreateSchema) Validate() error {
	if err := ValidateName("catalog", r.CatalogName); err != nil {
		return err
	}
	return ValidateName("schema", r.Name)
}

// Table types and data source formats.
const (
	TableManaged  = "MANAGED"
	TableExternal = "EXTERNAL"
	TableView     = "VIEW"
	FormatDelta   = "DELTA"
)

var tableTypes = []string{TableManaged, TableExternal, "STREAMING_TABLE", "MATERIALIZED_VIEW", "METRIC_VIEW", TableView}
var formats = []string{FormatDelta, "CSV", "JSON", "AVRO", "PARQUET", "ORC", "TEXT"}

// ColumnInfo is a table column.
type ColumnInfo struct {
	Name             string      `json:"name"`
	TypeText         string      `json:"type_text,omitempty"`
	TypeJSON         string      `json:"type_json,omitempty"`
	TypeName         string      `json:"type_name,omitempty"`
	TypePrecision    int         `json:"type_precision,omitempty"`
	TypeScale        int         `json:"type_scale,omitempty"`
	TypeIntervalType string      `json:"type_interval_type,omitempty"`
	Position         int         `json:"position"`
	Comment          string      `json:"comment,omitempty"`
	Nullable         *bool       `json:"nullable,omitempty"`
	PartitionIndex   *int        `json:"partition_index,omitempty"`
	Mask             *ColumnMask `json:"mask,omitempty"`
}

// ColumnMask names the function that masks a column; the SQL engine calls
// it with the column and UsingColumnNames.
type ColumnMask struct {
	FunctionName     string   `json:"function_name"`
	UsingColumnNames []string `json:"using_column_names"`
}

// RowFilter names the boolean function that filters a table's rows; the SQL
// engine calls it with InputColumnNames.
type RowFilter struct {
	FunctionName     string   `json:"function_name"`
	InputColumnNames []string `json:"input_column_names"`
}

// DependencyList lists what a view or function depends on.
type DependencyList struct {
	Dependencies []Dependency `json:"dependencies,omitempty"`
}

// Dependency is a table or function dependency.
type Dependency struct {
	Table *struct {
		TableFullName string `json:"table_full_name"`
	} `json:"table,omitempty"`
	Function *struct {
		FunctionFullName string `json:"function_full_name"`
	} `json:"function,omitempty"`
}

// TableInfo is a table. RowFilter and FullName (and DeletedAt for dropped
// tables) are Databricks fields beyond the OSS spec.
type TableInfo struct {
	Name             string          `json:"name"`
	CatalogName      string          `json:"catalog_name"`
	SchemaName       string          `json:"schema_name"`
	TableType        string          `json:"table_type"`
	DataSourceFormat string          `json:"data_source_format,omitempty"`
	Columns          []ColumnInfo    `json:"columns"`
	StorageLocation  string          `json:"storage_location,omitempty"`
	Comment          string          `json:"comment,omitempty"`
	Properties       PropertiesMap   `json:"properties,omitempty"`
	Owner            string          `json:"owner,omitempty"`
	CreatedAt        int64           `json:"created_at,omitempty"`
	CreatedBy        string          `json:"created_by,omitempty"`
	UpdatedAt        int64           `json:"updated_at,omitempty"`
	UpdatedBy        string          `json:"updated_by,omitempty"`
	TableID          string          `json:"table_id,omitempty"`
	ViewDefinition   string          `json:"view_definition,omitempty"`
	ViewDependencies *DependencyList `json:"view_dependencies,omitempty"`
	FullName         string          `json:"full_name,omitempty"`
	RowFilter        *RowFilter      `json:"row_filter,omitempty"`
	DeletedAt        int64           `json:"deleted_at,omitempty"`
}

// CreateTable is the request to create a table.
type CreateTable struct {
	Name             string          `json:"name"`
	CatalogName      string          `json:"catalog_name"`
	SchemaName       string          `json:"schema_name"`
	TableType        string          `json:"table_type"`
	DataSourceFormat string          `json:"data_source_format,omitempty"`
	Columns          []ColumnInfo    `json:"columns"`
	StorageLocation  string          `json:"storage_location,omitempty"`
	Comment          string          `json:"comment,omitempty"`
	Properties       PropertiesMap   `json:"properties,omitempty"`
	ViewDefinition   string          `json:"view_definition,omitempty"`
	ViewDependencies *DependencyList `json:"view_dependencies,omitempty"`
}

// Validate checks the request.
func (r *CreateTable) Validate() error {
	if err := validateParent(r.CatalogName, r.SchemaName); err != nil {
		return err
	}
	if err := ValidateName("table", r.Name); err != nil {
		return err
	}
	r.TableType = strings.ToUpper(r.TableType)
	if !oneOf(r.TableType, tableTypes) {
		return invalid("invalid table_type %q; accepted: %s", r.TableType, strings.Join(tableTypes, ", "))
	}
	if r.TableType != TableManaged && r.TableType != TableExternal && r.TableType != TableView {
		return unimplemented("table_type %s is not supported; create MANAGED, EXTERNAL or VIEW tables", r.TableType)
	}
	if r.DataSourceFormat == "" && r.TableType != TableView {
		r.DataSourceFormat = FormatDelta
	}
	r.DataSourceFormat = strings.ToUpper(r.DataSourceFormat)
	if r.DataSourceFormat != "" && !oneOf(r.DataSourceFormat, formats) {
		return invalid("invalid data_source_format %q; accepted: %s", r.DataSourceFormat, strings.Join(formats, ", "))
	}
	if r.TableType == TableExternal && r.StorageLocation == "" {
		return invalid("an EXTERNAL table needs a storage_location under a registered external location")
	}
	if r.TableType == TableView && r.ViewDefinition == "" {
		return invalid("a VIEW needs a view_definition")
	}
	return validateColumns(r.Columns)
}

// TableUpdate is the Lakebox extension PATCH /tables/{full_name}: comment,
// owner, properties, row filter and per-column comment and mask.
type TableUpdate struct {
	Comment       *string        `json:"comment,omitempty"`
	Owner         string         `json:"owner,omitempty"`
	Properties    PropertiesMap  `json:"properties,omitempty"`
	RowFilter     *RowFilter     `json:"row_filter,omitempty"`
	DropRowFilter bool           `json:"drop_row_filter,omitempty"`
	Columns       []ColumnUpdate `json:"columns,omitempty"`
	// Schema replaces the column list by that of the table's new Delta
	// schema. It is the SQL engine's path (ALTER TABLE), applied before
	// Columns; it is not part of the HTTP API and never decoded from JSON.
	Schema *SchemaChange `json:"-"`
}

// SchemaChange makes a table's columns follow its Delta schema after ALTER
// TABLE … ADD COLUMNS or RENAME COLUMN.
type SchemaChange struct {
	// Columns are the columns of the new schema, in order, with their type
	// fields; Mask must be nil. A column keeps the comment and mask of the
	// old column of its name, or of the name it was renamed from; a
	// non-empty Comment replaces the comment.
	Columns []ColumnInfo
	// Renamed maps old column names to new ones (case-insensitive). Mask
	// USING columns and row-filter input columns are renamed too.
	Renamed map[string]string
}

// ColumnUpdate changes one column's comment or mask.
type ColumnUpdate struct {
	Name     string      `json:"name"`
	Comment  *string     `json:"comment,omitempty"`
	Mask     *ColumnMask `json:"mask,omitempty"`
	DropMask bool        `json:"drop_mask,omitempty"`
}

// ListTablesResponse and the other list responses carry a page of results;
// NextPageToken is empty on the last page.
type ListTablesResponse struct {
	Tables        []TableInfo `json:"tables"`
	NextPageToken string      `json:"next_page_token,omitempty"`
}

// ListCatalogsResponse is a page of catalogs.
type ListCatalogsResponse struct {
	Catalogs      []CatalogInfo `json:"catalogs"`
	NextPageToken string        `json:"next_page_token,omitempty"`
}

// ListSchemasResponse is a page of schemas.
type ListSchemasResponse struct {
	Schemas       []SchemaInfo `json:"schemas"`
	NextPageToken string       `json:"next_page_token,omitempty"`
}

// StagingTableInfo is an allocated staging table.
type StagingTableInfo struct {
	Name            string `json:"name"`
	CatalogName     string `json:"catalog_name"`
	SchemaName      string `json:"schema_name"`
	ID              string `json:"id"`
	StagingLocation string `json:"staging_location"`
}

// CreateStagingTable is the request to allocate a staging table.
type CreateStagingTable struct {
	Name        string `json:"name"`
	CatalogName string `json:"catalog_name"`
	SchemaName  string `json:"schema_name"`
}

// Validate checks the request.
func (r *CreateStagingTable) Validate() error {
	if err := validateParent(r.CatalogName, r.SchemaName); err != nil {
		return err
	}
	return ValidateName("table", r.Name)
}

// Volume types.
const (
	VolumeManaged  = "MANAGED"
	VolumeExternal = "EXTERNAL"
)

// VolumeInfo is a volume.
type VolumeInfo struct {
	CatalogName     string `json:"catalog_name"`
	SchemaName      string `json:"schema_name"`
	Name            string `json:"name"`
	Comment         string `json:"comment,omitempty"`
	Owner           string `json:"owner,omitempty"`
	CreatedAt       int64  `json:"created_at,omitempty"`
	CreatedBy       string `json:"created_by,omitempty"`
	UpdatedAt       int64  `json:"updated_at,omitempty"`
	UpdatedBy       string `json:"updated_by,omitempty"`
	VolumeID        string `json:"volume_id,omitempty"`
	VolumeType      string `json:"volume_type"`
	StorageLocation string `json:"storage_location,omitempty"`
	FullName        string `json:"full_name"`
	DeletedAt       int64  `json:"deleted_at,omitempty"`
}

// CreateVolume is the request to create a volume.
type CreateVolume struct {
	CatalogName     string `json:"catalog_name"`
	SchemaName      string `json:"schema_name"`
	Name            string `json:"name"`
	VolumeType      string `json:"volume_type"`
	Comment         string `json:"comment,omitempty"`
	StorageLocation string `json:"storage_location,omitempty"`
}

// Validate checks the request.
func (r *CreateVolume) Validate() error {
	if err := validateParent(r.CatalogName, r.SchemaName); err != nil {
		return err
	}
	if err := ValidateName("volume", r.Name); err != nil {
		return err
	}
	r.VolumeType = strings.ToUpper(r.VolumeType)
	switch r.VolumeType {
	case VolumeManaged:
		if r.StorageLocation != "" {
			return invalid("a MANAGED volume gets its storage from its schema; omit storage_location")
		}
	case VolumeExternal:
		if r.StorageLocation == "" {
			return invalid("an EXTERNAL volume needs a storage_location under a registered external location")
		}
	default:
		return invalid("invalid volume_type %q; accepted: MANAGED, EXTERNAL", r.VolumeType)
	}
	return nil
}

// ListVolumesResponse is a page of volumes.
type ListVolumesResponse struct {
	Volumes       []VolumeInfo `json:"volumes"`
	NextPageToken string       `json:"next_page_token,omitempty"`
}

// FunctionParameterInfo is one function parameter.
type FunctionParameterInfo struct {
	Name             string `json:"name"`
	TypeText         string `json:"type_text"`
	TypeJSON         string `json:"type_json"`
	TypeName         string `json:"type_name"`
	TypePrecision    int    `json:"type_precision,omitempty"`
	TypeScale        int    `json:"type_scale,omitempty"`
	TypeIntervalType string `json:"type_interval_type,omitempty"`
	Position         int    `json:"position"`
	ParameterMode    string `json:"parameter_mode,omitempty"`
	ParameterType    string `json:"parameter_type,omitempty"`
	ParameterDefault string `json:"parameter_default,omitempty"`
	Comment          string `json:"comment,omitempty"`
}

// FunctionParameterInfos wraps a parameter list.
type FunctionParameterInfos struct {
	Parameters []FunctionParameterInfo `json:"parameters,omitempty"`
}

// FunctionInfo is a function.
type FunctionInfo struct {
	Name                string                  `json:"name"`
	CatalogName         string                  `json:"catalog_name"`
	SchemaName          string                  `json:"schema_name"`
	InputParams         *FunctionParameterInfos `json:"input_params,omitempty"`
	DataType            string                  `json:"data_type,omitempty"`
	FullDataType        string                  `json:"full_data_type,omitempty"`
	ReturnParams        *FunctionParameterInfos `json:"return_params,omitempty"`
	RoutineBody         string                  `json:"routine_body,omitempty"`
	RoutineDefinition   string                  `json:"routine_definition,omitempty"`
	RoutineDependencies *DependencyList         `json:"routine_dependencies,omitempty"`
	ParameterStyle      string                  `json:"parameter_style,omitempty"`
	IsDeterministic     bool                    `json:"is_deterministic"`
	SQLDataAccess       string                  `json:"sql_data_access,omitempty"`
	IsNullCall          bool                    `json:"is_null_call"`
	SecurityType        string                  `json:"security_type,omitempty"`
	SpecificName        string                  `json:"specific_name,omitempty"`
	Comment             string                  `json:"comment,omitempty"`
	Properties          string                  `json:"properties,omitempty"`
	FullName            string                  `json:"full_name,omitempty"`
	Owner               string                  `json:"owner,omitempty"`
	CreatedAt           int64                   `json:"created_at,omitempty"`
	CreatedBy           string                  `json:"created_by,omitempty"`
	UpdatedAt           int64                   `json:"updated_at,omitempty"`
	UpdatedBy           string                  `json:"updated_by,omitempty"`
	FunctionID          string                  `json:"function_id,omitempty"`
	ExternalLanguage    string                  `json:"external_language,omitempty"`
}

// CreateFunctionRequest is the request to create a function.
type CreateFunctionRequest struct {
	FunctionInfo *FunctionInfo `json:"function_info"`
}

// Validate checks the request.
func (r *CreateFunctionRequest) Validate() error {
	f := r.FunctionInfo
	if f == nil {
		return invalid("function_info is required")
	}
	if err := validateParent(f.CatalogName, f.SchemaName); err != nil {
		return err
	}
	if err := ValidateName("function", f.Name); err != nil {
		return err
	}
	if f.DataType != "" && !oneOf(strings.ToUpper(f.DataType), columnTypeNames) {
		return invalid("invalid data_type %q; accepted: %s", f.DataType, strings.Join(columnTypeNames, ", "))
	}
	f.DataType = strings.ToUpper(f.DataType)
	if f.RoutineBody == "" {
		f.RoutineBody = "SQL"
	}
	if !oneOf(f.RoutineBody, []string{"SQL", "EXTERNAL"}) {
		return invalid("invalid routine_body %q; accepted: SQL, EXTERNAL", f.RoutineBody)
	}
	if f.ParameterStyle == "" {
		f.ParameterStyle = "S"
	}
	if f.SQLDataAccess == "" {
		f.SQLDataAccess = "CONTAINS_SQL"
	}
	if !oneOf(f.SQLDataAccess, []string{"CONTAINS_SQL", "READS_SQL_DATA", "NO_SQL"}) {
		return invalid("invalid sql_data_access %q; accepted: CONTAINS_SQL, READS_SQL_DATA, NO_SQL", f.SQLDataAccess)
	}
	if f.SecurityType == "" {
		f.SecurityType = "DEFINER"
	}
	if f.InputParams != nil {
		for i, p := range f.InputParams.Parameters {
			if p.Name == "" || !oneOf(strings.ToUpper(p.TypeName), columnTypeNames) {
				return invalid("input parameter %d needs a name and a type_name from: %s", i, strings.Join(columnTypeNames, ", "))
			}
		}
	}
	return nil
}

// ListFunctionsResponse is a page of functions.
type ListFunctionsResponse struct {
	Functions     []FunctionInfo `json:"functions"`
	NextPageToken string         `json:"next_page_token,omitempty"`
}

// RegisteredModelInfo is a registered model.
type RegisteredModelInfo struct {
	Name            string `json:"name"`
	CatalogName     string `json:"catalog_name"`
	SchemaName      string `json:"schema_name"`
	StorageLocation string `json:"storage_location,omitempty"`
	FullName        string `json:"full_name"`
	Comment         string `json:"comment,omitempty"`
	Owner           string `json:"owner,omitempty"`
	CreatedAt       int64  `json:"created_at,omitempty"`
	CreatedBy       string `json:"created_by,omitempty"`
	UpdatedAt       int64  `json:"updated_at,omitempty"`
	UpdatedBy       string `json:"updated_by,omitempty"`
	ID              string `json:"id,omitempty"`
}

// CreateRegisteredModel is the request to create a registered model.
type CreateRegisteredModel struct {
	Name        string `json:"name"`
	CatalogName string `json:"catalog_name"`
	SchemaName  string `json:"schema_name"`
	Comment     string `json:"comment,omitempty"`
}

// Validate checks the request.
func (r *CreateRegisteredModel) Validate() error {
	if err := validateParent(r.CatalogName, r.SchemaName); err != nil {
		return err
	}
	return ValidateName("model", r.Name)
}

// ListRegisteredModelsResponse is a page of models.
type ListRegisteredModelsResponse struct {
	RegisteredModels []RegisteredModelInfo `json:"registered_models"`
	NextPageToken    string                `json:"next_page_token,omitempty"`
}

// Model version statuses.
const (
	VersionPending = "PENDING_REGISTRATION"
	VersionFailed  = "FAILED_REGISTRATION"
	VersionReady   = "READY"
)

// ModelVersionInfo is a model version.
type ModelVersionInfo struct {
	ModelName       string `json:"model_name"`
	CatalogName     string `json:"catalog_name"`
	SchemaName      string `json:"schema_name"`
	Version         int64  `json:"version"`
	Source          string `json:"source,omitempty"`
	RunID           string `json:"run_id,omitempty"`
	Status          string `json:"status"`
	StorageLocation string `json:"storage_location,omitempty"`
	Comment         string `json:"comment,omitempty"`
	CreatedAt       int64  `json:"created_at,omitempty"`
	CreatedBy       string `json:"created_by,omitempty"`
	UpdatedAt       int64  `json:"updated_at,omitempty"`
	UpdatedBy       string `json:"updated_by,omitempty"`
	ID              string `json:"id,omitempty"`
}

// CreateModelVersion is the request to create a model version.
type CreateModelVersion struct {
	ModelName   string `json:"model_name"`
	CatalogName string `json:"catalog_name"`
	SchemaName  string `json:"schema_name"`
	Source      string `json:"source"`
	RunID       string `json:"run_id,omitempty"`
	Comment     string `json:"comment,omitempty"`
}

// Validate checks the request.
func (r *CreateModelVersion) Validate() error {
	if err := validateParent(r.CatalogName, r.SchemaName); err != nil {
		return err
	}
	if err := ValidateName("model", r.ModelName); err != nil {
		return err
	}
	if strings.TrimSpace(r.Source) == "" {
		return invalid("source is required (the URI the model artifacts were logged to)")
	}
	return nil
}

// ListModelVersionsResponse is a page of model versions.
type ListModelVersionsResponse struct {
	ModelVersions []ModelVersionInfo `json:"model_versions"`
	NextPageToken string             `json:"next_page_token,omitempty"`
}

// AwsIamRole is a credential's IAM role.
type AwsIamRole struct {
	RoleArn            string `json:"role_arn"`
	UnityCatalogIamArn string `json:"unity_catalog_iam_arn,omitempty"`
	ExternalID         string `json:"external_id,omitempty"`
}

// CredentialInfo is a storage credential.
type CredentialInfo struct {
	Name       string      `json:"name"`
	AwsIamRole *AwsIamRole `json:"aws_iam_role,omitempty"`
	Comment    string      `json:"comment,omitempty"`
	Owner      string      `json:"owner,omitempty"`
	FullName   string      `json:"full_name,omitempty"`
	ID         string      `json:"id,omitempty"`
	CreatedAt  int64       `json:"created_at,omitempty"`
	CreatedBy  string      `json:"created_by,omitempty"`
	UpdatedAt  int64       `json:"updated_at,omitempty"`
	UpdatedBy  string      `json:"updated_by,omitempty"`
	Purpose    string      `json:"purpose,omitempty"`
}

// CreateCredential is the request to create a storage credential.
type CreateCredential struct {
	Name       string      `json:"name"`
	Comment    string      `json:"comment,omitempty"`
	AwsIamRole *AwsIamRole `json:"aws_iam_role,omitempty"`
	Purpose    string      `json:"purpose,omitempty"`
}

// Validate checks the request.
func (r *CreateCredential) Validate() error {
	if err := ValidateName("credential", r.Name); err != nil {
		return err
	}
	if r.Purpose == "" {
		r.Purpose = "STORAGE"
	}
	if r.Purpose != "STORAGE" {
		return invalid("invalid purpose %q; accepted: STORAGE", r.Purpose)
	}
	if r.AwsIamRole != nil && r.AwsIamRole.RoleArn == "" {
		return invalid("aws_iam_role.role_arn is required when aws_iam_role is given")
	}
	return nil
}

// CredentialUpdate changes a credential.
type CredentialUpdate struct {
	Comment    *string     `json:"comment,omitempty"`
	Owner      string      `json:"owner,omitempty"`
	AwsIamRole *AwsIamRole `json:"aws_iam_role,omitempty"`
	NewName    string      `json:"new_name,omitempty"`
}

// ListCredentialsResponse is a page of credentials.
type ListCredentialsResponse struct {
	Credentials   []CredentialInfo `json:"credentials"`
	NextPageToken string           `json:"next_page_token,omitempty"`
}

// ExternalLocationInfo is an external location.
type ExternalLocationInfo struct {
	Name           string `json:"name"`
	ID             string `json:"id,omitempty"`
	URL            string `json:"url"`
	CredentialName string `json:"credential_name"`
	Comment        string `json:"comment,omitempty"`
	Owner          string `json:"owner,omitempty"`
	CredentialID   string `json:"credential_id,omitempty"`
	CreatedAt      int64  `json:"created_at,omitempty"`
	CreatedBy      string `json:"created_by,omitempty"`
	UpdatedAt      int64  `json:"updated_at,omitempty"`
	UpdatedBy      string `json:"updated_by,omitempty"`
}

// CreateExternalLocation is the request to register an external location.
type CreateExternalLocation struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	CredentialName string `json:"credential_name"`
	Comment        string `json:"comment,omitempty"`
}

// Validate checks the request.
func (r *CreateExternalLocation) Validate() error {
	if err := ValidateName("external location", r.Name); err != nil {
		return err
	}
	if r.CredentialName == "" {
		return invalid("credential_name is required")
	}
	u, err := normalizeURL(r.URL)
	if err != nil {
		return err
	}
	r.URL = u
	return nil
}

// ExternalLocationUpdate changes an external location.
type ExternalLocationUpdate struct {
	URL            string  `json:"url,omitempty"`
	CredentialName string  `json:"credential_name,omitempty"`
	Comment        *string `json:"comment,omitempty"`
	Owner          string  `json:"owner,omitempty"`
	NewName        string  `json:"new_name,omitempty"`
}

// ListExternalLocationsResponse is a page of external locations.
type ListExternalLocationsResponse struct {
	ExternalLocations []ExternalLocationInfo `json:"external_locations"`
	NextPageToken     string                 `json:"next_page_token,omitempty"`
}

// AwsCredentials are vended S3 credentials.
type AwsCredentials struct {
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`
}

// TemporaryCredentials are vended storage credentials for a location. For
// file:// storage only URL and ExpirationTime are set.
type TemporaryCredentials struct {
	AwsTempCredentials *AwsCredentials `json:"aws_temp_credentials,omitempty"`
	ExpirationTime     int64           `json:"expiration_time"`
	URL                string          `json:"url"`
}

// Operations of temporary credential requests.
const (
	OpRead                  = "READ"
	OpReadWrite             = "READ_WRITE"
	OpReadVolume            = "READ_VOLUME"
	OpWriteVolume           = "WRITE_VOLUME"
	OpReadModelVersion      = "READ_MODEL_VERSION"
	OpReadWriteModelVersion = "READ_WRITE_MODEL_VERSION"
	OpPathRead              = "PATH_READ"
	OpPathReadWrite         = "PATH_READ_WRITE"
	OpPathCreateTable       = "PATH_CREATE_TABLE"
)

// PrivilegeAssignment lists a principal's privileges on a securable.
type PrivilegeAssignment struct {
	Principal  string      `json:"principal"`
	Privileges []Privilege `json:"privileges"`
}

// PermissionsList is the answer of the permissions API.
type PermissionsList struct {
	PrivilegeAssignments []PrivilegeAssignment `json:"privilege_assignments"`
}

// PermissionsChange adds and removes a principal's privileges.
type PermissionsChange struct {
	Principal string      `json:"principal"`
	Add       []Privilege `json:"add"`
	Remove    []Privilege `json:"remove"`
}

// UpdatePermissions is the PATCH body of the permissions API.
type UpdatePermissions struct {
	Changes []PermissionsChange `json:"changes"`
}

// EffectivePrivilege is one privilege a principal holds on a securable,
// with where it was granted when inherited.
type EffectivePrivilege struct {
	Privilege         Privilege     `json:"privilege"`
	InheritedFromType SecurableType `json:"inherited_from_type,omitempty"`
	InheritedFromName string        `json:"inherited_from_name,omitempty"`
}

// EffectivePrivilegeAssignment lists a principal's effective privileges.
type EffectivePrivilegeAssignment struct {
	Principal  string               `json:"principal"`
	Privileges []EffectivePrivilege `json:"privileges"`
}

// EffectivePermissionsList is the answer of the effective-permissions API.
type EffectivePermissionsList struct {
	PrivilegeAssignments []EffectivePrivilegeAssignment `json:"privilege_assignments"`
}

// TagAssignment is one tag on a securable or a column. EntityType is the
// Databricks plural spelling (catalogs, schemas, tables, columns, volumes,
// functions, registered_models); for columns EntityName is
// catalog.schema.table.column.
type TagAssignment struct {
	EntityType string  `json:"entity_type"`
	EntityName string  `json:"entity_name"`
	TagKey     string  `json:"tag_key"`
	TagValue   *string `json:"tag_value,omitempty"`
}

// Validate checks the assignment.
func (t *TagAssignment) Validate() error {
	if t.TagKey == "" || len(t.TagKey) > 255 || strings.ContainsAny(t.TagKey, ".,-=/:") || hasControl(t.TagKey) {
		return invalid("invalid tag key %q: use 1-255 characters without . , - = / : or control characters", t.TagKey)
	}
	if t.TagValue != nil && (len(*t.TagValue) > 1000 || hasControl(*t.TagValue)) {
		return invalid("tag value for %q is longer than 1000 characters or has control characters", t.TagKey)
	}
	return nil
}

// ListTagAssignmentsResponse lists tags.
type ListTagAssignmentsResponse struct {
	TagAssignments []TagAssignment `json:"tag_assignments"`
	NextPageToken  string          `json:"next_page_token,omitempty"`
}

// SearchResult is one securable found by Search.
type SearchResult struct {
	SecurableType SecurableType     `json:"securable_type"`
	FullName      string            `json:"full_name"`
	Comment       string            `json:"comment,omitempty"`
	Owner         string            `json:"owner,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
}

// SearchResponse is a page of search results.
type SearchResponse struct {
	Results       []SearchResult `json:"results"`
	NextPageToken string         `json:"next_page_token,omitempty"`
}

// MetastoreSummary identifies the metastore.
type MetastoreSummary struct {
	MetastoreID string `json:"metastore_id"`
	Name        string `json:"name,omitempty"`
	StorageRoot string `json:"storage_root,omitempty"`
	Owner       string `json:"owner,omitempty"`
}

// Page selects a page of a list: MaxResults 0 = the server default.
type Page struct {
	MaxResults int
	Token      string
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if v == s {
			return true
		}
	}
	return false
}
