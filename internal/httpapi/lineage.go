package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/lineage"
)

// Lineage API (Databricks lineage-tracking shape plus Lakebox's graph walk
// and the OpenLineage receiver):
//
//	GET  /api/2.0/lineage-tracking/table-lineage   table_name, include_entity_lineage
//	GET  /api/2.0/lineage-tracking/column-lineage  table_name, column_name
//	GET  /api/2.0/lakebox/lineage/graph            securable_type, name, direction, depth, column
//	POST /api/v1/lineage                           one OpenLineage 2-0-2 event
//
// Parameters come from the query string or, as Databricks clients send
// them, a JSON body on GET.

// TableInfo is a table item of the table-lineage response.
type TableInfo struct {
	Name             string `json:"name"`
	CatalogName      string `json:"catalog_name"`
	SchemaName       string `json:"schema_name"`
	TableType        string `json:"table_type"`
	LineageTimestamp string `json:"lineage_timestamp"`
}

// FileInfo is a path (or external dataset) item.
type FileInfo struct {
	Path             string `json:"path"`
	SecurableType    string `json:"securable_type"`
	LineageTimestamp string `json:"lineage_timestamp"`
}

// EntityNodeInfo is a Lakebox node that is not a dataset: an MLflow run, a
// model version or a serving endpoint.
type EntityNodeInfo struct {
	Type             string `json:"type"`
	Name             string `json:"name"`
	LineageTimestamp string `json:"lineage_timestamp"`
}

// EntityInfo is the entity behind an edge (job run, notebook, query, MLflow
// or OpenLineage run).
type EntityInfo struct {
	WorkspaceID string `json:"workspace_id"`
	EntityType  string `json:"entity_type"`
	EntityID    string `json:"entity_id,omitempty"`
	RunID       string `json:"entity_run_id,omitempty"`
}

// JobInfo, NotebookInfo and QueryInfo are the Databricks entity shapes.
type JobInfo struct {
	WorkspaceID string `json:"workspace_id"`
	JobID       string `json:"job_id"`
	JobRunID    string `json:"job_run_id,omitempty"`
}

// NotebookInfo identifies a notebook.
type NotebookInfo struct {
	WorkspaceID string `json:"workspace_id"`
	NotebookID  string `json:"notebook_id"`
}

// QueryInfo identifies a SQL query or statement.
type QueryInfo struct {
	WorkspaceID string `json:"workspace_id"`
	QueryID     string `json:"query_id"`
}

// LineageItem is one upstream or downstream of the table-lineage response.
type LineageItem struct {
	TableInfo     *TableInfo      `json:"tableInfo,omitempty"`
	FileInfo      *FileInfo       `json:"fileInfo,omitempty"`
	EntityNode    *EntityNodeInfo `json:"lakeboxEntityInfo,omitempty"`
	NotebookInfos []NotebookInfo  `json:"notebookInfos,omitempty"`
	JobInfos      []JobInfo       `json:"jobInfos,omitempty"`
	QueryInfos    []QueryInfo     `json:"queryInfos,omitempty"`
	EntityInfos   []EntityInfo    `json:"entityInfos,omitempty"`
}

// TableLineageResponse is the body of GET …/table-lineage.
type TableLineageResponse struct {
	Upstreams   []LineageItem `json:"upstreams"`
	Downstreams []LineageItem `json:"downstreams"`
}

// ColumnInfo is one column of the column-lineage response.
type ColumnInfo struct {
	Name             string `json:"name"`
	CatalogName      string `json:"catalog_name,omitempty"`
	SchemaName       string `json:"schema_name,omitempty"`
	TableName        string `json:"table_name"`
	TableType        string `json:"table_type"`
	Path             string `json:"path,omitempty"`
	LineageTimestamp string `json:"lineage_timestamp"`
}

// ColumnLineageResponse is the body of GET …/column-lineage.
type ColumnLineageResponse struct {
	UpstreamCols   []ColumnInfo `json:"upstream_cols"`
	DownstreamCols []ColumnInfo `json:"downstream_cols"`
}

// OpenLineageResponse acknowledges a posted OpenLineage event.
type OpenLineageResponse struct {
	Edges int `json:"edges"`
}

// lineageTS renders a time the way Databricks' lineage API does.
const lineageTS = "2006-01-02 15:04:05.0"

// params merges the query string and a JSON object body (GET with body).
func params(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return out, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "MALFORMED_REQUEST", err, "cannot read request body")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return out, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, errs.E(errs.Invalid, "MALFORMED_REQUEST", "request body is not a JSON object: %v", err)
	}
	for k, v := range obj {
		if _, ok := out[k]; ok {
			continue
		}
		switch x := v.(type) {
		case string:
			out[k] = x
		case bool:
			out[k] = strconv.FormatBool(x)
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	return out, nil
}

func required(p map[string]string, name, what string) (string, error) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return "", errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "%s is required: %s", name, what)
	}
	return v, nil
}

func boolParam(p map[string]string, name string) (bool, error) {
	v := p[name]
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "%s must be true or false, got %q", name, v)
	}
	return b, nil
}

