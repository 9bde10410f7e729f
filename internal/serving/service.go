package serving

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// CaptureRecord is one answered invocation for the inference table.
type CaptureRecord struct {
	Endpoint        string
	Table           string // catalog.schema.<prefix>_payload
	RequestID       string
	ClientRequestID string
	Time            time.Time
	StatusCode      int
	ExecutionMs     int64
	Request         []byte
	Response        []byte
	ServedEntity    string
	EntityName      string
	EntityVersion   string
	Requester       string
}

// Capturer receives answered invocations for the inference tables.
type Capturer interface {
	// Capture records rec. It must not block on I/O beyond a durable local
	// append, and its failure never fails the request.
	Capture(rec *CaptureRecord)
}

// Options configure a Service.
type Options struct {
	Store  Store
	Source ModelSource
	// Runtime configures the model runtimes.
	Runtime RuntimeOptions
	// Capturer, when set, receives every invocation of endpoints with an
	// enabled auto_capture_config.
	Capturer   Capturer
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
	// AliasPoll is how often aliases are re-resolved (default 5s).
	AliasPoll time.Duration
	// SyncInterval is how often the store is polled for configs changed by
	// other Lakebox replicas (default 5s).
	SyncInterval time.Duration
	// Pool is the template of every pool's options (timings; Min/Max and
	// ScaleToZero come from the served entity).
	Pool PoolOptions
	// LoadTimeout bounds a rollout's model loads (default 5m).
	LoadTimeout time.Duration
	// Deployed, when set, is called after a rollout for every model version
	// the endpoint started serving (lineage: model version → endpoint, and
	// endpoint → inference table when capture is on; table "" otherwise).
	Deployed func(endpoint string, m *ResolvedModel, inferenceTable string)
	// CaptureTable, when set, is called with the caller's ctx when an
	// endpoint is created or its config changed with capture on, before the
	// change is stored: it registers the inference table (a three-level
	// name) owned by the endpoint's creator. Its error refuses the change
	// (errs.PermissionDenied without CREATE TABLE in the schema,
	// errs.NotFound for a missing catalog or schema).
	CaptureTable func(ctx context.Context, endpoint, creator, table string) error
}

// Service runs the serving endpoints of this Lakebox replica.
type Service struct {
	o       Options
	log     *slog.Logger
	m       *metrics
	mu      sync.Mutex
	eps     map[string]*liveEndpoint
	stop    chan struct{}
	wg      sync.WaitGroup
	closing atomic.Bool
}

type liveEndpoint struct {
	name    string
	rollout sync.Mutex // one rollout at a time
	cur     atomic.Pointer[deployment]

	mu        sync.Mutex
	rec       *Endpoint
	pending   *EndpointConfig
	pendingAt int64
	update    string
	limiter   *limiter
	logs      map[string]*ring // served entity → log lines
	deleted   bool
}

type deployment struct {
	version  int64
	cfg      EndpointConfig
	entities map[string]*entity
	routes   []*entity
	cum      []int
}

type entity struct {
	in      ServedEntityInput
	model   *ResolvedModel // nil for external models
	pool    *Pool
	key     string
	timeout time.Duration
}

// New returns a Service. Call Start to load the stored endpoints and run
// the background loops.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AliasPoll <= 0 {
		o.AliasPoll = 5 * time.Second
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = 5 * time.Second
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = 5 * time.Minute
	}
	return &Service{o: o, log: o.Logger, m: newMetrics(o.Registerer), eps: map[string]*liveEndpoint{}, stop: make(chan struct{})}
}

// Start loads every stored endpoint (rollouts run in the background) and
// starts the store sync and alias poll loops.
func (s *Service) Start(ctx context.Context) error {
	if err := s.Sync(ctx); err != nil {
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		sync := time.NewTicker(s.o.SyncInterval)
		alias := time.NewTicker(s.o.AliasPoll)
		defer sync.Stop()
		defer alias.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-sync.C:
				if err := s.Sync(context.Background()); err != nil {
					s.log.Warn("serving sync failed", "err", err.Error())
				}
			case <-alias.C:
				s.PollAliases(context.Background())
			}
		}
	}()
	return nil
}

