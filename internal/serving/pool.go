package serving

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// PoolOptions configure a Pool.
type PoolOptions struct {
	// Min and Max bound the number of replicas. Min 0 with ScaleToZero
	// lets the pool stop every replica after IdleTimeout without requests.
	Min, Max    int
	ScaleToZero bool
	IdleTimeout time.Duration // default 5m
	// PerReplica is the in-flight requests one replica is sized for; the
	// autoscaler aims at ceil(in-flight / PerReplica) replicas (default 4;
	// 32 for batching runtimes, whose replica merges concurrent requests
	// into one model call: another process only adds startup cost and CPU
	// contention until one replica's batches are full).
	PerReplica int
	// ScaleDownAfter is how long load must stay below capacity before a
	// replica is removed (default 30s).
	ScaleDownAfter time.Duration
	// MaxBatchRows bounds the rows merged into one Predict (default 1024).
	MaxBatchRows int
	// MaxInFlight rejects requests beyond it with ResourceExhausted
	// (default Max × PerReplica × 16).
	MaxInFlight int
	// HealthInterval between replica pings (default 10s).
	HealthInterval time.Duration
	// RestartBackoff is the first delay after a failed start or a crash,
	// doubling up to MaxBackoff (defaults 200ms and 30s).
	RestartBackoff, MaxBackoff time.Duration
	// Tick is the autoscaler period (default 100ms).
	Tick   time.Duration
	Logger *slog.Logger
	// OnEvent receives replica lifecycle messages (endpoint events/logs).
	OnEvent func(msg string)
	// Observe, when set, receives pool changes (metrics).
	Observe PoolObserver
}

// PoolObserver receives a pool's metrics.
type PoolObserver interface {
	Replicas(n int)
	QueueDepth(n int)
	ColdStart()
	Restart()
	// BatchRows receives the rows of every model call (batching at work).
	BatchRows(n int)
}

func (o *PoolOptions) fill() {
	if o.Max <= 0 {
		o.Max = 1
	}
	o.Min = min(max(o.Min, 0), o.Max)
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	if o.PerReplica <= 0 {
		o.PerReplica = 4
	}
	if o.ScaleDownAfter <= 0 {
		o.ScaleDownAfter = 30 * time.Second
	}
	if o.MaxBatchRows <= 0 {
		o.MaxBatchRows = 1024
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = o.Max * o.PerReplica * 16
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = 10 * time.Second
	}
	if o.RestartBackoff <= 0 {
		o.RestartBackoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Tick <= 0 {
		o.Tick = 100 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OnEvent == nil {
		o.OnEvent = func(string) {}
	}
}

// Pool runs the replicas of one served entity: a shared queue of calls,
// slot goroutines per replica that take calls (merging queued compatible
// calls into one batch when the runtime batches), an autoscaler between Min
// and Max on in-flight requests, scale to zero, health checks and
// replacement of dead replicas with exponential backoff.
type Pool struct {
	rt    Runtime
	o     PoolOptions
	queue chan *call
	kick  chan struct{}
	stop  chan struct{}
	done  chan struct{}

	inflight atomic.Int64
	lastUse  atomic.Int64 // unix nanos

	mu        sync.Mutex
	replicas  []*replicaState
	starting  int
	nextID    int
	failures  int
	notBefore time.Time // backoff: no start before
	lowSince  time.Time // load has been below capacity since
	lastPing  time.Time
	ready     chan struct{} // closed when a replica is up
	lastErr   error
	closed    bool
}

type call struct {
	ctx      context.Context
	f        *Frame
	done     chan callResult
	attempts int
}

type callResult struct {
	v        any
	err      error
	replica  int
	duration time.Duration
}

type replicaState struct {
	id   int
	r    Replica
	stop chan struct{}
	wg   sync.WaitGroup
	dead atomic.Bool
}

// NewPool starts a pool of rt with Min replicas (at least one while
// warming: see Warm).
func NewPool(rt Runtime, o PoolOptions) *Pool {
	if o.PerReplica <= 0 && rt.Batching() {
		o.PerReplica = 32
	}
	o.fill()
	p := &Pool{rt: rt, o: o, queue: make(chan *call, o.MaxInFlight), kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}), ready: make(chan struct{})}
	p.lastUse.Store(time.Now().UnixNano())
	go p.loop()
	return p
}

