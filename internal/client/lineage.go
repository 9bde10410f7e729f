package client

import (
	"context"
	"net/url"
	"strconv"

	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/lineage"
)

// AuditQuery filters AuditEvents (see GET /api/2.0/lakebox/audit/events).
type AuditQuery struct {
	Since, Until      string // "1h", "7d" or RFC 3339
	Principal, Action string
	PageSize          int
	PageToken         string
}

// AuditEvents lists audit events, newest first (admins only).
func (c *Client) AuditEvents(ctx context.Context, q AuditQuery) (httpapi.AuditEventsResponse, error) {
	v := url.Values{}
	for k, s := range map[string]string{"since": q.Since, "until": q.Until, "principal": q.Principal, "action": q.Action, "page_token": q.PageToken} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.PageSize > 0 {
		v.Set("page_size", strconv.Itoa(q.PageSize))
	}
	var out httpapi.AuditEventsResponse
	return out, c.Do(ctx, "GET", "/api/2.0/lakebox/audit/events", v, nil, &out)
}

// LineageGraph walks the lineage graph from a securable.
func (c *Client) LineageGraph(ctx context.Context, securableType, name, direction string, depth int, column string) (*lineage.Graph, error) {
	v := url.Values{"securable_type": {securableType}, "name": {name}}
	if direction != "" {
		v.Set("direction", direction)
	}
	if depth > 0 {
		v.Set("depth", strconv.Itoa(depth))
	}
	if column != "" {
		v.Set("column", column)
	}
	var out lineage.Graph
	return &out, c.Do(ctx, "GET", "/api/2.0/lakebox/lineage/graph", v, nil, &out)
}

// TableLineage returns a table's one-hop upstreams and downstreams.
func (c *Client) TableLineage(ctx context.Context, table string, includeEntities bool) (httpapi.TableLineageResponse, error) {
	v := url.Values{"table_name": {table}, "include_entity_lineage": {strconv.FormatBool(includeEntities)}}
	var out httpapi.TableLineageResponse
	return out, c.Do(ctx, "GET", "/api/2.0/lineage-tracking/table-lineage", v, nil, &out)
}

// ColumnLineage returns a column's one-hop upstream and downstream columns.
func (c *Client) ColumnLineage(ctx context.Context, table, column string) (httpapi.ColumnLineageResponse, error) {
	v := url.Values{"table_name": {table}, "column_name": {column}}
	var out httpapi.ColumnLineageResponse
	return out, c.Do(ctx, "GET", "/api/2.0/lineage-tracking/column-lineage", v, nil, &out)
}

// PostOpenLineage sends one OpenLineage event (any JSON-encodable value).
func (c *Client) PostOpenLineage(ctx context.Context, event any) (httpapi.OpenLineageResponse, error) {
	var out httpapi.OpenLineageResponse
	return out, c.Do(ctx, "POST", "/api/v1/lineage", nil, event, &out)
}