// Close stops the loops and drains and closes every replica (bounded by ctx).
func (s *Service) Close(ctx context.Context) error {
	if !s.closing.CompareAndSwap(false, true) {
		return nil
	}
	close(s.stop)
	s.wg.Wait()
	s.mu.Lock()
	eps := s.eps
	s.eps = map[string]*liveEndpoint{}
	s.mu.Unlock()
	for _, le := range eps {
		le.rollout.Lock()
		if d := le.cur.Swap(nil); d != nil {
			d.close(ctx, nil)
		}
		le.rollout.Unlock()
	}
	return nil
}

func (d *deployment) close(ctx context.Context, keep map[*Pool]bool) {
	for _, e := range d.entities {
		if e.pool != nil && !keep[e.pool] {
			e.pool.Close(ctx)
		}
	}
}

func newID() string {
	var b [16]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func principal(ctx context.Context) *auth.Identity { return auth.IdentityFrom(ctx) }

func (s *Service) event(le *liveEndpoint, typ, served, msg string) {
	ev := Event{TimestampMs: s.o.Now().UnixMilli(), Type: typ, Message: msg, ServedName: served}
	le.log(served, msg, s.o.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.o.Store.AddEvent(ctx, le.name, ev); err != nil {
		s.log.Warn("serving event not stored", "endpoint", le.name, "err", err.Error())
	}
}

// canManage: the creator and admins.
func canManage(ctx context.Context, rec *Endpoint) error {
	id := principal(ctx)
	if id == nil {
		return errs.E(errs.Unauthenticated, "UNAUTHENTICATED", "authentication required")
	}
	if id.Admin || id.Principal.Name == rec.Creator {
		return nil
	}
	return errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "%s has no CAN_MANAGE permission on serving endpoint %q", id.Principal.Name, rec.Name)
}

// authorizeEntities asks the model source about every model of cfg.
func (s *Service) authorizeEntities(ctx context.Context, cfg *EndpointConfig, a Action) error {
	id := principal(ctx)
	if id != nil && id.Admin {
		return nil
	}
	for _, e := range cfg.ServedEntities {
		if e.ExternalModel != nil {
			continue
		}
		if err := s.o.Source.Authorize(ctx, e.EntityName, a); err != nil {
			return err
		}
	}
	return nil
}

// Create stores a new endpoint and starts rolling out its config.
// Errors: errs.Invalid, errs.AlreadyExists, errs.PermissionDenied.
func (s *Service) Create(ctx context.Context, req *CreateRequest) (*EndpointView, error) {
	if err := ValidateName(req.Name); err != nil {
		return nil, err
	}
	if req.Config == nil {
		return nil, invalid("config is required: {\"served_entities\": [...], \"traffic_config\": {...}}")
	}
	if err := req.Config.Validate(); err != nil {
		return nil, err
	}
	if err := validateRateLimits(req.RateLimits); err != nil {
		return nil, err
	}
	if err := s.authorizeEntities(ctx, req.Config, ActionQuery); err != nil {
		return nil, err
	}
	if err := s.checkResolvable(ctx, req.Config); err != nil {
		return nil, err
	}
	now := s.o.Now().UnixMilli()
	creator := ""
	if id := principal(ctx); id != nil {
		creator = id.Principal.Name
	}
	if err := s.captureTable(ctx, req.Name, creator, req.Config); err != nil {
		return nil, err
	}
	req.Config.Name = req.Name
	rec := &Endpoint{ID: newID(), Name: req.Name, Creator: creator, CreatedMs: now, UpdatedMs: now, ConfigVersion: 1,
		Config: *req.Config, Tags: req.Tags, RateLimits: req.RateLimits, Description: req.Description, ConfigUpdate: UpdateInProgress}
	if err := s.o.Store.CreateEndpoint(ctx, rec); err != nil {
		return nil, err
	}
	le := s.live(rec)
	s.event(le, "ENDPOINT_CREATED", "", fmt.Sprintf("endpoint created by %s with config version 1", creator))
	s.startRollout(le, rec, "config version 1")
	return s.view(le), nil
}

// captureTable registers cfg's inference table through Options.CaptureTable.
func (s *Service) captureTable(ctx context.Context, endpoint, creator string, cfg *EndpointConfig) error {
	ac := cfg.AutoCaptureConfig
	if s.o.CaptureTable == nil || !ac.On() {
		return nil
	}
	return s.o.CaptureTable(ctx, endpoint, creator, ac.TableName(endpoint))
}

// checkResolvable fails fast on models that do not exist.
func (s *Service) checkResolvable(ctx context.Context, cfg *EndpointConfig) error {
	for i, e := range cfg.ServedEntities {
		if e.ExternalModel != nil {
			continue
		}
		if _, err := s.o.Source.Resolve(ctx, e.EntityName, e.EntityVersion, e.EntityAlias); err != nil {
			if errs.Is(err, errs.NotFound) {
				return errs.Wrap(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", err, "served_entities[%d]: %s", i, errs.Message(err))
			}
			return err
		}
	}
	return nil
}

func validateRateLimits(rl []RateLimit) error {
	for i, r := range rl {
		if r.Calls <= 0 {
			return invalid("rate_limits[%d].calls must be positive", i)
		}
		if r.Key != "" && r.Key != "endpoint" && r.Key != "user" {
			return invalid("rate_limits[%d].key %q is invalid; accepted: endpoint, user", i, r.Key)
		}
		if r.RenewalPeriod != "" && r.RenewalPeriod != "minute" {
			return invalid("rate_limits[%d].renewal_period %q is invalid; accepted: minute", i, r.RenewalPeriod)
		}
	}
	return nil
}

// live returns (creating) the in-memory endpoint for rec.
func (s *Service) live(rec *Endpoint) *liveEndpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	le := s.eps[rec.Name]
	if le == nil {
		le = &liveEndpoint{name: rec.Name, logs: map[string]*ring{}, update: UpdateNotUpdating}
		s.eps[rec.Name] = le
	}
	le.mu.Lock()
	le.rec = rec
	le.limiter = newLimiter(rec.RateLimits)
	le.mu.Unlock()
	return le
}

func (s *Service) get(name string) (*liveEndpoint, error) {
	s.mu.Lock()
	le := s.eps[name]
	s.mu.Unlock()
	if le == nil {
		return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "serving endpoint %q does not exist", name)
	}
	return le, nil
}

