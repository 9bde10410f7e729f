// Package app is the composition root: it turns a config.Server into running
// backends (metastore and warehouse chosen by URL scheme, here and nowhere
// else), services and the HTTP server, and shuts them down in order.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/blob/s3blob"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/config"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/httpapi"
	"github.com/lakebox/lakebox/internal/sqldb"
)

// Version is the build's version, set with -ldflags "-X …/app.Version=…".
var Version = "0.1.0-dev"

// App is a running Lakebox server's parts.
type App struct {
	Config    config.Server
	Log       *slog.Logger
	DB        *sqldb.DB
	Warehouse blob.Bucket
	Auth      *auth.Service
	Registry  *prometheus.Registry
	Handler   *httpapi.Server
	// Audit holds the audit log and lineage (audit.go).
	Audit AuditParts
	// MLflow holds tracking, artifacts and the model registry (mlflow.go).
	MLflow MLflowParts
	// Serving holds model serving and inference tables (serving.go).
	Serving ServingParts
	// Catalog is the Unity Catalog (catalog.go).
	Catalog *catalog.Service
	// Query is the SQL engine and its statement registry (query.go).
	Query QueryParts
	// GeneratedAdminToken is set when this start created the admin user and
	// generated its token; the caller shows it once.
	GeneratedAdminToken string

	closers []func() error
}

