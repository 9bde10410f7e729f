// Package inferlog captures serving requests and responses into inference
// tables: Delta tables in the schema of the Databricks legacy inference
// tables (reference/serving.md) plus served_entity, requester and
// logging_error_codes.
//
// Every record is appended to a durable local spool (internal/audit's
// Spool, one per table) before the request is answered, and a background
// Batcher (also audit's) commits spooled records to the table in batches,
// exactly once (Delta txn app id per spool). Capture never fails or blocks
// a request on the table: errors are logged and counted.
//
// Durability: with Sync false (the default) a record is written to the
// spool file before the answer, so a killed server process (kill -9) loses
// nothing; with Sync true it is also fsynced (group commit), which also
// survives a machine crash at the cost of an fsync per group of requests.
package inferlog

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lakebox/lakebox/internal/audit"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/serving"
)

// Options configure a Logger.
type Options struct {
	// Dir holds one spool directory per inference table.
	Dir string
	// Bucket is the warehouse; TableRoot maps a three-level table name to
	// its Delta root key in it (default "__inference_tables/c/s/t").
	Bucket    blob.Bucket
	TableRoot func(table string) string
	// MaxPayloadBytes truncates request and response bodies above it and
	// flags the row (default 1 MiB).
	MaxPayloadBytes int
	// Sync fsyncs each group of records (see package doc).
	Sync bool
	// BatchSize and Interval tune the Delta commits (defaults 10,000
	// records, 10 s). Inference tables are read for monitoring and
	// debugging, not within seconds (Databricks documents about an hour of
	// delay), and each commit costs a Parquet file and, every 100 commits,
	// a checkpoint on the CPU that serves predictions: larger, rarer
	// batches keep that cost off the serving path.
	BatchSize int
	Interval  time.Duration
	Logger    *slog.Logger
	// OnError is called when a record cannot be spooled (metrics).
	OnError func(table string, err error)
}

// Logger implements serving.Capturer.
type Logger struct {
	o      Options
	log    *slog.Logger
	mu     sync.Mutex
	tables map[string]*sink
	closed bool
}

type sink struct {
	table   string
	spool   *audit.Spool
	batcher *audit.Batcher
	err     error
}

var _ serving.Capturer = (*Logger)(nil)

// New returns a Logger; tables are opened on first use.
func New(o Options) *Logger {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxPayloadBytes <= 0 {
		o.MaxPayloadBytes = 1 << 20
	}
	if o.TableRoot == nil {
		o.TableRoot = DefaultTableRoot
	}
	return &Logger{o: o, log: o.Logger, tables: map[string]*sink{}}
}

// DefaultTableRoot is the default Delta root key of an inference table in
// the warehouse: __inference_tables/<catalog>/<schema>/<table>.
func DefaultTableRoot(table string) string {
	return "__inference_tables/" + strings.ReplaceAll(table, ".", "/")
}

// record is the spooled form of one capture.
type record struct {
	RequestID       string   `json:"rid"`
	ClientRequestID string   `json:"crid,omitempty"`
	TimeMs          int64    `json:"ts"`
	Status          int      `json:"st"`
	ExecMs          int64    `json:"ms"`
	Request         string   `json:"req,omitempty"`
	Response        string   `json:"resp,omitempty"`
	Endpoint        string   `json:"ep"`
	ServedEntity    string   `json:"se,omitempty"`
	ModelName       string   `json:"mn,omitempty"`
	ModelVersion    string   `json:"mv,omitempty"`
	Requester       string   `json:"who,omitempty"`
	Codes           []string `json:"codes,omitempty"`
}

// Schema is the inference table schema.
func Schema() *delta.StructType {
	str := func(n string, null bool) *delta.StructField {
		return &delta.StructField{Name: n, Type: delta.TypeString, Nullable: null}
	}
	return &delta.StructType{Fields: []*delta.StructField{
		str("databricks_request_id", false),
		str("client_request_id", true),
		{Name: "date", Type: delta.TypeDate, Nullable: false},
		{Name: "timestamp_ms", Type: delta.TypeLong, Nullable: false},
		{Name: "status_code", Type: delta.TypeInteger, Nullable: false},
		{Name: "sampling_fraction", Type: delta.TypeDouble, Nullable: false},
		{Name: "execution_time_ms", Type: delta.TypeLong, Nullable: false},
		str("request", true),
		str("response", true),
		{Name: "request_metadata", Type: &delta.MapType{KeyType: delta.TypeString, ValueType: delta.TypeString, ValueContainsNull: true}, Nullable: true},
		str("served_entity", true),
		str("requester", true),
		{Name: "logging_error_codes", Type: &delta.ArrayType{ElementType: delta.TypeString, ContainsNull: true}, Nullable: true},
	}}
}

