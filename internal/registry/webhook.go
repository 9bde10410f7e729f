package registry

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
)

// Webhook events ("entity.action").
const (
	EventRegisteredModelCreated  = "registered_model.created"
	EventVersionCreated          = "model_version.created"
	EventVersionStageTransition  = "model_version.stage_transitioned"
	EventVersionTagSet           = "model_version_tag.set"
	EventAliasCreated            = "model_version_alias.created"
	EventAliasDeleted            = "model_version_alias.deleted"
	WebhookActive                = "ACTIVE"
	WebhookDisabled              = "DISABLED"
	deliveryPending              = "PENDING"
	deliveryDelivered            = "DELIVERED"
	deliveryFailed               = "FAILED"
	signatureVersion             = "v1"
	defaultMaxAttempts           = 8
	defaultBaseBackoff           = time.Second
	maxBackoff                   = time.Hour
	claimLease                   = 2 * time.Minute
	deliveryTimeout              = 15 * time.Second
	maxWebhookResponseBodyLogged = 1024
)

// Events lists the events webhooks can subscribe to.
var Events = []string{EventRegisteredModelCreated, EventVersionCreated, EventVersionStageTransition, EventVersionTagSet, EventAliasCreated, EventAliasDeleted}

// WebhookEvent is an event as MLflow's webhook API spells it.
type WebhookEvent struct {
	Entity string `json:"entity"`
	Action string `json:"action"`
}

// UnmarshalJSON accepts {"entity","action"} or "entity.action".
func (e *WebhookEvent) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		ent, act, _ := strings.Cut(s, ".")
		e.Entity, e.Action = ent, act
		return nil
	}
	type plain WebhookEvent
	return json.Unmarshal(b, (*plain)(e))
}

// String returns "entity.action".
func (e WebhookEvent) String() string { return e.Entity + "." + e.Action }

// Webhook is a registered webhook. The secret is never returned.
type Webhook struct {
	ID          string         `json:"webhook_id"`
	Name        string         `json:"name"`
	URL         string         `json:"url"`
	Events      []WebhookEvent `json:"events"`
	Description string         `json:"description,omitempty"`
	Status      string         `json:"status"`
	ModelName   string         `json:"model_name,omitempty"`
	CreatedAt   int64          `json:"creation_timestamp"`
	UpdatedAt   int64          `json:"last_updated_timestamp"`
	Secret      string         `json:"-"`
}

// Wants reports whether w should receive event for model.
func (w Webhook) Wants(event, model string) bool {
	if w.Status != WebhookActive || (w.ModelName != "" && w.ModelName != model) {
		return false
	}
	for _, e := range w.Events {
		if e.String() == event {
			return true
		}
	}
	return false
}

// Delivery is one queued webhook request.
type Delivery struct {
	ID            string `json:"delivery_id"`
	WebhookID     string `json:"webhook_id"`
	Event         string `json:"event"`
	Payload       string `json:"payload"`
	Status        string `json:"status"`
	Attempts      int    `json:"attempts"`
	NextAttemptAt int64  `json:"next_attempt_at,omitempty"`
	LastError     string `json:"last_error,omitempty"`
	LastStatus    int    `json:"last_status,omitempty"`
	CreatedAt     int64  `json:"created_at"`
	DeliveredAt   int64  `json:"delivered_at,omitempty"`
}

// WebhookStore persists webhooks and the delivery queue.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, w Webhook) error
	// GetWebhook returns a webhook with its secret. Errors: errs.NotFound.
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	ListWebhooks(ctx context.Context) ([]Webhook, error)
	// UpdateWebhook writes every field. Errors: errs.NotFound.
	UpdateWebhook(ctx context.Context, w Webhook) error
	// DeleteWebhook removes a webhook and its deliveries. Errors: errs.NotFound.
	DeleteWebhook(ctx context.Context, id string) error
	// Enqueue stores deliveries (status PENDING).
	Enqueue(ctx context.Context, ds []Delivery) error
	// DueDeliveries returns up to limit PENDING deliveries due at now.
	DueDeliveries(ctx context.Context, now int64, limit int) ([]Delivery, error)
	// ClaimDelivery moves a due delivery's next attempt from prev to until,
	// reporting whether this caller won it (replicas race for deliveries).
	ClaimDelivery(ctx context.Context, id string, prev, until int64) (bool, error)
	// FinishDelivery records an attempt's outcome.
	FinishDelivery(ctx context.Context, d Delivery) error
	// Deliveries returns the latest deliveries of a webhook.
	Deliveries(ctx context.Context, webhookID string, limit int) ([]Delivery, error)
}

