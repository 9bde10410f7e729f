package delta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/errs"
)

// corpusDir finds /work/shared/delta-compat: $LAKEBOX_SHARED/delta-compat,
// or ../shared/delta-compat next to the module root.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	if s := os.Getenv("LAKEBOX_SHARED"); s != "" {
		d := filepath.Join(s, "delta-compat")
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	dir, err := os.Getwd()
	require.NoError(tb, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "delta-compat")
			if _, err := os.Stat(d); err == nil {
				return d
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	tb.Skip("delta-compat corpus not found: set LAKEBOX_SHARED to the directory holding delta-compat/")
	return ""
}

type expectedCase struct {
	Case          string                     `json:"case"`
	LatestVersion *int64                     `json:"latest_version"`
	Versions      map[string]json.RawMessage `json:"versions"`
	CDF           []struct {
		Start    int64            `json:"start_version"`
		End      *int64           `json:"end_version"`
		Resolved int64            `json:"end_version_resolved"`
		Columns  []string         `json:"columns"`
		RowCount *int             `json:"row_count"`
		Rows     []map[string]any `json:"rows"`
	} `json:"change_data_feed"`
	Error *struct {
		When     string `json:"when"`
		Expected string `json:"expected"`
	} `json:"error"`
	ModTimes map[string]int64 `json:"latest_active_file_modification_times"`
}

type expectedVersion struct {
	Missing          bool              `json:"missing_commit_file"`
	Protocol         map[string]any    `json:"protocol"`
	Columns          []map[string]any  `json:"columns"`
	PartitionColumns []string          `json:"partition_columns"`
	Configuration    map[string]string `json:"configuration"`
	RowCount         *int              `json:"row_count"`
	Rows             []map[string]any  `json:"rows"`
	ActiveFiles      []string          `json:"active_files"`
	Projections      []struct {
		Columns  []string         `json:"columns"`
		RowCount *int             `json:"row_count"`
		Rows     []map[string]any `json:"rows"`
	} `json:"projections"`
}

func decodeJSON(tb testing.TB, b []byte, v any) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	require.NoError(tb, dec.Decode(v))
}

// normalize makes JSON values comparable: numbers become canonical strings.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(x.String())
		if !ok {
			return "num:" + x.String()
		}
		return "num:" + r.RatString()
	case float64:
		r := new(big.Rat)
		r.SetFloat64(x)
		return "num:" + r.RatString()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// cellMatches compares an actual (normalized) cell with an expected one,
