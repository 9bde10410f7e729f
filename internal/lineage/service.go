package lineage

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// Options configure a Service. Zero values pick defaults.
type Options struct {
	// Visibility filters results; nil = metastore admins only.
	Visibility Visibility
	// Sink receives recorded edges for the system tables (nil = none).
	Sink   Sink
	Logger *slog.Logger
	Clock  func() time.Time
	NewID  func() string
}

// Service records and answers lineage.
type Service struct {
	store Store
	o     Options
}

// NewService returns a lineage service on store.
func NewService(store Store, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	return &Service{store: store, o: o}
}

// SetVisibility installs the visibility check (app calls it once the catalog
// is up; not safe to call concurrently with requests).
func (s *Service) SetVisibility(v Visibility) { s.o.Visibility = v }

// ColumnMapping says that TargetColumn of the target is derived from
// SourceColumn of Source.
type ColumnMapping struct {
	Source       Node
	SourceColumn string
	TargetColumn string
}

// stamp fills the event's defaults from ctx.
func (s *Service) stamp(ctx context.Context, ev Event) Event {
	if ev.Time.IsZero() {
		ev.Time = s.o.Clock()
	}
	ev.Time = ev.Time.UTC()
	if ev.EventID == "" {
		ev.EventID = s.o.NewID()
	}
	if id := auth.IdentityFrom(ctx); id != nil && ev.CreatedBy == "" {
		ev.CreatedBy, ev.CreatedByID = id.Principal.Name, id.Principal.ID
	}
	return ev
}

// RecordTableLineage records that target was written from sources (table
// edges) and, per mapping, which target columns come from which source
// columns. A column mapping's source is added to the table edges when
// missing. Errors: errs.Invalid naming the bad node; storage errors.
func (s *Service) RecordTableLineage(ctx context.Context, sources []Node, target Node, columns []ColumnMapping, ev Event) error {
	ev = s.stamp(ctx, ev)
	var edges []Edge
	seen := map[Node]bool{}
	for _, src := range sources {
		src = src.Normalize()
		if !seen[src] {
			seen[src] = true
			edges = append(edges, Edge{Source: src, Target: target, Event: ev})
		}
	}
	for _, c := range columns {
		src := c.Source.Normalize()
		if !seen[src] {
			seen[src] = true
			edges = append(edges, Edge{Source: src, Target: target, Event: ev})
		}
		edges = append(edges, Edge{Source: src, Target: target, SourceColumn: c.SourceColumn, TargetColumn: c.TargetColumn, Event: ev})
	}
	return s.RecordEdges(ctx, edges)
}

// RecordModelLineage records dataset → training run → model version:
// each input (a table, path or external dataset) feeds the MLflow run runID,
// which produced modelVersion ("<model full name>/<version>"; empty = the
// run produced no registered version yet).
func (s *Service) RecordModelLineage(ctx context.Context, inputs []Node, runID, modelVersion string, ev Event) error {
	ev = s.stamp(ctx, ev)
	if ev.EntityType == "" {
		ev.EntityType, ev.EntityID = "MLFLOW_RUN", runID
	}
	run := Node{Type: Run, Name: runID}
	var edges []Edge
	for _, in := range inputs {
		edges = append(edges, Edge{Source: in.Normalize(), Target: run, Event: ev})
	}
	if modelVersion != "" {
		edges = append(edges, Edge{Source: run, Target: Node{Type: ModelVersion, Name: modelVersion}, Event: ev})
	}
	return s.RecordEdges(ctx, edges)
}

// RecordServingLineage records model version → serving endpoint, and
// optionally endpoint → inference table (inferenceTable "" = none).
func (s *Service) RecordServingLineage(ctx context.Context, modelVersion, endpoint, inferenceTable string, ev Event) error {
	ev = s.stamp(ctx, ev)
	if ev.EntityType == "" {
		ev.EntityType, ev.EntityID = "SERVING", endpoint
	}
	ep := Node{Type: ServingEndpoint, Name: endpoint}
	edges := []Edge{{Source: Node{Type: ModelVersion, Name: modelVersion}, Target: ep, Event: ev}}
	if inferenceTable != "" {
		edges = append(edges, Edge{Source: ep, Target: TableNode(inferenceTable).Normalize(), Event: ev})
	}
	return s.RecordEdges(ctx, edges)
}

