package delta

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/blob/memblob"
	"github.com/lakebox/lakebox/internal/errs"
)

func mustLocalTable(tb testing.TB) (*Table, string) {
	tb.Helper()
	dir := tb.TempDir()
	b, err := localfs.New(dir)
	require.NoError(tb, err)
	tb.Cleanup(func() { b.Close() })
	return NewTable(b, "tbl"), dir + "/tbl"
}

func mustMemTable(tb testing.TB) *Table {
	tb.Helper()
	return NewTable(memblob.New(), "t")
}

func mustCreate(tb testing.TB, tbl *Table, schema *StructType, parts []string, conf map[string]string) *Snapshot {
	tb.Helper()
	s, err := tbl.CreateTable(context.Background(), CreateTableOptions{Schema: schema, PartitionColumns: parts, Configuration: conf})
	require.NoError(tb, err)
	return s
}

func mustAppend(tb testing.TB, tbl *Table, rows []Row) CommitResult {
	tb.Helper()
	res, err := tbl.Append(context.Background(), rows, WriteOptions{})
	require.NoError(tb, err)
	return res
}

// readAll reads every row of the latest snapshot, sorted by its string form.
func wReadAll(tb testing.TB, tbl *Table) []Row {
	tb.Helper()
	snap, err := tbl.Latest(context.Background())
	require.NoError(tb, err)
	return wReadSnap(tb, snap)
}

func wReadSnap(tb testing.TB, snap *Snapshot) []Row {
	tb.Helper()
	sc, err := snap.Scan(ScanOptions{})
	require.NoError(tb, err)
	var rows []Row
	require.NoError(tb, sc.Rows(context.Background(), func(r Row) error { rows = append(rows, r); return nil }))
	sortRows(rows)
	return rows
}

func sortRows(rows []Row) {
	sort.Slice(rows, func(i, j int) bool { return rowString(rows[i]) < rowString(rows[j]) })
}

func rowString(r Row) string { return formatRow(r) }

func dec(s string, scale int) Decimal {
	d, err := ParseDecimal(s, scale)
	if err != nil {
		panic(err)
	}
	return d
}

func field(name string, t DataType) *StructField {
	return &StructField{Name: name, Type: t, Nullable: true}
}

func allTypesSchema() *StructType {
	inner := &StructType{Fields: []*StructField{field("x", TypeInteger), field("y", TypeString),
		field("z", &StructType{Fields: []*StructField{field("deep", TypeDouble)}})}}
	return &StructType{Fields: []*StructField{
		field("b", TypeBoolean), field("i8", TypeByte), field("i16", TypeShort), field("i32", TypeInteger),
		field("i64", TypeLong), field("f32", TypeFloat), field("f64", TypeDouble), field("s", TypeString),
		field("bin", TypeBinary), field("d5", &DecimalType{5, 2}), field("d15", &DecimalType{15, 4}),
		field("d30", &DecimalType{30, 10}), field("d38", &DecimalType{38, 0}), field("dt", TypeDate),
		field("ts", TypeTimestamp), field("tsntz", TypeTimestampNTZ), field("st", inner),
		field("arr", &ArrayType{ElementType: TypeLong, ContainsNull: true}),
		field("arrst", &ArrayType{ElementType: inner, ContainsNull: true}),
		field("m", &MapType{KeyType: TypeString, ValueType: TypeInteger, ValueContainsNull: true}),
		field("marr", &MapType{KeyType: TypeInteger, ValueType: &ArrayType{ElementType: TypeString, ContainsNull: true}, ValueContainsNull: true}),
		{Name: "req", Type: TypeLong, Nullable: false},
	}}
}

