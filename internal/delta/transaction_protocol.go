package delta

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// Table features as named by the protocol. readerWriterFeatures are listed
// in both readerFeatures and writerFeatures.
var readerWriterFeatures = map[string]bool{
	"columnMapping": true, "deletionVectors": true, "timestampNtz": true, "typeWidening": true,
	"typeWidening-preview": true, "v2Checkpoint": true, "vacuumProtocolCheck": true, "variantType": true,
	"variantType-preview": true,
}

// supportedWriterFeatures are the writer features this package honours.
// Some are honoured only while unused by the table (checked in
// checkWritable).
var supportedWriterFeatures = map[string]bool{
	"appendOnly": true, "invariants": true, "checkConstraints": true, "changeDataFeed": true,
	"generatedColumns": true, "columnMapping": true, "identityColumns": true, "deletionVectors": true,
	"timestampNtz": true, "domainMetadata": true, "inCommitTimestamp": true, "typeWidening": true,
	"typeWidening-preview": true, "vacuumProtocolCheck": true, "clustering": true, "allowColumnDefaults": true,
	"v2Checkpoint": true,
}

// checkWritable refuses tables this writer cannot maintain correctly.
func checkWritable(p *Protocol, md *Metadata, schema *StructType) error {
	if p.MinWriterVersion > 7 {
		return errs.E(errs.Unimplemented, ReasonUnsupportedWriteFeature, "the table needs Delta writer version %d; this writer supports up to 7", p.MinWriterVersion)
	}
	if p.MinWriterVersion == 7 {
		var bad []string
		for _, f := range p.WriterFeatures {
			if !supportedWriterFeatures[f] {
				bad = append(bad, f)
			}
		}
		if len(bad) > 0 {
			return errs.E(errs.Unimplemented, ReasonUnsupportedWriteFeature, "the table requires writer table features this writer does not support: %v", bad)
		}
	}
	if err := p.CheckReadable(); err != nil {
		return err
	}
	for k := range md.Configuration {
		if strings.HasPrefix(k, "delta.constraints.") {
			return errs.E(errs.Unimplemented, ReasonUnsupportedWriteFeature, "the table has CHECK constraint %q, which this writer cannot enforce", strings.TrimPrefix(k, "delta.constraints."))
		}
	}
	var walk func(path string, st *StructType) error
	walk = func(path string, st *StructType) error {
		for _, f := range st.Fields {
			for _, k := range []string{"delta.invariants", "delta.generationExpression", "delta.identity.start", "CURRENT_DEFAULT"} {
				if _, ok := f.Metadata[k]; ok {
					return errs.E(errs.Unimplemented, ReasonUnsupportedWriteFeature, "column %s%s has %s, which this writer cannot maintain", path, f.Name, k)
				}
			}
			if s, ok := f.Type.(*StructType); ok {
				if err := walk(path+f.Name+".", s); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk("", schema)
}

// requiredProtocol is the minimal protocol for a schema and configuration:
// (1,2) for plain tables, legacy versions for legacy features, table
// features (x,7) as soon as one feature needs them.
func requiredProtocol(schema *StructType, conf map[string]string) *Protocol {
	features := map[string]bool{}
	legacyWriter, legacyReader := 2, 1
	if configBool(conf, "delta.enableChangeDataFeed") {
		features["changeDataFeed"] = true
		legacyWriter = max(legacyWriter, 4)
	}
	if m := conf["delta.columnMapping.mode"]; m == "name" || m == "id" {
		features["columnMapping"] = true
		legacyWriter, legacyReader = max(legacyWriter, 5), 2
	}
	if configBool(conf, "delta.appendOnly") {
		features["appendOnly"] = true
	}
	needsFeatures := false
	if configBool(conf, "delta.enableDeletionVectors") {
		features["deletionVectors"], needsFeatures = true, true
	}
	if configBool(conf, "delta.enableInCommitTimestamps") {
		features["inCommitTimestamp"], needsFeatures = true, true
	}
	if configBool(conf, "delta.enableTypeWidening") {
		features["typeWidening"], needsFeatures = true, true
	}
	if schemaHas(schema, func(dt DataType) bool { return dt == TypeTimestampNTZ }) {
		features["timestampNtz"], needsFeatures = true, true
	}
	for k, v := range conf {
		if strings.HasPrefix(k, "delta.feature.") && strings.EqualFold(v, "supported") {
			features[strings.TrimPrefix(k, "delta.feature.")], needsFeatures = true, true
		}
	}
	if !needsFeatures {
		return &Protocol{MinReaderVersion: legacyReader, MinWriterVersion: legacyWriter}
	}
	p := &Protocol{MinReaderVersion: 1, MinWriterVersion: 7}
	for f := range features {
		p.WriterFeatures = append(p.WriterFeatures, f)
		if readerWriterFeatures[f] {
			p.ReaderFeatures = append(p.ReaderFeatures, f)
		}
	}
	sort.Strings(p.WriterFeatures)
	sort.Strings(p.ReaderFeatures)
	if len(p.ReaderFeatures) > 0 {
		p.MinReaderVersion = 3
	}
	return p
}

// legacyFeatures are the features implied by a legacy protocol version.
func legacyFeatures(p *Protocol) (reader, writer []string) {
	if p.MinWriterVersion == 7 {
		writer = p.WriterFeatures
	} else {
		if p.MinWriterVersion >= 2 {
			writer = append(writer, "appendOnly", "invariants")
		}
		if p.MinWriterVersion >= 3 {
			writer = append(writer, "checkConstraints")
		}
		if p.MinWriterVersion >= 4 {
			writer = append(writer, "changeDataFeed", "generatedColumns")
		}
		if p.MinWriterVersion >= 5 {
			writer = append(writer, "columnMapping")
		}
		if p.MinWriterVersion >= 6 {
			writer = append(writer, "identityColumns")
		}
	}
	if p.MinReaderVersion == 3 {
		reader = p.ReaderFeatures
	} else if p.MinReaderVersion >= 2 {
		reader = append(reader, "columnMapping")
	}
	return reader, writer
}

// mergeProtocol returns the upgrade of cur that also supports want, or nil
// when cur already does.
func mergeProtocol(cur, want *Protocol) *Protocol {
	cr, cw := legacyFeatures(cur)
	wr, ww := legacyFeatures(want)
	missing := false
	for _, f := range ww {
		if !slices.Contains(cw, f) {
			missing = true
		}
	}
	for _, f := range wr {
		if !slices.Contains(cr, f) {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	if cur.MinWriterVersion < 7 && want.MinWriterVersion < 7 {
		return &Protocol{MinReaderVersion: max(cur.MinReaderVersion, want.MinReaderVersion), MinWriterVersion: max(cur.MinWriterVersion, want.MinWriterVersion)}
	}
	p := &Protocol{MinReaderVersion: 1, MinWriterVersion: 7}
	set := map[string]bool{}
	for _, f := range append(append([]string{}, cw...), ww...) {
		set[f] = true
	}
	for _, f := range append(append([]string{}, cr...), wr...) {
		set[f] = true
	}
	for f := range set {
		p.WriterFeatures = append(p.WriterFeatures, f)
		if readerWriterFeatures[f] {
			p.ReaderFeatures = append(p.ReaderFeatures, f)
		}
	}
	sort.Strings(p.WriterFeatures)
	sort.Strings(p.ReaderFeatures)
	if len(p.ReaderFeatures) > 0 || cur.MinReaderVersion > 1 {
		p.MinReaderVersion = 3
	}
	return p
}

func schemaHas(dt DataType, pred func(DataType) bool) bool {
	if pred(dt) {
		return true
	}
	switch t := dt.(type) {
	case *StructType:
		for _, f := range t.Fields {
			if schemaHas(f.Type, pred) {
				return true
			}
		}
	case *ArrayType:
		return schemaHas(t.ElementType, pred)
	case *MapType:
		return schemaHas(t.KeyType, pred) || schemaHas(t.ValueType, pred)
	}
	return false
}

// assignColumnMapping gives every field without one a column mapping id and
// physical name, and records delta.columnMapping.maxColumnId.
func assignColumnMapping(schema *StructType, md *Metadata, newID func() string) {
	maxID, _ := strconv.ParseInt(md.Configuration["delta.columnMapping.maxColumnId"], 10, 64)
	var walk func(st *StructType)
	walk = func(st *StructType) {
		for i, f := range st.Fields {
			cp := *f
			cp.Metadata = map[string]any{}
			for k, v := range f.Metadata {
				cp.Metadata[k] = v
			}
			if id, ok := cp.FieldID(); ok {
				maxID = max(maxID, id)
			} else {
				maxID++
				cp.Metadata[MetaColumnMappingID] = json.Number(strconv.FormatInt(maxID, 10))
			}
			if _, ok := cp.Metadata[MetaColumnMappingName].(string); !ok {
				cp.Metadata[MetaColumnMappingName] = "col-" + newID()
			}
			if s, ok := cp.Type.(*StructType); ok {
				ns := &StructType{Fields: append([]*StructField{}, s.Fields...)}
				walk(ns)
				cp.Type = ns
			}
			st.Fields[i] = &cp
		}
	}
	walk(schema)
	conf := map[string]string{}
	for k, v := range md.Configuration {
		conf[k] = v
	}
	conf["delta.columnMapping.maxColumnId"] = strconv.FormatInt(maxID, 10)
	md.Configuration = conf
}

// CreateTableOptions describe a new table.
type CreateTableOptions struct {
	Schema           *StructType
	PartitionColumns []string
	// Configuration holds table properties (delta.checkpointInterval,
	// delta.enableChangeDataFeed, delta.enableDeletionVectors,
	// delta.columnMapping.mode, ...).
	Configuration map[string]string
	Name          string
	Description   string
	// Transaction options used for the creating commit.
	Transaction TransactionOptions
}

// CreateTable writes version 0 of a new table with the minimal protocol for
// the features used. Errors: errs.AlreadyExists DELTA_TABLE_ALREADY_EXISTS
// when the location has a log; errs.Invalid DELTA_SCHEMA_MISMATCH for a bad
// schema or partition columns; storage errors.
func (t *Table) CreateTable(ctx context.Context, opts CreateTableOptions) (*Snapshot, error) {
	if opts.Schema == nil || len(opts.Schema.Fields) == 0 {
		return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "a table needs a schema with at least one column")
	}
	seen := map[string]bool{}
	for _, f := range opts.Schema.Fields {
		k := strings.ToLower(f.Name)
		if seen[k] {
			return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "column %q appears twice (column names are case-insensitive)", f.Name)
		}
		seen[k] = true
		if f.Name == "" || strings.ContainsAny(f.Name, ",;{}()\n\t=") && t.createMode(opts) == ColumnMappingNone {
			return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "column name %q contains characters Parquet column names cannot hold (\" ,;{}()\\n\\t=\"); enable column mapping to use it", f.Name)
		}
	}
	if _, err := t.LogSegment(ctx, -1); err == nil {
		return nil, errs.E(errs.AlreadyExists, ReasonTableExists, "a Delta table already exists at %q", t.root)
	} else if !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	topts := opts.Transaction
	topts.fill()
	txn := &Transaction{table: t, opts: topts, readFiles: map[string]bool{}}
	now := topts.Clock().UnixMilli()
	conf := map[string]string{}
	for k, v := range opts.Configuration {
		conf[k] = v
	}
	md := &Metadata{ID: topts.NewID(), Format: Format{Provider: "parquet", Options: map[string]string{}},
		PartitionColumns: append([]string{}, opts.PartitionColumns...), Configuration: conf, CreatedTime: &now}
	if md.PartitionColumns == nil {
		md.PartitionColumns = []string{}
	}
	if opts.Name != "" {
		md.Name = &opts.Name
	}
	if opts.Description != "" {
		md.Description = &opts.Description
	}
	schema := &StructType{Fields: append([]*StructField{}, opts.Schema.Fields...)}
	if m := conf["delta.columnMapping.mode"]; m != "" && m != "none" {
		if m != "name" && m != "id" {
			return nil, errs.E(errs.Invalid, ReasonInvalidArgument, "delta.columnMapping.mode=%q is not one of none, name, id", m)
		}
		assignColumnMapping(schema, md, topts.NewID)
		// Partition columns are named logically in metaData.
	}
	if v, ok := conf["delta.checkpointInterval"]; ok {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return nil, errs.E(errs.Invalid, ReasonInvalidArgument, "delta.checkpointInterval=%q is not a positive integer", v)
		}
	}
	b, err := MarshalDataType(schema)
	if err != nil {
		return nil, err
	}
	md.SchemaString = string(b)
	if err := txn.SetMetadata(md); err != nil {
		return nil, err
	}
	if err := checkWritable(txn.protocol, md, schema); err != nil {
		return nil, err
	}
	params := map[string]any{"isManaged": "false", "description": opts.Description, "partitionBy": jsonString(md.PartitionColumns), "properties": jsonString(conf)}
	if _, err := txn.Commit(ctx, Operation{Name: "CREATE TABLE", Parameters: params}); err != nil {
		if errs.ReasonOf(err) == ReasonConcurrentModification || errs.Is(err, errs.Conflict) {
			return nil, errs.E(errs.AlreadyExists, ReasonTableExists, "a Delta table already exists at %q (created concurrently)", t.root)
		}
		return nil, err
	}
	return t.SnapshotAt(ctx, 0)
}

func (t *Table) createMode(opts CreateTableOptions) ColumnMappingMode {
	switch opts.Configuration["delta.columnMapping.mode"] {
	case "name":
		return ColumnMappingName
	case "id":
		return ColumnMappingID
	}
	return ColumnMappingNone
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
