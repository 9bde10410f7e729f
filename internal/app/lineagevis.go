package app

import (
	"context"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/lineage"
)

// lineageVisibility decides which lineage nodes a caller sees (metastore
// admins see everything before it is asked):
//
//   - TABLE: tables the catalog lets the caller see (catalog.ResolveTable:
//     owners, BROWSE, or USE CATALOG + USE SCHEMA + any table privilege such
//     as SELECT); tables not in the catalog are hidden.
//   - MODEL_VERSION ("<model full name>/<version>"): versions the catalog
//     lets the caller see (catalog.GetModelVersion).
//   - RUN: the MLflow run's owner (its user_id). Tracking has no ACLs, so
//     this is the conservative choice, not a secret kept elsewhere.
//   - SERVING_ENDPOINT: the endpoint's creator (who may manage it).
//   - PATH and EXTERNAL: admins only, as before the catalog was wired
//     (storage paths and foreign datasets have no Lakebox owner).
//
// It reads the services lazily through the App, so it can be installed as
// soon as the catalog is open, before tracking and serving.
type lineageVisibility struct{ a *App }

var _ lineage.Visibility = lineageVisibility{}

// CanSee implements lineage.Visibility.
func (v lineageVisibility) CanSee(ctx context.Context, securableType, fullName string) bool {
	id := auth.IdentityFrom(ctx)
	if id == nil {
		return false
	}
	if id.Admin {
		return true
	}
	switch lineage.NodeType(securableType) {
	case lineage.Table:
		_, err := v.a.Catalog.ResolveTable(ctx, fullName)
		return err == nil
	case lineage.ModelVersion:
		i := strings.LastIndexByte(fullName, '/')
		if i <= 0 {
			return false
		}
		n, err := strconv.ParseInt(fullName[i+1:], 10, 64)
		if err != nil {
			return false
		}
		_, err = v.a.Catalog.GetModelVersion(ctx, fullName[:i], n)
		return err == nil
	case lineage.Run:
		if v.a.MLflow.Tracking == nil {
			return false
		}
		info, err := v.a.MLflow.Tracking.GetRunInfo(ctx, fullName)
		return err == nil && info.UserID != "" && info.UserID == id.Principal.Name
	case lineage.ServingEndpoint:
		if v.a.Serving.Service == nil {
			return false
		}
		ep, err := v.a.Serving.Service.Get(ctx, fullName)
		return err == nil && ep.Creator != "" && ep.Creator == id.Principal.Name
	}
	return false
}
