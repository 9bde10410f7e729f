package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/blob/s3blob"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/config"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/sqldb"
)

// warehouseURL is the canonical URL of the warehouse (file:///abs/path or
// s3://bucket/prefix, no trailing slash).
func warehouseURL(cfg config.Server) string {
	if strings.HasPrefix(cfg.Warehouse, "file://") {
		return "file://" + filepath.Clean(strings.TrimPrefix(cfg.Warehouse, "file://"))
	}
	// s3://bucket/prefix without the connection settings of its query
	// (endpoint, region, path_style): locations under it are plain paths.
	if c, err := s3blob.ParseURL(cfg.Warehouse); err == nil {
		if c.Prefix == "" {
			return "s3://" + c.Bucket
		}
		return "s3://" + c.Bucket + "/" + c.Prefix
	}
	return strings.TrimRight(cfg.Warehouse, "/")
}

// catalogStorage opens buckets for storage URLs: a local directory as its
// own localfs root (so symbolic links cannot lead out of a volume or table
// location), warehouse S3 prefixes as views of the warehouse bucket and
// other S3 buckets with the server's S3 settings.
type catalogStorage struct {
	cfg       config.Server
	warehouse blob.Bucket
	whURL     string
}

// Open implements catalog.Storage.
func (st *catalogStorage) Open(ctx context.Context, u string) (blob.Bucket, error) {
	switch {
	case strings.HasPrefix(u, "file://"):
		dir := filepath.Clean(strings.TrimPrefix(u, "file://"))
		b, err := localfs.New(dir)
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, "INVALID_ARGUMENT", err, "cannot open storage location %s", u)
		}
		return b, nil
	case strings.HasPrefix(u, "s3://"):
		if u == st.whURL {
			return st.warehouse, nil
		}
		if rel, ok := strings.CutPrefix(u, st.whURL+"/"); ok && strings.HasPrefix(st.whURL, "s3://") {
			return blob.Prefixed(st.warehouse, rel), nil
		}
		c := st.cfg
		c.Warehouse = u
		sc, err := s3Config(c)
		if err != nil {
			return nil, err
		}
		return s3blob.New(ctx, sc)
	}
	return nil, errs.E(errs.Invalid, "INVALID_ARGUMENT", "unsupported storage location %q", u)
}

// RemoveAll implements catalog.Remover: local directories are removed once
// their objects are gone.
func (st *catalogStorage) RemoveAll(_ context.Context, u string) error {
	if dir, ok := strings.CutPrefix(u, "file://"); ok {
		return os.RemoveAll(filepath.Clean(dir))
	}
	return nil
}

// openCatalog builds the Unity Catalog service, starts its purge of dropped
// securables and mounts its API. --drop-retention sets how long dropped
// managed tables and volumes are kept. The system.access tables are
// registered here (audit is already open; see registerSystemTables), and
// lineage gets its visibility rule (lineageVisibility).
func (a *App) openCatalog(ctx context.Context) error {
	wh := warehouseURL(a.Config)
	var s3 *catalog.StaticCredentials
	if strings.HasPrefix(wh, "s3://") && a.Config.S3AccessKey != "" && a.Config.S3VendStatic {
		s3 = &catalog.StaticCredentials{AccessKeyID: a.Config.S3AccessKey, SecretAccessKey: a.Config.S3SecretKey}
	}
	retention := a.Config.DropRetention
	a.Catalog = catalog.NewService(sqldb.NewCatalogStore(a.DB), &catalogStorage{cfg: a.Config, warehouse: a.Warehouse, whURL: wh},
		catalog.AuthDirectory{Auth: a.Auth}, catalog.Options{WarehouseURL: wh, Retention: retention, S3: s3, Logger: a.Log})
	if err := a.Catalog.Init(ctx); err != nil {
		return err
	}
	if err := a.registerSystemTables(ctx); err != nil {
		return err
	}
	if a.Audit.Lineage != nil {
		a.Audit.Lineage.SetVisibility(lineageVisibility{a})
	}
	a.closers = append(a.closers, a.Catalog.Start(time.Hour))
	a.Handler.MountUC(a.Catalog)
	return nil
}
