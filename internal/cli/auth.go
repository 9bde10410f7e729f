package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/client"
)

func newAuthCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "auth", Short: "Log in to a server and show who you are", Args: noArgs}
	login := &cobra.Command{
		Use:   "login",
		Short: "Save a server and token as a profile in ~/.lakebox/config",
		Long: `Save a host and access token as a profile (DEFAULT unless --profile).

The token is read from LAKEBOX_TOKEN, or else from standard input (paste it
and press Enter). It is checked against the server before it is saved.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.resolveProfile()
			if err != nil {
				return err
			}
			if p.Host == "" {
				return usagef("--host is required the first time, e.g. lakebox auth login --host http://127.0.0.1:8080")
			}
			if g.env.Getenv("LAKEBOX_TOKEN") == "" {
				fmt.Fprint(g.env.Stderr, "Access token: ")
				line, err := bufio.NewReader(g.env.Stdin).ReadString('\n')
				if err != nil && line == "" {
					return usagef("no token given: paste it on standard input or set LAKEBOX_TOKEN")
				}
				p.Token = strings.TrimSpace(line)
			}
			me, err := client.New(p.Host, p.Token).Me(cmd.Context())
			if err != nil {
				return fmt.Errorf("login to %s failed: %w", p.Host, err)
			}
			name := g.profileName()
			if err := saveProfile(g.env, name, p); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Logged in to %s as %s (profile %s, saved in %s)\n", p.Host, principalName(me.UserName, me.ApplicationID, me.DisplayName), name, profilePath(g.env))
			return nil
		},
	}
	whoami := &cobra.Command{
		Use:   "whoami",
		Short: "Show the principal the current token belongs to",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return err
			}
			return g.emit(me, func() *table {
				t := &table{header: []string{"ID", "NAME", "DISPLAY NAME", "GROUPS"}}
				var groups []string
				for _, gr := range me.Groups {
					groups = append(groups, gr.Display)
				}
				t.add(me.ID, principalName(me.UserName, me.ApplicationID, me.DisplayName), me.DisplayName, strings.Join(groups, ","))
				return t
			})
		},
	}
	cmd.AddCommand(login, whoami)
	return cmd
}

func principalName(names ...string) string {
	for _, n := range names {
		if n != "" {
			return n
		}
	}
	return ""
}