// UpdateConfig replaces an endpoint's config and rolls it out. Errors:
// errs.NotFound; errs.Invalid; errs.Conflict while an update is in
// progress; errs.PermissionDenied.
func (s *Service) UpdateConfig(ctx context.Context, name string, cfg *EndpointConfig) (*EndpointView, error) {
	le, err := s.get(name)
	if err != nil {
		return nil, err
	}
	le.mu.Lock()
	rec := *le.rec
	busy := le.update == UpdateInProgress
	le.mu.Unlock()
	if err := canManage(ctx, &rec); err != nil {
		return nil, err
	}
	if busy {
		return nil, errs.E(errs.Conflict, "RESOURCE_CONFLICT", "endpoint %q has a config update in progress; retry when it finishes", name)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := s.authorizeEntities(ctx, cfg, ActionQuery); err != nil {
		return nil, err
	}
	if err := s.checkResolvable(ctx, cfg); err != nil {
		return nil, err
	}
	if err := s.captureTable(ctx, name, rec.Creator, cfg); err != nil {
		return nil, err
	}
	cfg.Name = name
	prev := rec.ConfigVersion
	rec.Config = *cfg
	rec.ConfigVersion++
	rec.UpdatedMs = s.o.Now().UnixMilli()
	rec.ConfigUpdate = UpdateInProgress
	if err := s.o.Store.UpdateEndpoint(ctx, &rec, prev); err != nil {
		return nil, err
	}
	s.live(&rec)
	s.event(le, "CONFIG_UPDATE_STARTED", "", fmt.Sprintf("config version %d submitted", rec.ConfigVersion))
	s.startRollout(le, &rec, fmt.Sprintf("config version %d", rec.ConfigVersion))
	return s.view(le), nil
}

// Delete removes an endpoint; its replicas drain and stop.
func (s *Service) Delete(ctx context.Context, name string) error {
	le, err := s.get(name)
	if err != nil {
		return err
	}
	le.mu.Lock()
	rec := *le.rec
	le.mu.Unlock()
	if err := canManage(ctx, &rec); err != nil {
		return err
	}
	if err := s.o.Store.DeleteEndpoint(ctx, name); err != nil {
		return err
	}
	s.drop(le)
	return nil
}

func (s *Service) drop(le *liveEndpoint) {
	s.mu.Lock()
	if s.eps[le.name] == le {
		delete(s.eps, le.name)
	}
	s.mu.Unlock()
	le.mu.Lock()
	le.deleted = true
	le.mu.Unlock()
	go func() {
		le.rollout.Lock()
		defer le.rollout.Unlock()
		if d := le.cur.Swap(nil); d != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			d.close(ctx, nil)
		}
	}()
}

