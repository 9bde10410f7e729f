package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/blob/s3blob"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// newDeltaCmd is the read-only `lakebox delta` command group over a local
// Delta table directory (or file:// URL).
func newDeltaCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "delta", Short: "Read and maintain Delta tables on local disk (scan, history, describe, changes, optimize, vacuum, restore)", Args: noArgs}

	var version int64
	var ts, columns, where, format string
	scan := &cobra.Command{
		Use:   "scan PATH",
		Short: "Print the rows of a Delta table (optionally at a version or timestamp)",
		Long: `Print the rows of a Delta table. PATH is a local directory, a file:// URL or
s3://bucket/prefix?endpoint=http://host:port&path_style=true (credentials from
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).

--where selects rows: terms "col op literal" (=, !=, <, <=, >, >=),
"col IS [NOT] NULL" and "col IN (lit, ...)" joined by AND / OR (AND binds
tighter; no parentheses). Files are skipped by partition values and min/max
statistics before any is read. --format jsonl prints the delta-compat encoding.`,
		Args: exactArgs(1, "PATH"),
		RunE: func(c *cobra.Command, args []string) error {
			tbl, closeFn, err := openDeltaPath(c.Context(), g.env, args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			var snap *delta.Snapshot
			switch {
			case c.Flags().Changed("version") && ts != "":
				return usagef("--version and --timestamp are mutually exclusive")
			case ts != "":
				t, perr := parseCLITime(ts)
				if perr != nil {
					return perr
				}
				snap, err = tbl.SnapshotAtTimestamp(c.Context(), t)
			case c.Flags().Changed("version"):
				snap, err = tbl.SnapshotAt(c.Context(), version)
			default:
				snap, err = tbl.Latest(c.Context())
			}
			if err != nil {
				return err
			}
			opts := delta.ScanOptions{}
			if columns != "" {
				for _, col := range strings.Split(columns, ",") {
					opts.Columns = append(opts.Columns, strings.TrimSpace(col))
				}
			}
			if where != "" {
				if opts.Filter, err = parseWhere(where); err != nil {
					return err
				}
			}
			sc, err := snap.Scan(opts)
			if err != nil {
				return err
			}
			return writeRows(g, format, sc.Schema(), func(fn func(delta.Row) error) error { return sc.Rows(c.Context(), fn) })
		},
	}
	scan.Flags().Int64Var(&version, "version", -1, "read this table version")
	scan.Flags().StringVar(&ts, "timestamp", "", "read the version current at this time (RFC 3339 or YYYY-MM-DD[ HH:MM:SS])")
	scan.Flags().StringVar(&columns, "columns", "", "comma-separated columns to print")
	scan.Flags().StringVar(&where, "where", "", "row filter, also used to skip files by partition values and statistics, e.g. \"year = 2024 AND id > 10\"")
	scan.Flags().StringVar(&format, "format", "table", "output format: table, jsonl or csv")

	history := &cobra.Command{
		Use:   "history PATH",
		Short: "List the commits of a Delta table, newest first",
		Args:  exactArgs(1, "PATH"),
		RunE: func(c *cobra.Command, args []string) error {
			tbl, closeFn, err := openDeltaPath(c.Context(), g.env, args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			h, err := tbl.History(c.Context(), 0)
			if err != nil {
				return err
			}
			type entry struct {
				Version   int64     `json:"version"`
				Timestamp time.Time `json:"timestamp"`
				Operation string    `json:"operation,omitempty"`
				Engine    string    `json:"engine,omitempty"`
			}
			var out []entry
			for _, e := range h {
				en := entry{Version: e.Version, Timestamp: e.Timestamp.UTC()}
				if e.Info != nil {
					en.Operation, en.Engine = e.Info.Operation, e.Info.EngineInfo
					if en.Engine == "" {
						en.Engine = e.Info.ClientVersion
					}
				}
				out = append(out, en)
			}
			return g.emit(out, func() *table {
				t := &table{header: []string{"VERSION", "TIMESTAMP", "OPERATION", "ENGINE"}}
				for _, e := range out {
					t.add(e.Version, e.Timestamp.Format(time.RFC3339), e.Operation, e.Engine)
				}
				return t
			})
		},
	}

	describe := &cobra.Command{
		Use:   "describe PATH",
		Short: "Show protocol, features, schema, partitioning, file count and size",
		Args:  exactArgs(1, "PATH"),
		RunE: func(c *cobra.Command, args []string) error {
			tbl, closeFn, err := openDeltaPath(c.Context(), g.env, args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			s, err := tbl.Latest(c.Context())
			if err != nil {
				return err
			}
			var size int64
			for _, f := range s.Files() {
				size += f.Size
			}
			type col struct {
				Name     string `json:"name"`
				Type     string `json:"type"`
				Nullable bool   `json:"nullable"`
			}
			var cols []col
			for _, f := range s.Schema().Fields {
				cols = append(cols, col{f.Name, f.Type.String(), f.Nullable})
			}
			out := map[string]any{
				"version": s.Version(), "protocol": s.Protocol(), "columns": cols,
				"partition_columns": s.PartitionColumns(), "configuration": s.Configuration(),
				"num_files": len(s.Files()), "size_bytes": size,
			}
			if g.output == "json" {
				return g.emit(out, nil)
			}
			w := g.env.Stdout
			p := s.Protocol()
			fmt.Fprintf(w, "version           %d\n", s.Version())
			fmt.Fprintf(w, "protocol          reader %d, writer %d\n", p.MinReaderVersion, p.MinWriterVersion)
			if len(p.ReaderFeatures) > 0 || len(p.WriterFeatures) > 0 {
				fmt.Fprintf(w, "reader features   %s\n", strings.Join(p.ReaderFeatures, ", "))
				fmt.Fprintf(w, "writer features   %s\n", strings.Join(p.WriterFeatures, ", "))
			}
			fmt.Fprintf(w, "partitioned by    %s\n", strings.Join(s.PartitionColumns(), ", "))
			fmt.Fprintf(w, "files             %d (%d bytes)\n", len(s.Files()), size)
			for k, v := range s.Configuration() {
				fmt.Fprintf(w, "property          %s=%s\n", k, v)
			}
			t := &table{header: []string{"COLUMN", "TYPE", "NULLABLE"}}
			for _, c := range cols {
				t.add(c.Name, c.Type, c.Nullable)
			}
			fmt.Fprintln(w)
			return t.write(w)
		},
	}

	var from, to int64
	changes := &cobra.Command{
		Use:   "changes PATH --from N [--to M]",
		Short: "Print the change data feed between two versions",
		Args:  exactArgs(1, "PATH"),
		RunE: func(c *cobra.Command, args []string) error {
			if !c.Flags().Changed("from") {
				return usagef("--from is required")
			}
			tbl, closeFn, err := openDeltaPath(c.Context(), g.env, args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			cf, err := tbl.ChangeDataFeed(c.Context(), from, to)
			if err != nil {
				return err
			}
			return writeRows(g, format, cf.Schema(), func(fn func(delta.Row) error) error { return cf.Rows(c.Context(), fn) })
		},
	}
	changes.Flags().Int64Var(&from, "from", 0, "first version (inclusive)")
	changes.Flags().Int64Var(&to, "to", -1, "last version (inclusive; default latest)")
	changes.Flags().StringVar(&format, "format", "table", "output format: table, jsonl or csv")

	cmd.AddCommand(scan, history, describe, changes)
	cmd.AddCommand(deltaWriteCommands(g)...)
	return cmd
}

// openDeltaPath opens a table at a local directory, a file:// URL or an
// s3://bucket/prefix?endpoint=…&region=…&path_style=true URL (credentials from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
func openDeltaPath(ctx context.Context, env *Env, p string) (*delta.Table, func(), error) {
	if strings.HasPrefix(p, "s3://") {
		cfg, err := s3blob.ParseURL(p)
		if err != nil {
			return nil, nil, usageError{err}
		}
		cfg.AccessKey, cfg.SecretKey = env.Getenv("AWS_ACCESS_KEY_ID"), env.Getenv("AWS_SECRET_ACCESS_KEY")
		if r := env.Getenv("AWS_REGION"); r != "" && cfg.Region == "" {
			cfg.Region = r
		}
		b, err := s3blob.New(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		return delta.NewTable(b, ""), func() {}, nil
	}
	if strings.HasPrefix(p, "file://") {
		p = strings.TrimPrefix(p, "file://")
	} else if strings.Contains(p, "://") {
		return nil, nil, usagef("PATH %q: accepted are local directories, file:// and s3:// URLs", p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, nil, err
	}
	// localfs.New creates missing directories; a read-only command must not.
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, nil, errs.E(errs.NotFound, delta.ReasonTableNotFound, "%s is not a Delta table: no such directory", abs)
	}
	b, err := localfs.New(abs)
	if err != nil {
		return nil, nil, err
	}
	return delta.NewTable(b, ""), func() { b.Close() }, nil
}

func parseCLITime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := delta.ParseTimestamp(s)
	if err != nil {
		return time.Time{}, usagef("--timestamp %q: use RFC 3339 (2024-01-02T15:04:05Z) or YYYY-MM-DD[ HH:MM:SS]", s)
	}
	return t, nil
}

// writeRows prints rows as a table, JSON lines (corpus encoding) or CSV.
func writeRows(g *globals, format string, schema *delta.StructType, each func(func(delta.Row) error) error) error {
	w := g.env.Stdout
	cell := func(f *delta.StructField, v any) (string, error) {
		if v == nil {
			return "", nil
		}
		b, err := delta.AppendJSON(nil, f.Type, v)
		if err != nil {
			return "", err
		}
		if s, err := strconv.Unquote(string(b)); err == nil && len(b) > 0 && b[0] == '"' {
			return s, nil
		}
		return string(b), nil
	}
	switch format {
	case "jsonl":
		return each(func(r delta.Row) error {
			b, err := delta.EncodeRow(schema, r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "%s\n", b)
			return err
		})
	case "csv":
		cw := csv.NewWriter(w)
		var hdr []string
		for _, f := range schema.Fields {
			hdr = append(hdr, f.Name)
		}
		if err := cw.Write(hdr); err != nil {
			return err
		}
		err := each(func(r delta.Row) error {
			rec := make([]string, len(r))
			for i, f := range schema.Fields {
				s, err := cell(f, r[i])
				if err != nil {
					return err
				}
				rec[i] = s
			}
			return cw.Write(rec)
		})
		cw.Flush()
		if err != nil {
			return err
		}
		return cw.Error()
	case "table":
		t := &table{}
		for _, f := range schema.Fields {
			t.header = append(t.header, strings.ToUpper(f.Name))
		}
		err := each(func(r delta.Row) error {
			cells := make([]any, len(r))
			for i, f := range schema.Fields {
				s, err := cell(f, r[i])
				if err != nil {
					return err
				}
				if r[i] == nil {
					s = "NULL"
				}
				cells[i] = s
			}
			t.add(cells...)
			return nil
		})
		if err != nil {
			return err
		}
		return t.write(w)
	}
	return usagef("--format %q: accepted formats are table, jsonl and csv", format)
}

// parseWhere parses a small predicate language: terms joined by AND / OR
// (AND binds tighter; no parentheses), each term "col op literal",
// "col IS [NOT] NULL" or "col IN (lit, ...)". Literals: 'string', numbers,
// true/false.
func parseWhere(s string) (delta.Predicate, error) {
	var ors []delta.Predicate
	for _, disj := range splitKeyword(s, "OR") {
		var ands []delta.Predicate
		for _, term := range splitKeyword(disj, "AND") {
			p, err := parseTerm(strings.TrimSpace(term))
			if err != nil {
				return nil, err
			}
			ands = append(ands, p)
		}
		ors = append(ors, &delta.And{Preds: ands})
	}
	if len(ors) == 1 {
		return ors[0], nil
	}
	return &delta.Or{Preds: ors}, nil
}

// splitKeyword splits on a case-insensitive keyword outside quotes.
func splitKeyword(s, kw string) []string {
	var out []string
	inQ := false
	last := 0
	u := strings.ToUpper(s)
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			inQ = !inQ
			continue
		}
		if !inQ && i > 0 && s[i-1] == ' ' && strings.HasPrefix(u[i:], kw+" ") {
			out = append(out, s[last:i-1])
			last = i + len(kw) + 1
			i = last - 1
		}
	}
	return append(out, s[last:])
}

func parseTerm(t string) (delta.Predicate, error) {
	u := strings.ToUpper(t)
	switch {
	case strings.HasSuffix(u, " IS NOT NULL"):
		return &delta.IsNull{Column: strings.TrimSpace(t[:len(t)-len(" IS NOT NULL")]), Not: true}, nil
	case strings.HasSuffix(u, " IS NULL"):
		return &delta.IsNull{Column: strings.TrimSpace(t[:len(t)-len(" IS NULL")])}, nil
	}
	if i := strings.Index(u, " IN ("); i > 0 && strings.HasSuffix(t, ")") {
		var vals []any
		for _, v := range strings.Split(t[i+5:len(t)-1], ",") {
			lit, err := parseLiteral(strings.TrimSpace(v))
			if err != nil {
				return nil, err
			}
			vals = append(vals, lit)
		}
		return &delta.In{Column: strings.TrimSpace(t[:i]), Values: vals}, nil
	}
	for _, op := range []string{"<=", ">=", "!=", "<>", "=", "<", ">"} {
		if i := strings.Index(t, op); i > 0 {
			lit, err := parseLiteral(strings.TrimSpace(t[i+len(op):]))
			if err != nil {
				return nil, err
			}
			o := delta.Op(op)
			if op == "<>" {
				o = delta.OpNe
			}
			return &delta.Comparison{Column: strings.TrimSpace(t[:i]), Op: o, Value: lit}, nil
		}
	}
	return nil, usagef("--where: cannot parse %q; use col op literal, col IS [NOT] NULL or col IN (...)", t)
}

func parseLiteral(s string) (any, error) {
	switch {
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	case strings.EqualFold(s, "true"):
		return true, nil
	case strings.EqualFold(s, "false"):
		return false, nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, nil
	}
	return nil, usagef("--where: %q is not a literal (quote strings with single quotes)", s)
}