// MountLineage registers the lineage endpoints.
func (s *Server) MountLineage(svc *lineage.Service) {
	s.Handle("GET /api/2.0/lineage-tracking/table-lineage", Platform, func(w http.ResponseWriter, r *http.Request) error {
		p, err := params(r)
		if err != nil {
			return err
		}
		name, err := required(p, "table_name", "the three-level name catalog.schema.table")
		if err != nil {
			return err
		}
		withEntities, err := boolParam(p, "include_entity_lineage")
		if err != nil {
			return err
		}
		node := lineage.TableNode(name).Normalize()
		if err := node.Validate(); err != nil {
			return err
		}
		if err := svc.CheckRead(r.Context(), node); err != nil {
			return err
		}
		resp := TableLineageResponse{Upstreams: []LineageItem{}, Downstreams: []LineageItem{}}
		for _, dir := range []lineage.Direction{lineage.Upstream, lineage.Downstream} {
			edges, err := svc.Neighbors(r.Context(), node, dir, "")
			if err != nil {
				return err
			}
			items := lineageItems(edges, dir, withEntities)
			if dir == lineage.Upstream {
				resp.Upstreams = items
			} else {
				resp.Downstreams = items
			}
		}
		return WriteJSON(w, http.StatusOK, resp)
	})
	s.Handle("GET /api/2.0/lineage-tracking/column-lineage", Platform, func(w http.ResponseWriter, r *http.Request) error {
		p, err := params(r)
		if err != nil {
			return err
		}
		name, err := required(p, "table_name", "the three-level name catalog.schema.table")
		if err != nil {
			return err
		}
		col, err := required(p, "column_name", "the column whose lineage to show")
		if err != nil {
			return err
		}
		node := lineage.TableNode(name).Normalize()
		if err := node.Validate(); err != nil {
			return err
		}
		if err := svc.CheckRead(r.Context(), node); err != nil {
			return err
		}
		resp := ColumnLineageResponse{UpstreamCols: []ColumnInfo{}, DownstreamCols: []ColumnInfo{}}
		for _, dir := range []lineage.Direction{lineage.Upstream, lineage.Downstream} {
			edges, err := svc.Neighbors(r.Context(), node, dir, col)
			if err != nil {
				return err
			}
			cols := columnInfos(edges, dir)
			if dir == lineage.Upstream {
				resp.UpstreamCols = cols
			} else {
				resp.DownstreamCols = cols
			}
		}
		return WriteJSON(w, http.StatusOK, resp)
	})
	s.Handle("GET /api/2.0/lakebox/lineage/graph", Platform, func(w http.ResponseWriter, r *http.Request) error {
		p, err := params(r)
		if err != nil {
			return err
		}
		typ, err := lineage.ParseNodeType(orDefault(p["securable_type"], "TABLE"))
		if err != nil {
			return err
		}
		name, err := required(p, "name", "the securable's full name")
		if err != nil {
			return err
		}
		dir, err := lineage.ParseDirection(p["direction"])
		if err != nil {
			return err
		}
		depth := 0
		if v := p["depth"]; v != "" {
			if depth, err = strconv.Atoi(v); err != nil {
				return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "depth must be an integer from 1 to %d, got %q", lineage.MaxDepth, v)
			}
		}
		g, err := svc.Walk(r.Context(), lineage.Node{Type: typ, Name: name}, lineage.WalkOptions{Direction: dir, Depth: depth, Column: p["column"]})
		if err != nil {
			return err
		}
		if g.Nodes == nil {
			g.Nodes = []lineage.GraphNode{}
		}
		if g.Edges == nil {
			g.Edges = []lineage.GraphEdge{}
		}
		return WriteJSON(w, http.StatusOK, g)
	})
	s.Handle("POST /api/v1/lineage", Platform, func(w http.ResponseWriter, r *http.Request) error {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return errs.Wrap(errs.Invalid, "MALFORMED_REQUEST", err, "cannot read request body")
		}
		ev, err := lineage.ParseOpenLineage(body)
		if err != nil {
			return err
		}
		n, err := svc.RecordOpenLineage(r.Context(), ev)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, OpenLineageResponse{Edges: n})
	})
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func splitName(name string) (string, string, string) {
	parts := strings.SplitN(name, ".", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}

// lineageItems groups one-hop edges by the node on the far side.
func lineageItems(edges []lineage.Edge, dir lineage.Direction, withEntities bool) []LineageItem {
	type acc struct {
		item LineageItem
		seen map[string]bool
	}
	byNode := map[lineage.Node]*acc{}
	var order []lineage.Node
	for _, e := range edges {
		other := e.Source
		if dir == lineage.Downstream {
			other = e.Target
		}
		isEntity := other.Type == lineage.Run || other.Type == lineage.ModelVersion || other.Type == lineage.ServingEndpoint
		if isEntity && !withEntities {
			continue
		}
		ts := e.Event.Time.UTC().Format(lineageTS)
		a := byNode[other]
		if a == nil {
			a = &acc{seen: map[string]bool{}}
			switch {
			case other.Type == lineage.Table:
				c, sc, t := splitName(other.Name)
				a.item.TableInfo = &TableInfo{Name: t, CatalogName: c, SchemaName: sc, TableType: "TABLE", LineageTimestamp: ts}
			case isEntity:
				a.item.EntityNode = &EntityNodeInfo{Type: string(other.Type), Name: other.Name, LineageTimestamp: ts}
			default:
				a.item.FileInfo = &FileInfo{Path: other.Name, SecurableType: string(other.Type), LineageTimestamp: ts}
			}
			byNode[other] = a
			order = append(order, other)
		}
		if !withEntities || e.Event.EntityType == "" {
			continue
		}
		key := e.Event.EntityType + "\x00" + e.Event.EntityID + "\x00" + e.Event.EntityRunID + "\x00" + e.Event.StatementID
		if a.seen[key] {
			continue
		}
		a.seen[key] = true
		switch e.Event.EntityType {
		case "JOB":
			a.item.JobInfos = append(a.item.JobInfos, JobInfo{WorkspaceID: "0", JobID: e.Event.EntityID, JobRunID: e.Event.EntityRunID})
		case "NOTEBOOK":
			a.item.NotebookInfos = append(a.item.NotebookInfos, NotebookInfo{WorkspaceID: "0", NotebookID: e.Event.EntityID})
		case "DBSQL_QUERY", "SQL_STATEMENT":
			id := e.Event.StatementID
			if id == "" {
				id = e.Event.EntityID
			}
			a.item.QueryInfos = append(a.item.QueryInfos, QueryInfo{WorkspaceID: "0", QueryID: id})
		default:
			a.item.EntityInfos = append(a.item.EntityInfos, EntityInfo{WorkspaceID: "0", EntityType: e.Event.EntityType, EntityID: e.Event.EntityID, RunID: e.Event.EntityRunID})
		}
	}
	out := make([]LineageItem, 0, len(order))
	for _, n := range order {
		out = append(out, byNode[n].item)
	}
	return out
}

func columnInfos(edges []lineage.Edge, dir lineage.Direction) []ColumnInfo {
	seen := map[string]bool{}
	out := []ColumnInfo{}
	for _, e := range edges {
		other, col := e.Source, e.SourceColumn
		if dir == lineage.Downstream {
			other, col = e.Target, e.TargetColumn
		}
		k := other.String() + "\x00" + col
		if seen[k] {
			continue
		}
		seen[k] = true
		ci := ColumnInfo{Name: col, TableType: string(other.Type), LineageTimestamp: e.Event.Time.UTC().Format(lineageTS)}
		if other.Type == lineage.Table {
			ci.CatalogName, ci.SchemaName, ci.TableName = splitName(other.Name)
		} else {
			ci.TableName, ci.Path = other.Name, other.Name
		}
		out = append(out, ci)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TableName+out[i].Name < out[j].TableName+out[j].Name })
	return out
}

