package delta

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/errs"
)

func FuzzParseActions(f *testing.F) {
	f.Add([]byte(`{"add":{"path":"a","partitionValues":{"p":null},"size":1,"modificationTime":1,"dataChange":true}}`))
	f.Add([]byte(`{"remove":{"path":"file:///x","deletionTimestamp":1,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"ab","sizeInBytes":3,"cardinality":1}}}` + "\n" + `{"commitInfo":{"timestamp":1,"x":[1,2]}}`))
	f.Add([]byte(`{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"]}}`))
	f.Add([]byte(`{"metaData":{"id":"x","format":{"provider":"parquet"},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[]}}`))
	f.Add([]byte("\n\n{\"txn\":{\"appId\":\"a\",\"version\":3}}\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		acts, err := ParseActions(bytes.NewReader(data))
		if err != nil {
			require.Equal(t, ReasonCorruptLog, errs.ReasonOf(err), "unclassified error: %v", err)
			return
		}
		for _, a := range acts {
			if a.MetaData != nil {
				_, _ = ParseSchema(a.MetaData.SchemaString)
			}
			if dv := a.DeletionVectorOf(); dv != nil {
				_, _ = decodeInlineDV(dv.PathOrInlineDv, int(dv.SizeInBytes))
			}
		}
		_, err = MarshalActions(acts)
		require.NoError(t, err)
	})
}

func TestPartitionValues(t *testing.T) {
	t.Run("Escape", func(t *testing.T) {
		for in, want := range map[string]string{"a:b": "a%3Ab", "x/y=z": "x%2Fy%3Dz", "100%": "100%25", "plain": "plain", "a b": "a b"} {
			require.Equal(t, want, EscapePartitionValue(in))
			require.Equal(t, in, UnescapePartitionValue(want))
		}
		require.Equal(t, "%zz", UnescapePartitionValue("%zz"))
	})
	t.Run("DecodePath", func(t *testing.T) {
		p, err := DecodePath("ts=2024-01-01%2010%253A00%253A00/part-0.parquet")
		require.NoError(t, err)
		require.Equal(t, "ts=2024-01-01 10%3A00%3A00/part-0.parquet", p)
		pv := ParsePartitionDirs(p)
		require.Equal(t, "2024-01-01 10:00:00", *pv["ts"])
		require.Nil(t, ParsePartitionDirs("a=__HIVE_DEFAULT_PARTITION__/f.parquet")["a"])
		_, err = DecodePath("bad%zz")
		require.Error(t, err)
	})
	t.Run("Canonical", func(t *testing.T) {
		for _, p := range []string{"file:/x/y", "file:///x/y", "/x/y", "file://host/x/y", "/x%2Fy"[:0] + "/x/y"} {
			require.Equal(t, "/x/y", CanonicalPath(p), p)
		}
		require.Equal(t, "a b/c", CanonicalPath("a%20b/c"))
	})
	t.Run("Typed", func(t *testing.T) {
		s := func(v string) *string { return &v }
		cases := []struct {
			dt   DataType
			in   *string
			want any
		}{
			{TypeString, nil, nil},
			{TypeString, s("null"), "null"},
			{TypeString, s(""), ""},
			{TypeInteger, s(""), nil},
			{TypeInteger, s("-7"), int32(-7)},
			{TypeByte, s("12"), int8(12)},
			{TypeBoolean, s("true"), true},
			{TypeDate, s("2021-02-03"), time.Date(2021, 2, 3, 0, 0, 0, 0, time.UTC)},
			{TypeTimestamp, s("2024-01-01 10:00:00"), time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)},
			{TypeTimestamp, s("2024-01-01T10:00:00.000000Z"), time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)},
			{TypeBinary, s("ab"), []byte("ab")},
		}
		for _, c := range cases {
			got, err := ParsePartitionValue(c.dt, c.in)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		}
		d, err := ParsePartitionValue(&DecimalType{5, 2}, s("-1.5"))
		require.NoError(t, err)
		require.Equal(t, "-1.50", d.(Decimal).String())
		_, err = ParsePartitionValue(TypeInteger, s("x"))
		require.Error(t, err)
	})
}