// Get returns an endpoint. Errors: errs.NotFound.
func (s *Service) Get(ctx context.Context, name string) (*EndpointView, error) {
	le, err := s.get(name)
	if err != nil {
		return nil, err
	}
	return s.view(le), nil
}

// List returns every endpoint by name.
func (s *Service) List(ctx context.Context) ([]*EndpointView, error) {
	s.mu.Lock()
	var names []string
	for n := range s.eps {
		names = append(names, n)
	}
	s.mu.Unlock()
	sort.Strings(names)
	out := []*EndpointView{}
	for _, n := range names {
		if le, err := s.get(n); err == nil {
			out = append(out, s.view(le))
		}
	}
	return out, nil
}

// Events returns an endpoint's events, oldest first.
func (s *Service) Events(ctx context.Context, name string) ([]Event, error) {
	if _, err := s.get(name); err != nil {
		return nil, err
	}
	return s.o.Store.Events(ctx, name, 1000)
}

// Logs returns the recent log lines of a served entity (replica lifecycle
// and the Python workers' stderr).
func (s *Service) Logs(ctx context.Context, name, served string) (string, error) {
	le, err := s.get(name)
	if err != nil {
		return "", err
	}
	le.mu.Lock()
	r := le.logs[served]
	le.mu.Unlock()
	if r == nil {
		if d := le.cur.Load(); d == nil || d.entities[served] == nil {
			return "", errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "endpoint %q has no served entity %q", name, served)
		}
		return "", nil
	}
	return r.String(), nil
}

// Sync applies configs changed in the store (by this or another Lakebox
// replica) and drops deleted endpoints.
func (s *Service) Sync(ctx context.Context) error {
	recs, err := s.o.Store.ListEndpoints(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		seen[rec.Name] = true
		s.mu.Lock()
		le := s.eps[rec.Name]
		s.mu.Unlock()
		if le != nil {
			le.mu.Lock()
			known := le.rec.ConfigVersion
			le.mu.Unlock()
			if known >= rec.ConfigVersion {
				continue
			}
		}
		le = s.live(rec)
		s.startRollout(le, rec, fmt.Sprintf("config version %d", rec.ConfigVersion))
	}
	s.mu.Lock()
	var gone []*liveEndpoint
	for n, le := range s.eps {
		if !seen[n] {
			gone = append(gone, le)
		}
	}
	s.mu.Unlock()
	for _, le := range gone {
		s.drop(le)
	}
	return nil
}

// PollAliases re-resolves the aliases of every served entity and rolls out
// the endpoints whose aliases moved.
func (s *Service) PollAliases(ctx context.Context) {
	s.mu.Lock()
	var eps []*liveEndpoint
	for _, le := range s.eps {
		eps = append(eps, le)
	}
	s.mu.Unlock()
	for _, le := range eps {
		d := le.cur.Load()
		if d == nil {
			continue
		}
		for _, e := range d.entities {
			if e.in.EntityAlias == "" || e.model == nil {
				continue
			}
			m, err := s.o.Source.Resolve(ctx, e.in.EntityName, "", e.in.EntityAlias)
			if err != nil || m.Version == e.model.Version {
				continue
			}
			le.mu.Lock()
			rec := le.rec
			busy := le.update == UpdateInProgress
			le.mu.Unlock()
			if busy {
				break
			}
			s.startRollout(le, rec, fmt.Sprintf("alias %s@%s moved from version %s to %s", e.in.EntityName, e.in.EntityAlias, e.model.Version, m.Version))
			break
		}
	}
}