// AuditReader lists recorded audit events (audit.Recorder implements it).
type AuditReader interface {
	// Events returns events matching f, newest first, and the next page
	// token. Errors: errs.Invalid for a bad page token.
	Events(ctx context.Context, f audit.Filter) ([]audit.Event, string, error)
}

// AuditEventsResponse is the body of GET /api/2.0/lakebox/audit/events.
type AuditEventsResponse struct {
	Events        []audit.Event `json:"events"`
	NextPageToken string        `json:"next_page_token,omitempty"`
}

// MountAudit registers the admin-only audit listing:
//
//	GET /api/2.0/lakebox/audit/events  since (1h, 7d or RFC 3339), until,
//	    principal, action (service.action, action, or service.*),
//	    page_size (default 100, at most 1000), page_token
func (s *Server) MountAudit(ar AuditReader, now func() time.Time) {
	s.Handle("GET /api/2.0/lakebox/audit/events", Platform, func(w http.ResponseWriter, r *http.Request) error {
		id := auth.IdentityFrom(r.Context())
		if id == nil || !id.Admin {
			return errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "only metastore admins may read the audit log")
		}
		q := r.URL.Query()
		var f audit.Filter
		var err error
		if f.Since, err = audit.ParseSince(q.Get("since"), now()); err != nil {
			return err
		}
		if f.Until, err = audit.ParseSince(q.Get("until"), now()); err != nil {
			return err
		}
		f.Principal, f.Action, f.PageToken = q.Get("principal"), q.Get("action"), q.Get("page_token")
		if v := q.Get("page_size"); v != "" {
			if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 {
				return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "page_size must be an integer from 1 to %d, got %q", audit.MaxLimit, v)
			}
		}
		evs, next, err := ar.Events(r.Context(), f)
		if err != nil {
			return err
		}
		if evs == nil {
			evs = []audit.Event{}
		}
		return WriteJSON(w, http.StatusOK, AuditEventsResponse{Events: evs, NextPageToken: next})
	})
}