// RecordEdges validates and stores edges (IDs are derived from their
// content, so re-recording is harmless), then hands them to the sink.
// Errors: errs.Invalid naming the bad edge; storage errors.
func (s *Service) RecordEdges(ctx context.Context, edges []Edge) error {
	if len(edges) == 0 {
		return nil
	}
	out := make([]Edge, 0, len(edges))
	for i := range edges {
		e := edges[i]
		e.Source, e.Target = e.Source.Normalize(), e.Target.Normalize()
		if e.Event.Time.IsZero() {
			e.Event = s.stamp(ctx, e.Event)
		}
		if err := e.Validate(); err != nil {
			return err
		}
		e.computeID()
		out = append(out, e)
	}
	if err := s.store.AddEdges(ctx, out); err != nil {
		return err
	}
	if s.o.Sink != nil {
		if err := s.o.Sink.Write(out); err != nil {
			s.o.Logger.Error("lineage system table spool failed; edges are stored but not in system.access.table_lineage",
				"edges", len(out), "err", err.Error())
		}
	}
	return nil
}

// canSee applies the visibility rule to one node.
func (s *Service) canSee(ctx context.Context, n Node) bool {
	id := auth.IdentityFrom(ctx)
	if id != nil && id.Admin {
		return true
	}
	if s.o.Visibility == nil {
		return false
	}
	return s.o.Visibility.CanSee(ctx, string(n.Type), n.Name)
}

// CheckRead returns errs.PermissionDenied unless the caller may see n.
func (s *Service) CheckRead(ctx context.Context, n Node) error {
	if s.canSee(ctx, n) {
		return nil
	}
	if s.o.Visibility == nil {
		return errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "lineage is restricted to metastore admins until catalog permissions are wired")
	}
	return errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "you cannot see %s %s", n.Type, n.Name)
}

// WalkOptions configure Walk.
type WalkOptions struct {
	Direction Direction
	Depth     int // default 3, at most MaxDepth
	// Column restricts the walk to column-level edges starting at this
	// column of the root (a TABLE).
	Column string
}

// Limits of Walk.
const (
	MaxDepth    = 20
	MaxNodes    = 1000
	DefaultDept = 3
)

// GraphNode is a node reached by a walk.
type GraphNode struct {
	Node
	Column string    `json:"column,omitempty"`
	Depth  int       `json:"depth"`
	Side   Direction `json:"direction"`
}

// GraphEdge aggregates the events between one source and target.
type GraphEdge struct {
	Source       Node   `json:"source"`
	Target       Node   `json:"target"`
	SourceColumn string `json:"source_column,omitempty"`
	TargetColumn string `json:"target_column,omitempty"`
	EventCount   int    `json:"event_count"`
	LastEvent    Event  `json:"last_event"`
}

// Graph is the result of a walk.
type Graph struct {
	Root      GraphNode   `json:"root"`
	Nodes     []GraphNode `json:"nodes"`
	Edges     []GraphEdge `json:"edges"`
	Truncated bool        `json:"truncated"`
}

type visitKey struct {
	n   Node
	col string
}

type edgeKey struct {
	s, t       Node
	scol, tcol string
}

