package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/lineage"
)

func newLineageCmd(g *globals) *cobra.Command {
	var up, down bool
	var depth int
	var typ, column string
	cmd := &cobra.Command{
		Use:   "lineage SECURABLE",
		Short: "Show the lineage graph of a table, run, model version or endpoint",
		Long: `Show what SECURABLE is derived from (--upstream), what is derived from it
(--downstream), or both (the default), as a tree to --depth levels.

SECURABLE is a three-level table name by default; use --type for RUN,
MODEL_VERSION (catalog.schema.model/3), SERVING_ENDPOINT, PATH or EXTERNAL.
With --column the walk follows column-level lineage of that column.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if up && down {
				return usagef("--upstream and --downstream exclude each other; give neither for both directions")
			}
			if depth < 1 || depth > lineage.MaxDepth {
				return usagef("invalid --depth %d: use 1 to %d", depth, lineage.MaxDepth)
			}
			dir := "BOTH"
			if up {
				dir = "UPSTREAM"
			} else if down {
				dir = "DOWNSTREAM"
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			gr, err := c.LineageGraph(cmd.Context(), strings.ToUpper(typ), args[0], dir, depth, column)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return g.emit(gr, nil)
			}
			return writeTree(g.env.Stdout, gr)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&up, "upstream", false, "show only what the securable is derived from")
	f.BoolVar(&down, "downstream", false, "show only what is derived from the securable")
	f.IntVar(&depth, "depth", 3, fmt.Sprintf("levels to walk (1-%d)", lineage.MaxDepth))
	f.StringVar(&typ, "type", "TABLE", "securable type: TABLE, PATH, EXTERNAL, RUN, MODEL_VERSION, SERVING_ENDPOINT")
	f.StringVar(&column, "column", "", "follow column-level lineage of this column")
	return cmd
}

// writeTree prints the graph as one tree per direction; a node reached
// again (a cycle or a diamond) is printed once more as "(seen)" and not
// expanded.
func writeTree(w io.Writer, g *lineage.Graph) error {
	label := func(n lineage.Node, col string) string {
		s := n.Name
		if col != "" {
			s += "." + col
		}
		if n.Type != lineage.Table {
			s += " [" + string(n.Type) + "]"
		}
		return s
	}
	fmt.Fprintln(w, label(g.Root.Node, g.Root.Column))
	for _, dir := range []lineage.Direction{lineage.Upstream, lineage.Downstream} {
		if g.Root.Side != lineage.Both && g.Root.Side != dir {
			continue
		}
		children := map[string][]lineage.GraphEdge{}
		key := func(n lineage.Node, col string) string { return n.String() + "\x00" + col }
		for _, e := range g.Edges {
			if dir == lineage.Upstream {
				children[key(e.Target, e.TargetColumn)] = append(children[key(e.Target, e.TargetColumn)], e)
			} else {
				children[key(e.Source, e.SourceColumn)] = append(children[key(e.Source, e.SourceColumn)], e)
			}
		}
		arrow := "◀ upstream"
		if dir == lineage.Downstream {
			arrow = "▶ downstream"
		}
		fmt.Fprintln(w, arrow)
		seen := map[string]bool{key(g.Root.Node, g.Root.Column): true}
		var walk func(n lineage.Node, col, indent string, level int)
		walk = func(n lineage.Node, col, indent string, level int) {
			kids := children[key(n, col)]
			for i, e := range kids {
				other, ocol := e.Source, e.SourceColumn
				if dir == lineage.Downstream {
					other, ocol = e.Target, e.TargetColumn
				}
				branch, next := "├── ", "│   "
				if i == len(kids)-1 {
					branch, next = "└── ", "    "
				}
				k := key(other, ocol)
				suffix := ""
				if by := e.LastEvent.CreatedBy; by != "" {
					suffix += " by " + by
				}
				if !e.LastEvent.Time.IsZero() {
					suffix += " at " + e.LastEvent.Time.UTC().Format(time.RFC3339)
				}
				if seen[k] {
					fmt.Fprintf(w, "%s%s%s (seen)\n", indent, branch, label(other, ocol))
					continue
				}
				seen[k] = true
				fmt.Fprintf(w, "%s%s%s%s\n", indent, branch, label(other, ocol), suffix)
				walk(other, ocol, indent+next, level+1)
			}
		}
		walk(g.Root.Node, g.Root.Column, "", 1)
	}
	if g.Truncated {
		fmt.Fprintln(w, "(more lineage beyond --depth)")
	}
	return nil
}

func newAuditCmd(g *globals) *cobra.Command {
	var q client.AuditQuery
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show recent audit events (metastore admins only)",
		Long: `Show audit events newest first, from system.access.audit plus the events not
flushed to it yet. --action takes service.action (unityCatalog.getTable), an
action alone (getTable) or service.* (accounts.*).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return usagef("invalid --limit %d: use a positive number", limit)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			q.PageSize = min(limit, 1000)
			var evs []any
			var rows [][]any
			for len(rows) < limit {
				res, err := c.AuditEvents(cmd.Context(), q)
				if err != nil {
					return err
				}
				for _, e := range res.Events {
					if len(rows) == limit {
						break
					}
					evs = append(evs, e)
					sec := ""
					if e.Securable != nil {
						sec = e.Securable.Type + " " + e.Securable.FullName
					}
					who := e.Identity.SubjectName
					if who == "" {
						who = "-"
					}
					rows = append(rows, []any{e.EventTime.UTC().Format(time.RFC3339), who, e.Action(), e.Response.StatusCode, sec, e.RequestID})
				}
				if res.NextPageToken == "" {
					break
				}
				q.PageToken = res.NextPageToken
			}
			if evs == nil {
				evs = []any{}
			}
			return g.emit(evs, func() *table {
				t := &table{header: []string{"TIME", "PRINCIPAL", "ACTION", "STATUS", "SECURABLE", "REQUEST_ID"}}
				for _, r := range rows {
					t.add(r...)
				}
				return t
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Since, "since", "1h", "only events newer than this (1h, 30m, 7d or an RFC 3339 time)")
	f.StringVar(&q.Principal, "principal", "", "only events of this principal (name, email or id)")
	f.StringVar(&q.Action, "action", "", "only this action (service.action, action, or service.*)")
	f.IntVar(&limit, "limit", 50, "show at most this many events")
	return cmd
}
