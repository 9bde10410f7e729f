package delta

import (
	"context"
	"iter"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/errs"
)

// Reasons of the write path (errs.Error.Reason).
const (
	// ReasonTableExists: CreateTable found a table at the location
	// (errs.AlreadyExists).
	ReasonTableExists = "DELTA_TABLE_ALREADY_EXISTS"
	// ReasonConcurrentAppend: a concurrent commit added files this
	// transaction should have read (errs.Conflict).
	ReasonConcurrentAppend = "DELTA_CONCURRENT_APPEND"
	// ReasonConcurrentDeleteRead: a concurrent commit removed a file this
	// transaction read (errs.Conflict).
	ReasonConcurrentDeleteRead = "DELTA_CONCURRENT_DELETE_READ"
	// ReasonConcurrentDeleteDelete: a concurrent commit removed a file this
	// transaction removes too (errs.Conflict).
	ReasonConcurrentDeleteDelete = "DELTA_CONCURRENT_DELETE_DELETE"
	// ReasonMetadataChanged: a concurrent commit changed the table metadata
	// (errs.Conflict).
	ReasonMetadataChanged = "DELTA_METADATA_CHANGED"
	// ReasonProtocolChanged: a concurrent commit changed the protocol
	// (errs.Conflict).
	ReasonProtocolChanged = "DELTA_PROTOCOL_CHANGED"
	// ReasonConcurrentTransaction: a concurrent commit wrote the same
	// application transaction id (errs.Conflict).
	ReasonConcurrentTransaction = "DELTA_CONCURRENT_TRANSACTION"
	// ReasonConcurrentModification: the commit kept losing races until the
	// retry limit (errs.Conflict).
	ReasonConcurrentModification = "DELTA_CONCURRENT_MODIFICATION"
	// ReasonUnsupportedWriteFeature: the table needs a writer feature this
	// package does not implement (errs.Unimplemented).
	ReasonUnsupportedWriteFeature = "DELTA_UNSUPPORTED_FEATURES_FOR_WRITE"
	// ReasonTransactionClosed: the transaction was already committed
	// (errs.FailedPrecondition).
	ReasonTransactionClosed = "DELTA_TRANSACTION_CLOSED"
	// ReasonAppendOnly: the table is append-only (errs.FailedPrecondition).
	ReasonAppendOnly = "DELTA_CANNOT_MODIFY_APPEND_ONLY"
)

// EngineVersion is the Lakebox version written into engineInfo
// ("Lakebox/<version>") and the Parquet created_by field.
const EngineVersion = "0.1.0"

// TransactionOptions configure a Transaction. Zero values pick defaults.
type TransactionOptions struct {
	// EngineInfo goes into commitInfo.engineInfo (default "Lakebox/<EngineVersion>").
	EngineInfo string
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// NewID returns a new unique id for file names and table ids (default uuid v4).
	NewID func() string
	// MaxAttempts bounds commit attempts after lost races (default 200).
	MaxAttempts int
	// Logger receives post-commit failures such as a checkpoint that could not
	// be written (nil = discard).
	Logger *slog.Logger
	// TargetFileSize rolls data files at about this many bytes (0 = one file
	// per partition and call).
	TargetFileSize int64
}

