package delta

import (
	"context"
	"fmt"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// readCheckpoint returns the actions of the segment's checkpoint: all parts
// of a multi-part checkpoint, and for V2 checkpoints (UUID-named or under the
// classic name) the manifest's actions plus those of its sidecar files.
func (t *Table) readCheckpoint(ctx context.Context, seg *LogSegment) ([]Action, error) {
	var all []Action
	for _, f := range seg.Checkpoint {
		acts, err := t.readCheckpointFile(ctx, f.Key)
		if err != nil {
			return nil, err
		}
		all = append(all, acts...)
	}
	var sidecars []*Sidecar
	for i := range all {
		if all[i].Sidecar != nil {
			sidecars = append(sidecars, all[i].Sidecar)
		}
	}
	for _, sc := range sidecars {
		key, err := t.sidecarKey(sc.Path)
		if err != nil {
			return nil, err
		}
		acts, err := t.readCheckpointFile(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("sidecar of checkpoint %d: %w", seg.CheckpointVersion, err)
		}
		all = append(all, acts...)
	}
	return all, nil
}

// sidecarKey resolves a sidecar path: a bare name is under
// _delta_log/_sidecars/.
func (t *Table) sidecarKey(p string) (string, error) {
	d, err := DecodePath(p)
	if err != nil {
		return "", errs.E(errs.Invalid, ReasonCorruptLog, "sidecar path: %v", err)
	}
	if strings.Contains(d, "://") || strings.HasPrefix(d, "/") || strings.HasPrefix(d, "file:") {
		i := strings.Index(d, "/_delta_log/_sidecars/")
		if i < 0 {
			return "", errs.E(errs.Unimplemented, ReasonInvalidArgument, "sidecar path %q is absolute and outside _delta_log/_sidecars/", p)
		}
		d = d[i+len("/_delta_log/_sidecars/"):]
	}
	return t.logPrefix() + "_sidecars/" + d, nil
}

// readCheckpointFile reads one checkpoint part or sidecar, JSON or Parquet.
func (t *Table) readCheckpointFile(ctx context.Context, key string) ([]Action, error) {
	if strings.HasSuffix(key, ".json") {
		return t.readActionsFile(ctx, key)
	}
	return t.readParquetActions(ctx, key)
}

func sf(name string, t DataType) *StructField {
	return &StructField{Name: name, Type: t, Nullable: true}
}

var (
	strMap    = &MapType{KeyType: TypeString, ValueType: TypeString, ValueContainsNull: true}
	dvStruct  = &StructType{Fields: []*StructField{sf("storageType", TypeString), sf("pathOrInlineDv", TypeString), sf("offset", TypeInteger), sf("sizeInBytes", TypeInteger), sf("cardinality", TypeLong)}}
	strArray  = &ArrayType{ElementType: TypeString, ContainsNull: true}
	cpActions = &StructType{Fields: []*StructField{
		sf("add", &StructType{Fields: []*StructField{sf("path", TypeString), sf("partitionValues", strMap), sf("size", TypeLong), sf("modificationTime", TypeLong), sf("dataChange", TypeBoolean), sf("stats", TypeString), sf("tags", strMap), sf("deletionVector", dvStruct), sf("baseRowId", TypeLong), sf("defaultRowCommitVersion", TypeLong), sf("clusteringProvider", TypeString)}}),
		sf("remove", &StructType{Fields: []*StructField{sf("path", TypeString), sf("deletionTimestamp", TypeLong), sf("dataChange", TypeBoolean), sf("extendedFileMetadata", TypeBoolean), sf("partitionValues", strMap), sf("size", TypeLong), sf("deletionVector", dvStruct), sf("baseRowId", TypeLong), sf("defaultRowCommitVersion", TypeLong)}}),
		sf("metaData", &StructType{Fields: []*StructField{sf("id", TypeString), sf("name", TypeString), sf("description", TypeString), sf("format", &StructType{Fields: []*StructField{sf("provider", TypeString), sf("options", strMap)}}), sf("schemaString", TypeString), sf("partitionColumns", strArray), sf("configuration", strMap), sf("createdTime", TypeLong)}}),
		sf("protocol", &StructType{Fields: []*StructField{sf("minReaderVersion", TypeInteger), sf("minWriterVersion", TypeInteger), sf("readerFeatures", strArray), sf("writerFeatures", strArray)}}),
		sf("txn", &StructType{Fields: []*StructField{sf("appId", TypeString), sf("version", TypeLong), sf("lastUpdated", TypeLong)}}),
		sf("domainMetadata", &StructType{Fields: []*StructField{sf("domain", TypeString), sf("configuration", TypeString), sf("removed", TypeBoolean)}}),
		sf("checkpointMetadata", &StructType{Fields: []*StructField{sf("version", TypeLong), sf("tags", strMap)}}),
		sf("sidecar", &StructType{Fields: []*StructField{sf("path", TypeString), sf("sizeInBytes", TypeLong), sf("modificationTime", TypeLong), sf("tags", strMap)}}),
	}}
)

// CheckpointSchema returns the Delta schema of the columns this package reads
// from Parquet checkpoints (and that a checkpoint writer must produce).
func CheckpointSchema() *StructType { return cpActions }

// readParquetActions reads a Parquet checkpoint part or sidecar.
func (t *Table) readParquetActions(ctx context.Context, key string) ([]Action, error) {
	pf, err := t.readParquetObject(ctx, key)
	if err != nil {
		if e := errs.As(err); e != nil && e.Reason == ReasonCorruptData {
			return nil, errs.Wrap(errs.Invalid, ReasonCorruptLog, e.Err, "corrupt checkpoint: %s", e.Msg)
		}
		return nil, err
	}
	// Old checkpoints lack some top-level columns; read only those present.
	present := &StructType{}
	var idx []int
	for i, f := range cpActions.Fields {
		if pf.root.child(f.Name) != nil {
			present.Fields = append(present.Fields, f)
			idx = append(idx, i)
		}
	}
	var out []Action
	err = pf.readRows(present, fieldMatcher{ColumnMappingNone}, func(r Row) error {
		full := make(Row, len(cpActions.Fields))
		for j, i := range idx {
			full[i] = r[j]
		}
		a, err := actionFromRow(full)
		if err != nil {
			return errs.E(errs.Invalid, ReasonCorruptLog, "corrupt checkpoint %s: %v", key, err)
		}
		if a != nil {
			out = append(out, *a)
		}
		return nil
	})
	if err != nil {
		if e := errs.As(err); e != nil && e.Reason == ReasonCorruptData {
			return nil, errs.Wrap(errs.Invalid, ReasonCorruptLog, e.Err, "corrupt checkpoint: %s", e.Msg)
		}
		return nil, err
	}
	return out, nil
}

func rs(r Row, i int) string {
	s, _ := r[i].(string)
	return s
}

func rsp(r Row, i int) *string {
	if s, ok := r[i].(string); ok {
		return &s
	}
	return nil
}

func ri64(r Row, i int) int64 {
	switch v := r[i].(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	}
	return 0
}

func ri64p(r Row, i int) *int64 {
	if r[i] == nil {
		return nil
	}
	v := ri64(r, i)
	return &v
}

func rb(r Row, i int) bool {
	b, _ := r[i].(bool)
	return b
}

func rmap(r Row, i int) map[string]string {
	es, ok := r[i].([]MapEntry)
	if !ok {
		return nil
	}
	m := make(map[string]string, len(es))
	for _, e := range es {
		k, _ := e.Key.(string)
		v, _ := e.Value.(string)
		m[k] = v
	}
	return m
}

func rpv(r Row, i int) PartitionValues {
	es, ok := r[i].([]MapEntry)
	if !ok {
		return nil
	}
	m := make(PartitionValues, len(es))
	for _, e := range es {
		k, _ := e.Key.(string)
		if v, ok := e.Value.(string); ok {
			m[k] = &v
		} else {
			m[k] = nil
		}
	}
	return m
}

func rstrs(r Row, i int) []string {
	l, ok := r[i].([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func rdv(r Row, i int) *DeletionVectorDescriptor {
	d, ok := r[i].(Row)
	if !ok {
		return nil
	}
	dv := &DeletionVectorDescriptor{StorageType: rs(d, 0), PathOrInlineDv: rs(d, 1), SizeInBytes: int32(ri64(d, 3)), Cardinality: ri64(d, 4)}
	if d[2] != nil {
		o := int32(ri64(d, 2))
		dv.Offset = &o
	}
	return dv
}

// actionFromRow converts one checkpoint row; nil when no column is set.
func actionFromRow(r Row) (*Action, error) {
	if x, ok := r[0].(Row); ok {
		a := &Add{Path: rs(x, 0), PartitionValues: rpv(x, 1), Size: ri64(x, 2), ModificationTime: ri64(x, 3), DataChange: rb(x, 4), Stats: rs(x, 5), Tags: rmap(x, 6), DeletionVector: rdv(x, 7), BaseRowID: ri64p(x, 8), DefaultRowCommitVersion: ri64p(x, 9), ClusteringProvider: rs(x, 10)}
		if a.Path == "" {
			return nil, fmt.Errorf("add without path")
		}
		return &Action{Add: a}, nil
	}
	if x, ok := r[1].(Row); ok {
		rm := &Remove{Path: rs(x, 0), DeletionTimestamp: ri64p(x, 1), DataChange: rb(x, 2), PartitionValues: rpv(x, 4), Size: ri64p(x, 5), DeletionVector: rdv(x, 6), BaseRowID: ri64p(x, 7), DefaultRowCommitVersion: ri64p(x, 8)}
		if x[3] != nil {
			b := rb(x, 3)
			rm.ExtendedFileMetadata = &b
		}
		if rm.Path == "" {
			return nil, fmt.Errorf("remove without path")
		}
		return &Action{Remove: rm}, nil
	}
	if x, ok := r[2].(Row); ok {
		m := &Metadata{ID: rs(x, 0), Name: rsp(x, 1), Description: rsp(x, 2), SchemaString: rs(x, 4), PartitionColumns: rstrs(x, 5), Configuration: rmap(x, 6), CreatedTime: ri64p(x, 7)}
		if f, ok := x[3].(Row); ok {
			m.Format = Format{Provider: rs(f, 0), Options: rmap(f, 1)}
		}
		if m.PartitionColumns == nil {
			m.PartitionColumns = []string{}
		}
		return &Action{MetaData: m}, nil
	}
	if x, ok := r[3].(Row); ok {
		return &Action{Protocol: &Protocol{MinReaderVersion: int(ri64(x, 0)), MinWriterVersion: int(ri64(x, 1)), ReaderFeatures: rstrs(x, 2), WriterFeatures: rstrs(x, 3)}}, nil
	}
	if x, ok := r[4].(Row); ok {
		return &Action{Txn: &Txn{AppID: rs(x, 0), Version: ri64(x, 1), LastUpdated: ri64p(x, 2)}}, nil
	}
	if x, ok := r[5].(Row); ok {
		return &Action{DomainMetadata: &DomainMetadata{Domain: rs(x, 0), Configuration: rs(x, 1), Removed: rb(x, 2)}}, nil
	}
	if x, ok := r[6].(Row); ok {
		return &Action{CheckpointMetadata: &CheckpointMetadata{Version: ri64(x, 0), Tags: rmap(x, 1)}}, nil
	}
	if x, ok := r[7].(Row); ok {
		return &Action{Sidecar: &Sidecar{Path: rs(x, 0), SizeInBytes: ri64(x, 1), ModificationTime: ri64(x, 2), Tags: rmap(x, 3)}}, nil
	}
	return nil, nil
}
