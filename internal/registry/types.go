package registry

import (
	"context"
	"strconv"
	"strings"

	"github.com/lakebox/lakebox/internal/catalog"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/tracking"
)

// Stages of model versions (MLflow's legacy stages).
const (
	StageNone       = "None"
	StageStaging    = "Staging"
	StageProduction = "Production"
	StageArchived   = "Archived"
)

// Stages lists the stages in MLflow's order.
var Stages = []string{StageNone, StageStaging, StageProduction, StageArchived}

// CanonicalStage returns the stage named s (case-insensitive).
func CanonicalStage(s string) (string, error) {
	for _, st := range Stages {
		if strings.EqualFold(s, st) {
			return st, nil
		}
	}
	return "", invalid("Invalid Model Version stage: %s. Value must be one of %s, %s, %s, %s.", s, StageNone, StageStaging, StageProduction, StageArchived)
}

// Tag is a key/value tag.
type Tag = tracking.Tag

// Alias points a name at a version.
type Alias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// RegisteredModel is MLflow's registered model.
type RegisteredModel struct {
	Name                 string         `json:"name"`
	CreationTimestamp    int64          `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp int64          `json:"last_updated_timestamp,omitempty"`
	UserID               string         `json:"user_id,omitempty"`
	Description          string         `json:"description,omitempty"`
	LatestVersions       []ModelVersion `json:"latest_versions,omitempty"`
	Tags                 []Tag          `json:"tags,omitempty"`
	Aliases              []Alias        `json:"aliases,omitempty"`

	ID string `json:"-"` // catalog securable id
}

// ModelVersion is MLflow's model version.
type ModelVersion struct {
	Name                 string   `json:"name"`
	Version              string   `json:"version"`
	CreationTimestamp    int64    `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp int64    `json:"last_updated_timestamp,omitempty"`
	UserID               string   `json:"user_id,omitempty"`
	CurrentStage         string   `json:"current_stage"`
	Description          string   `json:"description,omitempty"`
	Source               string   `json:"source,omitempty"`
	RunID                string   `json:"run_id,omitempty"`
	Status               string   `json:"status"`
	StatusMessage        string   `json:"status_message,omitempty"`
	Tags                 []Tag    `json:"tags,omitempty"`
	RunLink              string   `json:"run_link,omitempty"`
	Aliases              []string `json:"aliases,omitempty"`
	ModelID              string   `json:"model_id,omitempty"`

	ModelKey string `json:"-"` // catalog securable id of the model
}

// VersionNumber parses a version string. Errors: INVALID_PARAMETER_VALUE.
func VersionNumber(v string) (int64, error) {
	if v == "" {
		return 0, tracking.Missing("version")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, invalid("Model version must be a positive integer, got '%s'", v)
	}
	return n, nil
}

// VersionExtra is what the registry keeps beside a catalog model version.
type VersionExtra struct {
	ModelKey      string
	Version       int64
	Stage         string
	Source        string
	RunID         string
	RunLink       string
	LoggedModelID string
	UserID        string
}

// VersionRow is a model version as the registry's store reads it: catalog
// columns joined with the registry's extras.
type VersionRow struct {
	VersionExtra
	FullName    string
	Status      string
	Comment     string
	CreatedAt   int64
	UpdatedAt   int64
	CatalogUser string
}

// ModelRow is a registered model as the registry's store reads it.
type ModelRow struct {
	ID        string
	FullName  string
	Comment   string
	Owner     string
	CreatedAt int64
	UpdatedAt int64
}

// ModelQuery searches registered models.
type ModelQuery struct {
	Filter     []tracking.Clause
	OrderBy    []tracking.OrderKey
	MaxResults int
	Offset     int
}

// VersionQuery searches model versions.
type VersionQuery struct {
	Filter     []tracking.Clause
	OrderBy    []tracking.OrderKey
	MaxResults int
	Offset     int
}