func (o *TransactionOptions) fill() {
	if o.EngineInfo == "" {
		o.EngineInfo = "Lakebox/" + EngineVersion
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 200
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Transaction stages changes to a table on top of one snapshot and commits
// them atomically as the next version, following Delta's optimistic
// concurrency rules (conflict.go). A Transaction is not safe for concurrent
// use and can be committed once.
type Transaction struct {
	table *Table
	snap  *Snapshot // nil when the transaction creates the table
	opts  TransactionOptions

	protocol *Protocol // new protocol, if changed
	metadata *Metadata // new metadata, if changed
	adds     []*Add
	removes  []*Remove
	cdcs     []*AddCDCFile
	txns     []Txn
	domains  []DomainMetadata

	readWhole   bool
	readFilters []Predicate     // bound partition/data predicates read
	readFiles   map[string]bool // file keys read
	committed   bool
	rowsWritten int64
}

// StartTransaction starts a transaction on the latest snapshot. Errors:
// those of Latest; errs.Unimplemented DELTA_UNSUPPORTED_FEATURES_FOR_WRITE
// when the table needs writer features this package does not implement.
func (t *Table) StartTransaction(ctx context.Context, opts TransactionOptions) (*Transaction, error) {
	snap, err := t.Latest(ctx)
	if err != nil {
		return nil, err
	}
	return snap.StartTransaction(opts)
}

// StartTransaction starts a transaction reading this snapshot.
func (s *Snapshot) StartTransaction(opts TransactionOptions) (*Transaction, error) {
	if err := checkWritable(s.protocol, s.metadata, s.schema); err != nil {
		return nil, err
	}
	opts.fill()
	return &Transaction{table: s.table, snap: s, opts: opts, readFiles: map[string]bool{}}, nil
}

// Snapshot returns the snapshot the transaction reads (nil when creating).
func (t *Transaction) Snapshot() *Snapshot { return t.snap }

// ReadVersion returns the version the transaction started from (-1 when
// creating the table).
func (t *Transaction) ReadVersion() int64 {
	if t.snap == nil {
		return -1
	}
	return t.snap.Version()
}

// Schema returns the schema in force for this transaction: the staged new
// schema if metadata was set, else the snapshot's.
func (t *Transaction) Schema() *StructType {
	if t.metadata != nil {
		s, err := ParseSchema(t.metadata.SchemaString)
		if err == nil {
			return s
		}
	}
	if t.snap == nil {
		return &StructType{}
	}
	return t.snap.schema
}

// Metadata returns the metadata in force for this transaction.
func (t *Transaction) Metadata() *Metadata {
	if t.metadata != nil {
		return t.metadata
	}
	if t.snap == nil {
		return nil
	}
	return t.snap.metadata
}

func (t *Transaction) currentProtocol() *Protocol {
	if t.protocol != nil {
		return t.protocol
	}
	if t.snap == nil {
		return nil
	}
	return t.snap.protocol
}

func (t *Transaction) config() map[string]string {
	if m := t.Metadata(); m != nil && m.Configuration != nil {
		return m.Configuration
	}
	return map[string]string{}
}

func (t *Transaction) mode() ColumnMappingMode {
	switch t.config()["delta.columnMapping.mode"] {
	case "name":
		return ColumnMappingName
	case "id":
		return ColumnMappingID
	}
	return ColumnMappingNone
}

func (t *Transaction) checkOpen() error {
	if t.committed {
		return errs.E(errs.FailedPrecondition, ReasonTransactionClosed, "the transaction was already committed; start a new one")
	}
	return nil
}

// AddFiles stages add actions of files already written under the table
// root.
func (t *Transaction) AddFiles(adds ...*Add) { t.adds = append(t.adds, adds...) }

// RemoveFiles stages the removal of live files (their add actions), with
// dataChange=true and the current time as deletionTimestamp. The files
// count as read for conflict detection.
func (t *Transaction) RemoveFiles(files ...*Add) {
	for _, a := range files {
		t.removes = append(t.removes, t.removeOf(a, true))
		t.readFiles[fileKey(a.Path, a.DeletionVector)] = true
	}
}

func (t *Transaction) removeOf(a *Add, dataChange bool) *Remove {
	ts := t.opts.Clock().UnixMilli()
	size := a.Size
	ext := true
	return &Remove{Path: a.Path, DeletionTimestamp: &ts, DataChange: dataChange, ExtendedFileMetadata: &ext,
		PartitionValues: a.PartitionValues, Size: &size, Stats: a.Stats, Tags: a.Tags, DeletionVector: a.DeletionVector,
		BaseRowID: a.BaseRowID, DefaultRowCommitVersion: a.DefaultRowCommitVersion}
}

// SetMetadata stages new table metadata (schema, partitioning,
// configuration). The protocol is upgraded if the new metadata needs
// features the current protocol lacks.
func (t *Transaction) SetMetadata(md *Metadata) error {
	if err := t.checkOpen(); err != nil {
		return err
	}
	schema, err := ParseSchema(md.SchemaString)
	if err != nil {
		return err
	}
	if err := validatePartitionColumns(schema, md.PartitionColumns); err != nil {
		return err
	}
	cp := *md
	t.metadata = &cp
	want := requiredProtocol(schema, cp.Configuration)
	if cur := t.currentProtocol(); cur == nil {
		t.protocol = want
	} else if up := mergeProtocol(cur, want); up != nil {
		t.protocol = up
	}
	return nil
}

// SetTransaction records that application appID has committed version
// (idempotent writes): a concurrent commit of the same appID fails this
// one with DELTA_CONCURRENT_TRANSACTION.
func (t *Transaction) SetTransaction(appID string, version int64) {
	now := t.opts.Clock().UnixMilli()
	t.txns = append(t.txns, Txn{AppID: appID, Version: version, LastUpdated: &now})
}

// AppTransactionVersion returns the last version committed by appID as of
// the read snapshot.
func (t *Transaction) AppTransactionVersion(appID string) (int64, bool) {
	if t.snap == nil {
		return 0, false
	}
	return t.snap.AppTransactionVersion(appID)
}

// SetDomainMetadata stages a domainMetadata action.
func (t *Transaction) SetDomainMetadata(d DomainMetadata) { t.domains = append(t.domains, d) }

// ReadWholeTable marks the transaction as depending on every file of the
// table: any concurrent change of data conflicts.
func (t *Transaction) ReadWholeTable() { t.readWhole = true }

// ReadPredicate records that the transaction read the files matching p:
// a concurrent commit adding matching files conflicts. Errors: errs.Invalid
// DELTA_INVALID_PREDICATE.
func (t *Transaction) ReadPredicate(p Predicate) error {
	if p == nil {
		t.readWhole = true
		return nil
	}
	b, err := bindPredicate(t.Schema(), p)
	if err != nil {
		return err
	}
	t.readFilters = append(t.readFilters, b)
	return nil
}

// ReadFiles records that the transaction read these files: a concurrent
// commit removing one of them conflicts.
func (t *Transaction) ReadFiles(files ...*Add) {
	for _, a := range files {
		t.readFiles[fileKey(a.Path, a.DeletionVector)] = true
	}
}

// WriteOptions modify WriteRows.
type WriteOptions struct {
	// Schema is the schema of the rows (nil = the table schema). Columns
	// are matched by name, case-insensitively.
	Schema *StructType
	// MergeSchema adds columns of Schema missing from the table (as
	// nullable columns) instead of rejecting the write.
	MergeSchema bool
	// Txn configures the transaction of the Table-level helpers (Append,
	// Overwrite); Transaction.WriteRows ignores it.
	Txn TransactionOptions
}

// WriteRows writes rows as new data files and stages their add actions.
// See WriteSeq.
func (t *Transaction) WriteRows(ctx context.Context, rows []Row, opts WriteOptions) ([]*Add, error) {
	return t.WriteSeq(ctx, func(yield func(Row, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}, opts)
}

// WriteSeq writes the rows of seq (partitioned by the table's partition
// columns) as new Parquet data files with statistics and stages their add
// actions. Errors: errs.Invalid DELTA_SCHEMA_MISMATCH naming the column for
// rows or a schema that do not fit the table; the error of seq; storage
// errors. On error no action is staged (written files become orphans that
// VACUUM removes).
func (t *Transaction) WriteSeq(ctx context.Context, seq iter.Seq2[Row, error], opts WriteOptions) ([]*Add, error) {
	if err := t.checkOpen(); err != nil {
		return nil, err
	}
	md := t.Metadata()
	if md == nil {
		return nil, errs.E(errs.FailedPrecondition, ReasonMissingMetadata, "the transaction has no table metadata; create the table first")
	}
	proj, err := t.prepareWriteSchema(opts)
	if err != nil {
		return nil, err
	}
	schema := t.Schema()
	w, err := newDataWriter(ctx, dataWriterConfig{table: t.table, schema: schema, partition: md.PartitionColumns,
		config: md.Configuration, mode: t.mode(), targetSize: t.opts.TargetFileSize, engine: t.opts.EngineInfo,
		newID: t.opts.NewID, now: t.opts.Clock})
	if err != nil {
		return nil, err
	}
	var full Row
	if proj != nil {
		full = make(Row, len(schema.Fields))
	}
	for r, serr := range seq {
		if serr != nil {
			w.Abort()
			return nil, serr
		}
		if proj != nil {
			if len(r) != len(proj) {
				w.Abort()
				return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "row has %d values but the write schema has %d columns", len(r), len(proj))
			}
			for i := range full {
				full[i] = nil
			}
			for i, j := range proj {
				full[j] = r[i]
			}
			r = full
		}
		if err := w.Write(r); err != nil {
			w.Abort()
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		w.Abort()
		return nil, err
	}
	t.adds = append(t.adds, w.adds...)
	t.rowsWritten += w.rows
	return w.adds, nil
}

// prepareWriteSchema checks opts.Schema against the table schema, evolving
// it with MergeSchema, and returns the position in the table schema of each
// write column (nil when the rows already have the table schema).
func (t *Transaction) prepareWriteSchema(opts WriteOptions) ([]int, error) {
	if opts.Schema == nil {
		return nil, nil
	}
	table := t.Schema()
	merged, err := mergeSchemas(table, opts.Schema, opts.MergeSchema)
	if err != nil {
		return nil, err
	}
	if len(merged.Fields) != len(table.Fields) {
		md := *t.Metadata()
		if t.mode() != ColumnMappingNone {
			assignColumnMapping(merged, &md, t.opts.NewID)
		}
		b, err := MarshalDataType(merged)
		if err != nil {
			return nil, err
		}
		md.SchemaString = string(b)
		if err := t.SetMetadata(&md); err != nil {
			return nil, err
		}
		table = merged
	}
	proj := make([]int, len(opts.Schema.Fields))
	for i, f := range opts.Schema.Fields {
		proj[i] = table.FieldIndex(f.Name)
	}
	seen := map[int]bool{}
	for _, j := range proj {
		seen[j] = true
	}
	for j, f := range table.Fields {
		if !seen[j] {
			return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s of the table is missing from the written data (written columns: %s)", f.Name, fieldNames(opts.Schema))
		}
	}
	identity := len(proj) == len(table.Fields)
	for i, j := range proj {
		identity = identity && i == j
	}
	if identity {
		return nil, nil
	}
	return proj, nil
}

// mergeSchemas checks that every column of in fits table (same type,
// recursively for structs) and, with evolve, appends new columns as
// nullable. Errors: errs.Invalid DELTA_SCHEMA_MISMATCH naming the column.
func mergeSchemas(table, in *StructType, evolve bool) (*StructType, error) {
	out := &StructType{Fields: append([]*StructField{}, table.Fields...)}
	var merge func(path string, tf *StructField, f *StructField) (*StructField, error)
	merge = func(path string, tf *StructField, f *StructField) (*StructField, error) {
		ts, ok1 := tf.Type.(*StructType)
		is, ok2 := f.Type.(*StructType)
		if ok1 && ok2 {
			m := &StructType{Fields: append([]*StructField{}, ts.Fields...)}
			for _, c := range is.Fields {
				tc := ts.Field(c.Name)
				if tc == nil {
					if !evolve {
						return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s.%s does not exist in the table; set mergeSchema to add it", path, c.Name)
					}
					nc := *c
					nc.Nullable = true
					m.Fields = append(m.Fields, &nc)
					continue
				}
				mc, err := merge(path+"."+tc.Name, tc, c)
				if err != nil {
					return nil, err
				}
				m.Fields[ts.FieldIndex(tc.Name)] = mc
			}
			cp := *tf
			cp.Type = m
			return &cp, nil
		}
		if !sameType(tf.Type, f.Type) {
			return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s has type %s in the table but %s in the written data; type changes are not allowed", path, tf.Type, f.Type)
		}
		return tf, nil
	}
	for _, f := range in.Fields {
		tf := table.Field(f.Name)
		if tf == nil {
			if !evolve {
				return nil, errs.E(errs.Invalid, ReasonSchemaMismatch, "column %s does not exist in the table (columns: %s); set mergeSchema to add it", f.Name, fieldNames(table))
			}
			nf := *f
			nf.Nullable = true
			out.Fields = append(out.Fields, &nf)
			continue
		}
		m, err := merge(tf.Name, tf, f)
		if err != nil {
			return nil, err
		}
		out.Fields[table.FieldIndex(tf.Name)] = m
	}
	return out, nil
}

// sameType compares types ignoring field metadata.
func sameType(a, b DataType) bool {
	switch x := a.(type) {
	case *PrimitiveType:
		y, ok := b.(*PrimitiveType)
		return ok && x.Name == y.Name
	case *DecimalType:
		y, ok := b.(*DecimalType)
		return ok && *x == *y
	case *ArrayType:
		y, ok := b.(*ArrayType)
		return ok && sameType(x.ElementType, y.ElementType)
	case *MapType:
		y, ok := b.(*MapType)
		return ok && sameType(x.KeyType, y.KeyType) && sameType(x.ValueType, y.ValueType)
	case *StructType:
		y, ok := b.(*StructType)
		if !ok || len(x.Fields) != len(y.Fields) {
			return false
		}
		for i := range x.Fields {
			if x.Fields[i].Name != y.Fields[i].Name || !sameType(x.Fields[i].Type, y.Fields[i].Type) {
				return false
			}
		}
		return true
	}
	return false
}

func validatePartitionColumns(schema *StructType, cols []string) error {
	seen := map[string]bool{}
	for _, c := range cols {
		f := schema.Field(c)
		if f == nil {
			return errs.E(errs.Invalid, ReasonSchemaMismatch, "partition column %q is not a column of the schema (columns: %s)", c, fieldNames(schema))
		}
		if seen[f.Name] {
			return errs.E(errs.Invalid, ReasonSchemaMismatch, "partition column %q is listed twice", c)
		}
		seen[f.Name] = true
		switch f.Type.(type) {
		case *PrimitiveType, *DecimalType:
		default:
			return errs.E(errs.Invalid, ReasonSchemaMismatch, "partition column %q has type %s; only primitive types can be partition columns", c, f.Type)
		}
	}
	if len(cols) > 0 && len(cols) == len(schema.Fields) {
		return errs.E(errs.Invalid, ReasonSchemaMismatch, "every column is a partition column; at least one data column is needed")
	}
	return nil
}

func configBool(conf map[string]string, key string) bool {
	b, _ := strconv.ParseBool(conf[key])
	return b
}
