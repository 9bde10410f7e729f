package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/httpapi"
)

var principalNouns = map[client.Resource]struct{ use, short, what string }{
	client.Users:             {"users", "Manage users (admins)", "USER_NAME"},
	client.Groups:            {"groups", "Manage groups and their members (admins)", "GROUP_NAME"},
	client.ServicePrincipals: {"service-principals", "Manage service principals (admins)", "APPLICATION_ID"},
}

func principalRow(t *table, r httpapi.SCIMResource) {
	var groups []string
	for _, g := range r.Groups {
		groups = append(groups, g.Display)
	}
	active := "-"
	if r.Active != nil {
		active = fmt.Sprint(*r.Active)
	}
	t.add(r.ID, principalName(r.UserName, r.ApplicationID, r.DisplayName), r.DisplayName, active, strings.Join(groups, ","))
}

func newPrincipalCmd(g *globals, kind client.Resource) *cobra.Command {
	n := principalNouns[kind]
	cmd := &cobra.Command{Use: n.use, Short: n.short, Args: noArgs}
	header := []string{"ID", "NAME", "DISPLAY NAME", "ACTIVE", "GROUPS"}
	show := func(r httpapi.SCIMResource) error {
		return g.emit(r, func() *table {
			t := &table{header: header}
			principalRow(t, r)
			return t
		})
	}
	var filter string
	list := &cobra.Command{
		Use: "list", Short: "List " + n.use, Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			l, err := c.ListPrincipals(cmd.Context(), kind, filter, 0, 10000)
			if err != nil {
				return err
			}
			return g.emit(l, func() *table {
				t := &table{header: header}
				for _, r := range l.Resources {
					principalRow(t, r)
				}
				return t
			})
		},
	}
	list.Flags().StringVar(&filter, "filter", "", `SCIM filter, e.g. 'userName eq "alice@example.com"'`)
	get := &cobra.Command{
		Use: "get " + n.what + "|ID", Short: "Show one of the " + n.use, Args: exactArgs(1, n.what),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			r, err := c.FindPrincipal(cmd.Context(), kind, args[0])
			if err != nil {
				return err
			}
			return show(r)
		},
	}
	var displayName, email string
	create := &cobra.Command{
		Use: "create " + n.what, Short: "Create one of the " + n.use, Args: exactArgs(1, n.what),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			in := httpapi.SCIMResource{DisplayName: displayName}
			switch kind {
			case client.Users:
				in.UserName = args[0]
				if email != "" {
					in.Emails = []httpapi.SCIMEmail{{Value: email, Primary: true}}
				}
			case client.Groups:
				in.DisplayName = args[0]
			case client.ServicePrincipals:
				in.ApplicationID = args[0]
			}
			r, err := c.CreatePrincipal(cmd.Context(), kind, in)
			if err != nil {
				return err
			}
			return show(r)
		},
	}
	if kind != client.Groups {
		create.Flags().StringVar(&displayName, "display-name", "", "display name")
	}
	if kind == client.Users {
		create.Flags().StringVar(&email, "email", "", "email address (default: the user name when it is one)")
	}
	del := &cobra.Command{
		Use: "delete " + n.what + "|ID", Short: "Delete one of the " + n.use + " (its tokens stop working)", Args: exactArgs(1, n.what),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			r, err := c.FindPrincipal(cmd.Context(), kind, args[0])
			if err != nil {
				return err
			}
			if err := c.DeletePrincipal(cmd.Context(), kind, r.ID); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Deleted %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, get, create, del)
	if kind == client.Groups {
		cmd.AddCommand(memberCmd(g, "add-member", "add"), memberCmd(g, "remove-member", "remove"))
	}
	return cmd
}

// memberCmd adds or removes a member: a user (default), group (--group) or
// service principal (--service-principal) named by name or id.
func memberCmd(g *globals, use, op string) *cobra.Command {
	var isGroup, isSP bool
	cmd := &cobra.Command{
		Use:   use + " GROUP MEMBER",
		Short: strings.ToUpper(op[:1]) + op[1:] + " a member (a user by default; --group or --service-principal for others)",
		Args:  exactArgs(2, "GROUP", "MEMBER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if isGroup && isSP {
				return usagef("--group and --service-principal exclude each other")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			grp, err := c.FindPrincipal(cmd.Context(), client.Groups, args[0])
			if err != nil {
				return err
			}
			kind := client.Users
			if isGroup {
				kind = client.Groups
			} else if isSP {
				kind = client.ServicePrincipals
			}
			m, err := c.FindPrincipal(cmd.Context(), kind, args[1])
			if err != nil {
				return err
			}
			r, err := c.PatchGroupMembers(cmd.Context(), grp.ID, op, m.ID)
			if err != nil {
				return err
			}
			return g.emit(r, func() *table {
				t := &table{header: []string{"GROUP", "MEMBER ID", "MEMBER"}}
				for _, mm := range r.Members {
					t.add(r.DisplayName, mm.Value, mm.Display)
				}
				return t
			})
		},
	}
	cmd.Flags().BoolVar(&isGroup, "group", false, "the member is a group")
	cmd.Flags().BoolVar(&isSP, "service-principal", false, "the member is a service principal")
	return cmd
}