// startRollout builds rec's config beside the current one in the
// background and switches traffic once every entity has a ready replica.
func (s *Service) startRollout(le *liveEndpoint, rec *Endpoint, why string) {
	le.mu.Lock()
	le.update = UpdateInProgress
	cfg := rec.Config
	le.pending = &cfg
	le.pendingAt = s.o.Now().UnixMilli()
	le.mu.Unlock()
	go s.rollout(le, rec, why)
}

func (s *Service) rollout(le *liveEndpoint, rec *Endpoint, why string) {
	le.rollout.Lock()
	defer le.rollout.Unlock()
	if s.closing.Load() {
		return
	}
	le.mu.Lock()
	deleted := le.deleted
	le.mu.Unlock()
	if deleted {
		return
	}
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.o.LoadTimeout)
	defer cancel()
	old := le.cur.Load()
	s.event(le, "CONFIG_ROLLOUT", "", "rolling out "+why)
	d, reused, err := s.build(ctx, le, rec, old)
	// The outcome event is stored before the update state changes, so a
	// client that waits for the state and then reads the events sees it.
	if err != nil {
		s.event(le, "CONFIG_UPDATE_FAILED", "", fmt.Sprintf("%s failed; the previous config keeps serving: %s", why, errs.Message(err)))
		le.mu.Lock()
		le.update = UpdateFailed
		le.pending = nil
		le.mu.Unlock()
		s.log.Warn("serving rollout failed", "endpoint", le.name, "err", err.Error())
		return
	}
	le.cur.Store(d)
	le.mu.Lock()
	deleted = le.deleted
	le.mu.Unlock()
	if deleted {
		d.close(context.Background(), nil)
		return
	}
	s.event(le, "CONFIG_UPDATE_SUCCEEDED", "", fmt.Sprintf("%s is serving (ready in %s)", why, time.Since(t0).Round(time.Millisecond)))
	le.mu.Lock()
	le.update = UpdateNotUpdating
	le.pending = nil
	le.mu.Unlock()
	if s.o.Deployed != nil {
		table := ""
		if ac := rec.Config.AutoCaptureConfig; ac.On() {
			table = ac.TableName(le.name)
		}
		for _, e := range d.entities {
			if e.model != nil && !reused[e.pool] {
				s.o.Deployed(le.name, e.model, table)
			}
		}
	}
	if old != nil {
		// Old replicas drain: in-flight calls finish before they close.
		go func() {
			time.Sleep(50 * time.Millisecond)
			dctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			old.close(dctx, reused)
		}()
	}
}

func entityKey(e *ServedEntityInput, version string) string {
	b, _ := json.Marshal(e)
	return string(b) + "@" + version
}