func allTypesRows(n int) []Row {
	var rows []Row
	base := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	for i := 0; i < n; i++ {
		r := Row{i%2 == 0, int8(i - 3), int16(-300 + i), int32(i * 1000), int64(i) << 40, float32(i) / 3, -float64(i) * 1.5,
			fmt.Sprintf("str-%d-ü", i), []byte{byte(i), 0, 255}, dec(fmt.Sprintf("%d.25", i), 2), dec(fmt.Sprintf("-%d.1234", i*1000), 4),
			dec(fmt.Sprintf("12345678901234567890.%010d", i), 10), Decimal{Unscaled: new(big.Int).Exp(big.NewInt(10), big.NewInt(37), nil), Scale: 0},
			time.Date(1969+i, 12, 31, 0, 0, 0, 0, time.UTC), base.Add(time.Duration(i) * time.Hour), base.Add(-time.Duration(i) * time.Minute),
			Row{int32(i), "in", Row{1.5}}, []any{int64(1), nil, int64(3)}, []any{Row{int32(1), nil, nil}, nil},
			[]MapEntry{{Key: "a", Value: int32(1)}, {Key: "b", Value: nil}}, []MapEntry{{Key: int32(7), Value: []any{"x", nil}}},
			int64(i)}
		switch i % 4 {
		case 1: // nulls everywhere nullable
			for j := 0; j < len(r)-1; j++ {
				r[j] = nil
			}
		case 2: // empty collections, null nested
			r[16] = Row{nil, nil, nil}
			r[17] = []any{}
			r[18] = []any{}
			r[19] = []MapEntry{}
			r[20] = []MapEntry{{Key: int32(1), Value: nil}}
		}
		rows = append(rows, r)
	}
	return rows
}

func TestRoundTripAllTypes(t *testing.T) {
	ctx := context.Background()
	tbl, _ := mustLocalTable(t)
	snap := mustCreate(t, tbl, allTypesSchema(), nil, nil)
	require.Equal(t, 3, snap.Protocol().MinReaderVersion, "timestamp_ntz needs table features")
	require.Equal(t, []string{"timestampNtz"}, snap.Protocol().ReaderFeatures)
	rows := allTypesRows(12)
	res := mustAppend(t, tbl, rows)
	require.Equal(t, int64(1), res.Version)
	got := wReadAll(t, tbl)
	want := append([]Row{}, rows...)
	sortRows(want)
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, rowString(want[i]), rowString(got[i]))
	}
	// Statistics are present and typed.
	snap, err := tbl.Latest(ctx)
	require.NoError(t, err)
	require.Len(t, snap.Files(), 1)
	st := ParseStats(snap.Files()[0].Stats, snap.Schema(), ColumnMappingNone)
	require.NotNil(t, st)
	require.Equal(t, int64(12), st.NumRecords)
	require.Equal(t, int64(3), st.NullCount["i64"])
	require.Equal(t, int32(0), st.MinValues["i32"])
	require.Equal(t, int32(11000), st.MaxValues["i32"])
	require.Equal(t, int64(6), st.NullCount["st.x"]) // NULL structs and NULL fields
	require.NotContains(t, st.MinValues, "b")
	require.NotContains(t, st.MinValues, "bin")
}

func TestRoundTripPartitioning(t *testing.T) {
	schema := &StructType{Fields: []*StructField{field("id", TypeLong), field("p", TypeString), field("q", TypeInteger),
		field("d", TypeDate), field("v", TypeDouble)}}
	vals := []any{"a", "null", "x y", "a:b/c=d%e", "ü€", "#?[]{}^\\", nil, "", " lead"}
	cases := []struct {
		name  string
		parts []string
	}{{"None", nil}, {"One", []string{"p"}}, {"Several", []string{"p", "q", "d"}}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl, dir := mustLocalTable(t)
			mustCreate(t, tbl, schema, c.parts, nil)
			var rows []Row
			for i, v := range vals {
				var q any = int32(i % 3)
				if i == 4 {
					q = nil
				}
				rows = append(rows, Row{int64(i), v, q, time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC), float64(i)})
			}
			mustAppend(t, tbl, rows)
			got := wReadAll(t, tbl)
			want := make([]Row, len(rows))
			for i, r := range rows {
				w := append(Row{}, r...)
				if w[1] == "" && len(c.parts) > 0 {
					w[1] = nil // Spark stores empty partition strings as NULL
				}
				want[i] = w
			}
			sortRows(want)
			require.Len(t, got, len(want))
			for i := range want {
				require.Equal(t, rowString(want[i]), rowString(got[i]))
			}
			if len(c.parts) > 0 {
				snap, err := tbl.Latest(context.Background())
				require.NoError(t, err)
				var paths []string
				for _, f := range snap.Files() {
					paths = append(paths, f.Path)
				}
				joined := strings.Join(paths, "\n")
				require.Contains(t, joined, "p=a%253Ab%252Fc%253Dd%2525e/")
				require.Contains(t, joined, "p=x%20y/")
				require.Contains(t, joined, "p=__HIVE_DEFAULT_PARTITION__/")
				require.Contains(t, joined, "p=null/")
				require.DirExists(t, dir+"/p=a%3Ab%2Fc%3Dd%25e")
			}
		})
	}
}