// honouring {"$any_of": [...]} and treating maps as unordered entry lists.
func cellMatches(exp, act any) bool {
	if m, ok := exp.(map[string]any); ok {
		if alts, ok := m["$any_of"].([]any); ok && len(m) == 1 {
			for _, a := range alts {
				if cellMatches(a, act) {
					return true
				}
			}
			return false
		}
		am, ok := act.(map[string]any)
		if !ok || len(am) != len(m) {
			return false
		}
		for k, e := range m {
			if !cellMatches(e, am[k]) {
				return false
			}
		}
		return true
	}
	if el, ok := exp.([]any); ok {
		al, ok := act.([]any)
		if !ok || len(al) != len(el) {
			return false
		}
		if isEntryList(el) && isEntryList(al) {
			used := make([]bool, len(al))
		outer:
			for _, e := range el {
				for j, a := range al {
					if !used[j] && cellMatches(e, a) {
						used[j] = true
						continue outer
					}
				}
				return false
			}
			return true
		}
		for i := range el {
			if !cellMatches(el[i], al[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(exp, act)
}

func isEntryList(l []any) bool {
	if len(l) == 0 {
		return false
	}
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok || len(m) != 2 {
			return false
		}
		if _, ok := m["key"]; !ok {
			return false
		}
		if _, ok := m["value"]; !ok {
			return false
		}
	}
	return true
}

// matchMultiset pairs expected and actual rows (both normalized), greedily.
func matchMultiset(t *testing.T, what string, exp []map[string]any, act []map[string]any) {
	t.Helper()
	if len(exp) != len(act) {
		t.Errorf("%s: %d rows, want %d\nactual sample: %s", what, len(act), len(exp), sample(act))
		return
	}
	used := make([]bool, len(act))
	for _, e := range exp {
		en := normalize(map[string]any(e))
		found := false
		for j, a := range act {
			if !used[j] && cellMatches(en, a) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			b, _ := json.Marshal(e)
			t.Errorf("%s: expected row not found: %s\nactual sample: %s", what, b, sample(act))
			return
		}
	}
}

func sample(rows []map[string]any) string {
	var s []string
	for i, r := range rows {
		if i == 3 {
			break
		}
		b, _ := json.Marshal(r)
		s = append(s, string(b))
	}
	return strings.Join(s, "\n")
}

// encodeRows encodes rows with the package encoder and decodes them back to
// normalized generic JSON, keeping only cols (nil = all).
func encodeRows(t *testing.T, schema *StructType, rows []Row, cols []string) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		b, err := EncodeRow(schema, r)
		require.NoError(t, err)
		var m map[string]any
		decodeJSON(t, b, &m)
		if cols != nil {
			p := map[string]any{}
			for _, c := range cols {
				p[c] = m[c]
			}
			m = p
		}
		out = append(out, normalize(m).(map[string]any))
	}
	return out
}

func openCase(t *testing.T, dir string) *Table {
	t.Helper()
	b, err := localfs.New(filepath.Join(dir, "table"))
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return NewTable(b, "")
}

func readAll(ctx context.Context, s *Snapshot, cols []string) (*StructType, []Row, error) {
	sc, err := s.Scan(ScanOptions{Columns: cols})
	if err != nil {
		return nil, nil, err
	}
	var rows []Row
	err = sc.Rows(ctx, func(r Row) error { rows = append(rows, r); return nil })
	return sc.Schema(), rows, err
}

func TestCompat(t *testing.T) {
	root := corpusDir(t)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	ctx := context.Background()
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
		if err != nil {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			var exp expectedCase
			decodeJSON(t, raw, &exp)
			tbl := openCase(t, dir)
			if exp.Error != nil {
				s, err := tbl.Latest(ctx)
				if err == nil {
					_, _, err = readAll(ctx, s, nil)
				}
				require.Error(t, err, "expected failure: %s", exp.Error.Expected)
				require.NotEqual(t, errs.Internal, errs.KindOf(err), "error should be classified: %v", err)
				t.Logf("refused as expected (%s): %v", errs.ReasonOf(err), err)
				switch exp.Error.Expected {
				case "DELTA_VERSIONS_NOT_CONTIGUOUS":
					require.Equal(t, ReasonVersionsNotContiguous, errs.ReasonOf(err))
				case "missing metadata":
					require.Equal(t, ReasonMissingMetadata, errs.ReasonOf(err))
				case "unsupported reader version":
					require.Equal(t, ReasonUnsupportedReaderVersion, errs.ReasonOf(err))
				default:
					if strings.Contains(exp.Error.Expected, "DELTA_TABLE_NOT_FOUND") {
						require.Equal(t, ReasonTableNotFound, errs.ReasonOf(err))
					}
				}
				return
			}
			latest, err := tbl.Latest(ctx)
			require.NoError(t, err)
			if exp.LatestVersion != nil {
				require.Equal(t, *exp.LatestVersion, latest.Version(), "latest version")
			}
			if exp.ModTimes != nil {
				got := map[string]int64{}
				for _, f := range latest.Files() {
					got[f.Path] = f.ModificationTime
				}
				for p, mt := range exp.ModTimes {
					require.Equal(t, mt, got[p], "modification time of %s", p)
				}
			}
			versions := sortedKeys(exp.Versions)
			for _, vs := range versions {
				var ev expectedVersion
				decodeJSON(t, exp.Versions[vs], &ev)
				var v int64
				fmt.Sscan(vs, &v)
				t.Run("v"+vs, func(t *testing.T) {
					s, err := tbl.SnapshotAt(ctx, v)
					if ev.Missing && err != nil {
						t.Logf("version %d has no commit file: %v", v, err)
						return
					}
					require.NoError(t, err)
					require.Equal(t, v, s.Version())
					checkSnapshotFacts(t, s, &ev)
					if ev.Rows != nil || ev.RowCount != nil {
						schema, rows, err := readAll(ctx, s, nil)
						require.NoError(t, err)
						if ev.RowCount != nil {
							require.Equal(t, *ev.RowCount, len(rows), "row count")
						}
						if ev.Rows != nil {
							matchMultiset(t, "rows", ev.Rows, encodeRows(t, schema, rows, nil))
						}
					}
					for _, p := range ev.Projections {
						schema, rows, err := readAll(ctx, s, p.Columns)
						require.NoError(t, err)
						if p.RowCount != nil {
							require.Equal(t, *p.RowCount, len(rows), "projection row count")
						}
						matchMultiset(t, fmt.Sprintf("projection %v", p.Columns), p.Rows, encodeRows(t, schema, rows, nil))
					}
				})
			}
			for _, c := range exp.CDF {
				end := int64(-1)
				if c.End != nil {
					end = *c.End
				}
				t.Run(fmt.Sprintf("cdf_%d_%d", c.Start, c.Resolved), func(t *testing.T) {
					cf, err := tbl.ChangeDataFeed(ctx, c.Start, end)
					require.NoError(t, err)
					require.Equal(t, c.Resolved, cf.End)
					var rows []Row
					require.NoError(t, cf.Rows(ctx, func(r Row) error { rows = append(rows, r); return nil }))
					if c.RowCount != nil {
						require.Equal(t, *c.RowCount, len(rows), "cdf row count")
					}
					matchMultiset(t, "cdf rows", c.Rows, encodeRows(t, cf.Schema(), rows, c.Columns))
				})
			}
		})
	}
	t.Logf("%d cases", n)
}

