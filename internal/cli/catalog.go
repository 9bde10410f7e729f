package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/client"
)

// splitName splits "a.b.c" into n parts or fails with a usage error.
func splitName(what, full string, n int) ([]string, error) {
	ps := strings.Split(full, ".")
	if len(ps) != n {
		return nil, usagef("%s name %q must have %d dot-separated parts", what, full, n)
	}
	return ps, nil
}

// allPages calls list until the last page.
func allPages(list func(tok string) (string, error)) error {
	tok := ""
	for {
		next, err := list(tok)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		tok = next
	}
}

type securableCmd struct {
	noun, short string
	depth       int // parts of the full name
	list        func(c *client.Client, cmd *cobra.Command, parent []string) (any, *table, error)
	get         func(c *client.Client, cmd *cobra.Command, name string) (any, error)
	create      func(c *client.Client, cmd *cobra.Command, parts []string) (any, error)
	del         func(c *client.Client, cmd *cobra.Command, name string) error
	flags       func(create *cobra.Command)
}

func newSecurableCmd(g *globals, s securableCmd) *cobra.Command {
	cmd := &cobra.Command{Use: s.noun, Short: s.short, Args: noArgs}
	parentArgs := map[int]string{1: "", 2: "CATALOG", 3: "CATALOG.SCHEMA"}[s.depth]
	nameArg := map[int]string{1: "NAME", 2: "CATALOG.SCHEMA", 3: "CATALOG.SCHEMA.NAME"}[s.depth]
	listArgs := noArgs
	if parentArgs != "" {
		listArgs = exactArgs(1, parentArgs)
	}
	list := &cobra.Command{Use: strings.TrimSpace("list " + parentArgs), Short: "List " + s.noun + " you can see", Args: listArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var parent []string
			if len(args) == 1 {
				if parent, err = splitName("parent", args[0], s.depth-1); err != nil {
					return err
				}
			}
			v, t, err := s.list(c, cmd, parent)
			if err != nil {
				return err
			}
			return g.emit(v, func() *table { return t })
		}}
	get := &cobra.Command{Use: "get " + nameArg, Short: "Show one of " + s.noun, Args: exactArgs(1, nameArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			v, err := s.get(c, cmd, args[0])
			if err != nil {
				return err
			}
			return g.emitJSONish(v)
		}}
	create := &cobra.Command{Use: "create " + nameArg, Short: "Create one of " + s.noun, Args: exactArgs(1, nameArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := splitName(s.noun, args[0], s.depth)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			v, err := s.create(c, cmd, ps)
			if err != nil {
				return err
			}
			return g.emitJSONish(v)
		}}
	if s.flags != nil {
		s.flags(create)
	}
	var force bool
	del := &cobra.Command{Use: "delete " + nameArg, Short: "Delete one of " + s.noun, Args: exactArgs(1, nameArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := s.del(c, cmd, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Deleted %s\n", args[0])
			return nil
		}}
	if s.depth < 3 || s.noun == "tables" {
		del.Flags().BoolVar(&force, "force", false, "also delete everything inside")
	}
	cmd.AddCommand(list, get, create, del)
	return cmd
}

// emitJSONish prints v as JSON (details of one securable read best that way).
func (g *globals) emitJSONish(v any) error {
	out := g.output
	g.output = "json"
	defer func() { g.output = out }()
	return g.emit(v, nil)
}

func flagBool(cmd *cobra.Command, name string) bool  { v, _ := cmd.Flags().GetBool(name); return v }
func flagStr(cmd *cobra.Command, name string) string { v, _ := cmd.Flags().GetString(name); return v }