// Runtime returns the pool's runtime.
func (p *Pool) Runtime() Runtime { return p.rt }

// Warm starts a replica if none is running and waits until one is up.
// Errors: the replica's load error (after the first failure), ctx errors.
func (p *Pool) Warm(ctx context.Context) error {
	p.lastUse.Store(time.Now().UnixNano())
	p.mu.Lock()
	if len(p.replicas) == 0 && p.starting == 0 {
		p.startLocked(true)
	}
	ready := p.ready
	p.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		err := p.lastErr
		p.mu.Unlock()
		if err != nil {
			return err
		}
		return ctx.Err()
	}
}

// Predict runs f on a replica, starting one if the pool is at zero (cold
// start: the call waits). Errors: errs.ResourceExhausted past MaxInFlight;
// errs.Canceled when ctx ends; the model's errors.
func (p *Pool) Predict(ctx context.Context, f *Frame) (any, int, error) {
	if int(p.inflight.Add(1)) > p.o.MaxInFlight {
		p.inflight.Add(-1)
		return nil, -1, errs.E(errs.ResourceExhausted, "REQUEST_LIMIT_EXCEEDED", "too many concurrent requests for this served entity (limit %d); retry later", p.o.MaxInFlight)
	}
	defer p.inflight.Add(-1)
	p.lastUse.Store(time.Now().UnixNano())
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, -1, errs.E(errs.Unavailable, "ENDPOINT_NOT_READY", "served entity is shutting down")
	}
	if len(p.replicas) == 0 && p.starting == 0 {
		p.startLocked(true)
	} else if n := len(p.replicas) + p.starting; n < p.o.Max && int(p.inflight.Load()) > n*p.o.PerReplica {
		p.kickLocked()
	}
	p.mu.Unlock()
	c := &call{ctx: ctx, f: f, done: make(chan callResult, 1)}
	p.queue <- c // capacity MaxInFlight ≥ in-flight calls: never blocks
	if p.o.Observe != nil {
		p.o.Observe.QueueDepth(len(p.queue))
	}
	select {
	case r := <-c.done:
		return r.v, r.replica, r.err
	case <-ctx.Done():
		return nil, -1, errs.Wrap(errs.Canceled, "REQUEST_TIMEOUT", ctx.Err(), "the request timed out or was canceled before the model answered")
	}
}

func (p *Pool) kickLocked() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// InFlight returns the number of calls being served or queued.
func (p *Pool) InFlight() int { return int(p.inflight.Load()) }

// QueueDepth returns the number of calls waiting for a replica.
func (p *Pool) QueueDepth() int { return len(p.queue) }

// Replicas returns the number of running replicas.
func (p *Pool) Replicas() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.replicas)
}

// startLocked starts one replica in the background.
func (p *Pool) startLocked(cold bool) {
	if p.closed {
		return
	}
	wait := time.Until(p.notBefore)
	p.starting++
	p.nextID++
	id := p.nextID
	if cold && len(p.replicas) == 0 && p.o.Observe != nil {
		p.o.Observe.ColdStart()
	}
	go func() {
		if wait > 0 {
			select {
			case <-time.After(wait):
			case <-p.stop:
			}
		}
		t0 := time.Now()
		r, err := p.rt.NewReplica(context.Background())
		p.mu.Lock()
		defer p.mu.Unlock()
		p.starting--
		if err != nil {
			p.failures++
			p.lastErr = err
			backoff := min(p.o.RestartBackoff<<min(p.failures-1, 16), p.o.MaxBackoff)
			p.notBefore = time.Now().Add(backoff)
			p.o.OnEvent("replica " + itoa(id) + " failed to start: " + errs.Message(err) + "; retrying in " + backoff.String())
			p.o.Logger.Warn("replica start failed", "replica", id, "err", err.Error(), "backoff", backoff.String())
			p.kickLocked()
			return
		}
		if p.closed {
			r.Close()
			return
		}
		p.failures = 0
		p.lastErr = nil
		rs := &replicaState{id: id, r: r, stop: make(chan struct{})}
		p.replicas = append(p.replicas, rs)
		slots := max(p.rt.Slots(), 1)
		rs.wg.Add(slots)
		for range slots {
			go p.serve(rs)
		}
		select {
		case <-p.ready:
		default:
			close(p.ready)
		}
		p.o.OnEvent("replica " + itoa(id) + " (" + p.rt.Kind() + ") ready in " + time.Since(t0).Round(time.Millisecond).String())
		if p.o.Observe != nil {
			p.o.Observe.Replicas(len(p.replicas))
		}
	}()
}

