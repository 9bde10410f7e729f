package query

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// renameTable handles ALTER TABLE|VIEW name RENAME TO new_name after RENAME
// TO: a catalog rename. The data stays where it is and the table keeps its
// id, grants, row filter and column masks; views that name the old name no
// longer resolve (as on Databricks). An unqualified new name stays in the
// table's schema. Databricks can move a managed table to another schema of
// its catalog; Lakebox renames within the schema only and says so. Needs
// ownership or MANAGE (the catalog checks).
func (st *stmt) renameTable(ctx context.Context, p *parser, full string, view bool) (*Result, error) {
	to, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	ti, err := st.lookupTable(ctx, full)
	if err != nil {
		return nil, err
	}
	if err := objectType(ti, full, view, "ALTER"); err != nil {
		return nil, err
	}
	c, s, name := ti.CatalogName, ti.SchemaName, to[len(to)-1]
	switch len(to) {
	case 2:
		s = to[0]
	case 3:
		c, s = to[0], to[1]
	}
	newFull := c + "." + s + "." + name
	if c != ti.CatalogName {
		return nil, errs.E(errs.Invalid, "CANNOT_RENAME_ACROSS_CATALOG", "cannot rename %s to %s: a table stays in its catalog; give a name in catalog %s", full, newFull, ti.CatalogName)
	}
	if s != ti.SchemaName {
		return nil, errs.E(errs.Unimplemented, "CANNOT_RENAME_ACROSS_SCHEMA", "cannot rename %s to %s: Lakebox renames a table within its schema (%s.%s); moving it to another schema is not supported", full, newFull, ti.CatalogName, ti.SchemaName)
	}
	if _, err := st.e.cat.RenameTable(ctx, full, name); err != nil {
		return nil, err
	}
	st.touch(full)
	st.touch(newFull)
	return okResult(), nil
}

// commentColumn sets the comment of column col of the table or view full
// ("" clears it). Column comments live in the catalog, as CREATE TABLE and
// ADD COLUMNS store them (DESCRIBE and SHOW CREATE TABLE read them there).
// Needs MODIFY, ownership or MANAGE (the catalog checks), as COMMENT ON
// TABLE.
func (st *stmt) commentColumn(ctx context.Context, full, col, comment string) error {
	ti, err := st.lookupTable(ctx, full)
	if err != nil {
		return err
	}
	if !hasColumn(ti.Columns, col) {
		names := make([]string, len(ti.Columns))
		for i, c := range ti.Columns {
			names[i] = c.Name
		}
		return errs.E(errs.Invalid, "UNRESOLVED_COLUMN", "column %s does not exist in %s (columns: %s)", col, full, strings.Join(names, ", "))
	}
	if _, err := st.e.cat.UpdateTable(ctx, full, catalog.TableUpdate{Columns: []catalog.ColumnUpdate{{Name: col, Comment: &comment}}}); err != nil {
		return err
	}
	st.touch(full)
	return nil
}

// columnRef parses the [[catalog.]schema.]table.column of COMMENT ON
// COLUMN: the table's name parts (lower-cased, as parser.name does) and
// then the column.
func columnRef(p *parser) ([]string, error) {
	var parts []string
	for {
		n, err := p.ident()
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		if p.peek().Text != "." {
			break
		}
		p.next()
	}
	if len(parts) < 2 || len(parts) > 4 {
		return nil, errs.E(errs.Invalid, "INVALID_IDENTIFIER", "COMMENT ON COLUMN takes table.column, schema.table.column or catalog.schema.table.column; got %s", strings.Join(parts, "."))
	}
	for i := range parts[:len(parts)-1] {
		parts[i] = strings.ToLower(parts[i])
	}
	return parts, nil
}

// propKeys parses the ('k', ...) of UNSET TBLPROPERTIES: string literals or
// dotted identifiers, as parser.props reads keys.
func propKeys(p *parser) ([]string, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var keys []string
	for {
		t := p.next()
		key := t.ident()
		if t.Kind == tkString {
			key = t.strValue()
		} else {
			for key != "" && p.peek().Text == "." {
				p.next()
				key += "." + p.next().Text
			}
		}
		if key == "" {
			return nil, syntaxErr(p.st.text, t.Pos, "expected a property key such as 'owner.team' or delta.appendOnly, found "+tokText(t))
		}
		keys = append(keys, key)
		if p.peek().Text != "," {
			break
		}
		p.next()
	}
	return keys, p.expectPunct(")")
}