func newCatalogsCmd(g *globals) *cobra.Command {
	return newSecurableCmd(g, securableCmd{noun: "catalogs", short: "Manage Unity Catalog catalogs", depth: 1,
		list: func(c *client.Client, cmd *cobra.Command, _ []string) (any, *table, error) {
			var all []catalog.CatalogInfo
			err := allPages(func(tok string) (string, error) {
				r, err := c.ListCatalogs(cmd.Context(), catalog.Page{Token: tok})
				all = append(all, r.Catalogs...)
				return r.NextPageToken, err
			})
			t := &table{header: []string{"NAME", "OWNER", "COMMENT"}}
			for _, x := range all {
				t.add(x.Name, x.Owner, x.Comment)
			}
			return map[string]any{"catalogs": all}, t, err
		},
		get: func(c *client.Client, cmd *cobra.Command, n string) (any, error) {
			return c.GetCatalog(cmd.Context(), n)
		},
		create: func(c *client.Client, cmd *cobra.Command, p []string) (any, error) {
			return c.CreateCatalog(cmd.Context(), catalog.CreateCatalog{Name: p[0], Comment: flagStr(cmd, "comment"), StorageRoot: flagStr(cmd, "storage-root")})
		},
		del: func(c *client.Client, cmd *cobra.Command, n string) error {
			return c.DeleteCatalog(cmd.Context(), n, flagBool(cmd, "force"))
		},
		flags: func(cr *cobra.Command) {
			cr.Flags().String("comment", "", "comment")
			cr.Flags().String("storage-root", "", "managed storage root inside the warehouse")
		},
	})
}

func newSchemasCmd(g *globals) *cobra.Command {
	return newSecurableCmd(g, securableCmd{noun: "schemas", short: "Manage Unity Catalog schemas", depth: 2,
		list: func(c *client.Client, cmd *cobra.Command, p []string) (any, *table, error) {
			var all []catalog.SchemaInfo
			err := allPages(func(tok string) (string, error) {
				r, err := c.ListSchemas(cmd.Context(), p[0], catalog.Page{Token: tok})
				all = append(all, r.Schemas...)
				return r.NextPageToken, err
			})
			t := &table{header: []string{"FULL NAME", "OWNER", "COMMENT"}}
			for _, x := range all {
				t.add(x.FullName, x.Owner, x.Comment)
			}
			return map[string]any{"schemas": all}, t, err
		},
		get: func(c *client.Client, cmd *cobra.Command, n string) (any, error) {
			return c.GetSchema(cmd.Context(), n)
		},
		create: func(c *client.Client, cmd *cobra.Command, p []string) (any, error) {
			return c.CreateSchema(cmd.Context(), catalog.CreateSchema{CatalogName: p[0], Name: p[1], Comment: flagStr(cmd, "comment")})
		},
		del: func(c *client.Client, cmd *cobra.Command, n string) error {
			return c.DeleteSchema(cmd.Context(), n, flagBool(cmd, "force"))
		},
		flags: func(cr *cobra.Command) { cr.Flags().String("comment", "", "comment") },
	})
}

// parseColumns reads --column name:TYPE flags.
func parseColumns(specs []string) ([]catalog.ColumnInfo, error) {
	var cols []catalog.ColumnInfo
	for _, s := range specs {
		n, t, ok := strings.Cut(s, ":")
		if !ok || n == "" || t == "" {
			return nil, usagef("invalid --column %q: use NAME:TYPE, e.g. id:LONG", s)
		}
		cols = append(cols, catalog.ColumnInfo{Name: n, TypeName: strings.ToUpper(t)})
	}
	return cols, nil
}