func TestCreateTableErrors(t *testing.T) {
	ctx := context.Background()
	tbl := mustMemTable(t)
	schema := &StructType{Fields: []*StructField{field("id", TypeLong), field("p", TypeString)}}
	t.Run("UnknownPartitionColumn", func(t *testing.T) {
		_, err := tbl.CreateTable(ctx, CreateTableOptions{Schema: schema, PartitionColumns: []string{"nope"}})
		require.Equal(t, errs.Invalid, errs.KindOf(err))
		require.Contains(t, err.Error(), "nope")
		_, err = tbl.Latest(ctx)
		require.Equal(t, errs.NotFound, errs.KindOf(err))
	})
	t.Run("AlreadyExists", func(t *testing.T) {
		mustCreate(t, tbl, schema, nil, nil)
		_, err := tbl.CreateTable(ctx, CreateTableOptions{Schema: schema})
		require.Equal(t, errs.AlreadyExists, errs.KindOf(err))
	})
}

func TestProtocolSelection(t *testing.T) {
	cases := []struct {
		name string
		conf map[string]string
		want Protocol
	}{
		{"Plain", nil, Protocol{MinReaderVersion: 1, MinWriterVersion: 2}},
		{"CDF", map[string]string{"delta.enableChangeDataFeed": "true"}, Protocol{MinReaderVersion: 1, MinWriterVersion: 4}},
		{"ColumnMapping", map[string]string{"delta.columnMapping.mode": "name"}, Protocol{MinReaderVersion: 2, MinWriterVersion: 5}},
		{"DV", map[string]string{"delta.enableDeletionVectors": "true"}, Protocol{MinReaderVersion: 3, MinWriterVersion: 7, ReaderFeatures: []string{"deletionVectors"}, WriterFeatures: []string{"deletionVectors"}}},
		{"ICT+CDF", map[string]string{"delta.enableInCommitTimestamps": "true", "delta.enableChangeDataFeed": "true"}, Protocol{MinReaderVersion: 1, MinWriterVersion: 7, WriterFeatures: []string{"changeDataFeed", "inCommitTimestamp"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl := mustMemTable(t)
			s := mustCreate(t, tbl, &StructType{Fields: []*StructField{field("id", TypeLong)}}, nil, c.conf)
			require.Equal(t, c.want, *s.Protocol())
		})
	}
}

var _ blob.Bucket = (*memblob.Bucket)(nil)

// TestFlatShreddingRejectsWholeRow writes a schema of primitive columns
// only (the shredder's flat path) with NULLs and rows rejected at their
// first, middle and last column: rejected rows leave nothing in the file
// or its statistics, and the file reads back as the accepted rows.
func TestFlatShreddingRejectsWholeRow(t *testing.T) {
	schema := &StructType{Fields: []*StructField{field("id", TypeLong), field("s", TypeString),
		field("d", TypeDouble), {Name: "n", Type: TypeInteger, Nullable: false}}}
	plan, err := buildParquetPlan(schema, ColumnMappingNone, -1)
	require.NoError(t, err)
	require.True(t, plan.flat)
	var buf bytes.Buffer
	fw := newParquetFileWriter(&buf, plan, "test")
	var want []Row
	for i := 0; i < 10000; i++ {
		r := Row{int64(i), fmt.Sprintf("s%05d", i), float64(i) / 4, int32(i)}
		if i%7 == 0 {
			r[0], r[1], r[2] = nil, nil, nil
		}
		require.NoError(t, fw.Write(r))
		want = append(want, r)
		for _, bad := range []Row{
			{"x", "late", 1.0, int32(1)},                  // first column
			{int64(-1), "zzz", "x", int32(1)},             // middle column
			{int64(-1), "zzz", 1.0, nil},                  // last column: NULL in a non-nullable column
			{int64(-1), "zzz", 1.0, int64(math.MaxInt64)}, // last column: out of range
		} {
			err := fw.Write(bad)
			require.Equal(t, errs.Invalid, errs.KindOf(err), "%v", err)
		}
	}
	_, err = fw.Close()
	require.NoError(t, err)
	require.Equal(t, int64(len(want)), fw.rows)
	require.Equal(t, `{"numRecords":10000,"minValues":{"id":1,"s":"s00001","d":0.25,"n":0},"maxValues":{"id":9999,"s":"s09999","d":2499.75,"n":9999},"nullCount":{"id":1429,"s":1429,"d":1429,"n":0}}`,
		statsJSON(fw.rows, plan.stats))
	pf, err := openParquet("flat", buf.Bytes())
	require.NoError(t, err)
	var got []Row
	require.NoError(t, pf.readRows(schema, fieldMatcher{ColumnMappingNone}, func(r Row) error {
		got = append(got, append(Row{}, r...))
		return nil
	}))
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, rowString(want[i]), rowString(got[i]))
	}
}