// deltaInternalProperties are Delta configuration entries that the Delta
// writer maintains itself: SHOW CREATE TABLE leaves them out (a CREATE
// TABLE must not set them) and UNSET TBLPROPERTIES refuses them.
var deltaInternalProperties = map[string]bool{
	"delta.columnMapping.maxColumnId":            true,
	"delta.inCommitTimestampEnablementVersion":   true,
	"delta.inCommitTimestampEnablementTimestamp": true,
}

// tableProperties lists the keys of a table's properties: the catalog's
// (props) with the Delta configuration's delta.* entries (conf, the truth
// for them), less the internal ones, sorted.
func tableProperties(props, conf map[string]string) []string {
	var keys []string
	for k := range props {
		if _, ok := conf[k]; ok || !strings.HasPrefix(k, "delta.") {
			keys = append(keys, k)
		}
	}
	for k := range conf {
		if _, ok := props[k]; !ok && strings.HasPrefix(k, "delta.") && !deltaInternalProperties[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// setProperties is ALTER TABLE … SET TBLPROPERTIES (props): they are added
// to the catalog's properties, and the delta.* ones to the Delta
// configuration (a metadata commit).
func setProperties(props map[string]string) alteration {
	return alteration{op: "SET TBLPROPERTIES",
		props: func(old, _ map[string]string) (map[string]string, error) {
			out := map[string]string{}
			maps.Copy(out, old)
			maps.Copy(out, props)
			return out, nil
		},
		change: func(md *delta.Metadata, s *delta.StructType, _ []catalog.ColumnInfo) (*delta.StructType, error) {
			conf := map[string]string{}
			maps.Copy(conf, md.Configuration)
			for k, v := range props {
				if strings.HasPrefix(k, "delta.") {
					conf[k] = v
				}
			}
			md.Configuration = conf
			return s, nil
		}}
}

// unsetProperties is ALTER TABLE full UNSET TBLPROPERTIES [IF EXISTS]
// (keys). A key is set when the catalog's properties or (delta.* keys) the
// Delta configuration hold it; unsetting one that is not is an error
// without IF EXISTS, as on Databricks. delta.* keys leave the Delta
// configuration in a SET-like metadata commit; when none of them is there,
// only the catalog changes (no Delta commit). Keys whose removal would
// change how the data files are read or drop a table feature are refused.
func unsetProperties(full string, keys []string, ifExists bool) alteration {
	return alteration{op: "UNSET TBLPROPERTIES",
		props: func(old, conf map[string]string) (map[string]string, error) {
			var missing []string
			out := map[string]string{}
			maps.Copy(out, old)
			for _, k := range keys {
				_, inCatalog := old[k]
				v, inDelta := conf[k]
				inDelta = inDelta && strings.HasPrefix(k, "delta.")
				if !inCatalog && !inDelta {
					missing = append(missing, k)
					continue
				}
				if inDelta && (deltaInternalProperties[k] || strings.HasPrefix(k, "delta.feature.") ||
					k == "delta.columnMapping.mode" && (v == "name" || v == "id")) {
					return nil, errs.E(errs.Invalid, "DELTA_CANNOT_MODIFY_TABLE_PROPERTY", "table property %s of %s cannot be unset: it records how the data files are read or which table features the table uses", k, full)
				}
				delete(out, k)
			}
			if len(missing) > 0 && !ifExists {
				set := strings.Join(tableProperties(old, conf), ", ")
				if set == "" {
					set = "none"
				}
				return nil, errs.E(errs.Invalid, "UNSET_NONEXISTENT_PROPERTIES", "cannot unset %s of %s: not set (set: %s); UNSET TBLPROPERTIES IF EXISTS ignores missing keys",
					strings.Join(missing, ", "), full, set)
			}
			return out, nil
		},
		change: func(md *delta.Metadata, s *delta.StructType, _ []catalog.ColumnInfo) (*delta.StructType, error) {
			conf := map[string]string{}
			maps.Copy(conf, md.Configuration)
			for _, k := range keys {
				if strings.HasPrefix(k, "delta.") {
					delete(conf, k)
				}
			}
			if len(conf) == len(md.Configuration) {
				return nil, nil
			}
			md.Configuration = conf
			return s, nil
		}}
}