func newTablesCmd(g *globals) *cobra.Command {
	return newSecurableCmd(g, securableCmd{noun: "tables", short: "Manage Unity Catalog tables", depth: 3,
		list: func(c *client.Client, cmd *cobra.Command, p []string) (any, *table, error) {
			var all []catalog.TableInfo
			err := allPages(func(tok string) (string, error) {
				r, err := c.ListTables(cmd.Context(), p[0], p[1], catalog.Page{Token: tok})
				all = append(all, r.Tables...)
				return r.NextPageToken, err
			})
			t := &table{header: []string{"FULL NAME", "TYPE", "FORMAT", "OWNER"}}
			for _, x := range all {
				t.add(x.FullName, x.TableType, x.DataSourceFormat, x.Owner)
			}
			return map[string]any{"tables": all}, t, err
		},
		get: func(c *client.Client, cmd *cobra.Command, n string) (any, error) { return c.GetTable(cmd.Context(), n) },
		create: func(c *client.Client, cmd *cobra.Command, p []string) (any, error) {
			specs, _ := cmd.Flags().GetStringArray("column")
			cols, err := parseColumns(specs)
			if err != nil {
				return nil, err
			}
			typ := "MANAGED"
			if flagStr(cmd, "location") != "" {
				typ = "EXTERNAL"
			}
			return c.CreateTable(cmd.Context(), catalog.CreateTable{CatalogName: p[0], SchemaName: p[1], Name: p[2], TableType: typ,
				DataSourceFormat: "DELTA", Columns: cols, StorageLocation: flagStr(cmd, "location"), Comment: flagStr(cmd, "comment")})
		},
		del: func(c *client.Client, cmd *cobra.Command, n string) error { return c.DeleteTable(cmd.Context(), n) },
		flags: func(cr *cobra.Command) {
			cr.Flags().StringArray("column", nil, "column as NAME:TYPE (repeat), e.g. --column id:LONG --column name:STRING")
			cr.Flags().String("location", "", "create an EXTERNAL table at this URL (under an external location)")
			cr.Flags().String("comment", "", "comment")
		},
	})
}

func newVolumesCmd(g *globals) *cobra.Command {
	return newSecurableCmd(g, securableCmd{noun: "volumes", short: "Manage Unity Catalog volumes", depth: 3,
		list: func(c *client.Client, cmd *cobra.Command, p []string) (any, *table, error) {
			var all []catalog.VolumeInfo
			err := allPages(func(tok string) (string, error) {
				r, err := c.ListVolumes(cmd.Context(), p[0], p[1], catalog.Page{Token: tok})
				all = append(all, r.Volumes...)
				return r.NextPageToken, err
			})
			t := &table{header: []string{"FULL NAME", "TYPE", "OWNER", "LOCATION"}}
			for _, x := range all {
				t.add(x.FullName, x.VolumeType, x.Owner, x.StorageLocation)
			}
			return map[string]any{"volumes": all}, t, err
		},
		get: func(c *client.Client, cmd *cobra.Command, n string) (any, error) {
			return c.GetVolume(cmd.Context(), n)
		},
		create: func(c *client.Client, cmd *cobra.Command, p []string) (any, error) {
			typ := "MANAGED"
			if flagStr(cmd, "location") != "" {
				typ = "EXTERNAL"
			}
			return c.CreateVolume(cmd.Context(), catalog.CreateVolume{CatalogName: p[0], SchemaName: p[1], Name: p[2], VolumeType: typ,
				StorageLocation: flagStr(cmd, "location"), Comment: flagStr(cmd, "comment")})
		},
		del: func(c *client.Client, cmd *cobra.Command, n string) error { return c.DeleteVolume(cmd.Context(), n) },
		flags: func(cr *cobra.Command) {
			cr.Flags().String("location", "", "create an EXTERNAL volume at this URL (under an external location)")
			cr.Flags().String("comment", "", "comment")
		},
	})
}

