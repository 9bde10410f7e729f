package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/httpapi"
)

// parseLifetime accepts Go durations plus a days suffix ("90d").
func parseLifetime(s string) (int64, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 {
			return int64(n) * 86400, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second {
		return 0, usagef("invalid --lifetime %q: use e.g. 90d, 12h or 30m (0 = no expiry)", s)
	}
	return int64(d / time.Second), nil
}

func msTime(ms int64) string {
	if ms <= 0 {
		return "never"
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

func newTokensCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Create, list and revoke personal access tokens", Args: noArgs}
	var lifetime, comment, forSP string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token (its value is shown once)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			secs, err := parseLifetime(lifetime)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var resp httpapi.CreateTokenResponse
			if forSP != "" {
				resp, err = c.CreateTokenOnBehalfOf(cmd.Context(), forSP, secs, comment)
			} else {
				resp, err = c.CreateToken(cmd.Context(), secs, comment)
			}
			if err != nil {
				return err
			}
			return g.emit(resp, func() *table {
				t := &table{header: []string{"TOKEN ID", "EXPIRES", "TOKEN (shown once)"}}
				t.add(resp.TokenInfo.TokenID, msTime(resp.TokenInfo.ExpiryTime), resp.TokenValue)
				return t
			})
		},
	}
	create.Flags().StringVar(&lifetime, "lifetime", "90d", "how long the token lives: e.g. 90d, 12h; 0 = no expiry")
	create.Flags().StringVar(&comment, "comment", "", "what the token is for")
	create.Flags().StringVar(&forSP, "service-principal", "", "create it for this service principal's applicationId (admins)")

	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List your tokens (--all: everyone's, admins only)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			ts, err := c.ListTokens(cmd.Context(), all)
			if err != nil {
				return err
			}
			return g.emit(map[string]any{"token_infos": ts}, func() *table {
				t := &table{header: []string{"TOKEN ID", "OWNER", "CREATED", "EXPIRES", "COMMENT"}}
				for _, ti := range ts {
					t.add(ti.TokenID, ti.OwnerID, msTime(ti.CreationTime), msTime(ti.ExpiryTime), ti.Comment)
				}
				return t
			})
		},
	}
	list.Flags().BoolVar(&all, "all", false, "list every principal's tokens (admins)")

	revoke := &cobra.Command{
		Use:   "revoke TOKEN_ID",
		Short: "Revoke a token; it stops working at once on every replica",
		Args:  exactArgs(1, "TOKEN_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Revoked token %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