// build resolves and loads every entity of rec, reusing the pools of old
// entities that did not change.
func (s *Service) build(ctx context.Context, le *liveEndpoint, rec *Endpoint, old *deployment) (*deployment, map[*Pool]bool, error) {
	cfg := rec.Config
	d := &deployment{version: rec.ConfigVersion, cfg: cfg, entities: map[string]*entity{}}
	reused := map[*Pool]bool{}
	var fresh []*Pool
	fail := func(err error) (*deployment, map[*Pool]bool, error) {
		for _, p := range fresh {
			p.Close(context.Background())
		}
		return nil, nil, err
	}
	timeout := 60 * time.Second
	if cfg.RequestTimeoutSeconds > 0 {
		timeout = time.Duration(cfg.RequestTimeoutSeconds) * time.Second
	}
	for _, in := range cfg.ServedEntities {
		e := &entity{in: in, timeout: timeout}
		proxy := ""
		version := ""
		if in.ExternalModel != nil {
			proxy = in.ExternalModel.CustomProviderConfig.CustomProviderURL
		} else {
			m, err := s.o.Source.Resolve(ctx, in.EntityName, in.EntityVersion, in.EntityAlias)
			if err != nil {
				return fail(fmt.Errorf("served entity %s: %w", in.Name, err))
			}
			e.model, version = m, m.Version
		}
		e.key = entityKey(&in, version)
		if old != nil {
			if oe := old.entities[in.Name]; oe != nil && oe.key == e.key {
				e.pool, e.model = oe.pool, oe.model
				reused[oe.pool] = true
				d.entities[in.Name] = e
				continue
			}
		}
		ro := s.o.Runtime
		ro.Env = in.EnvironmentVars
		name := in.Name
		ro.LogSink = func(line string) { le.log(name, line, s.o.Now()) }
		var rt Runtime
		var err error
		if e.model != nil {
			rt, err = OpenRuntime(e.model, "", ro)
		} else {
			rt, err = OpenRuntime(nil, proxy, ro)
		}
		if err != nil {
			return fail(fmt.Errorf("served entity %s: %w", in.Name, err))
		}
		po := s.o.Pool
		po.Min, po.Max = in.replicaBounds()
		po.ScaleToZero = in.ScaleToZeroEnabled
		if in.ScaleToZeroIdleSeconds > 0 {
			po.IdleTimeout = time.Duration(in.ScaleToZeroIdleSeconds) * time.Second
		}
		po.Logger = s.log.With("endpoint", le.name, "served_entity", name)
		po.OnEvent = func(msg string) { le.log(name, msg, s.o.Now()) }
		po.Observe = poolObserver{m: s.m, endpoint: le.name, entity: name}
		desc := "external model " + proxy
		if e.model != nil {
			desc = fmt.Sprintf("%s version %s", e.model.EntityName, e.model.Version)
		}
		le.log(name, fmt.Sprintf("loading %s with the %s runtime (replicas %d..%d, scale to zero %v)", desc, rt.Kind(), po.Min, po.Max, po.ScaleToZero), s.o.Now())
		e.pool = NewPool(rt, po)
		fresh = append(fresh, e.pool)
		d.entities[in.Name] = e
	}
	// New replicas must be healthy before traffic moves.
	var wg sync.WaitGroup
	errc := make(chan error, len(fresh))
	for _, e := range d.entities {
		if reused[e.pool] {
			continue
		}
		wg.Add(1)
		go func(e *entity) {
			defer wg.Done()
			if err := e.pool.Warm(ctx); err != nil {
				errc <- fmt.Errorf("served entity %s did not become ready: %w", e.in.Name, err)
			}
		}(e)
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fail(err)
	}
	acc := 0
	for _, r := range cfg.TrafficConfig.Routes {
		if r.TrafficPercentage == 0 {
			continue
		}
		acc += r.TrafficPercentage
		d.routes = append(d.routes, d.entities[r.ServedEntityName])
		d.cum = append(d.cum, acc)
	}
	return d, reused, nil
}

// pick chooses an entity by weighted random over the routes.
func (d *deployment) pick() *entity {
	x := rand.IntN(100)
	for i, c := range d.cum {
		if x < c {
			return d.routes[i]
		}
	}
	return d.routes[len(d.routes)-1]
}

// InvokeRequest is one invocation.
type InvokeRequest struct {
	Endpoint    string
	Served      string // "" = by traffic split
	ContentType string
	Body        []byte
	RequestID   string
}

// InvokeResponse is a scoring answer.
type InvokeResponse struct {
	Body       []byte
	ServedName string
}

