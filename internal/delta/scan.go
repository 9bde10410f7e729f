package delta

import (
	"context"
	"fmt"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// ScanFile is a live data file as a scan hands it out.
type ScanFile struct {
	// Path is the percent-decoded path relative to the table root (the add
	// action's path); Key is the bucket key.
	Path string
	Key  string
	// Size in bytes and modification time (Unix ms) from the add action.
	Size             int64
	ModificationTime int64
	// PartitionValues maps logical partition column names to typed values
	// (nil = NULL).
	PartitionValues map[string]any
	// Stats are the parsed statistics, nil when the file has none.
	Stats *Stats
	// DeletionVector is the file's DV descriptor, nil when none.
	DeletionVector *DeletionVectorDescriptor
	// Add is the underlying action.
	Add *Add
}

// ScanOptions select what a Scan returns.
type ScanOptions struct {
	// Columns are logical top-level column names; empty means all.
	Columns []string
	// Filter selects rows (nil = all): files are pruned by partition values
	// and statistics, and Rows/ReadFile return only rows for which the
	// filter is TRUE (SQL semantics: NULL is not TRUE).
	Filter Predicate
}

// Scan reads a snapshot: its files (with data skipping) and their rows.
type Scan struct {
	snap   *Snapshot
	schema *StructType // output schema (projection, logical)
	filter Predicate
	parts  map[string]bool // logical partition column names

	// With a filter, files are read in readSchema (the projection plus the
	// filter's columns), rows are kept when match is TRUE, and project maps
	// a read row to the output schema.
	readSchema *StructType
	match      func(Row) tri
	project    []int
}

// Scan prepares a scan. Errors: errs.Invalid (DELTA_INVALID_PREDICATE or
// DELTA_INVALID_ARGUMENT) for unknown columns or literals that do not fit.
func (s *Snapshot) Scan(opts ScanOptions) (*Scan, error) {
	sc := &Scan{snap: s, parts: map[string]bool{}}
	for _, p := range s.metadata.PartitionColumns {
		if f := s.schema.Field(p); f != nil {
			sc.parts[f.Name] = true
		} else {
			sc.parts[p] = true
		}
	}
	if len(opts.Columns) == 0 {
		sc.schema = s.schema
	} else {
		sc.schema = &StructType{}
		for _, c := range opts.Columns {
			f := s.schema.Field(c)
			if f == nil {
				return nil, errs.E(errs.Invalid, ReasonInvalidArgument, "column %q does not exist; the table has %s", c, columnNames(s.schema))
			}
			sc.schema.Fields = append(sc.schema.Fields, f)
		}
	}
	f, err := bindPredicate(s.schema, opts.Filter)
	if err != nil {
		return nil, err
	}
	sc.filter = f
	sc.readSchema = sc.schema
	if f != nil {
		if err := sc.prepareRowFilter(); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

// prepareRowFilter sets up reading the filter's columns alongside the
// projection and evaluating the filter on each row.
func (sc *Scan) prepareRowFilter() error {
	read := &StructType{Fields: append([]*StructField(nil), sc.schema.Fields...)}
	for _, col := range predicateColumns(sc.filter) {
		top, _, _ := strings.Cut(col, ".")
		if read.Field(top) == nil {
			read.Fields = append(read.Fields, sc.snap.schema.Field(top))
		}
	}
	match, err := compilePredicate(read, sc.filter)
	if err != nil {
		return err
	}
	sc.readSchema, sc.match = read, match
	sc.project = make([]int, len(sc.schema.Fields))
	for i := range sc.project {
		sc.project[i] = i // the projection is a prefix of the read schema
	}
	return nil
}

func columnNames(st *StructType) string {
	s := ""
	for i, f := range st.Fields {
		if i > 0 {
			s += ", "
		}
		s += f.Name
	}
	return s
}

// Schema returns the output schema of the scan.
func (sc *Scan) Schema() *StructType { return sc.schema }

// Snapshot returns the scanned snapshot.
func (sc *Scan) Snapshot() *Snapshot { return sc.snap }

// partitionValuesOf types the partition values of an add.
func (s *Snapshot) partitionValuesOf(pv PartitionValues, path string) (map[string]any, error) {
	mode := s.ColumnMappingMode()
	out := make(map[string]any, len(s.metadata.PartitionColumns))
	for _, name := range s.metadata.PartitionColumns {
		f := s.schema.Field(name)
		if f == nil {
			return nil, errs.E(errs.Invalid, ReasonInvalidSchema, "partition column %q is not in the schema", name)
		}
		raw, ok := pv[f.PhysicalName(mode)]
		if !ok {
			raw, ok = pv[f.Name]
		}
		if !ok {
			out[f.Name] = nil
			continue
		}
		v, err := ParsePartitionValue(f.Type, raw)
		if err != nil {
			return nil, errs.E(errs.Invalid, ReasonCorruptLog, "file %s: partition column %q: %v", path, name, err)
		}
		out[f.Name] = v
	}
	return out, nil
}

// scanFile builds the ScanFile of an add.
func (s *Snapshot) scanFile(a *Add) (ScanFile, error) {
	p, err := DecodePath(a.Path)
	if err != nil {
		return ScanFile{}, errs.E(errs.Invalid, ReasonCorruptLog, "add path: %v", err)
	}
	pv, err := s.partitionValuesOf(a.PartitionValues, a.Path)
	if err != nil {
		return ScanFile{}, err
	}
	key, kerr := s.table.DataKey(a.Path)
	if kerr != nil {
		key = ""
	}
	return ScanFile{
		Path: p, Key: key, Size: a.Size, ModificationTime: a.ModificationTime,
		PartitionValues: pv, Stats: ParseStats(a.Stats, s.schema, s.ColumnMappingMode()),
		DeletionVector: a.DeletionVector, Add: a,
	}, nil
}

// Files returns the live files that may hold rows matching the scan's
// filter, in path order.
func (sc *Scan) Files(ctx context.Context) ([]ScanFile, error) {
	out := make([]ScanFile, 0, len(sc.snap.files))
	for _, a := range sc.snap.files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := sc.snap.scanFile(a)
		if err != nil {
			return nil, err
		}
		if sc.filter != nil {
			fv := &fileView{partition: f.PartitionValues, isPart: sc.parts, stats: f.Stats}
			if !fv.mightMatch(sc.filter) {
				continue
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// Rows calls fn for every row of every surviving file that the filter
// selects (deleted rows excluded).
func (sc *Scan) Rows(ctx context.Context, fn func(Row) error) error {
	files, err := sc.Files(ctx)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := sc.ReadFile(ctx, f, fn); err != nil {
			return err
		}
	}
	return nil
}

// ReadFile reads the rows of one file in the scan's output schema, filling
// partition columns and dropping rows deleted by the file's deletion vector.
// Errors: errs.NotFound (file or DV missing), errs.Invalid with reason
// DELTA_CORRUPT_DATA_FILE naming the file.
func (sc *Scan) ReadFile(ctx context.Context, f ScanFile, fn func(Row) error) error {
	if sc.match == nil {
		return sc.snap.readDataFile(ctx, sc.schema, sc.parts, f.Add.Path, f.PartitionValues, f.DeletionVector, nil, fn)
	}
	return sc.snap.readDataFile(ctx, sc.readSchema, sc.parts, f.Add.Path, f.PartitionValues, f.DeletionVector, nil, func(r Row) error {
		if sc.match(r) != triTrue {
			return nil
		}
		return fn(r[:len(sc.project)])
	})
}

// readDataFile reads logPath with out schema; extra appends values after the
// schema's columns (used by CDF).
func (s *Snapshot) readDataFile(ctx context.Context, out *StructType, parts map[string]bool, logPath string, pv map[string]any, dv *DeletionVectorDescriptor, keep func(idx uint64) bool, fn func(Row) error) error {
	key, err := s.table.DataKey(logPath)
	if err != nil {
		return err
	}
	var deleted *DeletedRows
	if dv != nil {
		if deleted, err = s.table.LoadDeletionVector(ctx, dv); err != nil {
			return fmt.Errorf("data file %s: %w", key, err)
		}
	}
	data := &StructType{}
	var dataIdx []int
	for i, f := range out.Fields {
		if !parts[f.Name] {
			data.Fields = append(data.Fields, f)
			dataIdx = append(dataIdx, i)
		}
	}
	pf, err := s.table.readParquetObject(ctx, key)
	if err != nil {
		return err
	}
	var idx uint64
	return pf.readRows(data, fieldMatcher{s.ColumnMappingMode()}, func(r Row) error {
		i := idx
		idx++
		if deleted.Contains(i) || (keep != nil && !keep(i)) {
			return nil
		}
		row := make(Row, len(out.Fields))
		for j, di := range dataIdx {
			row[di] = r[j]
		}
		for k, f := range out.Fields {
			if parts[f.Name] {
				row[k] = pv[f.Name]
			}
		}
		return fn(row)
	})
}
