package delta

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob/localfs"
)

// Checkpoint rows for the benchmark log, written with parquet-go's generic
// writer (checkpoint writing proper belongs to the write path).
type benchAdd struct {
	Path             string            `parquet:"path"`
	PartitionValues  map[string]string `parquet:"partitionValues"`
	Size             int64             `parquet:"size"`
	ModificationTime int64             `parquet:"modificationTime"`
	DataChange       bool              `parquet:"dataChange"`
	Stats            *string           `parquet:"stats,optional"`
}

type benchMeta struct {
	ID               string            `parquet:"id"`
	SchemaString     string            `parquet:"schemaString"`
	PartitionColumns []string          `parquet:"partitionColumns,list"`
	Configuration    map[string]string `parquet:"configuration"`
}

type benchProto struct {
	MinReaderVersion int32 `parquet:"minReaderVersion"`
	MinWriterVersion int32 `parquet:"minWriterVersion"`
}

type benchRow struct {
	Add      *benchAdd   `parquet:"add,optional"`
	MetaData *benchMeta  `parquet:"metaData,optional"`
	Protocol *benchProto `parquet:"protocol,optional"`
}

const benchSchema = `{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]}`

// buildBenchLog writes commits 0..n-1 (one add each) and, when every > 0, a
// classic checkpoint every `every` versions plus _last_checkpoint.
func buildBenchLog(tb testing.TB, n, every int) string {
	tb.Helper()
	dir := tb.TempDir()
	logDir := filepath.Join(dir, "_delta_log")
	require.NoError(tb, os.MkdirAll(logDir, 0o755))
	stats := `{"numRecords":100,"minValues":{"id":0},"maxValues":{"id":99},"nullCount":{"id":0}}`
	var rows []benchRow
	rows = append(rows, benchRow{Protocol: &benchProto{1, 2}}, benchRow{MetaData: &benchMeta{ID: "bench", SchemaString: benchSchema, PartitionColumns: []string{}, Configuration: map[string]string{}}})
	for v := 0; v < n; v++ {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, `{"commitInfo":{"timestamp":%d,"operation":"WRITE"}}`+"\n", 1700000000000+v)
		if v == 0 {
			buf.WriteString(protoLine + `{"metaData":{"id":"bench","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{}}}` + "\n")
		}
		p := fmt.Sprintf("part-%05d.parquet", v)
		fmt.Fprintf(&buf, `{"add":{"path":%q,"partitionValues":{},"size":1000,"modificationTime":%d,"dataChange":true,"stats":%q}}`+"\n", p, 1700000000000+v, stats)
		require.NoError(tb, os.WriteFile(filepath.Join(logDir, fmt.Sprintf("%020d.json", v)), buf.Bytes(), 0o644))
		s := stats
		rows = append(rows, benchRow{Add: &benchAdd{Path: p, PartitionValues: map[string]string{}, Size: 1000, ModificationTime: int64(1700000000000 + v), DataChange: false, Stats: &s}})
		if every > 0 && v > 0 && v%every == 0 {
			var pb bytes.Buffer
			require.NoError(tb, parquet.Write(&pb, rows))
			require.NoError(tb, os.WriteFile(filepath.Join(logDir, fmt.Sprintf("%020d.checkpoint.parquet", v)), pb.Bytes(), 0o644))
			require.NoError(tb, os.WriteFile(filepath.Join(logDir, "_last_checkpoint"), []byte(fmt.Sprintf(`{"version":%d,"size":%d}`, v, len(rows))), 0o644))
		}
	}
	return dir
}

func benchLoad(b *testing.B, dir string, wantFiles int) {
	bk, err := localfs.New(dir)
	require.NoError(b, err)
	defer bk.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A fresh Table each time: this measures a first load, not the
		// snapshot cache (see BenchmarkLatestAfterCommit).
		s, err := NewTable(bk, "").Latest(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Files()) != wantFiles {
			b.Fatalf("%d files, want %d", len(s.Files()), wantFiles)
		}
	}
}

// BenchmarkLatestSnapshot10kCheckpointed loads the latest snapshot of a
// 10,000-commit table with a classic Parquet checkpoint every 10 commits
// (replay = checkpoint 9990 + 9 JSON commits).
func BenchmarkLatestSnapshot10kCheckpointed(b *testing.B) {
	dir := buildBenchLog(b, 10000, 10)
	benchLoad(b, dir, 10000)
}

// BenchmarkLatestSnapshot10kJSONOnly is the baseline: the same log without
// checkpoints (replay of all 10,000 JSON commits).
func BenchmarkLatestSnapshot10kJSONOnly(b *testing.B) {
	dir := buildBenchLog(b, 10000, 0)
	benchLoad(b, dir, 10000)
}

func TestBenchLogCheckpointReadable(t *testing.T) {
	dir := buildBenchLog(t, 25, 10)
	bk, err := localfs.New(dir)
	require.NoError(t, err)
	defer bk.Close()
	s, err := NewTable(bk, "").Latest(context.Background())
	require.NoError(t, err)
	require.Equal(t, int64(20), s.Segment().CheckpointVersion)
	require.Len(t, s.Files(), 25)
	require.NotNil(t, ParseStats(s.Files()[0].Stats, s.Schema(), ColumnMappingNone))
}

// BenchmarkLatestAfterCommit measures what a frequent writer pays per
// commit to see the table's latest state: one new JSON commit lands on a
// 10,000-commit table (checkpoint every 10), then Latest. "cached" reuses
// the Table, whose snapshot is extended by the new commit (Snapshot.Update);
// "fresh" is the baseline of a new Table loading from the checkpoint.
//
//	go test -run '^$' -bench BenchmarkLatestAfterCommit ./internal/delta/
func BenchmarkLatestAfterCommit(b *testing.B) {
	for _, mode := range []string{"fresh", "cached"} {
		b.Run(mode, func(b *testing.B) {
			dir := buildBenchLog(b, 10000, 10)
			bk, err := localfs.New(dir)
			require.NoError(b, err)
			defer bk.Close()
			ctx := context.Background()
			tbl := NewTable(bk, "")
			if _, err := tbl.Latest(ctx); err != nil {
				b.Fatal(err)
			}
			logDir := filepath.Join(dir, "_delta_log")
			v := int64(10000)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				line := fmt.Sprintf(`{"commitInfo":{"timestamp":%d,"operation":"WRITE"}}`+"\n"+`{"add":{"path":"extra-%d.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}}`+"\n", 1700000000000+v, v)
				require.NoError(b, os.WriteFile(filepath.Join(logDir, fmt.Sprintf("%020d.json", v)), []byte(line), 0o644))
				v++
				t := tbl
				if mode == "fresh" {
					t = NewTable(bk, "")
				}
				s, err := t.Latest(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if s.Version() != v-1 {
					b.Fatalf("version %d, want %d", s.Version(), v-1)
				}
			}
		})
	}
}
