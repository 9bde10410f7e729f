package serving

import "context"

// Store keeps endpoint configs and events in the metastore, so every
// Lakebox replica serves the same config version.
type Store interface {
	// CreateEndpoint stores a new endpoint. Errors: errs.AlreadyExists.
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	// GetEndpoint returns an endpoint. Errors: errs.NotFound.
	GetEndpoint(ctx context.Context, name string) (*Endpoint, error)
	// ListEndpoints returns every endpoint by name.
	ListEndpoints(ctx context.Context) ([]*Endpoint, error)
	// UpdateEndpoint replaces e if its stored config version is
	// prevVersion. Errors: errs.NotFound; errs.Conflict when another
	// writer changed it.
	UpdateEndpoint(ctx context.Context, e *Endpoint, prevVersion int64) error
	// DeleteEndpoint removes an endpoint and its events. Errors: errs.NotFound.
	DeleteEndpoint(ctx context.Context, name string) error
	// AddEvent appends an event to an endpoint's log.
	AddEvent(ctx context.Context, endpoint string, ev Event) error
	// Events returns the newest limit events, oldest first.
	Events(ctx context.Context, endpoint string, limit int) ([]Event, error)
}
