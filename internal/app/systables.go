package app

import (
	"context"
	"fmt"

	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/catalog"
)

// registerSystemTables registers system.access.audit, table_lineage and
// column_lineage (audit.SystemTables) in the catalog at the Delta tables the
// audit recorder and the lineage writer commit to, creating those tables
// empty when nothing was flushed yet. The catalog "system" and schema
// "access" are created when missing; everything is owned by the admins
// group, so only metastore admins, or principals granted USE CATALOG on
// system, USE SCHEMA on system.access and SELECT, can read them. It runs on
// every start and is idempotent; replicas starting together both succeed.
func (a *App) registerSystemTables(ctx context.Context) error {
	for _, st := range audit.SystemTables() {
		_, err := a.Catalog.RegisterInternalTable(ctx, catalog.InternalTable{
			FullName: st.FullName, Location: st.Location, Owner: auth.AdminsGroup, Comment: st.Comment,
			Create: st.CreateOptions(), CreateContainers: true,
		})
		if err != nil {
			return fmt.Errorf("register system table %s: %w", st.FullName, err)
		}
	}
	return nil
}