func checkSnapshotFacts(t *testing.T, s *Snapshot, ev *expectedVersion) {
	t.Helper()
	if ev.Protocol != nil {
		b, err := json.Marshal(s.Protocol())
		require.NoError(t, err)
		var got map[string]any
		decodeJSON(t, b, &got)
		exp := ev.Protocol
		// An empty feature list and an absent one are the same protocol.
		for _, k := range []string{"readerFeatures", "writerFeatures"} {
			if l, ok := exp[k].([]any); ok && len(l) == 0 {
				delete(exp, k)
			}
		}
		require.Equal(t, normalize(exp), normalize(got), "protocol")
	}
	if ev.Columns != nil {
		var got []map[string]any
		for _, f := range s.Schema().Fields {
			tb, err := MarshalDataType(f.Type)
			require.NoError(t, err)
			var ty any
			decodeJSON(t, tb, &ty)
			got = append(got, map[string]any{"name": f.Name, "type": ty, "nullable": f.Nullable})
		}
		var exp []any
		for _, c := range ev.Columns {
			exp = append(exp, normalize(c))
		}
		var g []any
		for _, c := range got {
			g = append(g, normalize(c))
		}
		require.Equal(t, exp, g, "columns")
	}
	if ev.PartitionColumns != nil {
		got := s.PartitionColumns()
		if got == nil {
			got = []string{}
		}
		require.Equal(t, ev.PartitionColumns, got, "partition columns")
	}
	if ev.Configuration != nil {
		require.Equal(t, ev.Configuration, s.Configuration(), "configuration")
	}
	if ev.ActiveFiles != nil {
		var got []string
		for _, f := range s.Files() {
			got = append(got, f.Path)
		}
		sort.Strings(got)
		if got == nil {
			got = []string{}
		}
		require.Equal(t, ev.ActiveFiles, got, "active files")
	}
}