// Sign returns the signature header value of a delivery.
func Sign(secret, deliveryID string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%s.%d.", deliveryID, timestamp)
	m.Write(body)
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Dispatcher POSTs queued deliveries with retries and exponential backoff.
type Dispatcher struct {
	store       WebhookStore
	http        *http.Client
	log         *slog.Logger
	now         func() time.Time
	newID       func() string
	maxAttempts int
	base        time.Duration
	kick        chan struct{}
	once        sync.Once
}

// DispatcherOptions tune the dispatcher (zero = defaults: 8 attempts,
// backoff from 1s doubling up to 1h).
type DispatcherOptions struct {
	MaxAttempts int
	BaseBackoff time.Duration
	HTTPClient  *http.Client
}

func newDispatcher(store WebhookStore, log *slog.Logger, now func() time.Time, newID func() string, o DispatcherOptions) *Dispatcher {
	d := &Dispatcher{store: store, log: log, now: now, newID: newID, maxAttempts: o.MaxAttempts, base: o.BaseBackoff, http: o.HTTPClient, kick: make(chan struct{}, 1)}
	if d.maxAttempts <= 0 {
		d.maxAttempts = defaultMaxAttempts
	}
	if d.base <= 0 {
		d.base = defaultBaseBackoff
	}
	if d.http == nil {
		d.http = &http.Client{Timeout: deliveryTimeout}
	}
	return d
}

// Kick wakes the dispatcher (after an enqueue).
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers due deliveries until ctx ends, polling every second and
// whenever kicked.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		d.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
		}
	}
}

// RunOnce delivers what is due now.
func (d *Dispatcher) RunOnce(ctx context.Context) {
	for {
		now := d.now().UnixMilli()
		ds, err := d.store.DueDeliveries(ctx, now, 20)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("webhook queue read failed", "err", err.Error())
			}
			return
		}
		if len(ds) == 0 {
			return
		}
		for _, dl := range ds {
			ok, err := d.store.ClaimDelivery(ctx, dl.ID, dl.NextAttemptAt, now+claimLease.Milliseconds())
			if err != nil || !ok {
				continue
			}
			d.attempt(ctx, dl)
		}
		if len(ds) < 20 {
			return
		}
	}
}

func (d *Dispatcher) backoff(attempts int) time.Duration {
	b := d.base << min(attempts-1, 30)
	if b > maxBackoff || b <= 0 {
		b = maxBackoff
	}
	return b
}

// send POSTs one delivery and returns the status code and an error for
// anything but 2xx.
func (d *Dispatcher) send(ctx context.Context, w Webhook, dl Delivery) (int, string, error) {
	ts := d.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader([]byte(dl.Payload)))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Lakebox-Webhooks/1")
	req.Header.Set("X-MLflow-Delivery-Id", dl.ID)
	req.Header.Set("X-MLflow-Webhook-Id", w.ID)
	req.Header.Set("X-MLflow-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Lakebox-Event", dl.Event)
	if w.Secret != "" {
		sig := Sign(w.Secret, dl.ID, ts, []byte(dl.Payload))
		req.Header.Set("X-MLflow-Signature", sig)
		req.Header.Set("X-Lakebox-Signature", sig)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookResponseBodyLogged))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, string(body), fmt.Errorf("receiver answered HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, string(body), nil
}

func (d *Dispatcher) attempt(ctx context.Context, dl Delivery) {
	w, err := d.store.GetWebhook(ctx, dl.WebhookID)
	if err != nil {
		return // deleted: its deliveries went with it
	}
	code, _, err := d.send(ctx, w, dl)
	dl.Attempts++
	dl.LastStatus = code
	now := d.now()
	switch {
	case err == nil:
		dl.Status, dl.DeliveredAt, dl.LastError = deliveryDelivered, now.UnixMilli(), ""
	case dl.Attempts >= d.maxAttempts:
		dl.Status, dl.LastError = deliveryFailed, err.Error()
		d.log.Warn("webhook delivery failed", "webhook_id", w.ID, "delivery_id", dl.ID, "attempts", dl.Attempts, "err", err.Error())
	default:
		dl.LastError, dl.NextAttemptAt = err.Error(), now.Add(d.backoff(dl.Attempts)).UnixMilli()
	}
	if err := d.store.FinishDelivery(context.WithoutCancel(ctx), dl); err != nil {
		d.log.Warn("webhook delivery not recorded", "delivery_id", dl.ID, "err", err.Error())
	}
}

// ---- webhook management on the Service ----

func requireAdmin(ctx context.Context) error {
	id := auth.IdentityFrom(ctx)
	if id == nil {
		return errs.E(errs.Unauthenticated, "UNAUTHENTICATED", "authentication required")
	}
	if !id.Admin {
		return errs.E(errs.PermissionDenied, "PERMISSION_DENIED", "only metastore admins manage webhooks")
	}
	return nil
}

func validateWebhook(w *Webhook) error {
	if w.Name == "" {
		return invalid("Missing value for required parameter 'name'.")
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("Invalid webhook URL '%s': use an http:// or https:// URL", w.URL)
	}
	if len(w.Events) == 0 {
		return invalid("A webhook needs at least one event; accepted: %s", strings.Join(Events, ", "))
	}
	for _, e := range w.Events {
		ok := false
		for _, known := range Events {
			ok = ok || e.String() == known
		}
		if !ok {
			return invalid("Unknown webhook event '%s'; accepted: %s", e.String(), strings.Join(Events, ", "))
		}
	}
	switch w.Status {
	case "":
		w.Status = WebhookActive
	case WebhookActive, WebhookDisabled:
	default:
		return invalid("Invalid webhook status '%s': use ACTIVE or DISABLED", w.Status)
	}
	return nil
}