func newFunctionsCmd(g *globals) *cobra.Command {
	return newSecurableCmd(g, securableCmd{noun: "functions", short: "Manage Unity Catalog functions", depth: 3,
		list: func(c *client.Client, cmd *cobra.Command, p []string) (any, *table, error) {
			var all []catalog.FunctionInfo
			err := allPages(func(tok string) (string, error) {
				r, err := c.ListFunctions(cmd.Context(), p[0], p[1], catalog.Page{Token: tok})
				all = append(all, r.Functions...)
				return r.NextPageToken, err
			})
			t := &table{header: []string{"FULL NAME", "RETURNS", "OWNER"}}
			for _, x := range all {
				t.add(x.FullName, x.DataType, x.Owner)
			}
			return map[string]any{"functions": all}, t, err
		},
		get: func(c *client.Client, cmd *cobra.Command, n string) (any, error) {
			return c.GetFunction(cmd.Context(), n)
		},
		create: func(c *client.Client, cmd *cobra.Command, p []string) (any, error) {
			return c.CreateFunction(cmd.Context(), catalog.FunctionInfo{CatalogName: p[0], SchemaName: p[1], Name: p[2],
				DataType: strings.ToUpper(flagStr(cmd, "returns")), FullDataType: strings.ToLower(flagStr(cmd, "returns")),
				RoutineBody: "SQL", RoutineDefinition: flagStr(cmd, "definition"), Comment: flagStr(cmd, "comment"),
				InputParams: &catalog.FunctionParameterInfos{}})
		},
		del: func(c *client.Client, cmd *cobra.Command, n string) error { return c.DeleteFunction(cmd.Context(), n) },
		flags: func(cr *cobra.Command) {
			cr.Flags().String("returns", "STRING", "return type name, e.g. BOOLEAN")
			cr.Flags().String("definition", "", "SQL body of the function")
			cr.Flags().String("comment", "", "comment")
		},
	})
}

func newGrantsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "grants", Short: "Show, grant and revoke Unity Catalog privileges", Args: noArgs}
	var principal string
	var effective bool
	show := &cobra.Command{Use: "show SECURABLE_TYPE FULL_NAME", Short: "Show grants (--effective: with inherited ones)", Args: exactArgs(2, "SECURABLE_TYPE", "FULL_NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if effective {
				r, err := c.EffectivePermissions(cmd.Context(), args[0], args[1], principal)
				if err != nil {
					return err
				}
				return g.emit(r, func() *table {
					t := &table{header: []string{"PRINCIPAL", "PRIVILEGE", "INHERITED FROM"}}
					for _, a := range r.PrivilegeAssignments {
						for _, p := range a.Privileges {
							from := ""
							if p.InheritedFromName != "" {
								from = string(p.InheritedFromType) + " " + p.InheritedFromName
							}
							t.add(a.Principal, p.Privilege, from)
						}
					}
					return t
				})
			}
			r, err := c.GetPermissions(cmd.Context(), args[0], args[1], principal)
			if err != nil {
				return err
			}
			return g.emit(r, func() *table { return permTable(r) })
		}}
	show.Flags().StringVar(&principal, "principal", "", "only this principal")
	show.Flags().BoolVar(&effective, "effective", false, "include privileges inherited from the catalog and schema")
	change := func(grant bool) *cobra.Command {
		verb := map[bool]string{true: "grant", false: "revoke"}[grant]
		return &cobra.Command{Use: verb + " SECURABLE_TYPE FULL_NAME PRINCIPAL PRIVILEGE...", Short: strings.ToUpper(verb[:1]) + verb[1:] + " privileges",
			Args: func(cmd *cobra.Command, args []string) error {
				if len(args) < 4 {
					return usagef("%s takes SECURABLE_TYPE FULL_NAME PRINCIPAL PRIVILEGE...; got %d argument(s)", cmd.CommandPath(), len(args))
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				var ps []catalog.Privilege
				for _, a := range args[3:] {
					p, err := catalog.ParsePrivilege(a)
					if err != nil {
						return usageError{err}
					}
					ps = append(ps, p)
				}
				ch := catalog.PermissionsChange{Principal: args[2]}
				if grant {
					ch.Add = ps
				} else {
					ch.Remove = ps
				}
				r, err := c.UpdatePermissions(cmd.Context(), args[0], args[1], ch)
				if err != nil {
					return err
				}
				return g.emit(r, func() *table { return permTable(r) })
			}}
	}
	cmd.AddCommand(show, change(true), change(false))
	return cmd
}

func permTable(r catalog.PermissionsList) *table {
	t := &table{header: []string{"PRINCIPAL", "PRIVILEGES"}}
	for _, a := range r.PrivilegeAssignments {
		ps := make([]string, len(a.Privileges))
		for i, p := range a.Privileges {
			ps[i] = string(p)
		}
		t.add(a.Principal, strings.Join(ps, ", "))
	}
	return t
}
