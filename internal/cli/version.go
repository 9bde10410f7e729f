package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/app"
)

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary (and of the server, when one is configured)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := map[string]string{"client": app.Version, "go": runtime.Version()}
			if c, err := g.client(); err == nil {
				var v struct {
					Version string `json:"version"`
				}
				if err := c.Do(cmd.Context(), "GET", "/api/2.0/lakebox/version", nil, nil, &v); err == nil {
					out["server"] = v.Version
				}
			}
			if g.output == "json" {
				return g.emit(out, nil)
			}
			fmt.Fprintf(g.env.Stdout, "lakebox %s (%s)\n", out["client"], out["go"])
			if s, ok := out["server"]; ok {
				fmt.Fprintf(g.env.Stdout, "server  %s\n", s)
			}
			return nil
		},
	}
}