// removeLocked takes rs out of rotation; its slots finish their batch.
func (p *Pool) removeLocked(rs *replicaState, why string) {
	for i, x := range p.replicas {
		if x == rs {
			p.replicas = append(p.replicas[:i], p.replicas[i+1:]...)
			close(rs.stop)
			go func() { rs.wg.Wait(); rs.r.Close() }()
			p.o.OnEvent("replica " + itoa(rs.id) + " stopped: " + why)
			break
		}
	}
	if len(p.replicas) == 0 {
		p.ready = make(chan struct{})
	}
	if p.o.Observe != nil {
		p.o.Observe.Replicas(len(p.replicas))
	}
}

func (p *Pool) replicaDied(rs *replicaState, err error) {
	if !rs.dead.CompareAndSwap(false, true) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures++
	p.notBefore = time.Now().Add(min(p.o.RestartBackoff<<min(p.failures-1, 16), p.o.MaxBackoff))
	if p.o.Observe != nil {
		p.o.Observe.Restart()
	}
	p.removeLocked(rs, "died ("+errs.Message(err)+"); replacing it")
	p.kickLocked()
}

// serve is one slot of a replica: take a call, add compatible queued calls
// (batching runtimes), run, answer.
func (p *Pool) serve(rs *replicaState) {
	defer rs.wg.Done()
	var carry *call
	for {
		c := carry
		carry = nil
		if c == nil {
			select {
			case <-rs.stop:
				return
			case c = <-p.queue:
			}
		}
		if c.ctx.Err() != nil {
			c.done <- callResult{err: errs.Wrap(errs.Canceled, "REQUEST_TIMEOUT", c.ctx.Err(), "the request timed out while queued"), replica: -1}
			continue
		}
		batch := []*call{c}
		if p.rt.Batching() && len(c.f.Params) == 0 {
			rows := c.f.Len()
		drain:
			for rows < p.o.MaxBatchRows {
				select {
				case c2 := <-p.queue:
					if len(c2.f.Params) != 0 || !sameColumns(c.f.Columns, c2.f.Columns) || c2.ctx.Err() != nil {
						carry = c2
						break drain
					}
					batch = append(batch, c2)
					rows += c2.f.Len()
				default:
					break drain
				}
			}
		}
		if !p.run(rs, batch) {
			if carry != nil {
				p.requeue(carry)
			}
			return
		}
	}
}

