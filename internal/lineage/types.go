package lineage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// NodeType is the type of a lineage node.
type NodeType string

// The node types.
const (
	Table           NodeType = "TABLE"
	Path            NodeType = "PATH"
	External        NodeType = "EXTERNAL"
	Run             NodeType = "RUN"
	ModelVersion    NodeType = "MODEL_VERSION"
	ServingEndpoint NodeType = "SERVING_ENDPOINT"
)

var nodeTypes = map[NodeType]bool{Table: true, Path: true, External: true, Run: true, ModelVersion: true, ServingEndpoint: true}

// ParseNodeType accepts a node type name case-insensitively (plus the
// aliases VIEW, STREAMING_TABLE, MATERIALIZED_VIEW → TABLE). Errors: errs.Invalid.
func ParseNodeType(s string) (NodeType, error) {
	u := NodeType(strings.ToUpper(strings.TrimSpace(s)))
	switch u {
	case "VIEW", "STREAMING_TABLE", "MATERIALIZED_VIEW", "FOREIGN_TABLE":
		return Table, nil
	}
	if !nodeTypes[u] {
		return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "unknown securable type %q; accepted: TABLE, PATH, EXTERNAL, RUN, MODEL_VERSION, SERVING_ENDPOINT", s)
	}
	return u, nil
}

// Node is a vertex of the lineage graph.
type Node struct {
	Type NodeType `json:"type"`
	Name string   `json:"name"`
}

// TableNode returns the TABLE node of a three-level name.
func TableNode(fullName string) Node { return Node{Type: Table, Name: fullName} }

// Normalize lower-cases table names (Unity Catalog names are
// case-insensitive) and trims spaces.
func (n Node) Normalize() Node {
	n.Name = strings.TrimSpace(n.Name)
	if n.Type == Table {
		n.Name = strings.ToLower(strings.ReplaceAll(n.Name, "`", ""))
	}
	return n
}

// Validate checks the node. Errors: errs.Invalid.
func (n Node) Validate() error {
	if !nodeTypes[n.Type] {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "unknown node type %q", n.Type)
	}
	if n.Name == "" {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "a %s node needs a name", n.Type)
	}
	if len(n.Name) > 4096 {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "node name longer than 4096 characters")
	}
	if n.Type == Table && !IsThreeLevel(n.Name) {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "table name %q is not a three-level name catalog.schema.table", n.Name)
	}
	return nil
}

func (n Node) String() string { return string(n.Type) + ":" + n.Name }

// IsThreeLevel reports whether name has three non-empty dot-separated parts.
func IsThreeLevel(name string) bool {
	parts := strings.Split(strings.ReplaceAll(name, "`", ""), ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return false
		}
	}
	return true
}

// Event is what created an edge.
type Event struct {
	// EventID identifies the reporting event (an audit event id, an
	// OpenLineage event's run id + time, …); generated when empty.
	EventID     string    `json:"event_id,omitempty"`
	Time        time.Time `json:"event_time"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedByID string    `json:"created_by_id,omitempty"`
	// EntityType is NOTEBOOK, JOB, PIPELINE, DBSQL_QUERY, SQL_STATEMENT,
	// MLFLOW_RUN, SERVING, OPENLINEAGE, … ("" when unknown).
	EntityType  string            `json:"entity_type,omitempty"`
	EntityID    string            `json:"entity_id,omitempty"`
	EntityRunID string            `json:"entity_run_id,omitempty"`
	StatementID string            `json:"statement_id,omitempty"`
	Metadata    map[string]string `json:"entity_metadata,omitempty"`
}

// Edge is one lineage edge: Source flows into Target. SourceColumn and
// TargetColumn are set on column-level edges (both or neither).
type Edge struct {
	ID           string `json:"id"`
	Source       Node   `json:"source"`
	Target       Node   `json:"target"`
	SourceColumn string `json:"source_column,omitempty"`
	TargetColumn string `json:"target_column,omitempty"`
	Event        Event  `json:"event"`
}

// Validate checks the edge. Errors: errs.Invalid.
func (e *Edge) Validate() error {
	if err := e.Source.Validate(); err != nil {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "source: %s", errs.Message(err))
	}
	if err := e.Target.Validate(); err != nil {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "target: %s", errs.Message(err))
	}
	if (e.SourceColumn == "") != (e.TargetColumn == "") {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "a column edge needs both source and target columns (%s.%q → %s.%q)", e.Source, e.SourceColumn, e.Target, e.TargetColumn)
	}
	if e.Event.Time.IsZero() {
		return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "edge %s → %s has no event time", e.Source, e.Target)
	}
	return nil
}

// computeID sets the edge's content-derived id.
func (e *Edge) computeID() {
	h := sha256.New()
	for _, s := range []string{string(e.Source.Type), e.Source.Name, e.SourceColumn, string(e.Target.Type), e.Target.Name, e.TargetColumn,
		e.Event.EntityType, e.Event.EntityID, e.Event.EntityRunID, e.Event.StatementID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	e.ID = hex.EncodeToString(h.Sum(nil)[:16])
}

// Direction is a walk direction.
type Direction string

// The directions.
const (
	Upstream   Direction = "UPSTREAM"
	Downstream Direction = "DOWNSTREAM"
	Both       Direction = "BOTH"
)

// ParseDirection accepts UPSTREAM, DOWNSTREAM or BOTH (any case; "" = BOTH).
func ParseDirection(s string) (Direction, error) {
	switch d := Direction(strings.ToUpper(s)); d {
	case "":
		return Both, nil
	case Upstream, Downstream, Both:
		return d, nil
	}
	return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "invalid direction %q; accepted: UPSTREAM, DOWNSTREAM, BOTH", s)
}

// Store persists edges. sqldb.LineageStore implements it.
type Store interface {
	// AddEdges stores edges in one transaction; an edge whose ID is
	// stored already is skipped. Errors: storage errors.
	AddEdges(ctx context.Context, edges []Edge) error
	// Adjacent returns the edges ending at n (Upstream) or starting at n
	// (Downstream). With column "" it returns table-level edges; otherwise
	// the column edges whose column on n's side is column. Order: newest
	// first. Errors: storage errors.
	Adjacent(ctx context.Context, n Node, dir Direction, column string) ([]Edge, error)
}

// Visibility decides which nodes a caller may see (the catalog implements
// it through its privilege checks; app wires it).
type Visibility interface {
	// CanSee reports whether the caller in ctx may see the securable of
	// the given type and full name.
	CanSee(ctx context.Context, securableType, fullName string) bool
}

// Sink receives stored edges for the system tables (DeltaWriter).
type Sink interface {
	// Write spools edges durably. Errors: errs.Unavailable.
	Write(edges []Edge) error
}
