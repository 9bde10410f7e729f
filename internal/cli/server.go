package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/app"
	"github.com/lakebox/lakebox/internal/blob/s3blob"
	"github.com/lakebox/lakebox/internal/config"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/sqldb"
)

func newServerCmd(env *Env) *cobra.Command {
	var cfg config.Server
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Lakebox server",
		Long: `Run the whole platform in this process.

With no settings at all it keeps everything in ./lakebox-data: a SQLite
metastore and a local warehouse directory, and listens on 127.0.0.1:8080.
At scale, point several replicas at one PostgreSQL metastore and one S3
warehouse:

  lakebox server --metastore postgres://lakebox@db:5432/lakebox \
                 --warehouse s3://bucket/lakebox --s3-endpoint http://minio:9000 --s3-path-style

Settings come from flags, then LAKEBOX_<FLAG_NAME> environment variables
(e.g. LAKEBOX_DATA_DIR, LAKEBOX_METASTORE), then the --config file, then the
defaults below.

On first start an admin user is created with an access token: the value of
LAKEBOX_ADMIN_TOKEN when set (it must start with lbx_), otherwise a generated
token printed once on standard output. Only its hash is stored.

SIGINT or SIGTERM stops accepting requests, lets in-flight ones finish (up
to --shutdown-timeout) and flushes background work before exiting.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Resolve(cmd.Flags(), env.Getenv); err != nil {
				return usageError{err}
			}
			return runServer(cmd.Context(), env, cfg)
		},
	}
	cfg.Register(cmd.Flags())
	return cmd
}

func newLogger(env *Env, cfg config.Server) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(env.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(env.Stderr, opts))
}

func runServer(ctx context.Context, env *Env, cfg config.Server) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := newLogger(env, cfg)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return errs.Wrap(errs.Invalid, "ADDRESS_UNAVAILABLE", err, "cannot listen on %s (is another server running there? choose another with --addr)", cfg.Addr)
	}
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		ln.Close()
		if errs.KindOf(err) == errs.Invalid {
			return usageError{err}
		}
		return err
	}
	url := "http://" + ln.Addr().String()
	warehouse := cfg.Warehouse
	if c, err := s3blob.ParseURL(cfg.Warehouse); err == nil {
		warehouse = c.URL()
	}
	fmt.Fprintf(env.Stdout, "Lakebox %s listening on %s\n  metastore: %s\n  warehouse: %s\n", app.Version, url, sqldb.Redact(cfg.Metastore), warehouse)
	if a.GeneratedAdminToken != "" {
		fmt.Fprintf(env.Stdout, "\nCreated the admin user. Its access token is shown only this once; keep it safe:\n\n    %s\n\nLog in with: lakebox auth login --host %s\n\n", a.GeneratedAdminToken, url)
	}
	log.Info("server started", "url", url, "version", app.Version)
	return a.Serve(ctx, ln)
}