// Walk returns the lineage graph around root. Errors: errs.Invalid for bad
// options; errs.PermissionDenied when the caller cannot see root.
func (s *Service) Walk(ctx context.Context, root Node, o WalkOptions) (*Graph, error) {
	root = root.Normalize()
	if err := root.Validate(); err != nil {
		return nil, err
	}
	if o.Direction == "" {
		o.Direction = Both
	}
	if o.Depth == 0 {
		o.Depth = DefaultDept
	}
	if o.Depth < 1 || o.Depth > MaxDepth {
		return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "depth %d is out of range; accepted: 1 to %d", o.Depth, MaxDepth)
	}
	if err := s.CheckRead(ctx, root); err != nil {
		return nil, err
	}
	g := &Graph{Root: GraphNode{Node: root, Column: o.Column, Side: o.Direction}}
	edges := map[edgeKey]*GraphEdge{}
	var order []edgeKey
	visible := map[Node]bool{root: true}
	seenEdge := map[string]bool{}
	see := func(n Node) bool {
		v, ok := visible[n]
		if !ok {
			v = s.canSee(ctx, n)
			visible[n] = v
		}
		return v
	}
	dirs := []Direction{Upstream, Downstream}
	if o.Direction != Both {
		dirs = []Direction{o.Direction}
	}
	for _, dir := range dirs {
		visited := map[visitKey]bool{{root, o.Column}: true}
		frontier := []visitKey{{root, o.Column}}
		for depth := 1; depth <= o.Depth && len(frontier) > 0; depth++ {
			var next []visitKey
			for _, cur := range frontier {
				adj, err := s.store.Adjacent(ctx, cur.n, dir, cur.col)
				if err != nil {
					return nil, err
				}
				for _, e := range adj {
					other, ocol := e.Source, e.SourceColumn
					if dir == Downstream {
						other, ocol = e.Target, e.TargetColumn
					}
					if !see(other) {
						continue
					}
					if !seenEdge[e.ID] { // an edge is met twice only through a cycle
						seenEdge[e.ID] = true
						k := edgeKey{e.Source, e.Target, e.SourceColumn, e.TargetColumn}
						if ge, ok := edges[k]; ok {
							ge.EventCount++
							if e.Event.Time.After(ge.LastEvent.Time) {
								ge.LastEvent = e.Event
							}
						} else {
							edges[k] = &GraphEdge{Source: e.Source, Target: e.Target, SourceColumn: e.SourceColumn, TargetColumn: e.TargetColumn, EventCount: 1, LastEvent: e.Event}
							order = append(order, k)
						}
					}
					vk := visitKey{other, ocol}
					if visited[vk] {
						continue
					}
					if len(g.Nodes) >= MaxNodes {
						g.Truncated = true
						continue
					}
					visited[vk] = true
					g.Nodes = append(g.Nodes, GraphNode{Node: other, Column: ocol, Depth: depth, Side: dir})
					next = append(next, vk)
				}
			}
			frontier = next
		}
		if len(frontier) > 0 && o.Depth > 0 {
			// Nodes at the depth limit may have further lineage.
			for _, f := range frontier {
				if adj, err := s.store.Adjacent(ctx, f.n, dir, f.col); err == nil && len(adj) > 0 {
					g.Truncated = true
					break
				}
			}
		}
	}
	for _, k := range order {
		g.Edges = append(g.Edges, *edges[k])
	}
	sort.SliceStable(g.Nodes, func(i, j int) bool {
		if g.Nodes[i].Depth != g.Nodes[j].Depth {
			return g.Nodes[i].Depth < g.Nodes[j].Depth
		}
		return g.Nodes[i].Node.String() < g.Nodes[j].Node.String()
	})
	return g, nil
}

// Neighbors returns the visible edges one hop from n (Upstream: into n;
// Downstream: out of n), newest first, for the Databricks-shaped endpoints.
func (s *Service) Neighbors(ctx context.Context, n Node, dir Direction, column string) ([]Edge, error) {
	adj, err := s.store.Adjacent(ctx, n, dir, column)
	if err != nil {
		return nil, err
	}
	out := adj[:0]
	for _, e := range adj {
		other := e.Source
		if dir == Downstream {
			other = e.Target
		}
		if s.canSee(ctx, other) {
			out = append(out, e)
		}
	}
	return out, nil
}
