package delta

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/blob/memblob"
)

// benchRows is the row count of BenchmarkAppend (default 10M; override with
// LAKEBOX_BENCH_ROWS).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("LAKEBOX_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

type benchRec struct {
	ID    int64   `parquet:"id"`
	Value float64 `parquet:"value"`
	Name  string  `parquet:"name"`
}

const benchBatch = 1 << 16

// BenchmarkAppend writes N rows of (long, double, string) through the Delta
// writer (Parquet + statistics + commit, into a localfs table) and the same
// rows with parquet-go's GenericWriter into one local file (the baseline,
// measured in the same run); both fsync. Both cycle over one pre-built batch
// so row generation is not measured. Reported: rows/s of each and
// delta/baseline throughput ratio.
func BenchmarkAppend(b *testing.B) {
	n := benchRows()
	rows := make([]Row, benchBatch)
	recs := make([]benchRec, benchBatch)
	for i := range rows {
		s := fmt.Sprintf("name-%07d", i*7919%benchBatch)
		rows[i] = Row{int64(i), float64(i) * 0.5, s}
		recs[i] = benchRec{int64(i), float64(i) * 0.5, s}
	}
	schema := &StructType{Fields: []*StructField{field("id", TypeLong), field("value", TypeDouble), field("name", TypeString)}}
	ctx := context.Background()
	var deltaDur, baseDur time.Duration
	for it := 0; it < b.N; it++ {
		// Both write to local disk in the same directory: the baseline one
		// Parquet file with parquet-go, the Delta writer a table through
		// localfs (temp file, fsync, rename) plus its commit.
		dir := b.TempDir()
		start := time.Now()
		out, err := os.Create(filepath.Join(dir, "baseline.parquet"))
		if err != nil {
			b.Fatal(err)
		}
		buf := bufio.NewWriterSize(out, 1<<20)
		w := parquet.NewGenericWriter[benchRec](buf, parquet.Compression(&snappy.Codec{}))
		for done := 0; done < n; done += benchBatch {
			k := min(benchBatch, n-done)
			if _, err := w.Write(recs[:k]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := buf.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := out.Sync(); err != nil {
			b.Fatal(err)
		}
		baseDur += time.Since(start)
		st, _ := out.Stat()
		baseSize := st.Size()
		out.Close()

		// Delta writer.
		bucket, err := localfs.New(filepath.Join(dir, "tables"))
		if err != nil {
			b.Fatal(err)
		}
		tbl := NewTable(bucket, "bench")
		if _, err := tbl.CreateTable(ctx, CreateTableOptions{Schema: schema}); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		txn, err := tbl.StartTransaction(ctx, TransactionOptions{})
		if err != nil {
			b.Fatal(err)
		}
		_, err = txn.WriteSeq(ctx, func(yield func(Row, error) bool) {
			for done := 0; done < n; done += benchBatch {
				k := min(benchBatch, n-done)
				for _, r := range rows[:k] {
					if !yield(r, nil) {
						return
					}
				}
			}
		}, WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := txn.Commit(ctx, Operation{Name: "WRITE"}); err != nil {
			b.Fatal(err)
		}
		deltaDur += time.Since(start)
		if it == 0 {
			snap, _ := tbl.Latest(ctx)
			b.Logf("rows=%d delta file bytes=%d baseline bytes=%d", n, snap.Files()[0].Size, baseSize)
		}
	}
	total := float64(n) * float64(b.N)
	b.ReportMetric(total/deltaDur.Seconds(), "delta_rows/s")
	b.ReportMetric(total/baseDur.Seconds(), "parquetgo_rows/s")
	b.ReportMetric(baseDur.Seconds()/deltaDur.Seconds(), "delta/baseline")
}

// BenchmarkConcurrentAppenders runs 8 goroutines appending one small batch
// per commit to one table on local disk (put-if-absent by link(2)) and
// reports commits/s; it fails if any commit is lost or duplicated.
func BenchmarkConcurrentAppenders(b *testing.B) {
	tbl, _ := mustLocalTable(b)
	ctx := context.Background()
	schema := &StructType{Fields: []*StructField{field("writer", TypeInteger), field("seq", TypeLong)}}
	if _, err := tbl.CreateTable(ctx, CreateTableOptions{Schema: schema}); err != nil {
		b.Fatal(err)
	}
	const writers = 8
	per := max(1, b.N/writers)
	var retries atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				res, err := tbl.Append(ctx, []Row{{int32(w), int64(i)}}, WriteOptions{})
				if err != nil {
					errc <- err
					return
				}
				retries.Add(int64(res.Attempts - 1))
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	close(errc)
	for err := range errc {
		b.Fatal(err)
	}
	snap, err := tbl.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	want := int64(writers * per)
	if snap.Version() != want {
		b.Fatalf("latest version %d, want %d", snap.Version(), want)
	}
	seen := map[[2]int64]bool{}
	sc, _ := snap.Scan(ScanOptions{})
	if err := sc.Rows(ctx, func(r Row) error {
		k := [2]int64{int64(r[0].(int32)), r[1].(int64)}
		if seen[k] {
			return fmt.Errorf("duplicate row %v", k)
		}
		seen[k] = true
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	if int64(len(seen)) != want {
		b.Fatalf("%d rows, want %d (lost commits)", len(seen), want)
	}
	b.ReportMetric(float64(want)/el.Seconds(), "commits/s")
	b.ReportMetric(float64(retries.Load())/float64(want), "retries/commit")
}

// BenchmarkSelectiveScan builds a table of 100 partitions x 10 files
// (1,000 files, one commit) and scans it with a selective predicate on the
// partition column and a data column; it reports files surviving skipping
// against the total.
func BenchmarkSelectiveScan(b *testing.B) {
	ctx := context.Background()
	tbl := NewTable(memblob.New(), "sel")
	schema := &StructType{Fields: []*StructField{field("part", TypeInteger), field("id", TypeLong), field("v", TypeDouble)}}
	if _, err := tbl.CreateTable(ctx, CreateTableOptions{Schema: schema, PartitionColumns: []string{"part"}}); err != nil {
		b.Fatal(err)
	}
	txn, _ := tbl.StartTransaction(ctx, TransactionOptions{})
	id := int64(0)
	for f := 0; f < 10; f++ {
		var rows []Row
		for p := 0; p < 100; p++ {
			for i := 0; i < 50; i++ {
				rows = append(rows, Row{int32(p), id, float64(id)})
				id++
			}
		}
		if _, err := txn.WriteRows(ctx, rows, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := txn.Commit(ctx, Operation{Name: "WRITE"}); err != nil {
		b.Fatal(err)
	}
	snap, err := tbl.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// Rows of partition 42 in the 4th write: ids 3*5000 + 42*50 ...
	lo := int64(3*5000 + 42*50)
	pred := &And{Preds: []Predicate{&Comparison{Column: "part", Op: OpEq, Value: 42},
		&Comparison{Column: "id", Op: OpGe, Value: lo}, &Comparison{Column: "id", Op: OpLt, Value: lo + 10}}}
	var files []ScanFile
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sc, err := snap.Scan(ScanOptions{Filter: pred})
		if err != nil {
			b.Fatal(err)
		}
		if files, err = sc.Files(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(files)), "files_read")
	b.ReportMetric(float64(len(snap.Files())), "files_total")
	sc, _ := snap.Scan(ScanOptions{Filter: pred})
	n := 0
	for _, f := range files {
		_ = sc.ReadFile(ctx, f, func(r Row) error {
			if x := r[1].(int64); x >= lo && x < lo+10 {
				n++
			}
			return nil
		})
	}
	if n != 10 {
		b.Fatalf("matched %d rows, want 10", n)
	}
}
