package catalog

import (
	"context"
	"sort"
	"strings"

	"github.com/lakebox/lakebox/internal/auth"
)

// entityTypes maps the Databricks entity_type spellings to securable types.
var entityTypes = map[string]SecurableType{
	"catalogs": TypeCatalog, "schemas": TypeSchema, "tables": TypeTable, "volumes": TypeVolume,
	"functions": TypeFunction, "registered_models": TypeRegisteredModel, "columns": TypeTable,
}

// tagTarget resolves an entity to the securable holding its tags and the
// column name ("" for the securable itself).
func (s *Service) tagTarget(ctx context.Context, entityType, entityName string) (*access, string, string, error) {
	et := strings.ToLower(entityType)
	t, ok := entityTypes[et]
	if !ok {
		if st, err := ParseSecurableType(et); err == nil && st != TypeMetastore && st != TypeCredential && st != TypeExternalLocation {
			t, ok = st, true
			et = string(st) + "s"
		}
	}
	if !ok {
		return nil, "", "", invalid("unknown entity_type %q; accepted: catalogs, schemas, tables, columns, volumes, functions, registered_models", entityType)
	}
	full, column := entityName, ""
	if et == "columns" {
		i := strings.LastIndexByte(entityName, '.')
		if i < 0 || strings.Count(entityName, ".") != 3 {
			return nil, "", "", invalid("a column entity_name is catalog.schema.table.column; got %q", entityName)
		}
		full, column = entityName[:i], entityName[i+1:]
	}
	a, err := s.load(ctx, t, full)
	if err != nil {
		return nil, "", "", err
	}
	if column != "" {
		tb, _ := s.tableInfo(ctx, a.rec())
		found := false
		for _, c := range tb.Columns {
			if strings.EqualFold(c.Name, column) {
				column, found = c.Name, true
			}
		}
		if !found {
			return nil, "", "", notFound(TypeTable, full+"."+column)
		}
	}
	return a, et, column, nil
}

// SetTag assigns a tag to a securable or column. Needs APPLY TAG (or
// ownership / MANAGE) and the usage gates.
func (s *Service) SetTag(ctx context.Context, ta TagAssignment) (TagAssignment, error) {
	if err := ta.Validate(); err != nil {
		return TagAssignment{}, err
	}
	a, et, col, err := s.tagTarget(ctx, ta.EntityType, ta.EntityName)
	if err != nil {
		return TagAssignment{}, err
	}
	if err := s.canTag(a); err != nil {
		return TagAssignment{}, err
	}
	v := ""
	if ta.TagValue != nil {
		v = *ta.TagValue
	}
	if err := s.store.SetTag(ctx, Tag{SecurableID: a.rec().ID, Column: col, Key: ta.TagKey, Value: v}, false); err != nil {
		return TagAssignment{}, err
	}
	ta.EntityType = et
	return ta, nil
}

func (s *Service) canTag(a *access) error {
	if err := a.manage(); err == nil {
		return nil
	}
	return a.allow(PrivApplyTag)
}

// DeleteTag removes a tag. Needs what SetTag needs.
func (s *Service) DeleteTag(ctx context.Context, entityType, entityName, key string) error {
	a, _, col, err := s.tagTarget(ctx, entityType, entityName)
	if err != nil {
		return err
	}
	if err := s.canTag(a); err != nil {
		return err
	}
	return s.store.SetTag(ctx, Tag{SecurableID: a.rec().ID, Column: col, Key: key}, true)
}