func TestZ85(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		b, err := Z85Decode("HelloWorld")
		require.NoError(t, err)
		require.Equal(t, []byte{0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B}, b)
		s, err := Z85Encode(b)
		require.NoError(t, err)
		require.Equal(t, "HelloWorld", s)
	})
	t.Run("UUID", func(t *testing.T) {
		tbl := NewTable(nil, "tbl")
		key, err := tbl.dvFileKey(&DeletionVectorDescriptor{StorageType: "u", PathOrInlineDv: "ab" + "WYbkwCTB$gH)J7t?$/sK"})
		require.NoError(t, err)
		require.Equal(t, "tbl/ab/deletion_vector_b6a98cdd-7843-470d-8897-708cdffa38c5.bin", key)
	})
	t.Run("ErrBad", func(t *testing.T) {
		_, err := Z85Decode("abc")
		require.Error(t, err)
		_, err = Z85Decode("ab cd")
		require.Error(t, err)
	})
	t.Run("InlineDV", func(t *testing.T) {
		d, err := decodeInlineDV("^Bg9^0rr910000000000iXQKl0rr91000005c8Xg##093", 34)
		require.NoError(t, err)
		rows, err := ParseDeletionVector(d)
		require.NoError(t, err)
		require.Equal(t, []uint64{3}, rows.ToSlice())
		d, err = decodeInlineDV("^Bg9^0rr910000000000iXQKl0rr91000315c8Xg000f5", 36)
		require.NoError(t, err)
		rows, err = ParseDeletionVector(d)
		require.NoError(t, err)
		require.Equal(t, []uint64{0, 5}, rows.ToSlice())
		_, err = ParseDeletionVector([]byte("0123456789abcdef"))
		require.ErrorContains(t, err, "magic")
	})
}

func testSchema(t *testing.T) *StructType {
	s, err := ParseSchema(`{"type":"struct","fields":[
		{"name":"id","type":"long","nullable":true,"metadata":{}},
		{"name":"name","type":"string","nullable":true,"metadata":{}},
		{"name":"s","type":{"type":"struct","fields":[{"name":"x","type":"integer","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},
		{"name":"d","type":"decimal(10,2)","nullable":true,"metadata":{}},
		{"name":"ts","type":"timestamp","nullable":true,"metadata":{}},
		{"name":"p","type":"string","nullable":true,"metadata":{}}]}`)
	require.NoError(t, err)
	return s
}

func TestStats(t *testing.T) {
	sch := testSchema(t)
	st := ParseStats(`{"numRecords":10,"minValues":{"id":1,"name":"a","s":{"x":-3},"d":1.25,"ts":"2024-01-01T00:00:00.000Z"},"maxValues":{"id":9,"s":{"x":7},"d":99.5,"ts":"2024-01-02T00:00:00.123Z"},"nullCount":{"id":0,"name":2,"s":{"x":10}}}`, sch, ColumnMappingNone)
	require.NotNil(t, st)
	require.Equal(t, int64(10), st.NumRecords)
	require.Equal(t, int64(1), st.MinValues["id"])
	require.Equal(t, int32(-3), st.MinValues["s.x"])
	require.Equal(t, int32(7), st.MaxValues["s.x"])
	require.Equal(t, int64(10), st.NullCount["s.x"])
	require.Equal(t, "99.50", st.MaxValues["d"].(Decimal).String())
	require.Equal(t, time.Date(2024, 1, 2, 0, 0, 0, 123999000, time.UTC), st.MaxValues["ts"])
	require.Nil(t, ParseStats(`{not json`, sch, ColumnMappingNone))
	require.Nil(t, ParseStats(``, sch, ColumnMappingNone))
}