// CreateWebhook registers a webhook (admins only).
func (s *Service) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	if err := requireAdmin(ctx); err != nil {
		return Webhook{}, err
	}
	if err := validateWebhook(&w); err != nil {
		return Webhook{}, err
	}
	if w.ModelName != "" {
		full, err := s.FullName(w.ModelName)
		if err != nil {
			return Webhook{}, err
		}
		w.ModelName = full
	}
	now := s.now().UnixMilli()
	w.ID, w.CreatedAt, w.UpdatedAt = s.newID(), now, now
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// GetWebhook returns a webhook (admins only).
func (s *Service) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	if err := requireAdmin(ctx); err != nil {
		return Webhook{}, err
	}
	return s.store.GetWebhook(ctx, id)
}

// ListWebhooks lists webhooks (admins only).
func (s *Service) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	return s.store.ListWebhooks(ctx)
}

// WebhookUpdate changes fields of a webhook (nil = unchanged).
type WebhookUpdate struct {
	Name        *string        `json:"name"`
	URL         *string        `json:"url"`
	Events      []WebhookEvent `json:"events"`
	Description *string        `json:"description"`
	Status      *string        `json:"status"`
	Secret      *string        `json:"secret"`
}

// UpdateWebhook changes a webhook (admins only).
func (s *Service) UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) (Webhook, error) {
	if err := requireAdmin(ctx); err != nil {
		return Webhook{}, err
	}
	w, err := s.store.GetWebhook(ctx, id)
	if err != nil {
		return Webhook{}, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&w.Name, u.Name)
	set(&w.URL, u.URL)
	set(&w.Description, u.Description)
	set(&w.Status, u.Status)
	set(&w.Secret, u.Secret)
	if u.Events != nil {
		w.Events = u.Events
	}
	if err := validateWebhook(&w); err != nil {
		return Webhook{}, err
	}
	w.UpdatedAt = s.now().UnixMilli()
	return w, s.store.UpdateWebhook(ctx, w)
}

// DeleteWebhook removes a webhook and its pending deliveries (admins only).
func (s *Service) DeleteWebhook(ctx context.Context, id string) error {
	if err := requireAdmin(ctx); err != nil {
		return err
	}
	return s.store.DeleteWebhook(ctx, id)
}

// WebhookDeliveries returns a webhook's latest deliveries (admins only).
func (s *Service) WebhookDeliveries(ctx context.Context, id string) ([]Delivery, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	if _, err := s.store.GetWebhook(ctx, id); err != nil {
		return nil, err
	}
	return s.store.Deliveries(ctx, id, 100)
}

// TestResult is the outcome of a test delivery.
type TestResult struct {
	Success        bool   `json:"success"`
	ResponseStatus int    `json:"response_status,omitempty"`
	ResponseBody   string `json:"response_body,omitempty"`
	ErrorMessage   string `json:"error_message,omitempty"`
}

// TestWebhook sends one signed test event now, without queueing it.
func (s *Service) TestWebhook(ctx context.Context, id string) (TestResult, error) {
	if err := requireAdmin(ctx); err != nil {
		return TestResult{}, err
	}
	w, err := s.store.GetWebhook(ctx, id)
	if err != nil {
		return TestResult{}, err
	}
	ev := EventVersionCreated
	if len(w.Events) > 0 {
		ev = w.Events[0].String()
	}
	dl := Delivery{ID: s.newID(), WebhookID: id, Event: ev, Payload: string(s.payload(ev, "", map[string]any{"test": true}))}
	code, body, err := s.disp.send(ctx, w, dl)
	r := TestResult{Success: err == nil, ResponseStatus: code, ResponseBody: body}
	if err != nil {
		r.ErrorMessage = err.Error()
	}
	return r, nil
}

func (s *Service) payload(event, deliveryID string, data any) []byte {
	ent, act, _ := strings.Cut(event, ".")
	b, _ := json.Marshal(map[string]any{"entity": ent, "action": act, "timestamp": s.now().UnixMilli(), "delivery_id": deliveryID, "data": data})
	return b
}

// emit queues event for every active webhook that wants it. A failure to
// queue is logged, not returned: the change it reports has happened.
func (s *Service) emit(ctx context.Context, event, model string, data any) {
	ws, err := s.store.ListWebhooks(ctx)
	if err != nil {
		s.log.Error("webhook event not queued", "event", event, "err", err.Error())
		return
	}
	now := s.now().UnixMilli()
	var ds []Delivery
	for _, w := range ws {
		if !w.Wants(event, model) {
			continue
		}
		id := s.newID()
		ds = append(ds, Delivery{ID: id, WebhookID: w.ID, Event: event, Payload: string(s.payload(event, id, data)), Status: deliveryPending, NextAttemptAt: now, CreatedAt: now})
	}
	if len(ds) == 0 {
		return
	}
	if err := s.store.Enqueue(context.WithoutCancel(ctx), ds); err != nil {
		s.log.Error("webhook event not queued", "event", event, "err", err.Error())
		return
	}
	s.disp.Kick()
}
