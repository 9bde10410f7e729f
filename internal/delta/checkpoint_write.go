package delta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// CheckpointOptions configure WriteCheckpoint.
type CheckpointOptions struct {
	// Clock decides which tombstones have expired (default time.Now).
	Clock func() time.Time
}

// lastCheckpointInfo is what this writer puts in _last_checkpoint.
type lastCheckpointInfo struct {
	Version       int64 `json:"version"`
	Size          int64 `json:"size"`
	SizeInBytes   int64 `json:"sizeInBytes"`
	NumOfAddFiles int64 `json:"numOfAddFiles"`
}

// WriteCheckpoint writes a classic single-file Parquet checkpoint of
// version (put-if-absent: an existing checkpoint of that version is kept)
// and points _last_checkpoint at it unless it already names a newer one.
// The checkpoint holds protocol, metaData, txn, live domainMetadata, every
// live add (stats as a JSON string) and the tombstones younger than
// delta.deletedFileRetentionDuration. Errors: those of SnapshotAt; storage
// errors.
func (t *Table) WriteCheckpoint(ctx context.Context, version int64, opts CheckpointOptions) error {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	snap, err := t.SnapshotAt(ctx, version)
	if err != nil {
		return err
	}
	retention, err := retentionOf(snap.Configuration(), "delta.deletedFileRetentionDuration", defaultDeletedFileRetention)
	if err != nil {
		return err
	}
	minDeletion := opts.Clock().Add(-retention).UnixMilli()
	plan, err := buildParquetPlan(CheckpointSchema(), ColumnMappingNone, 0)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	fw := newParquetFileWriter(&buf, plan, "Lakebox/"+EngineVersion)
	n := int64(0)
	nf := len(CheckpointSchema().Fields)
	write := func(i int, v Row) error {
		r := make(Row, nf)
		r[i] = v
		n++
		return fw.Write(r)
	}
	p := snap.Protocol()
	if err := write(3, Row{int32(p.MinReaderVersion), int32(p.MinWriterVersion), strList(p.ReaderFeatures), strList(p.WriterFeatures)}); err != nil {
		return err
	}
	md := snap.Metadata()
	if err := write(2, Row{md.ID, strPtr(md.Name), strPtr(md.Description), Row{md.Format.Provider, strMapEntries(md.Format.Options)},
		md.SchemaString, strList(orEmpty(md.PartitionColumns)), strMapEntries(md.Configuration), i64Ptr(md.CreatedTime)}); err != nil {
		return err
	}
	for _, app := range sortedKeys(snap.Transactions()) {
		x := snap.Transactions()[app]
		if err := write(4, Row{x.AppID, x.Version, i64Ptr(x.LastUpdated)}); err != nil {
			return err
		}
	}
	for _, d := range sortedKeys(snap.DomainMetadata()) {
		x := snap.DomainMetadata()[d]
		if err := write(5, Row{x.Domain, x.Configuration, x.Removed}); err != nil {
			return err
		}
	}
	for _, a := range snap.Files() {
		if err := write(0, Row{a.Path, pvEntries(a.PartitionValues), a.Size, a.ModificationTime, false, strOrNil(a.Stats),
			strMapEntries(a.Tags), dvRow(a.DeletionVector), i64Ptr(a.BaseRowID), i64Ptr(a.DefaultRowCommitVersion), strOrNil(a.ClusteringProvider)}); err != nil {
			return err
		}
	}
	for _, r := range snap.Tombstones() {
		if r.DeletionTimestamp != nil && *r.DeletionTimestamp < minDeletion {
			continue
		}
		var ext any
		if r.ExtendedFileMetadata != nil {
			ext = *r.ExtendedFileMetadata
		}
		var pv any
		if r.PartitionValues != nil {
			pv = pvEntries(r.PartitionValues)
		}
		if err := write(1, Row{r.Path, i64Ptr(r.DeletionTimestamp), false, ext, pv, i64Ptr(r.Size), dvRow(r.DeletionVector),
			i64Ptr(r.BaseRowID), i64Ptr(r.DefaultRowCommitVersion)}); err != nil {
			return err
		}
	}
	size, err := fw.Close()
	if err != nil {
		return err
	}
	key := t.logPrefix() + fmt.Sprintf("%020d.checkpoint.parquet", version)
	err = t.bucket.Put(ctx, key, bytes.NewReader(buf.Bytes()), blob.PutOptions{IfAbsent: true, ContentType: "application/vnd.apache.parquet"})
	if err != nil && !errs.Is(err, errs.Conflict) {
		return fmt.Errorf("write checkpoint %s: %w", key, err)
	}
	if err != nil {
		// Another writer checkpointed this version: keep its file.
		return nil
	}
	if cur := t.readLastCheckpoint(ctx); cur >= version {
		return nil
	}
	info, _ := json.Marshal(lastCheckpointInfo{Version: version, Size: n, SizeInBytes: size, NumOfAddFiles: int64(len(snap.Files()))})
	if err := t.bucket.Put(ctx, t.logPrefix()+"_last_checkpoint", bytes.NewReader(info), blob.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("write _last_checkpoint: %w", err)
	}
	return nil
}

var _ io.Writer = (*bytes.Buffer)(nil)

func strList(s []string) any {
	if s == nil {
		return nil
	}
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func strPtr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func i64Ptr(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func strMapEntries(m map[string]string) any {
	if m == nil {
		return nil
	}
	out := make([]MapEntry, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, MapEntry{Key: k, Value: m[k]})
	}
	return out
}

func pvEntries(pv PartitionValues) any {
	out := make([]MapEntry, 0, len(pv))
	for _, k := range sortedKeys(pv) {
		var v any
		if pv[k] != nil {
			v = *pv[k]
		}
		out = append(out, MapEntry{Key: k, Value: v})
	}
	return out
}

func dvRow(d *DeletionVectorDescriptor) any {
	if d == nil {
		return nil
	}
	var off any
	if d.Offset != nil {
		off = *d.Offset
	}
	return Row{d.StorageType, d.PathOrInlineDv, off, d.SizeInBytes, d.Cardinality}
}