func TestSkipping(t *testing.T) {
	sch := testSchema(t)
	st := ParseStats(`{"numRecords":10,"minValues":{"id":10,"s":{"x":0}},"maxValues":{"id":20,"s":{"x":5}},"nullCount":{"id":0,"name":10,"s":{"x":0}}}`, sch, ColumnMappingNone)
	fv := &fileView{partition: map[string]any{"p": "a"}, isPart: map[string]bool{"p": true}, stats: st}
	cases := []struct {
		pred Predicate
		want bool
	}{
		{&Comparison{"id", OpEq, 15}, true},
		{&Comparison{"id", OpEq, 25}, false},
		{&Comparison{"id", OpLt, 10}, false},
		{&Comparison{"id", OpLe, 10}, true},
		{&Comparison{"id", OpGt, 20}, false},
		{&Comparison{"id", OpGe, 20}, true},
		{&Comparison{"S.X", OpGt, 5}, false},
		{&Comparison{"name", OpEq, "x"}, false}, // all NULL
		{&IsNull{Column: "name"}, true},
		{&IsNull{Column: "id"}, false},
		{&IsNull{Column: "id", Not: true}, true},
		{&In{"id", []any{1, 2, 30}}, false},
		{&In{"id", []any{1, 12}}, true},
		{&Comparison{"p", OpEq, "a"}, true},
		{&Comparison{"p", OpEq, "b"}, false},
		{&IsNull{Column: "p"}, false},
		{&And{[]Predicate{&Comparison{"p", OpEq, "a"}, &Comparison{"id", OpEq, 99}}}, false},
		{&Or{[]Predicate{&Comparison{"p", OpEq, "b"}, &Comparison{"id", OpEq, 11}}}, true},
		{&Not{&Comparison{"id", OpLt, 100}}, false},
		{&Comparison{"d", OpEq, "1.5"}, true}, // no stats: keep
	}
	for i, c := range cases {
		b, err := bindPredicate(sch, c.pred)
		require.NoError(t, err, i)
		require.Equal(t, c.want, fv.mightMatch(b), "case %d: %#v", i, c.pred)
	}
	_, err := bindPredicate(sch, &Comparison{"nope", OpEq, 1})
	require.Equal(t, ReasonInvalidPredicate, errs.ReasonOf(err))
	_, err = bindPredicate(sch, &Comparison{"id", OpEq, "abc"})
	require.Error(t, err)
}

// tableDir writes a table whose commits are given as lines of actions.
func tableDir(t *testing.T, commits ...string) (string, *Table) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "_delta_log"), 0o755))
	for i, c := range commits {
		if c == "" {
			continue
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "_delta_log", fmt.Sprintf("%020d.json", i)), []byte(c), 0o644))
	}
	b, err := localfs.New(dir)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return dir, NewTable(b, "")
}

const (
	protoLine = `{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}` + "\n"
	metaLine  = `{"metaData":{"id":"t","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{}}}` + "\n"
)

func TestErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrNotATable", func(t *testing.T) {
		dir := t.TempDir()
		b, err := localfs.New(dir)
		require.NoError(t, err)
		defer b.Close()
		_, err = NewTable(b, "").Latest(ctx)
		require.Equal(t, ReasonTableNotFound, errs.ReasonOf(err))
		require.True(t, errs.Is(err, errs.NotFound))
		require.Contains(t, err.Error(), "_delta_log/")
	})
	t.Run("ErrMissingVersion", func(t *testing.T) {
		_, tbl := tableDir(t, protoLine+metaLine)
		_, err := tbl.SnapshotAt(ctx, 5)
		require.Equal(t, ReasonVersionNotFound, errs.ReasonOf(err))
		require.Contains(t, err.Error(), "version 5")
	})
	t.Run("ErrCorruptCommit", func(t *testing.T) {
		_, tbl := tableDir(t, protoLine+metaLine, `{"add":{"path":"x",`)
		_, err := tbl.Latest(ctx)
		require.Equal(t, ReasonCorruptLog, errs.ReasonOf(err))
		require.Contains(t, err.Error(), "00000000000000000001.json")
		require.Contains(t, err.Error(), "line 1")
	})
	t.Run("ErrCorruptCheckpoint", func(t *testing.T) {
		dir, tbl := tableDir(t, protoLine+metaLine, `{"commitInfo":{}}`)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "_delta_log", "00000000000000000001.checkpoint.parquet"), []byte("PAR1 garbage"), 0o644))
		_, err := tbl.Latest(ctx)
		require.Error(t, err)
		require.Equal(t, ReasonCorruptLog, errs.ReasonOf(err))
		require.Contains(t, err.Error(), "00000000000000000001.checkpoint.parquet")
	})
	t.Run("ErrGap", func(t *testing.T) {
		_, tbl := tableDir(t, protoLine+metaLine, "", `{"commitInfo":{}}`)
		_, err := tbl.Latest(ctx)
		require.Equal(t, ReasonVersionsNotContiguous, errs.ReasonOf(err))
	})
	t.Run("ErrUnsupportedFeature", func(t *testing.T) {
		_, tbl := tableDir(t, `{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["fancyNewThing"],"writerFeatures":[]}}`+"\n"+metaLine)
		_, err := tbl.Latest(ctx)
		require.Equal(t, ReasonUnsupportedFeature, errs.ReasonOf(err))
		require.Contains(t, err.Error(), "fancyNewThing")
	})
	t.Run("ErrTruncatedParquet", func(t *testing.T) {
		type rec struct {
			ID int64 `parquet:"id"`
		}
		var buf bytes.Buffer
		require.NoError(t, parquet.Write(&buf, []rec{{1}, {2}, {3}}))
		dir, tbl := tableDir(t, protoLine+metaLine+`{"add":{"path":"good.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}}`+"\n"+`{"add":{"path":"bad.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}}`)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "good.parquet"), buf.Bytes(), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.parquet"), buf.Bytes()[:buf.Len()/2], 0o644))
		s, err := tbl.Latest(ctx)
		require.NoError(t, err)
		sc, err := s.Scan(ScanOptions{})
		require.NoError(t, err)
		files, err := sc.Files(ctx)
		require.NoError(t, err)
		require.Len(t, files, 2)
		var n int
		err = sc.ReadFile(ctx, files[1], func(Row) error { n++; return nil }) // good.parquet
		require.NoError(t, err)
		require.Equal(t, 3, n)
		err = sc.ReadFile(ctx, files[0], func(Row) error { return nil })
		require.Equal(t, ReasonCorruptData, errs.ReasonOf(err))
		require.Contains(t, err.Error(), "bad.parquet")
		err = os.Remove(filepath.Join(dir, "good.parquet"))
		require.NoError(t, err)
		err = sc.ReadFile(ctx, files[1], func(Row) error { return nil })
		require.Equal(t, ReasonFileNotFound, errs.ReasonOf(err))
	})
	t.Run("ErrMissingProtocol", func(t *testing.T) {
		_, tbl := tableDir(t, metaLine)
		_, err := tbl.Latest(ctx)
		require.Equal(t, ReasonMissingProtocol, errs.ReasonOf(err))
	})
}

func TestTimeTravelAndHistory(t *testing.T) {
	ctx := context.Background()
	dir, tbl := tableDir(t, protoLine+metaLine, `{"commitInfo":{"operation":"WRITE"}}`, `{"commitInfo":{"operation":"DELETE"}}`)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		p := filepath.Join(dir, "_delta_log", fmt.Sprintf("%020d.json", i))
		require.NoError(t, os.Chtimes(p, base.Add(time.Duration(i)*time.Hour), base.Add(time.Duration(i)*time.Hour)))
	}
	s, err := tbl.SnapshotAtTimestamp(ctx, base.Add(90*time.Minute))
	require.NoError(t, err)
	require.Equal(t, int64(1), s.Version())
	_, err = tbl.SnapshotAtTimestamp(ctx, base.Add(-time.Hour))
	require.Equal(t, ReasonVersionNotFound, errs.ReasonOf(err))
	h, err := tbl.History(ctx, 0)
	require.NoError(t, err)
	require.Len(t, h, 3)
	require.Equal(t, "DELETE", h[0].Info.Operation)
	require.True(t, strings.HasSuffix(h[2].Key, "00000000000000000000.json"))
}