func sameColumns(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// requeue puts a call back for another replica (it was taken by one that
// died); a call is retried once.
func (p *Pool) requeue(c *call) {
	select {
	case p.queue <- c:
	default:
		c.done <- callResult{err: errs.E(errs.Unavailable, "WORKER_DIED", "the model replica died and no other could take the request"), replica: -1}
	}
}

// run executes a batch; it returns false when the replica died.
func (p *Pool) run(rs *replicaState, batch []*call) bool {
	t0 := time.Now()
	if len(batch) == 1 {
		c := batch[0]
		if p.o.Observe != nil {
			p.o.Observe.BatchRows(c.f.Len())
		}
		v, err := rs.r.Predict(c.ctx, c.f)
		if errs.Is(err, errs.Unavailable) && errs.ReasonOf(err) == "WORKER_DIED" {
			p.replicaDied(rs, err)
			if c.attempts == 0 && c.ctx.Err() == nil {
				c.attempts++
				p.requeue(c)
			} else {
				c.done <- callResult{err: err, replica: rs.id}
			}
			return false
		}
		c.done <- callResult{v: v, err: err, replica: rs.id, duration: time.Since(t0)}
		if errs.Is(err, errs.Canceled) && rs.dead.Load() == false {
			// A Python worker killed on timeout is dead too.
			if pw, ok := rs.r.(*pyWorker); ok && pw.dead {
				p.replicaDied(rs, err)
				return false
			}
		}
		return true
	}
	merged := &Frame{Columns: batch[0].f.Columns}
	var deadline time.Time
	for _, c := range batch {
		merged.Rows = append(merged.Rows, c.f.Rows...)
		if d, ok := c.ctx.Deadline(); ok && d.After(deadline) {
			deadline = d
		}
	}
	ctx := context.Background()
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	if p.o.Observe != nil {
		p.o.Observe.BatchRows(len(merged.Rows))
	}
	v, err := rs.r.Predict(ctx, merged)
	if errs.Is(err, errs.Unavailable) && errs.ReasonOf(err) == "WORKER_DIED" {
		p.replicaDied(rs, err)
		for _, c := range batch {
			if c.attempts == 0 && c.ctx.Err() == nil {
				c.attempts++
				p.requeue(c)
			} else {
				c.done <- callResult{err: err, replica: rs.id}
			}
		}
		return false
	}
	arr, ok := v.([]any)
	if err != nil || !ok || len(arr) != len(merged.Rows) {
		// Not row-aligned, or one request spoiled the batch: run each alone.
		for _, c := range batch {
			if !p.run(rs, []*call{c}) {
				return false
			}
		}
		return true
	}
	d := time.Since(t0)
	off := 0
	for _, c := range batch {
		n := c.f.Len()
		c.done <- callResult{v: arr[off : off+n : off+n], replica: rs.id, duration: d}
		off += n
	}
	return true
}

// loop is the autoscaler and health checker.
func (p *Pool) loop() {
	defer close(p.done)
	t := time.NewTicker(p.o.Tick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		case <-p.kick:
		}
		p.scale()
	}
}

func (p *Pool) scale() {
	now := time.Now()
	inflight := int(p.inflight.Load())
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	n := len(p.replicas) + p.starting
	need := (inflight + p.o.PerReplica - 1) / p.o.PerReplica
	floor := p.o.Min
	if floor == 0 && !p.o.ScaleToZero {
		floor = 1
	}
	idle := now.Sub(time.Unix(0, p.lastUse.Load()))
	if floor == 0 && inflight == 0 && idle < p.o.IdleTimeout && n > 0 {
		floor = 1 // keep one warm until the idle timeout
	}
	want := min(max(need, floor), p.o.Max)
	if inflight > 0 && want == 0 {
		want = 1
	}
	switch {
	case want > n:
		p.lowSince = time.Time{}
		for range want - n {
			p.startLocked(n == 0)
		}
	case want < len(p.replicas):
		if p.lowSince.IsZero() {
			p.lowSince = now
		}
		if floor == 0 && want == 0 || now.Sub(p.lowSince) >= p.o.ScaleDownAfter {
			why := "scaled down"
			if want == 0 {
				why = "scaled to zero after " + idle.Round(time.Millisecond).String() + " idle"
			}
			p.removeLocked(p.replicas[len(p.replicas)-1], why)
			p.lowSince = now
		}
	default:
		p.lowSince = time.Time{}
	}
	if p.o.Observe != nil {
		p.o.Observe.QueueDepth(len(p.queue))
	}
	if now.Sub(p.lastPing) >= p.o.HealthInterval {
		p.lastPing = now
		for _, rs := range p.replicas {
			go func(rs *replicaState) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if pw, ok := rs.r.(*pyWorker); ok && !pw.mu.TryLock() {
					return // busy: it is answering, so it is alive
				} else if ok {
					pw.mu.Unlock()
				}
				if err := rs.r.Ping(ctx); err != nil {
					p.replicaDied(rs, err)
				}
			}(rs)
		}
	}
}

// Close stops scaling, waits (up to ctx) for in-flight calls to finish and
// closes every replica.
func (p *Pool) Close(ctx context.Context) error {
	for p.inflight.Load() > 0 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.stop)
	reps := p.replicas
	p.replicas = nil
	p.mu.Unlock()
	<-p.done
	for _, rs := range reps {
		close(rs.stop)
		rs.wg.Wait()
		rs.r.Close()
	}
	// Fail whatever is still queued (ctx expired before they drained).
	for {
		select {
		case c := <-p.queue:
			c.done <- callResult{err: errs.E(errs.Unavailable, "ENDPOINT_NOT_READY", "served entity was shut down"), replica: -1}
		default:
			return nil
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		b[n] = digits[i%10]
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}