// TestNestedShreddingRejectsWholeRow: a row rejected after a NULL struct
// counts no NULLs and widens no bounds.
func TestNestedShreddingRejectsWholeRow(t *testing.T) {
	schema := &StructType{Fields: []*StructField{field("st", &StructType{Fields: []*StructField{field("x", TypeInteger)}}), field("id", TypeLong)}}
	plan, err := buildParquetPlan(schema, ColumnMappingNone, -1)
	require.NoError(t, err)
	require.False(t, plan.flat)
	var buf bytes.Buffer
	fw := newParquetFileWriter(&buf, plan, "test")
	require.NoError(t, fw.Write(Row{Row{int32(5)}, int64(1)}))
	require.Equal(t, errs.Invalid, errs.KindOf(fw.Write(Row{nil, "x"})))
	require.Equal(t, errs.Invalid, errs.KindOf(fw.Write(Row{Row{int32(-9)}, "x"})))
	require.NoError(t, fw.Write(Row{Row{int32(7)}, int64(2)}))
	_, err = fw.Close()
	require.NoError(t, err)
	require.Equal(t, `{"numRecords":2,"minValues":{"st":{"x":5},"id":1},"maxValues":{"st":{"x":7},"id":2},"nullCount":{"st":{"x":0},"id":0}}`,
		statsJSON(fw.rows, plan.stats))
}

// TestTargetFileSizeUnpartitioned rolls the one open file of an
// unpartitioned table: every row lands in exactly one file and each file's
// numRecords counts its rows.
func TestTargetFileSizeUnpartitioned(t *testing.T) {
	ctx := context.Background()
	tbl, _ := mustLocalTable(t)
	mustCreate(t, tbl, &StructType{Fields: []*StructField{field("id", TypeLong), field("s", TypeString)}}, nil, nil)
	var rows []Row
	for i := 0; i < 20000; i++ {
		rows = append(rows, Row{int64(i), fmt.Sprintf("row-%06d", i)})
	}
	_, err := tbl.Append(ctx, rows, WriteOptions{Txn: TransactionOptions{TargetFileSize: 64 << 10}})
	require.NoError(t, err)
	snap, err := tbl.Latest(ctx)
	require.NoError(t, err)
	require.Greater(t, len(snap.Files()), 1)
	total := int64(0)
	for _, f := range snap.Files() {
		total += ParseStats(f.Stats, snap.Schema(), ColumnMappingNone).NumRecords
	}
	require.Equal(t, int64(len(rows)), total)
	got := wReadAll(t, tbl)
	sortRows(rows)
	require.Len(t, got, len(rows))
	for i := range rows {
		require.Equal(t, rowString(rows[i]), rowString(got[i]))
	}
}
