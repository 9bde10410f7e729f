package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
)

// sqlSession is the state of a `lakebox sql` run: where results go and the
// current catalog and schema (USE CATALOG / USE SCHEMA persist in it).
type sqlSession struct {
	g       *globals
	c       *client.Client
	format  string
	catalog string
	schema  string
	// disposition and resultFormat are how results travel: by default
	// EXTERNAL_LINKS in ARROW_STREAM, which has no size limit (INLINE
	// results fail beyond 25 MiB) and prints the same.
	disposition  string
	resultFormat string
}

func newSQLCmd(g *globals) *cobra.Command {
	s := &sqlSession{g: g}
	var file string
	var interactive bool
	cmd := &cobra.Command{
		Use:   "sql [STATEMENT]",
		Short: "Run SQL on the server's tables, or open an interactive SQL shell",
		Long: `Run SQL statements on the server through the SQL Statement Execution API.

The statements come from the argument, from -f FILE, or from standard input;
several statements are separated by ';' and run in order. With no statement
and a terminal on standard input (or with --interactive) an interactive
shell starts: statements end with ';' and may span lines, USE CATALOG and
USE SCHEMA persist, \q quits. On a terminal lines are editable and Up/Down
recall earlier statements (kept in ~/.lakebox/sql_history); Ctrl-C clears
the line or interrupts a running statement, Ctrl-D on an empty line quits.

Results are fetched, chunk by chunk, through the external links the server
signs (--disposition EXTERNAL_LINKS) in Apache Arrow (--result-format
ARROW_STREAM), so results of any size work; INLINE results are limited to
25 MiB. The output is the same whichever way the result travels.`,
		Example: `  lakebox sql "SELECT * FROM main.default.trips LIMIT 10"
  lakebox sql --format csv -f report.sql > report.csv
  echo "SELECT 1" | lakebox sql --format json
  lakebox sql --catalog main --schema sales`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch s.format {
			case "table", "csv", "json":
			default:
				return usagef("invalid --format %q: use table, csv or json", s.format)
			}
			if err := s.checkTransfer(); err != nil {
				return err
			}
			if len(args) > 1 {
				return usagef("lakebox sql takes one statement argument (quote it); got %d arguments", len(args))
			}
			if len(args) == 1 && file != "" {
				return usagef("give the statement as an argument or with -f, not both")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			s.c = c
			env := g.env
			var text string
			switch {
			case len(args) == 1:
				text = args[0]
			case file != "":
				b, err := os.ReadFile(file)
				if err != nil {
					return fmt.Errorf("read %s: %w", file, err)
				}
				text = string(b)
			case interactive || isTerminal(env.Stdin):
				return s.shell(cmd.Context(), env.Stdin)
			default:
				b, err := io.ReadAll(env.Stdin)
				if err != nil {
					return fmt.Errorf("read standard input: %w", err)
				}
				text = string(b)
			}
			stmts, rest := splitSQL(text)
			if strings.TrimSpace(rest) != "" {
				stmts = append(stmts, rest)
			}
			if len(stmts) == 0 {
				return usagef("no SQL statement given: pass it as an argument, with -f FILE or on standard input")
			}
			for i, st := range stmts {
				if i > 0 && s.format == "table" {
					fmt.Fprintln(env.Stdout)
				}
				if err := s.run(cmd.Context(), st); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.format, "format", "table", "output format: table, csv or json (an array of objects)")
	f.StringVar(&s.disposition, "disposition", "EXTERNAL_LINKS", "how results are fetched: EXTERNAL_LINKS (any size) or INLINE (at most 25 MiB)")
	f.StringVar(&s.resultFormat, "result-format", "", "wire format of results: ARROW_STREAM (default with EXTERNAL_LINKS) or JSON_ARRAY (default and only one with INLINE); the output is the same")
	f.StringVar(&s.catalog, "catalog", "", "catalog of unqualified names (default main)")
	f.StringVar(&s.schema, "schema", "", "schema of unqualified names (default default)")
	f.StringVarP(&file, "file", "f", "", "read the statements from `FILE`")
	f.BoolVar(&interactive, "interactive", false, "start the interactive shell even when standard input is not a terminal")
	return cmd
}

// isTerminal reports whether r is a character device (a terminal).
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// checkTransfer checks --disposition and --result-format and fills in the
// default format of the disposition.
func (s *sqlSession) checkTransfer() error {
	s.disposition, s.resultFormat = strings.ToUpper(s.disposition), strings.ToUpper(s.resultFormat)
	switch s.disposition {
	case "EXTERNAL_LINKS":
		if s.resultFormat == "" {
			s.resultFormat = "ARROW_STREAM"
		}
	case "INLINE":
		if s.resultFormat == "" {
			s.resultFormat = "JSON_ARRAY"
		}
	default:
		return usagef("invalid --disposition %q: use EXTERNAL_LINKS or INLINE", s.disposition)
	}
	switch {
	case s.resultFormat != "JSON_ARRAY" && s.resultFormat != "ARROW_STREAM":
		return usagef("invalid --result-format %q: use ARROW_STREAM or JSON_ARRAY", s.resultFormat)
	case s.disposition == "INLINE" && s.resultFormat == "ARROW_STREAM":
		return usagef("--result-format ARROW_STREAM needs --disposition EXTERNAL_LINKS; INLINE results are JSON_ARRAY")
	}
	return nil
}

// run executes one statement and writes its result.
func (s *sqlSession) run(ctx context.Context, stmt string) error {
	req := httpapi.ExecuteStatementRequest{Statement: stmt, Catalog: s.catalog, Schema: s.schema, WaitTimeout: "5s",
		Disposition: s.disposition, Format: s.resultFormat}
	if req.Catalog == "" && req.Schema != "" {
		req.Catalog = "main"
	}
	p := &progress{w: s.g.env.Stderr, tty: isTerminal(s.g.env.Stderr)}
	res, err := s.c.RunStatement(ctx, req, p.update)
	p.done()
	if err != nil {
		return err
	}
	s.applyUse(stmt)
	return writeResult(s.g.env.Stdout, s.format, res)
}

// progress shows that a long statement is still running: a counter
// rewritten in place on a terminal, a line every 10 seconds otherwise;
// and, on a terminal, the rows fetched so far of a long fetch.
type progress struct {
	w      io.Writer
	tty    bool
	shown  bool
	lastAt time.Duration
}

func (p *progress) update(u client.Progress) {
	waited, state := u.Waited, u.State
	if waited < 2*time.Second {
		return
	}
	if state == "SUCCEEDED" {
		if p.tty {
			fmt.Fprintf(p.w, "\r\033[Kfetched %d of %d rows… (Ctrl-C cancels)", u.Rows, u.TotalRows)
			p.shown = true
		}
		return
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s %ds… (Ctrl-C cancels)", strings.ToLower(state), int(waited.Seconds()))
		p.shown = true
		return
	}
	if waited-p.lastAt >= 10*time.Second || p.lastAt == 0 {
		p.lastAt = waited
		fmt.Fprintf(p.w, "statement still %s after %ds\n", strings.ToLower(state), int(waited.Seconds()))
	}
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// applyUse tracks USE CATALOG c / USE SCHEMA s / USE [DATABASE] c.s after
// it succeeded, so that later statements run there too.
func (s *sqlSession) applyUse(stmt string) {
	f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(stmt), ";"))
	if len(f) < 2 || !strings.EqualFold(f[0], "USE") {
		return
	}
	kind, rest := "SCHEMA", f[1:]
	if k := strings.ToUpper(rest[0]); (k == "CATALOG" || k == "SCHEMA" || k == "DATABASE") && len(rest) > 1 {
		kind, rest = k, rest[1:]
	}
	name := strings.NewReplacer("`", "", `"`, "").Replace(strings.Join(rest, ""))
	parts := strings.Split(name, ".")
	switch {
	case kind == "CATALOG":
		s.catalog, s.schema = name, "default"
	case len(parts) == 2:
		s.catalog, s.schema = parts[0], parts[1]
	default:
		if s.catalog == "" {
			s.catalog = "main"
		}
		s.schema = name
	}
}

// writeResult renders a result as a table, CSV or a JSON array of objects
// (numbers and booleans typed by the column, everything else a string).
func writeResult(w io.Writer, format string, res *client.StatementResult) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		var header []string
		for _, c := range res.Columns {
			header = append(header, c.Name)
		}
		cw.Write(header)
		for _, r := range res.Rows {
			rec := make([]string, len(r))
			for i, v := range r {
				if v != nil {
					rec[i] = *v
				}
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "json":
		var b bytes.Buffer
		b.WriteString("[")
		for i, r := range res.Rows {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n  {")
			for j, v := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				k, _ := json.Marshal(res.Columns[j].Name)
				b.Write(k)
				b.WriteString(": ")
				b.WriteString(jsonValue(v, res.Columns[j].TypeName))
			}
			b.WriteString("}")
		}
		if len(res.Rows) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("]\n")
		_, err := w.Write(b.Bytes())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var header []string
	for _, c := range res.Columns {
		header = append(header, c.Name)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range res.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = "NULL"
			if v != nil {
				cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(*v)
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Truncated {
		fmt.Fprintf(w, "(result truncated to %d rows)\n", len(res.Rows))
	}
	return nil
}

func jsonValue(v *string, typ string) string {
	if v == nil {
		return "null"
	}
	switch typ {
	case "BYTE", "SHORT", "INT", "LONG", "FLOAT", "DOUBLE", "DECIMAL":
		if json.Valid([]byte(*v)) {
			return *v
		}
	case "BOOLEAN":
		if *v == "true" || *v == "false" {
			return *v
		}
	case "ARRAY", "MAP", "STRUCT":
		if json.Valid([]byte(*v)) {
			return *v
		}
	}
	b, _ := json.Marshal(*v)
	return string(b)
}

// splitSQL returns the complete statements of buf (each ended by a ';'
// outside quotes and comments, without it) and the incomplete rest.
// Statements that are only white space or comments are dropped.
func splitSQL(buf string) (stmts []string, rest string) {
	start := 0
	for i := 0; i < len(buf); i++ {
		switch c := buf[i]; {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(buf) && !(buf[j] == c && (j+1 >= len(buf) || buf[j+1] != c)) {
				if buf[j] == c {
					j++ // doubled quote
				}
				j++
			}
			if j >= len(buf) {
				return stmts, buf[start:]
			}
			i = j
		case c == '-' && i+1 < len(buf) && buf[i+1] == '-':
			for i < len(buf) && buf[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(buf) && buf[i+1] == '*':
			end := strings.Index(buf[i+2:], "*/")
			if end < 0 {
				return stmts, buf[start:]
			}
			i += end + 3
		case c == ';':
			if st := buf[start:i]; hasSQL(st) {
				stmts = append(stmts, strings.TrimSpace(st))
			}
			start = i + 1
		}
	}
	rest = buf[start:]
	if !hasSQL(rest) {
		rest = ""
	}
	return stmts, rest
}

// hasSQL reports whether s holds more than white space and comments.
func hasSQL(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		l := strings.TrimSpace(line)
		if i := strings.Index(l, "--"); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		for {
			i := strings.Index(l, "/*")
			if i < 0 {
				break
			}
			j := strings.Index(l[i:], "*/")
			if j < 0 {
				l = l[:i]
				break
			}
			l = l[:i] + l[i+j+2:]
		}
		if strings.TrimSpace(l) != "" {
			return true
		}
	}
	return false
}

// shell is the interactive SQL shell: it reads lines, runs every complete
// statement and keeps going after errors; \q (or quit, exit, end of input)
// quits.
func (s *sqlSession) shell(ctx context.Context, in io.Reader) error {
	env := s.g.env
	hist, histPath := s.openHistory()
	if hist != nil {
		defer hist.Close()
	}
	var lines lineReader = plainLines{bufio.NewReader(in), env.Stderr}
	recall := &sqlHistory{}
	if f, ok := in.(*os.File); ok && isTerminal(in) {
		if histPath != "" {
			recall = loadHistory(histPath)
		}
		lines = newTermLines(f, env.Stderr, int(f.Fd()), recall)
	}
	fmt.Fprintln(env.Stderr, `Lakebox SQL shell. End statements with ';'. \q quits.`)
	var buf strings.Builder
	for {
		prompt := s.where() + "> "
		if buf.Len() > 0 {
			prompt = "    -> "
		}
		line, err := lines.Line(prompt)
		if err != nil && err != io.EOF {
			return fmt.Errorf("read input: %w", err)
		}
		eof := err == io.EOF
		if buf.Len() == 0 {
			switch strings.TrimSpace(line) {
			case `\q`, "quit", "exit", "quit;", "exit;":
				return nil
			}
		}
		buf.WriteString(line)
		stmts, rest := splitSQL(buf.String())
		if eof && rest != "" {
			stmts, rest = append(stmts, strings.TrimSpace(rest)), ""
		}
		buf.Reset()
		buf.WriteString(strings.TrimLeft(rest, "\n"))
		for _, st := range stmts {
			one := strings.Join(strings.Fields(st), " ") + ";"
			recall.push(one)
			if hist != nil {
				fmt.Fprintln(hist, one)
			}
			sctx, stop := signal.NotifyContext(ctx, os.Interrupt)
			err := s.run(sctx, st)
			stop()
			if err != nil {
				fmt.Fprintln(env.Stderr, "Error:", errorLine(err))
			}
		}
		if eof {
			if buf.Len() == 0 {
				fmt.Fprintln(env.Stderr)
			}
			return nil
		}
	}
}

// where is the prompt: the current catalog.schema.
func (s *sqlSession) where() string {
	c, sc := s.catalog, s.schema
	if c == "" {
		c = "main"
	}
	if sc == "" {
		sc = "default"
	}
	return c + "." + sc
}

// openHistory opens ~/.lakebox/sql_history for appending and returns it
// with its path (nil and "" when there is no home directory or it cannot
// be written).
func (s *sqlSession) openHistory() (*os.File, string) {
	if s.g.env.Home == "" {
		return nil, ""
	}
	dir := filepath.Join(s.g.env.Home, ".lakebox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, ""
	}
	path := filepath.Join(dir, "sql_history")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, ""
	}
	return f, path
}
