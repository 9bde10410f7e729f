// Package cli implements the `lakebox <noun> <verb>` command line. Run is the
// whole program: cmd/lakebox/main.go only calls it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/client"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Home is the user's home directory (for ~/.lakebox/config).
	Home string
}

// globals are the flags every client command shares.
type globals struct {
	env     *Env
	profile string
	host    string
	output  string
}

// usageError marks errors that should exit with status 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Run runs the CLI with args (without the program name) and returns the
// process exit code: 0 success, 2 usage error, 1 any other failure.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	home, _ := os.UserHomeDir()
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Home: home}
	return RunEnv(ctx, env, args)
}

// RunEnv is Run with an explicit environment (tests).
func RunEnv(ctx context.Context, env *Env, args []string) int {
	root := newRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(env.Stderr, "Error:", errorLine(err))
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintln(env.Stderr, "Run 'lakebox --help' (or 'lakebox <command> --help') for usage.")
		return 2
	}
	return 1
}

// errorLine renders err on one line (driver errors can span several).
func errorLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func isCobraUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command") || strings.HasPrefix(m, "unknown flag") ||
		strings.HasPrefix(m, "unknown shorthand flag") || strings.Contains(m, "flag needs an argument") ||
		strings.HasPrefix(m, "invalid argument") || strings.HasPrefix(m, "required flag")
}

func newRoot(env *Env) *cobra.Command {
	g := &globals{env: env}
	root := &cobra.Command{
		Use:   "lakebox",
		Short: "Lakebox: a lakehouse and MLOps platform in one binary",
		Long: `Lakebox gives a data and ML team a governed catalog, Delta tables with time
travel, SQL, experiment tracking, a model registry and model serving — self-hosted.

Start a server with 'lakebox server'. Point the other commands at it with
'lakebox auth login --host http://127.0.0.1:8080', or with LAKEBOX_HOST and
LAKEBOX_TOKEN.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetIn(env.Stdin)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.profile, "profile", "", "profile in ~/.lakebox/config (env LAKEBOX_PROFILE; default DEFAULT)")
	pf.StringVar(&g.host, "host", "", "server URL, overriding the profile (env LAKEBOX_HOST)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	root.AddCommand(
		newServerCmd(env),
		newAuthCmd(g),
		newTokensCmd(g),
		newPrincipalCmd(g, client.Users),
		newPrincipalCmd(g, client.Groups),
		newPrincipalCmd(g, client.ServicePrincipals),
		newDeltaCmd(g),
		newServingCmd(g),
		newCatalogsCmd(g),
		newSchemasCmd(g),
		newTablesCmd(g),
		newVolumesCmd(g),
		newFunctionsCmd(g),
		newGrantsCmd(g),
		newFSCmd(g),
		newLineageCmd(g),
		newAuditCmd(g),
		newExperimentsCmd(g),
		newRunsCmd(g),
		newModelsCmd(g),
		newBenchCmd(g),
		newSQLCmd(g),
		newVersionCmd(g),
	)
	addModelsPredict(root, g)
	groupCommands(root)
	return root
}

// groupCommands makes every command that only holds subcommands answer an
// unknown subcommand with a usage error (exit 2) instead of its help.
func groupCommands(cmd *cobra.Command) {
	if cmd.HasSubCommands() && cmd.RunE == nil && cmd.Run == nil {
		cmd.Args = noArgs
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
	for _, sub := range cmd.Commands() {
		groupCommands(sub)
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

func exactArgs(n int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s): %s; got %d", cmd.CommandPath(), n, strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// client returns an API client from flags, environment and profile.
func (g *globals) client() (*client.Client, error) {
	if g.output != "table" && g.output != "json" {
		return nil, usagef("invalid --output %q: use table or json", g.output)
	}
	p, err := g.resolveProfile()
	if err != nil {
		return nil, err
	}
	if p.Host == "" {
		return nil, usagef("no server configured: run 'lakebox auth login --host http://127.0.0.1:8080' or set LAKEBOX_HOST")
	}
	if p.Token == "" {
		return nil, usagef("no token configured for %s: run 'lakebox auth login' or set LAKEBOX_TOKEN", p.Host)
	}
	return client.New(p.Host, p.Token), nil
}

func (g *globals) profileName() string {
	if g.profile != "" {
		return g.profile
	}
	if v := g.env.Getenv("LAKEBOX_PROFILE"); v != "" {
		return v
	}
	return "DEFAULT"
}

// resolveProfile merges the profile with LAKEBOX_HOST / LAKEBOX_TOKEN and --host.
func (g *globals) resolveProfile() (Profile, error) {
	cfg, err := loadProfiles(g.env)
	if err != nil {
		return Profile{}, err
	}
	name := g.profileName()
	p, ok := cfg[name]
	if !ok && (g.profile != "" || g.env.Getenv("LAKEBOX_PROFILE") != "") {
		return Profile{}, usagef("profile %q not found in %s; create it with 'lakebox auth login --profile %s'", name, profilePath(g.env), name)
	}
	if v := g.env.Getenv("LAKEBOX_HOST"); v != "" {
		p.Host = v
	}
	if v := g.env.Getenv("LAKEBOX_TOKEN"); v != "" {
		p.Token = v
	}
	if g.host != "" {
		p.Host = g.host
	}
	p.Host = strings.TrimRight(p.Host, "/")
	return p, nil
}
