package serving

import (
	"strings"
	"sync"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// EndpointView is ServingEndpointDetailed.
type EndpointView struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	Creator              string         `json:"creator,omitempty"`
	CreationTimestamp    int64          `json:"creation_timestamp"`
	LastUpdatedTimestamp int64          `json:"last_updated_timestamp"`
	State                EndpointState  `json:"state"`
	Config               *ConfigView    `json:"config,omitempty"`
	PendingConfig        *ConfigView    `json:"pending_config,omitempty"`
	Tags                 []Tag          `json:"tags,omitempty"`
	RateLimits           []RateLimit    `json:"rate_limits,omitempty"`
	Description          string         `json:"description,omitempty"`
	Task                 string         `json:"task,omitempty"`
	EndpointURL          string         `json:"endpoint_url,omitempty"`
	PermissionLevel      string         `json:"permission_level,omitempty"`
	Extra                map[string]any `json:"-"`
}

// EndpointState is the endpoint's readiness and rollout state.
type EndpointState struct {
	Ready        string `json:"ready"`
	ConfigUpdate string `json:"config_update"`
}

// ConfigView is EndpointCoreConfigOutput (or a pending config).
type ConfigView struct {
	ServedEntities    []ServedEntityView `json:"served_entities"`
	TrafficConfig     *TrafficConfig     `json:"traffic_config,omitempty"`
	AutoCaptureConfig *AutoCaptureConfig `json:"auto_capture_config,omitempty"`
	ConfigVersion     int64              `json:"config_version,omitempty"`
	StartTime         int64              `json:"start_time,omitempty"`
}

// ServedEntityView is a served entity with its deployment state.
type ServedEntityView struct {
	ServedEntityInput
	// ResolvedVersion is the version an alias resolved to.
	ResolvedVersion string           `json:"resolved_entity_version,omitempty"`
	Runtime         string           `json:"runtime,omitempty"`
	Replicas        int              `json:"replicas"`
	State           *DeploymentState `json:"state,omitempty"`
}

// DeploymentState is a served entity's deployment state.
type DeploymentState struct {
	Deployment             string `json:"deployment"`
	DeploymentStateMessage string `json:"deployment_state_message,omitempty"`
}

func (s *Service) view(le *liveEndpoint) *EndpointView {
	le.mu.Lock()
	rec := le.rec
	update := le.update
	pending := le.pending
	pendingAt := le.pendingAt
	le.mu.Unlock()
	v := &EndpointView{ID: rec.ID, Name: rec.Name, Creator: rec.Creator, CreationTimestamp: rec.CreatedMs,
		LastUpdatedTimestamp: rec.UpdatedMs, Tags: rec.Tags, RateLimits: rec.RateLimits, Description: rec.Description,
		EndpointURL: "/serving-endpoints/" + rec.Name + "/invocations"}
	v.State.ConfigUpdate = update
	d := le.cur.Load()
	if d == nil {
		v.State.Ready = StateNotReady
	} else {
		v.State.Ready = StateReady
		cv := &ConfigView{TrafficConfig: d.cfg.TrafficConfig, AutoCaptureConfig: captureView(d.cfg.AutoCaptureConfig, rec.Name), ConfigVersion: d.version}
		for _, in := range d.cfg.ServedEntities {
			e := d.entities[in.Name]
			sv := ServedEntityView{ServedEntityInput: in, State: &DeploymentState{Deployment: DeploymentReady}}
			if e != nil {
				if e.model != nil {
					sv.ResolvedVersion = e.model.Version
				}
				sv.Runtime = e.pool.Runtime().Kind()
				sv.Replicas = e.pool.Replicas()
				if sv.Replicas == 0 {
					sv.State.DeploymentStateMessage = "scaled to zero; the next request starts a replica"
				}
			}
			cv.ServedEntities = append(cv.ServedEntities, sv)
		}
		v.Config = cv
	}
	if pending != nil {
		pv := &ConfigView{TrafficConfig: pending.TrafficConfig, AutoCaptureConfig: pending.AutoCaptureConfig, ConfigVersion: rec.ConfigVersion, StartTime: pendingAt}
		for _, in := range pending.ServedEntities {
			pv.ServedEntities = append(pv.ServedEntities, ServedEntityView{ServedEntityInput: in, State: &DeploymentState{Deployment: DeploymentCreating}})
		}
		v.PendingConfig = pv
	}
	return v
}

func captureView(a *AutoCaptureConfig, endpoint string) *AutoCaptureConfig {
	if a == nil {
		return nil
	}
	c := *a
	status := "ACTIVE"
	if !a.On() {
		status = "DISABLED"
	}
	c.State = &struct {
		PayloadTable *PayloadTable `json:"payload_table,omitempty"`
	}{PayloadTable: &PayloadTable{Name: a.TableName(endpoint), Status: status}}
	return &c
}

// ring keeps the last lines of a log.
type ring struct {
	lines []string
	next  int
	full  bool
}

const ringSize = 500

func (le *liveEndpoint) log(served, msg string, now time.Time) {
	le.mu.Lock()
	defer le.mu.Unlock()
	r := le.logs[served]
	if r == nil {
		r = &ring{lines: make([]string, ringSize)}
		le.logs[served] = r
	}
	r.lines[r.next] = now.UTC().Format(time.RFC3339Nano) + " " + msg
	r.next = (r.next + 1) % ringSize
	if r.next == 0 {
		r.full = true
	}
}

func (r *ring) String() string {
	var b strings.Builder
	if r.full {
		for _, l := range r.lines[r.next:] {
			b.WriteString(l + "\n")
		}
	}
	for _, l := range r.lines[:r.next] {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// limiter enforces rate limits (calls per minute per endpoint or user)
// with token buckets.
type limiter struct {
	mu      sync.Mutex
	limits  []RateLimit
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(limits []RateLimit) *limiter {
	return &limiter{limits: limits, buckets: map[string]*bucket{}}
}

func (l *limiter) allow(user string, now time.Time) error {
	if l == nil || len(l.limits) == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, r := range l.limits {
		key := itoa(i) + "/"
		if r.Key == "user" {
			key += user
		}
		b := l.buckets[key]
		rate := float64(r.Calls) / 60
		if b == nil {
			b = &bucket{tokens: float64(r.Calls), last: now}
			l.buckets[key] = b
		}
		b.tokens = min(float64(r.Calls), b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
		if b.tokens < 1 {
			return errs.E(errs.ResourceExhausted, "REQUEST_LIMIT_EXCEEDED", "rate limit of %d calls per minute exceeded; retry later", r.Calls)
		}
		b.tokens--
	}
	return nil
}