// Catalog is what the registry needs from the Unity Catalog
// (catalog.Service implements it). Every method checks the caller's
// privileges itself. Errors: errs.NotFound, errs.AlreadyExists,
// errs.PermissionDenied, errs.Invalid as the catalog documents.
type Catalog interface {
	CreateCatalog(ctx context.Context, req catalog.CreateCatalog) (catalog.CatalogInfo, error)
	CreateSchema(ctx context.Context, req catalog.CreateSchema) (catalog.SchemaInfo, error)
	CreateRegisteredModel(ctx context.Context, req catalog.CreateRegisteredModel) (catalog.RegisteredModelInfo, error)
	GetRegisteredModel(ctx context.Context, full string) (catalog.RegisteredModelInfo, error)
	UpdateRegisteredModel(ctx context.Context, full string, u catalog.Update) (catalog.RegisteredModelInfo, error)
	DeleteRegisteredModel(ctx context.Context, full string, force bool) error
	CreateModelVersion(ctx context.Context, req catalog.CreateModelVersion) (catalog.ModelVersionInfo, error)
	FinalizeModelVersion(ctx context.Context, full string, version int64) (catalog.ModelVersionInfo, error)
	GetModelVersion(ctx context.Context, full string, version int64) (catalog.ModelVersionInfo, error)
	UpdateModelVersion(ctx context.Context, full string, version int64, comment *string) (catalog.ModelVersionInfo, error)
	DeleteModelVersion(ctx context.Context, full string, version int64) error
	Authorize(ctx context.Context, t catalog.SecurableType, fullName string, privilege catalog.Privilege) error
}

// Runs is what the registry needs from tracking (tracking.Service implements it).
type Runs interface {
	// RunArtifactURI returns a run's artifact_uri. Errors: errs.NotFound.
	RunArtifactURI(ctx context.Context, runID string) (string, error)
	// GetLoggedModel returns a logged model. Errors: errs.NotFound.
	GetLoggedModel(ctx context.Context, id string) (tracking.LoggedModel, error)
	// RunTables returns the table versions a run's datasets came from.
	RunTables(ctx context.Context, runID string) ([]tracking.TableRef, error)
}

// Store keeps the registry's extras and answers searches over the
// catalog's model tables (same database).
type Store interface {
	// ModelByName returns the live registered model. Errors: errs.NotFound.
	ModelByName(ctx context.Context, fullName string) (ModelRow, error)
	// SearchModels returns a page of live models and whether more exist.
	SearchModels(ctx context.Context, q ModelQuery) ([]ModelRow, bool, error)
	// ModelTags / SetModelTag (value nil = delete; errs.NotFound when absent).
	ModelTags(ctx context.Context, modelKeys []string) (map[string][]Tag, error)
	SetModelTag(ctx context.Context, modelKey, key string, value *string) error
	// Aliases returns the aliases of models; SetAlias upserts (version > 0)
	// or deletes (version 0; errs.NotFound when absent) one.
	Aliases(ctx context.Context, modelKeys []string) (map[string][]Alias, error)
	SetAlias(ctx context.Context, modelKey, alias string, version int64) error
	// PutVersionExtra stores a version's extras and lineage.
	PutVersionExtra(ctx context.Context, x VersionExtra, tables []tracking.TableRef) error
	// SetStage sets a version's stage; with archiveOthers, other versions in
	// that stage become Archived. Returns the versions that changed.
	SetStage(ctx context.Context, modelKey string, version int64, stage string, archiveOthers bool) ([]int64, error)
	// Versions returns versions of one model (all when versions is nil).
	Versions(ctx context.Context, modelKey string, versions []int64) ([]VersionRow, error)
	// SearchVersions returns a page of versions and whether more exist.
	SearchVersions(ctx context.Context, q VersionQuery) ([]VersionRow, bool, error)
	// VersionTags / SetVersionTag (value nil = delete).
	VersionTags(ctx context.Context, modelKey string, versions []int64) (map[int64][]Tag, error)
	SetVersionTag(ctx context.Context, modelKey string, version int64, key string, value *string) error
	// VersionTables returns a version's lineage.
	VersionTables(ctx context.Context, modelKey string, version int64) ([]tracking.TableRef, error)
	WebhookStore
}

func invalid(format string, args ...any) error {
	return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", format, args...)
}

func notFound(format string, args ...any) error {
	return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", format, args...)
}
