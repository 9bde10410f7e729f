package audit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// BatcherOptions configure a Batcher.
type BatcherOptions struct {
	Spool *Spool
	Table *delta.Table
	// Create creates the table on the first flush when it does not exist.
	Create delta.CreateTableOptions
	// ToRows converts one spooled record into table rows (zero or more).
	// A record it rejects is logged and skipped.
	ToRows func(Record) ([]delta.Row, error)
	// BatchSize is the most records per commit, and the pending count
	// that triggers a flush before the interval (default 1000).
	BatchSize int
	// Interval is the longest time a record waits (default 2s).
	Interval time.Duration
	Logger   *slog.Logger

	// afterCommit, when set, runs after the Delta commit and before the
	// spool is released (tests inject crashes here).
	afterCommit func() error
}

// Batcher commits spooled records to a Delta table in batches, exactly
// once: each commit carries txn(appId "lakebox-spool-<spool id>",
// version = last seq of the batch), and records at or below the table's
// version for that app id are skipped.
type Batcher struct {
	o     BatcherOptions
	appID string
	log   *slog.Logger
	kick  chan struct{}
	stop  chan struct{}
	done  chan struct{}

	mu        sync.Mutex // serialises flushes
	committed uint64
	known     bool
	created   bool
}

// NewBatcher returns a Batcher; Start runs its background loop.
func NewBatcher(o BatcherOptions) *Batcher {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Batcher{o: o, appID: "lakebox-spool-" + o.Spool.ID(), log: o.Logger,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// AppID returns the Delta txn application id of this batcher.
func (b *Batcher) AppID() string { return b.appID }

// Start runs the background loop: a flush right away (replaying whatever a
// previous process left in the spool), then every Interval and whenever
// BatchSize records are pending.
func (b *Batcher) Start() {
	go func() {
		defer close(b.done)
		t := time.NewTicker(b.o.Interval)
		defer t.Stop()
		for {
			if err := b.Flush(context.Background()); err != nil {
				b.log.Warn("spool flush failed; will retry", "table", b.o.Table.Root(), "pending", b.o.Spool.Len(), "err", err.Error())
			}
			select {
			case <-b.stop:
				return
			case <-t.C:
			case <-b.kick:
			}
		}
	}()
}

// Notify tells the batcher a record was appended; it flushes early once
// BatchSize records are pending.
func (b *Batcher) Notify() {
	if b.o.Spool.Len() >= b.o.BatchSize {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

// Stop ends the background loop and flushes what is pending (bounded by
// ctx). Records that could not be flushed stay in the spool.
func (b *Batcher) Stop(ctx context.Context) error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
		<-b.done
	}
	return b.Flush(ctx)
}

// Flush commits every pending record. Errors: those of the Delta table
// (the records stay pending).
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		recs := b.o.Spool.Pending(b.o.BatchSize)
		if len(recs) == 0 {
			return nil
		}
		if err := b.flushBatch(ctx, recs); err != nil {
			return err
		}
	}
}

// Committed returns the last sequence number known to be in the table.
func (b *Batcher) Committed() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.committed
}

func (b *Batcher) loadCommitted(ctx context.Context) error {
	snap, err := b.o.Table.Latest(ctx)
	if errs.Is(err, errs.NotFound) {
		b.known = true
		return nil
	}
	if err != nil {
		return err
	}
	b.created = true
	if v, ok := snap.AppTransactionVersion(b.appID); ok && uint64(v) > b.committed {
		b.committed = uint64(v)
	}
	b.known = true
	return nil
}

func (b *Batcher) flushBatch(ctx context.Context, recs []Record) error {
	if !b.known {
		if err := b.loadCommitted(ctx); err != nil {
			return err
		}
	}
	recs = b.unseen(recs)
	if len(recs) == 0 {
		return b.o.Spool.Release(b.committed)
	}
	last := recs[len(recs)-1].Seq
	var rows []delta.Row
	for _, r := range recs {
		rs, err := b.o.ToRows(r)
		if err != nil {
			b.log.Error("spool record skipped: cannot convert", "table", b.o.Table.Root(), "seq", r.Seq, "err", err.Error())
			continue
		}
		rows = append(rows, rs...)
	}
	if len(rows) > 0 {
		if err := b.commit(ctx, rows, last); err != nil {
			// The commit may have landed despite the error: re-read the
			// table's txn version before the next attempt.
			b.known = false
			return err
		}
	}
	b.committed = last
	if b.o.afterCommit != nil {
		if err := b.o.afterCommit(); err != nil {
			return err
		}
	}
	return b.o.Spool.Release(last)
}

func (b *Batcher) unseen(recs []Record) []Record {
	i := 0
	for i < len(recs) && recs[i].Seq <= b.committed {
		i++
	}
	return recs[i:]
}

func (b *Batcher) commit(ctx context.Context, rows []delta.Row, last uint64) error {
	if !b.created {
		_, err := b.o.Table.CreateTable(ctx, b.o.Create)
		if err != nil && !errs.Is(err, errs.AlreadyExists) {
			return err
		}
		b.created = true
	}
	txn, err := b.o.Table.StartTransaction(ctx, delta.TransactionOptions{Logger: b.log})
	if err != nil {
		return err
	}
	if v, ok := txn.AppTransactionVersion(b.appID); ok && uint64(v) >= last {
		return nil // already committed (by a previous attempt)
	}
	if _, err := txn.WriteRows(ctx, rows, delta.WriteOptions{}); err != nil {
		return err
	}
	txn.SetTransaction(b.appID, int64(last))
	_, err = txn.Commit(ctx, delta.Operation{Name: "WRITE", Parameters: map[string]any{"mode": "Append"},
		Metrics: map[string]int64{"numOutputRows": int64(len(rows))}})
	return err
}
