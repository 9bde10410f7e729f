package delta

import (
	"context"
	"fmt"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// Change data feed metadata columns.
const (
	ChangeTypeColumn      = "_change_type"
	CommitVersionColumn   = "_commit_version"
	CommitTimestampColumn = "_commit_timestamp"
)

// ChangeFeed reads the changes committed in versions Start..End.
type ChangeFeed struct {
	table      *Table
	snap       *Snapshot // snapshot at End: schema, column mapping, partitioning
	schema     *StructType
	Start, End int64
}

// ChangeDataFeed prepares reading the changes of versions start..end
// (end < 0 = latest), inclusive. Rows carry the table columns (schema of
// version end) plus _change_type (insert, delete, update_preimage,
// update_postimage), _commit_version and _commit_timestamp. Commits with
// cdc actions are read from their _change_data/ files; other commits derive
// inserts and deletes from add/remove actions with dataChange, including
// deletion-vector differences. Errors: those of SnapshotAt, errs.Invalid
// DELTA_INVALID_ARGUMENT for a bad range, errs.NotFound when a commit in
// the range is missing.
func (t *Table) ChangeDataFeed(ctx context.Context, start, end int64) (*ChangeFeed, error) {
	if start < 0 {
		return nil, errs.E(errs.Invalid, ReasonInvalidArgument, "change data feed start version %d is negative", start)
	}
	snap, err := t.SnapshotAt(ctx, end)
	if err != nil {
		return nil, err
	}
	if start > snap.Version() {
		return nil, errs.E(errs.Invalid, ReasonInvalidArgument, "change data feed start version %d is after end version %d", start, snap.Version())
	}
	sch := &StructType{Fields: append(append([]*StructField{}, snap.schema.Fields...),
		&StructField{Name: ChangeTypeColumn, Type: TypeString, Nullable: false},
		&StructField{Name: CommitVersionColumn, Type: TypeLong, Nullable: false},
		&StructField{Name: CommitTimestampColumn, Type: TypeTimestamp, Nullable: false})}
	return &ChangeFeed{table: t, snap: snap, schema: sch, Start: start, End: snap.Version()}, nil
}

// Schema returns the output schema (table columns plus the CDF columns).
func (cf *ChangeFeed) Schema() *StructType { return cf.schema }

// Rows calls fn for every change row, commit by commit.
func (cf *ChangeFeed) Rows(ctx context.Context, fn func(Row) error) error {
	files, err := cf.table.listLog(ctx, "")
	if err != nil {
		return err
	}
	byVersion := map[int64]LogFile{}
	for _, f := range files {
		if f.Kind == KindCommit {
			byVersion[f.Version] = f
		}
	}
	s := cf.snap
	parts := map[string]bool{}
	for _, p := range s.metadata.PartitionColumns {
		if f := s.schema.Field(p); f != nil {
			parts[f.Name] = true
		}
	}
	tableSchema := s.schema
	n := len(tableSchema.Fields)
	for v := cf.Start; v <= cf.End; v++ {
		lf, ok := byVersion[v]
		if !ok {
			return errs.E(errs.NotFound, ReasonVersionNotFound, "change data feed: commit %020d.json is missing from %s", v, cf.table.logPrefix())
		}
		acts, err := cf.table.readActionsFile(ctx, lf.Key)
		if err != nil {
			return err
		}
		ts := lf.ModTime
		for _, a := range acts {
			if a.CommitInfo != nil && a.CommitInfo.InCommitTimestamp != nil && s.InCommitTimestampsEnabled() {
				ts = time.UnixMilli(*a.CommitInfo.InCommitTimestamp).UTC()
			}
		}
		emit := func(changeType string) func(Row) error {
			return func(r Row) error {
				out := make(Row, n+3)
				copy(out, r[:n])
				if changeType != "" {
					out[n] = changeType
				} else {
					out[n] = r[n]
				}
				out[n+1] = v
				out[n+2] = ts
				return fn(out)
			}
		}
		var cdcs []*AddCDCFile
		for _, a := range acts {
			if a.CDC != nil {
				cdcs = append(cdcs, a.CDC)
			}
		}
		if len(cdcs) > 0 {
			withType := &StructType{Fields: append(append([]*StructField{}, tableSchema.Fields...), &StructField{Name: ChangeTypeColumn, Type: TypeString, Nullable: true})}
			for _, c := range cdcs {
				pv, err := s.partitionValuesOf(c.PartitionValues, c.Path)
				if err != nil {
					return err
				}
				if err := s.readDataFileCDC(ctx, withType, parts, c.Path, pv, emit("")); err != nil {
					return fmt.Errorf("change data feed version %d: %w", v, err)
				}
			}
			continue
		}
		removed := map[string]*Remove{}
		for _, a := range acts {
			if a.Remove != nil && a.Remove.DataChange {
				removed[CanonicalPath(a.Remove.Path)] = a.Remove
			}
		}
		for _, a := range acts {
			ad := a.Add
			if ad == nil || !ad.DataChange {
				continue
			}
			pv, err := s.partitionValuesOf(ad.PartitionValues, ad.Path)
			if err != nil {
				return err
			}
			cp := CanonicalPath(ad.Path)
			if rm, ok := removed[cp]; ok && (rm.DeletionVector != nil || ad.DeletionVector != nil) {
				// Same file with a new deletion vector: the change is the
				// difference of the two vectors.
				delete(removed, cp)
				oldDV, err := cf.table.LoadDeletionVector(ctx, rm.DeletionVector)
				if err != nil {
					return err
				}
				newDV, err := cf.table.LoadDeletionVector(ctx, ad.DeletionVector)
				if err != nil {
					return err
				}
				var kind []string
				idx := uint64(0)
				err = s.readDataFile(ctx, tableSchema, parts, ad.Path, pv, nil, func(i uint64) bool {
					o, nw := oldDV.Contains(i), newDV.Contains(i)
					switch {
					case !o && nw:
						kind = append(kind, "delete")
						return true
					case o && !nw:
						kind = append(kind, "insert")
						return true
					}
					return false
				}, func(r Row) error {
					k := kind[idx]
					idx++
					return emit(k)(r)
				})
				if err != nil {
					return fmt.Errorf("change data feed version %d: %w", v, err)
				}
				continue
			}
			if err := s.readDataFile(ctx, tableSchema, parts, ad.Path, pv, ad.DeletionVector, nil, emit("insert")); err != nil {
				return fmt.Errorf("change data feed version %d: %w", v, err)
			}
		}
		for _, rm := range removed {
			pv, err := s.partitionValuesOf(rm.PartitionValues, rm.Path)
			if err != nil {
				return err
			}
			if err := s.readDataFile(ctx, tableSchema, parts, rm.Path, pv, rm.DeletionVector, nil, emit("delete")); err != nil {
				return fmt.Errorf("change data feed version %d: %w", v, err)
			}
		}
	}
	return nil
}

// readDataFileCDC reads a _change_data/ file whose last output column is
// _change_type, stored in the file under that name.
func (s *Snapshot) readDataFileCDC(ctx context.Context, out *StructType, parts map[string]bool, logPath string, pv map[string]any, fn func(Row) error) error {
	return s.readDataFile(ctx, out, parts, logPath, pv, nil, nil, fn)
}