// Capture implements serving.Capturer: it spools rec (see package doc for
// durability) and returns; errors are logged, never returned.
func (l *Logger) Capture(rec *serving.CaptureRecord) {
	s, err := l.sink(rec.Table)
	if err != nil {
		l.fail(rec.Table, err)
		return
	}
	r := record{RequestID: rec.RequestID, ClientRequestID: rec.ClientRequestID, TimeMs: rec.Time.UnixMilli(),
		Status: rec.StatusCode, ExecMs: rec.ExecutionMs, Endpoint: rec.Endpoint, ServedEntity: rec.ServedEntity,
		ModelName: rec.EntityName, ModelVersion: rec.EntityVersion, Requester: rec.Requester}
	r.Request, r.Codes = l.cut(rec.Request, "MAX_REQUEST_SIZE_EXCEEDED", r.Codes)
	r.Response, r.Codes = l.cut(rec.Response, "MAX_RESPONSE_SIZE_EXCEEDED", r.Codes)
	b, err := json.Marshal(r)
	if err != nil {
		l.fail(rec.Table, err)
		return
	}
	if _, err := s.spool.Append(b); err != nil {
		l.fail(rec.Table, err)
		return
	}
	s.batcher.Notify()
}

func (l *Logger) cut(b []byte, code string, codes []string) (string, []string) {
	if len(b) <= l.o.MaxPayloadBytes {
		return string(b), codes
	}
	return string(b[:l.o.MaxPayloadBytes]), append(codes, code)
}

func (l *Logger) fail(table string, err error) {
	l.log.Error("inference record not captured", "table", table, "err", err.Error())
	if l.o.OnError != nil {
		l.o.OnError(table, err)
	}
}

func (l *Logger) sink(table string) (*sink, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("inference logger closed")
	}
	if s := l.tables[table]; s != nil {
		return s, s.err
	}
	s := &sink{table: table}
	l.tables[table] = s
	sp, err := audit.OpenSpool(filepath.Join(l.o.Dir, table), audit.SpoolOptions{NoSync: !l.o.Sync, Logger: l.log})
	if err != nil {
		s.err = err
		return s, err
	}
	s.spool = sp
	s.batcher = audit.NewBatcher(audit.BatcherOptions{
		Spool: sp, Table: delta.NewTable(l.o.Bucket, l.o.TableRoot(table)),
		Create: delta.CreateTableOptions{Schema: Schema(), PartitionColumns: []string{"date"}, Name: table, Description: "inference table",
			Configuration: map[string]string{"delta.checkpointInterval": "100"}},
		ToRows:    toRows,
		BatchSize: orDefault(l.o.BatchSize, 10000), Interval: orDefault(l.o.Interval, 10*time.Second), Logger: l.log,
	})
	s.batcher.Start()
	return s, nil
}

// Open starts the batchers of tables that already have spools (records a
// previous process spooled but did not commit).
func (l *Logger) Open(tables ...string) error {
	for _, t := range tables {
		if _, err := l.sink(t); err != nil {
			return err
		}
	}
	return nil
}

// Flush commits every spooled record now.
func (l *Logger) Flush(ctx context.Context) error {
	l.mu.Lock()
	var ss []*sink
	for _, s := range l.tables {
		if s.err == nil {
			ss = append(ss, s)
		}
	}
	l.mu.Unlock()
	for _, s := range ss {
		if err := s.batcher.Flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes (bounded by ctx) and closes every spool; unflushed records
// stay spooled for the next start.
func (l *Logger) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	ss := l.tables
	l.tables = map[string]*sink{}
	l.mu.Unlock()
	var first error
	for _, s := range ss {
		if s.err != nil {
			continue
		}
		if err := s.batcher.Stop(ctx); err != nil && first == nil {
			first = err
		}
		s.spool.Close()
	}
	return first
}

func toRows(r audit.Record) ([]delta.Row, error) {
	var x record
	if err := json.Unmarshal(r.Payload, &x); err != nil {
		return nil, err
	}
	t := time.UnixMilli(x.TimeMs).UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	meta := []delta.MapEntry{{Key: "endpoint_name", Value: x.Endpoint}}
	if x.ModelName != "" {
		meta = append(meta, delta.MapEntry{Key: "model_name", Value: x.ModelName}, delta.MapEntry{Key: "model_version", Value: x.ModelVersion})
	}
	if x.ServedEntity != "" {
		meta = append(meta, delta.MapEntry{Key: "served_entity_name", Value: x.ServedEntity})
	}
	var codes any
	if len(x.Codes) > 0 {
		a := make([]any, len(x.Codes))
		for i, c := range x.Codes {
			a[i] = c
		}
		codes = a
	}
	return []delta.Row{{x.RequestID, opt(x.ClientRequestID), day, x.TimeMs, int32(x.Status), 1.0, x.ExecMs,
		opt(x.Request), opt(x.Response), meta, opt(x.ServedEntity), opt(x.Requester), codes}}, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