// ListTags lists the tags of a securable or column the caller may see.
func (s *Service) ListTags(ctx context.Context, entityType, entityName string) (ListTagAssignmentsResponse, error) {
	a, et, col, err := s.tagTarget(ctx, entityType, entityName)
	if err != nil {
		return ListTagAssignmentsResponse{}, err
	}
	if err := a.see(); err != nil {
		return ListTagAssignmentsResponse{}, err
	}
	tags, err := s.store.Tags(ctx, []string{a.rec().ID})
	if err != nil {
		return ListTagAssignmentsResponse{}, err
	}
	out := ListTagAssignmentsResponse{TagAssignments: []TagAssignment{}}
	for _, t := range tags {
		if t.Column != col {
			continue
		}
		v := t.Value
		out.TagAssignments = append(out.TagAssignments, TagAssignment{EntityType: et, EntityName: entityName, TagKey: t.Key, TagValue: &v})
	}
	return out, nil
}

// Search finds securables whose name, comment, tag key or tag value
// contains query (case-insensitive), restricted to types when given and to
// what the caller may see, ordered by full name.
func (s *Service) Search(ctx context.Context, query string, types []SecurableType, p Page) (SearchResponse, error) {
	id, err := caller(ctx)
	if err != nil {
		return SearchResponse{}, err
	}
	n, err := s.pageSize(p)
	if err != nil {
		return SearchResponse{}, err
	}
	tok, err := decodeToken(p.Token)
	if err != nil {
		return SearchResponse{}, err
	}
	q := SearchQuery{Text: query, Types: types}
	if tok != "" {
		name, typ, _ := strings.Cut(tok, "\n")
		q.AfterName, q.AfterType = name, SecurableType(typ)
	}
	var out []Record
	batch := n + 1
	more := false
	for {
		q.Limit = batch
		recs, err := s.store.Search(ctx, q)
		if err != nil {
			return SearchResponse{}, err
		}
		kept, err := s.visibleAny(ctx, id, recs)
		if err != nil {
			return SearchResponse{}, err
		}
		out = append(out, kept...)
		if len(out) > n {
			out, more = out[:n], true
			break
		}
		if len(recs) < batch {
			break
		}
		last := recs[len(recs)-1]
		q.AfterName, q.AfterType = last.FullName, last.Type
		batch = min(batch*4, 1000)
	}
	ids := make([]string, len(out))
	for i, r := range out {
		ids[i] = r.ID
	}
	tags, err := s.store.Tags(ctx, ids)
	if err != nil {
		return SearchResponse{}, err
	}
	byID := map[string]map[string]string{}
	for _, t := range tags {
		if t.Column != "" {
			continue
		}
		if byID[t.SecurableID] == nil {
			byID[t.SecurableID] = map[string]string{}
		}
		byID[t.SecurableID][t.Key] = t.Value
	}
	resp := SearchResponse{Results: []SearchResult{}}
	for _, r := range out {
		resp.Results = append(resp.Results, SearchResult{SecurableType: r.Type, FullName: r.FullName, Comment: r.Comment, Owner: r.Owner, Tags: byID[r.ID]})
	}
	if more {
		last := out[len(out)-1]
		resp.NextPageToken = encodeToken(last.FullName + "\n" + string(last.Type))
	}
	return resp, nil
}

// visibleAny filters records of mixed types and containers.
func (s *Service) visibleAny(ctx context.Context, id *auth.Identity, rs []Record) ([]Record, error) {
	if id.Admin {
		return rs, nil
	}
	groups := map[string][]Record{}
	var order []string
	for _, r := range rs {
		k := string(r.Type) + "|" + r.ParentID
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	keep := map[string]bool{}
	for _, k := range order {
		g := groups[k]
		var prefix []Record
		if d := depth(g[0].Type); d > 1 {
			keys, err := chainKeys(g[0].Type, g[0].FullName)
			if err != nil {
				continue
			}
			if prefix, err = s.loadChain(ctx, keys[:len(keys)-1]); err != nil {
				continue
			}
		}
		kept, err := s.visibleChildren(ctx, id, prefix, g)
		if err != nil {
			return nil, err
		}
		for _, r := range kept {
			keep[r.ID] = true
		}
	}
	var out []Record
	for _, r := range rs {
		if keep[r.ID] {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FullName < out[j].FullName })
	return out, nil
}
