package catalog

import (
	"context"
	"time"
)

// Record is the stored form of one securable. Body holds the type-specific
// fields as JSON (the *Info struct); the columns beside it are the indexed
// and authoritative ones.
type Record struct {
	ID        string
	Type      SecurableType
	ParentID  string // "" for top-level securables
	Name      string // lower case
	FullName  string // lower case, dotted
	Owner     string
	Comment   string
	Location  string // storage URL, "" when none
	Managed   bool   // Location was allocated by Lakebox (data removed on purge)
	Body      []byte
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
	DroppedAt time.Time // zero while live
}

// Key names a live securable.
type Key struct {
	Type     SecurableType
	FullName string
}

// Grant is one privilege held by a principal on a securable.
type Grant struct {
	SecurableID string
	Principal   string
	Privilege   Privilege
}

// Tag is one tag on a securable (Column "") or on one of its columns.
type Tag struct {
	SecurableID string
	Column      string
	Key         string
	Value       string
}

// ListQuery selects records for a list page, ordered by FullName.
type ListQuery struct {
	Type     SecurableType
	ParentID string // "" = any parent
	After    string // FullName strictly after
	Limit    int
	Dropped  bool // list dropped records instead of live ones
}

// SearchQuery selects live records whose full name, comment, tag key or
// tag value contains Text (case-insensitive), ordered by (FullName, Type).
type SearchQuery struct {
	Text      string
	Types     []SecurableType
	AfterName string
	AfterType SecurableType
	Limit     int
}

// ModelVersion is a stored model version.
type ModelVersion struct {
	ModelID   string
	Version   int64
	ID        string
	Status    string
	Location  string
	Body      []byte // ModelVersionInfo JSON
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// Store keeps the catalog's records. Every method may also return
// errs.Unavailable or an Internal error from the database.
type Store interface {
	// Create inserts r. Errors: errs.AlreadyExists if a live record of the
	// same type and full name exists; errs.NotFound if the parent is gone.
	Create(ctx context.Context, r Record) error
	// Get returns the live record of a type and full name. Errors: errs.NotFound.
	Get(ctx context.Context, t SecurableType, fullName string) (Record, error)
	// GetByID returns a record, live or dropped. Errors: errs.NotFound.
	GetByID(ctx context.Context, id string) (Record, error)
	// Lookup returns the live records among keys, in no particular order;
	// missing keys are absent from the result.
	Lookup(ctx context.Context, keys []Key) ([]Record, error)
	// List returns a page of records (see ListQuery).
	List(ctx context.Context, q ListQuery) ([]Record, error)
	// Update writes r's owner, comment, location, body and update stamps.
	// Errors: errs.NotFound.
	Update(ctx context.Context, r Record) error
	// Rename gives the record id a new name and full name and rewrites the
	// full names of its descendants. Errors: errs.NotFound,
	// errs.AlreadyExists.
	Rename(ctx context.Context, id, newName, newFullName string, at time.Time, by string) error
	// SetDropped marks records dropped at `at`, or live again when at is
	// zero. Errors: errs.AlreadyExists when undropping over a live record.
	SetDropped(ctx context.Context, ids []string, at time.Time) error
	// Delete removes records with their grants, tags and model versions.
	Delete(ctx context.Context, ids []string) error
	// Children returns the live and dropped records whose parent is id.
	Children(ctx context.Context, id string) ([]Record, error)
	// LatestDropped returns the most recently dropped record of a type and
	// full name. Errors: errs.NotFound.
	LatestDropped(ctx context.Context, t SecurableType, fullName string) (Record, error)
	// Expired returns up to limit records dropped before `before`.
	Expired(ctx context.Context, before time.Time, limit int) ([]Record, error)
	// Search returns a page of records (see SearchQuery).
	Search(ctx context.Context, q SearchQuery) ([]Record, error)

	// Grants returns the grants on the securables ids to principals (all
	// principals when principals is nil).
	Grants(ctx context.Context, ids []string, principals []string) ([]Grant, error)
	// UpdateGrants adds and removes grants in one transaction.
	UpdateGrants(ctx context.Context, add, remove []Grant) error

	// Tags returns the tags of the securables ids.
	Tags(ctx context.Context, ids []string) ([]Tag, error)
	// SetTag sets (value non-nil) or removes a tag.
	SetTag(ctx context.Context, t Tag, remove bool) error

	// CreateModelVersion stores mv with the next version number of its
	// model and returns that number.
	CreateModelVersion(ctx context.Context, mv ModelVersion) (int64, error)
	// GetModelVersion returns a version. Errors: errs.NotFound.
	GetModelVersion(ctx context.Context, modelID string, version int64) (ModelVersion, error)
	// ListModelVersions returns up to limit versions after `after`, ascending.
	ListModelVersions(ctx context.Context, modelID string, after int64, limit int) ([]ModelVersion, error)
	// UpdateModelVersion writes status, body and update stamps. Errors: errs.NotFound.
	UpdateModelVersion(ctx context.Context, mv ModelVersion) error
	// DeleteModelVersion removes a version. Errors: errs.NotFound.
	DeleteModelVersion(ctx context.Context, modelID string, version int64) error
}
