package catalog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// Storage opens buckets for storage URLs (file:///path, s3://bucket/prefix).
type Storage interface {
	// Open returns a bucket rooted at u: key "a/b" of the bucket is u+"/a/b".
	// On local disk the bucket must not follow symbolic links out of u.
	// Errors: errs.Invalid for a URL the server cannot open.
	Open(ctx context.Context, u string) (blob.Bucket, error)
}

// Directory resolves principals by name.
type Directory interface {
	// Lookup returns the identity of the user (userName), group
	// (displayName) or service principal (applicationId) named name, with
	// its transitive groups. Errors: errs.NotFound.
	Lookup(ctx context.Context, name string) (*auth.Identity, error)
}

// StaticCredentials is the server's S3 key pair, vended by the
// temporary-credentials endpoints for s3:// locations when the operator
// opted in (it is not scoped to the location; see Service.vend).
type StaticCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// Options configure a Service. Zero values take the defaults.
type Options struct {
	// WarehouseURL is the root of managed storage (file:///abs or s3://b/p).
	WarehouseURL string
	// Retention is how long dropped managed tables and volumes are kept
	// before Purge deletes their data (default 7 days).
	Retention time.Duration
	// CredentialTTL is the lifetime of vended credentials (default 1 hour).
	CredentialTTL time.Duration
	// S3 is vended for s3:// storage (the server's own key pair: an
	// explicit opt-in, --s3-vend-static-credentials); nil refuses to vend
	// credentials for s3:// locations.
	S3 *StaticCredentials
	// Now is the clock (default time.Now).
	Now func() time.Time
	// NewID returns fresh UUIDs (default uuid.NewString).
	NewID func() string
	// Logger (nil discards).
	Logger *slog.Logger
	// DefaultPageSize and MaxPageSize bound list pages (100 and 1000).
	DefaultPageSize, MaxPageSize int
}

// Service is the Unity Catalog: rules and authorisation over a Store.
type Service struct {
	store   Store
	storage Storage
	dir     Directory
	o       Options
	log     *slog.Logger

	mu          sync.Mutex
	metastoreID string
}

// NewService returns a catalog service. Call Init before use.
func NewService(store Store, storage Storage, dir Directory, o Options) *Service {
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.CredentialTTL <= 0 {
		o.CredentialTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	if o.DefaultPageSize <= 0 {
		o.DefaultPageSize = 100
	}
	if o.MaxPageSize <= 0 {
		o.MaxPageSize = 1000
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o.WarehouseURL = strings.TrimRight(o.WarehouseURL, "/")
	return &Service{store: store, storage: storage, dir: dir, o: o, log: log}
}

const metastoreName = "metastore"

// Init makes sure the metastore record exists (safe to run on several
// replicas at once).
func (s *Service) Init(ctx context.Context) error {
	r, err := s.store.Get(ctx, TypeMetastore, metastoreName)
	if errs.Is(err, errs.NotFound) {
		now := s.o.Now()
		err = s.store.Create(ctx, Record{ID: s.o.NewID(), Type: TypeMetastore, Name: metastoreName, FullName: metastoreName,
			Owner: auth.AdminsGroup, Location: s.o.WarehouseURL, Body: []byte("{}"), CreatedAt: now, UpdatedAt: now, CreatedBy: "system", UpdatedBy: "system"})
		if err != nil && !errs.Is(err, errs.AlreadyExists) {
			return fmt.Errorf("create metastore: %w", err)
		}
		r, err = s.store.Get(ctx, TypeMetastore, metastoreName)
	}
	if err != nil {
		return fmt.Errorf("load metastore: %w", err)
	}
	s.mu.Lock()
	s.metastoreID = r.ID
	s.mu.Unlock()
	return nil
}

func (s *Service) metastore() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metastoreID
}

// MetastoreSummary describes the metastore; any authenticated caller may ask.
func (s *Service) MetastoreSummary(ctx context.Context) (MetastoreSummary, error) {
	if _, err := caller(ctx); err != nil {
		return MetastoreSummary{}, err
	}
	return MetastoreSummary{MetastoreID: s.metastore(), Name: "lakebox", StorageRoot: s.o.WarehouseURL, Owner: auth.AdminsGroup}, nil
}

func caller(ctx context.Context) (*auth.Identity, error) {
	id := auth.IdentityFrom(ctx)
	if id == nil {
		return nil, errs.E(errs.Unauthenticated, ReasonUnauthenticated, "authentication required")
	}
	return id, nil
}

// newRecord fills the common fields of a new record.
func (s *Service) newRecord(id *auth.Identity, t SecurableType, parent *Record, name, comment string) Record {
	now := s.o.Now()
	full := strings.ToLower(name)
	parentID := ""
	if parent != nil {
		full = parent.FullName + "." + full
		parentID = parent.ID
	}
	return Record{ID: s.o.NewID(), Type: t, ParentID: parentID, Name: strings.ToLower(name), FullName: full,
		Owner: id.Principal.Name, Comment: comment, CreatedAt: now, CreatedBy: id.Principal.Name, UpdatedAt: now, UpdatedBy: id.Principal.Name}
}

func (s *Service) touch(r *Record, id *auth.Identity) {
	r.UpdatedAt = s.o.Now()
	r.UpdatedBy = id.Principal.Name
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func decodeBody(r Record, v any) {
	if len(r.Body) > 0 {
		_ = json.Unmarshal(r.Body, v)
	}
}

func parts(full string) []string { return strings.Split(full, ".") }

// pageSize checks MaxResults: negative is an error, 0 the default, more
// than the cap is capped.
func (s *Service) pageSize(p Page) (int, error) {
	switch {
	case p.MaxResults < 0:
		return 0, invalid("max_results must not be negative; use 0 for the server default (%d)", s.o.DefaultPageSize)
	case p.MaxResults == 0:
		return s.o.DefaultPageSize, nil
	case p.MaxResults > s.o.MaxPageSize:
		return s.o.MaxPageSize, nil
	}
	return p.MaxResults, nil
}

func encodeToken(s string) string {
	if s == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeToken(t string) (string, error) {
	if t == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return "", invalid("invalid page_token; pass the next_page_token of the previous page unchanged")
	}
	return string(b), nil
}

// listVisible pages through records of q, keeping those keep accepts
// (a batch at a time), until a page of the requested size is full. It
// returns the page and the next page token ("" on the last page).
func (s *Service) listVisible(ctx context.Context, q ListQuery, p Page, keep func([]Record) ([]Record, error)) ([]Record, string, error) {
	n, err := s.pageSize(p)
	if err != nil {
		return nil, "", err
	}
	if q.After, err = decodeToken(p.Token); err != nil {
		return nil, "", err
	}
	var out []Record
	batch := n + 1
	for {
		q.Limit = batch
		recs, err := s.store.List(ctx, q)
		if err != nil {
			return nil, "", err
		}
		kept, err := keep(recs)
		if err != nil {
			return nil, "", err
		}
		out = append(out, kept...)
		if len(out) > n {
			out = out[:n]
			return out, encodeToken(out[n-1].FullName), nil
		}
		if len(recs) < batch {
			return out, "", nil
		}
		q.After = recs[len(recs)-1].FullName
		batch = min(batch*4, 1000)
	}
}