// Open builds the app from cfg. On failure it closes what it opened and
// removes a data directory it created, so nothing is left half-created.
func Open(ctx context.Context, cfg config.Server, log *slog.Logger) (_ *App, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{Config: cfg, Log: log}
	createdDataDir := false
	defer func() {
		if err != nil {
			a.Close()
			if createdDataDir {
				os.RemoveAll(cfg.DataDir)
			}
		}
	}()
	if err := checkURLs(cfg); err != nil {
		return nil, err
	}
	if usesDataDir(cfg) {
		if _, statErr := os.Stat(cfg.DataDir); errors.Is(statErr, os.ErrNotExist) {
			createdDataDir = true
		}
		if err := checkWritable(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if a.Warehouse, err = OpenWarehouse(ctx, cfg); err != nil {
		return nil, err
	}
	if a.DB, err = sqldb.Open(ctx, cfg.Metastore); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.DB.Close)
	a.Auth = auth.NewService(sqldb.NewAuthStore(a.DB), auth.WithLogger(log))
	if a.GeneratedAdminToken, err = a.Auth.Bootstrap(ctx, cfg.AdminToken); err != nil {
		return nil, err
	}
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := a.openAudit(ctx); err != nil {
		return nil, err
	}
	a.Handler = httpapi.NewServer(a.Auth, httpapi.Options{Logger: log, Registerer: a.Registry, MaxBodyBytes: cfg.MaxBodyBytes, Auditor: a.auditor()})
	a.Handler.MountPlatform(a.Auth, a.Registry, Version, a.DB.Ping, a.warehouseReady)
	a.mountAudit()
	if err := a.openCatalog(ctx); err != nil {
		return nil, err
	}
	if err := a.ensureDefaultNamespace(ctx); err != nil {
		return nil, err
	}
	if err := a.openQuery(ctx); err != nil {
		return nil, err
	}
	a.openMLflow()
	if err := a.openServing(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *App) warehouseReady(ctx context.Context) error {
	_, err := a.Warehouse.List(ctx, blob.ListOptions{Limit: 1})
	return err
}

// Close releases the app's resources in reverse order of opening.
func (a *App) Close() error {
	var first error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	a.closers = nil
	return first
}

// Serve answers HTTP on ln until ctx is done, then stops accepting, lets
// in-flight requests finish (up to the shutdown timeout) and closes the app.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       a.Config.ReadTimeout,
		WriteTimeout:      a.Config.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		a.Close()
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "timeout", a.Config.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	a.Log.Info("stopped")
	return err
}

func usesDataDir(cfg config.Server) bool {
	return strings.HasPrefix(cfg.Metastore, "sqlite:") && strings.Contains(cfg.Metastore, cfg.DataDir) ||
		strings.HasPrefix(cfg.Warehouse, "file://") && strings.Contains(cfg.Warehouse, cfg.DataDir)
}

// checkURLs validates the shape of the backend URLs before anything is
// created.
func checkURLs(cfg config.Server) error {
	switch {
	case strings.HasPrefix(cfg.Metastore, "sqlite:"):
		if _, err := sqldb.SQLitePath(cfg.Metastore); err != nil {
			return err
		}
	case strings.HasPrefix(cfg.Metastore, "postgres://"), strings.HasPrefix(cfg.Metastore, "postgresql://"):
		if _, err := url.Parse(cfg.Metastore); err != nil {
			return errs.E(errs.Invalid, "INVALID_METASTORE_URL", "malformed --metastore URL %q: use postgres://user:password@host:5432/dbname", sqldb.Redact(cfg.Metastore))
		}
	default:
		return errs.E(errs.Invalid, "INVALID_METASTORE_URL", "unsupported --metastore %q: use sqlite:///path/metastore.db or postgres://user@host:5432/db", sqldb.Redact(cfg.Metastore))
	}
	switch {
	case strings.HasPrefix(cfg.Warehouse, "file://"):
		if strings.TrimPrefix(cfg.Warehouse, "file://") == "" {
			return errs.E(errs.Invalid, "INVALID_WAREHOUSE_URL", "--warehouse %q has no path: use file:///absolute/path", cfg.Warehouse)
		}
	case strings.HasPrefix(cfg.Warehouse, "s3://"):
		if _, err := s3Config(cfg); err != nil {
			return err
		}
	default:
		return errs.E(errs.Invalid, "INVALID_WAREHOUSE_URL", "unsupported --warehouse %q: use file:///path or s3://bucket/prefix", cfg.Warehouse)
	}
	return nil
}

func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return errs.Wrap(errs.Invalid, "DATA_DIR_NOT_WRITABLE", err, "cannot create data directory %s: choose another with --data-dir or fix its permissions", dir)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return errs.Wrap(errs.Invalid, "DATA_DIR_NOT_WRITABLE", err, "data directory %s is not writable: choose another with --data-dir or fix its permissions", dir)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

func s3Config(cfg config.Server) (s3blob.Config, error) {
	c, err := s3blob.ParseURL(cfg.Warehouse)
	if err != nil {
		return c, err
	}
	if cfg.S3Endpoint != "" {
		u, err := url.Parse(cfg.S3Endpoint)
		if err != nil || u.Host == "" {
			return c, errs.E(errs.Invalid, "INVALID_WAREHOUSE_URL", "invalid --s3-endpoint %q: use a URL such as http://127.0.0.1:7070", cfg.S3Endpoint)
		}
		c.Endpoint, c.UseSSL = u.Host, u.Scheme == "https"
	}
	if cfg.S3Region != "" {
		c.Region = cfg.S3Region
	}
	c.PathStyle = c.PathStyle || cfg.S3PathStyle
	c.AccessKey, c.SecretKey = cfg.S3AccessKey, cfg.S3SecretKey
	return c, nil
}

// OpenWarehouse opens the warehouse bucket named by cfg.Warehouse.
func OpenWarehouse(ctx context.Context, cfg config.Server) (blob.Bucket, error) {
	if strings.HasPrefix(cfg.Warehouse, "s3://") {
		c, err := s3Config(cfg)
		if err != nil {
			return nil, err
		}
		b, err := s3blob.New(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("open warehouse: %w", err)
		}
		return b, nil
	}
	dir := filepath.Clean(strings.TrimPrefix(cfg.Warehouse, "file://"))
	b, err := localfs.New(dir)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "INVALID_WAREHOUSE_URL", err, "cannot use warehouse directory %s", dir)
	}
	return b, nil
}
