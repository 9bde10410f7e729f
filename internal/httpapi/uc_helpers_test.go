package httpapi_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/sqldb"
)

type fileStorage struct{}

func (fileStorage) Open(_ context.Context, u string) (blob.Bucket, error) {
	return localfs.New(filepath.Clean(strings.TrimPrefix(u, "file://")))
}

func (fileStorage) RemoveAll(_ context.Context, u string) error {
	return os.RemoveAll(filepath.Clean(strings.TrimPrefix(u, "file://")))
}

// catalogAt returns a catalog service on the test server's metastore whose
// clock runs hours ahead.
func catalogAt(t *testing.T, e *ucEnv, hours int) *catalog.Service {
	s := catalog.NewService(sqldb.NewCatalogStore(e.srv.App.DB), fileStorage{}, nil, catalog.Options{
		WarehouseURL: e.srv.App.Config.Warehouse,
		Now:          func() time.Time { return time.Now().Add(time.Duration(hours) * time.Hour) },
	})
	require.NoError(t, s.Init(context.Background()))
	return s
}
