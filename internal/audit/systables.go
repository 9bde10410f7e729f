package audit

import (
	"github.com/lakebox/lakebox/internal/delta"
)

// SystemRoot is the warehouse key prefix under which system tables live:
// <SystemRoot>/<schema>/<table> (for example __lakebox/system/access/audit).
const SystemRoot = "__lakebox/system"

// Locations (warehouse-relative Delta table roots) of the system.access tables.
const (
	AuditTableRoot         = SystemRoot + "/access/audit"
	TableLineageTableRoot  = SystemRoot + "/access/table_lineage"
	ColumnLineageTableRoot = SystemRoot + "/access/column_lineage"
)

// SystemTable describes one system table for the catalog to register.
type SystemTable struct {
	// FullName is the three-level name, e.g. system.access.audit.
	FullName string
	// Location is the Delta table root as a key in the warehouse bucket
	// (join it with the warehouse URL for a storage_location).
	Location         string
	Schema           *delta.StructType
	PartitionColumns []string
	Comment          string
}

// CreateOptions returns the options that create the table.
func (st SystemTable) CreateOptions() delta.CreateTableOptions {
	return delta.CreateTableOptions{
		Schema: st.Schema, PartitionColumns: st.PartitionColumns, Name: st.FullName, Description: st.Comment,
		Configuration: map[string]string{"delta.appendOnly": "true"},
	}
}

func col(name string, t delta.DataType) *delta.StructField {
	return &delta.StructField{Name: name, Type: t, Nullable: true}
}

func strStruct(names ...string) *delta.StructType {
	st := &delta.StructType{}
	for _, n := range names {
		st.Fields = append(st.Fields, col(n, delta.TypeString))
	}
	return st
}

// AuditSchema is the schema of system.access.audit: the Databricks columns
// plus Lakebox's securable_type, securable_full_name, latency_ms,
// http_method and path, and user_identity.principalId/principalType and
// response.errorCode.
var AuditSchema = &delta.StructType{Fields: []*delta.StructField{
	col("account_id", delta.TypeString),
	col("workspace_id", delta.TypeString),
	col("version", delta.TypeString),
	col("event_time", delta.TypeTimestamp),
	col("event_date", delta.TypeDate),
	col("source_ip_address", delta.TypeString),
	col("user_agent", delta.TypeString),
	col("session_id", delta.TypeString),
	col("user_identity", strStruct("email", "subjectName", "principalId", "principalType")),
	col("service_name", delta.TypeString),
	col("action_name", delta.TypeString),
	col("request_id", delta.TypeString),
	col("request_params", &delta.MapType{KeyType: delta.TypeString, ValueType: delta.TypeString, ValueContainsNull: true}),
	col("response", &delta.StructType{Fields: []*delta.StructField{
		col("statusCode", delta.TypeInteger), col("errorCode", delta.TypeString),
		col("errorMessage", delta.TypeString), col("result", delta.TypeString)}}),
	col("audit_level", delta.TypeString),
	col("event_id", delta.TypeString),
	col("identity_metadata", strStruct("run_by", "run_as", "acting_resource")),
	col("securable_type", delta.TypeString),
	col("securable_full_name", delta.TypeString),
	col("latency_ms", delta.TypeDouble),
	col("http_method", delta.TypeString),
	col("path", delta.TypeString),
}}

// lineageColumns are the columns of system.access.table_lineage.
func lineageColumns(withColumns bool) *delta.StructType {
	st := &delta.StructType{Fields: []*delta.StructField{
		col("account_id", delta.TypeString),
		col("metastore_id", delta.TypeString),
		col("workspace_id", delta.TypeString),
		col("entity_type", delta.TypeString),
		col("entity_id", delta.TypeString),
		col("entity_run_id", delta.TypeString),
		col("entity_metadata", &delta.MapType{KeyType: delta.TypeString, ValueType: delta.TypeString, ValueContainsNull: true}),
		col("source_table_full_name", delta.TypeString),
		col("source_table_catalog", delta.TypeString),
		col("source_table_schema", delta.TypeString),
		col("source_table_name", delta.TypeString),
		col("source_path", delta.TypeString),
		col("source_type", delta.TypeString),
	}}
	if withColumns {
		st.Fields = append(st.Fields, col("source_column_name", delta.TypeString))
	}
	st.Fields = append(st.Fields,
		col("target_table_full_name", delta.TypeString),
		col("target_table_catalog", delta.TypeString),
		col("target_table_schema", delta.TypeString),
		col("target_table_name", delta.TypeString),
		col("target_path", delta.TypeString),
		col("target_type", delta.TypeString),
	)
	if withColumns {
		st.Fields = append(st.Fields, col("target_column_name", delta.TypeString))
	}
	st.Fields = append(st.Fields,
		col("created_by", delta.TypeString),
		col("event_time", delta.TypeTimestamp),
		col("event_date", delta.TypeDate),
		col("record_id", delta.TypeString),
		col("event_id", delta.TypeString),
		col("statement_id", delta.TypeString),
	)
	return st
}

// TableLineageSchema is the schema of system.access.table_lineage
// (entity_metadata is a string map instead of Databricks' struct; source and
// target types also take Lakebox's RUN, MODEL_VERSION, SERVING_ENDPOINT and
// EXTERNAL).
var TableLineageSchema = lineageColumns(false)

// ColumnLineageSchema is the schema of system.access.column_lineage.
var ColumnLineageSchema = lineageColumns(true)

// SystemTables returns the system.access tables this package and the
// lineage package write, for the catalog to register.
func SystemTables() []SystemTable {
	return []SystemTable{
		{FullName: "system.access.audit", Location: AuditTableRoot, Schema: AuditSchema, PartitionColumns: []string{"event_date"},
			Comment: "One row per audited API call (Lakebox audit log)."},
		{FullName: "system.access.table_lineage", Location: TableLineageTableRoot, Schema: TableLineageSchema, PartitionColumns: []string{"event_date"},
			Comment: "One row per lineage edge between tables, paths, runs, model versions and endpoints."},
		{FullName: "system.access.column_lineage", Location: ColumnLineageTableRoot, Schema: ColumnLineageSchema, PartitionColumns: []string{"event_date"},
			Comment: "One row per column-level lineage edge."},
	}
}

// SystemTableByName returns the system table named fullName.
func SystemTableByName(fullName string) (SystemTable, bool) {
	for _, st := range SystemTables() {
		if st.FullName == fullName {
			return st, true
		}
	}
	return SystemTable{}, false
}