// Invoke scores a request. Errors: errs.NotFound (endpoint or served
// entity), errs.Unavailable (not ready), errs.PermissionDenied,
// errs.ResourceExhausted (rate or concurrency limit), errs.Invalid (payload
// or schema, naming the column), errs.Canceled (timeout).
func (s *Service) Invoke(ctx context.Context, req *InvokeRequest) (*InvokeResponse, error) {
	start := time.Now()
	le, err := s.get(req.Endpoint)
	if err != nil {
		return nil, err
	}
	le.mu.Lock()
	rec := le.rec
	lim := le.limiter
	le.mu.Unlock()
	id := principal(ctx)
	requester := ""
	if id != nil {
		requester = id.Principal.Name
	}
	if canManage(ctx, rec) != nil {
		if err := s.authorizeEntities(ctx, &rec.Config, ActionQuery); err != nil {
			return nil, err
		}
	}
	if err := lim.allow(requester, start); err != nil {
		s.m.requests.WithLabelValues(req.Endpoint, "", "429").Inc()
		return nil, err
	}
	var e *entity
	var resp *InvokeResponse
	var pr *Request
	for attempt := 0; ; attempt++ {
		d := le.cur.Load()
		if d == nil {
			return nil, errs.E(errs.Unavailable, "ENDPOINT_NOT_READY", "serving endpoint %q is not ready: its config is still being deployed", req.Endpoint)
		}
		if req.Served != "" {
			e = d.entities[req.Served]
			if e == nil {
				return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "endpoint %q has no served entity %q", req.Endpoint, req.Served)
			}
		} else {
			e = d.pick()
		}
		if pr == nil {
			if pr, err = ParseRequest(req.ContentType, req.Body); err != nil {
				s.finish(le, rec, e, req, nil, nil, err, start, requester)
				return nil, err
			}
		}
		var f *Frame
		if e.model != nil && e.model.MLmodel.Signature != nil {
			if f, err = Conform(pr.Frame, e.model.MLmodel.Signature); err != nil {
				s.finish(le, rec, e, req, pr, nil, err, start, requester)
				return nil, err
			}
		} else {
			f = pr.Frame
		}
		cctx, cancel := context.WithTimeout(ctx, e.timeout)
		v, _, perr := e.pool.Predict(cctx, f)
		cancel()
		if errs.ReasonOf(perr) == "ENDPOINT_NOT_READY" && attempt < 3 {
			continue // the deployment was swapped under us: use the new one
		}
		if errs.Is(perr, errs.Canceled) && ctx.Err() == nil {
			perr = errs.Wrap(errs.Canceled, "REQUEST_TIMEOUT", perr, "the model did not answer within %s", e.timeout)
		}
		if perr != nil {
			s.finish(le, rec, e, req, pr, nil, perr, start, requester)
			return nil, perr
		}
		body, merr := json.Marshal(map[string]any{"predictions": v})
		if merr != nil {
			merr = errs.Wrap(errs.Internal, "", merr, "encode predictions")
			s.finish(le, rec, e, req, pr, nil, merr, start, requester)
			return nil, merr
		}
		resp = &InvokeResponse{Body: body, ServedName: e.in.Name}
		s.finish(le, rec, e, req, pr, body, nil, start, requester)
		return resp, nil
	}
}

// StatusOf maps an invocation error to its HTTP status (the serving
// surface's table; 504 for timeouts).
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	switch errs.KindOf(err) {
	case errs.Invalid, errs.FailedPrecondition:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.AlreadyExists, errs.Conflict:
		return http.StatusConflict
	case errs.PermissionDenied:
		return http.StatusForbidden
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.ResourceExhausted:
		return http.StatusTooManyRequests
	case errs.Unimplemented:
		if errs.ReasonOf(err) == "UNSUPPORTED_MEDIA_TYPE" {
			return http.StatusUnsupportedMediaType
		}
		return http.StatusNotImplemented
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.Canceled:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// finish records metrics and hands the invocation to capture.
func (s *Service) finish(le *liveEndpoint, rec *Endpoint, e *entity, req *InvokeRequest, pr *Request, body []byte, err error, start time.Time, requester string) {
	status := StatusOf(err)
	served := ""
	if e != nil {
		served = e.in.Name
	}
	d := time.Since(start)
	s.m.requests.WithLabelValues(req.Endpoint, served, itoa(status)).Inc()
	s.m.latency.WithLabelValues(req.Endpoint, served).Observe(d.Seconds())
	if err != nil {
		s.m.errors.WithLabelValues(req.Endpoint, served, errs.KindOf(err).String()).Inc()
		body, _ = json.Marshal(map[string]string{"error_code": errs.ReasonOf(err), "message": errs.Message(err)})
	}
	ac := rec.Config.AutoCaptureConfig
	if s.o.Capturer == nil || !ac.On() {
		return
	}
	cr := &CaptureRecord{Endpoint: req.Endpoint, Table: ac.TableName(req.Endpoint), RequestID: req.RequestID,
		Time: start.UTC(), StatusCode: status, ExecutionMs: d.Milliseconds(), Request: req.Body, Response: body,
		ServedEntity: served, Requester: requester}
	if pr != nil {
		cr.ClientRequestID = pr.ClientRequestID
	}
	if e != nil && e.model != nil {
		cr.EntityName, cr.EntityVersion = e.model.EntityName, e.model.Version
	}
	s.o.Capturer.Capture(cr)
	s.m.captured.WithLabelValues(req.Endpoint).Inc()
}
