package query

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/query/stmtstore"
)

// StatementState is the lifecycle state of a submitted statement.
type StatementState string

// The statement states (Databricks' Statement Execution API names).
const (
	StatePending   StatementState = "PENDING"
	StateRunning   StatementState = "RUNNING"
	StateSucceeded StatementState = "SUCCEEDED"
	StateFailed    StatementState = "FAILED"
	StateCanceled  StatementState = "CANCELED"
	// StateClosed: the statement finished and its result expired.
	StateClosed StatementState = "CLOSED"
)

// Executor runs a script as the identity in ctx (*Engine implements it).
type Executor interface {
	// Exec runs script in sess. Errors: those of Engine.Exec.
	Exec(ctx context.Context, sess *Session, script string) (*Result, error)
}

// StatementsOptions configure Statements. Zero values take the defaults.
type StatementsOptions struct {
	// Store keeps statements and results where every replica sees them
	// (default: this process's memory, for one replica).
	Store stmtstore.Store
	// Encode turns one chunk of a statement's result into the bytes kept
	// and served for it (default: the rows as JSON). The SQL API encodes
	// chunks in the format the statement asked for.
	Encode func(info StatementInfo, rows [][]any) ([]byte, error)
	// ChunkRows and ChunkBytes bound one result chunk (default 10,000 rows
	// and 16 MiB, estimated from the values).
	ChunkRows  int
	ChunkBytes int
	// TTL is how long a finished statement's result is kept (default 1
	// hour); then the statement is CLOSED, and after another TTL forgotten.
	TTL time.Duration
	// Heartbeat is how often this replica tells the store that its
	// statements still run and picks up cancellations requested through
	// other replicas (default 1s). A running statement whose replica has
	// not been heard of for StaleAfter (default 30s) is reported FAILED.
	Heartbeat, StaleAfter time.Duration
	Now                   func() time.Time
	NewID                 func() string
	Logger                *slog.Logger
}

// Statements runs statements asynchronously and keeps their results in
// chunks until they expire: the registry behind the SQL Statement
// Execution API. Statements and results live in the Store, so any replica
// sharing it answers for any statement; the replica that runs a statement
// also holds its cancel function. A statement belongs to the principal who
// submitted it; to anyone else it does not exist. It is safe for
// concurrent use.
type Statements struct {
	exec  Executor
	store stmtstore.Store
	o     StatementsOptions
	log   *slog.Logger

	mu      sync.Mutex
	running map[string]*statement // the statements this replica runs
	closed  bool
	wg      sync.WaitGroup
	stop    chan struct{}
	swept   time.Time
}

// statement is one statement this replica runs; fields after done are
// guarded by Statements.mu.
type statement struct {
	id, owner string
	cancel    context.CancelFunc
	done      chan struct{}

	info     StatementInfo // the state while running; final once done is closed
	canceled bool
}

// ResultOptions say how a statement's result is kept and delivered.
type ResultOptions struct {
	// RowLimit > 0 keeps only the first RowLimit rows, ByteLimit > 0 only
	// the rows that fit in ByteLimit bytes (estimated as the chunks count
	// them); the result is then truncated.
	RowLimit  int
	ByteLimit int64
	// MaxBytes > 0 fails a statement whose (limited) result is larger,
	// with errs.TooLarge (the INLINE disposition's 25 MiB).
	MaxBytes int64
	// Disposition and Format are kept with the statement for the API that
	// renders its result (the registry does not interpret them).
	Disposition, Format string
}

// Chunk locates one chunk of a result.
type Chunk struct {
	Index     int   `json:"index"`
	RowOffset int   `json:"row_offset"`
	RowCount  int   `json:"row_count"`
	ByteCount int64 `json:"byte_count"`
}

// StatementInfo is a snapshot of a statement: its state, and for a
// succeeded statement the result's columns and chunks.
type StatementInfo struct {
	ID        string
	State     StatementState
	Err       error // set when State is FAILED
	Columns   []Column
	Chunks    []Chunk
	TotalRows int
	Truncated bool
	// Disposition and Format are those the statement was submitted with.
	Disposition, Format string
}

// meta is the stored description of a statement (stmtstore.Record.Meta).
type meta struct {
	Columns     []Column `json:"columns,omitempty"`
	Chunks      []Chunk  `json:"chunks,omitempty"`
	TotalRows   int      `json:"total_rows,omitempty"`
	Truncated   bool     `json:"truncated,omitempty"`
	Disposition string   `json:"disposition,omitempty"`
	Format      string   `json:"format,omitempty"`
	// The error of a FAILED statement: kind name, reason and message
	// (empty for internal errors, whose detail is only logged).
	ErrKind   string `json:"err_kind,omitempty"`
	ErrReason string `json:"err_reason,omitempty"`
	ErrMsg    string `json:"err_msg,omitempty"`
}

func encodeMeta(info StatementInfo) []byte {
	m := meta{Columns: info.Columns, Chunks: info.Chunks, TotalRows: info.TotalRows, Truncated: info.Truncated,
		Disposition: info.Disposition, Format: info.Format}
	if info.Err != nil {
		m.ErrKind, m.ErrReason = errs.KindOf(info.Err).String(), errs.ReasonOf(info.Err)
		if errs.KindOf(info.Err) != errs.Internal {
			m.ErrMsg = errs.Message(info.Err)
		}
	}
	b, _ := json.Marshal(m) // plain data: cannot fail
	return b
}

// kindNamed is the errs.Kind whose name is s (Internal when none is).
func kindNamed(s string) errs.Kind {
	for k := errs.Internal; k <= errs.Canceled; k++ {
		if k.String() == s {
			return k
		}
	}
	return errs.Internal
}

// NewStatements returns a registry that runs statements with exec.
func NewStatements(exec Executor, o StatementsOptions) *Statements {
	if o.Store == nil {
		o.Store = stmtstore.NewMemory()
	}
	if o.Encode == nil {
		o.Encode = func(_ StatementInfo, rows [][]any) ([]byte, error) { return json.Marshal(rows) }
	}
	if o.ChunkRows <= 0 {
		o.ChunkRows = 10_000
	}
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = 16 << 20
	}
	if o.TTL <= 0 {
		o.TTL = time.Hour
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Second
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Statements{exec: exec, store: o.Store, o: o, log: log, running: map[string]*statement{}, stop: make(chan struct{})}
	s.wg.Add(1)
	go s.loop()
	return s
}

func owner(ctx context.Context) (string, error) {
	id := auth.IdentityFrom(ctx)
	if id == nil {
		return "", errs.E(errs.Unauthenticated, "UNAUTHENTICATED", "running SQL needs an authenticated caller")
	}
	if id.Principal.ID != "" {
		return id.Principal.ID, nil
	}
	return id.Principal.Name, nil
}

// Submit binds params into text and starts running it in sess as the
// identity in ctx (the run outlives ctx's cancellation, not its values).
// o.RowLimit > 0 keeps only the first o.RowLimit rows (the result is
// then truncated). It returns the statement id. Errors: errs.Unauthenticated;
// errs.Invalid for parameters that do not bind (see BindParameters);
// errs.Unavailable once the registry is closed; the store's errors.
func (s *Statements) Submit(ctx context.Context, sess Session, text string, params []Parameter, o ResultOptions) (string, error) {
	who, err := owner(ctx)
	if err != nil {
		return "", err
	}
	if text, err = BindParameters(text, params); err != nil {
		return "", err
	}
	id := s.o.NewID()
	info := StatementInfo{ID: id, State: StatePending, Disposition: o.Disposition, Format: o.Format}
	now := s.o.Now().UnixMilli()
	if err := s.store.Create(ctx, stmtstore.Record{ID: id, Owner: who, State: string(StatePending), CreatedMs: now, HeartbeatMs: now,
		Meta: encodeMeta(info)}); err != nil {
		return "", err
	}
	rctx, cancel := context.WithCancel(WithStatementID(context.WithoutCancel(ctx), id))
	st := &statement{id: id, owner: who, cancel: cancel, done: make(chan struct{}), info: info}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		err := errs.E(errs.Unavailable, "TEMPORARILY_UNAVAILABLE", "the server is shutting down")
		s.finish(st, nil, err, ResultOptions{})
		return "", err
	}
	s.running[id] = st
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer cancel()
		s.mu.Lock()
		if st.info.State == StatePending {
			st.info.State = StateRunning
		}
		s.mu.Unlock()
		res, err := s.exec.Exec(rctx, &sess, text)
		s.finish(st, res, err, o)
	}()
	return id, nil
}

// finish records a statement's outcome and result in the store, then
// wakes its waiters.
func (s *Statements) finish(st *statement, res *Result, err error, o ResultOptions) {
	s.mu.Lock()
	info, canceled := st.info, st.canceled
	s.mu.Unlock()
	var chunks [][]byte
	switch {
	case canceled:
		info.State = StateCanceled
	case err != nil:
		info.State, info.Err = StateFailed, err
		if errs.KindOf(err) == errs.Internal {
			s.log.Error("statement failed", "statement_id", st.id, "err", err.Error())
		}
	default:
		rows := res.Rows
		if o.RowLimit > 0 && len(rows) > o.RowLimit {
			rows, info.Truncated = rows[:o.RowLimit:o.RowLimit], true
		}
		if o.ByteLimit > 0 {
			var size int64
			for i, r := range rows {
				if size += int64(rowSize(r)); size > o.ByteLimit {
					rows, info.Truncated = rows[:i:i], true
					break
				}
			}
		}
		info.State, info.Columns, info.TotalRows = StateSucceeded, res.Columns, len(rows)
		info.Chunks = chunkRows(rows, s.o.ChunkRows, s.o.ChunkBytes)
		var size int64
		for _, c := range info.Chunks {
			size += c.ByteCount
		}
		if o.MaxBytes > 0 && size > o.MaxBytes {
			info = StatementInfo{ID: info.ID, State: StateFailed, Disposition: info.Disposition, Format: info.Format,
				Err: errs.E(errs.TooLarge, "RESULT_TOO_LARGE", "the result (about %d MiB) exceeds the %d MiB limit of the INLINE disposition; use disposition EXTERNAL_LINKS, or row_limit / byte_limit",
					size>>20, o.MaxBytes>>20)}
		}
		for _, c := range info.Chunks {
			b, eerr := s.o.Encode(info, rows[c.RowOffset:c.RowOffset+c.RowCount])
			if eerr != nil {
				s.log.Error("encode statement result", "statement_id", st.id, "err", eerr.Error())
				info = StatementInfo{ID: info.ID, State: StateFailed, Disposition: info.Disposition, Format: info.Format,
					Err: errs.Wrap(errs.Internal, "INTERNAL_ERROR", eerr, "encode the result")}
				chunks = nil
				break
			}
			chunks = append(chunks, b)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if serr := s.store.Finish(ctx, stmtstore.Record{ID: st.id, State: string(info.State), FinishedMs: s.o.Now().UnixMilli(),
		Meta: encodeMeta(info)}, chunks); serr != nil {
		// The result cannot be kept: say so here; other replicas report
		// the statement FAILED once its heartbeat goes stale.
		s.log.Error("store statement result", "statement_id", st.id, "err", serr.Error())
		info = StatementInfo{ID: info.ID, State: StateFailed, Disposition: info.Disposition, Format: info.Format,
			Err: errs.Wrap(errs.Unavailable, "TEMPORARILY_UNAVAILABLE", serr, "the statement's result could not be stored; run it again")}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.info = info
	delete(s.running, st.id)
	close(st.done)
}

// chunkRows splits rows into chunks of at most maxRows rows and about
// maxBytes bytes (at least one row each). An empty result has one empty
// chunk.
func chunkRows(rows [][]any, maxRows, maxBytes int) []Chunk {
	var out []Chunk
	cur := Chunk{}
	for i, r := range rows {
		sz := int64(rowSize(r))
		if cur.RowCount > 0 && (cur.RowCount >= maxRows || cur.ByteCount+sz > int64(maxBytes)) {
			out = append(out, cur)
			cur = Chunk{Index: len(out), RowOffset: i}
		}
		cur.RowCount++
		cur.ByteCount += sz
	}
	return append(out, cur)
}

// rowSize estimates a row's size on the wire (JSON strings).
func rowSize(r []any) int {
	n := 2
	for _, v := range r {
		n += valueSize(v) + 3
	}
	return n
}

func valueSize(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case string:
		return len(x)
	case []byte:
		return len(x)*4/3 + 4
	case []any:
		n := 2
		for _, e := range x {
			n += valueSize(e) + 1
		}
		return n
	case map[string]any:
		n := 2
		for k, e := range x {
			n += len(k) + valueSize(e) + 4
		}
		return n
	}
	return 24
}

// loop heartbeats this replica's running statements, cancels those
// canceled through other replicas and expires old results, until Close.
func (s *Statements) loop() {
	defer s.wg.Done()
	t := time.NewTicker(s.o.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.tick(context.Background())
	}
}

func (s *Statements) tick(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.o.StaleAfter/2)
	defer cancel()
	s.mu.Lock()
	ids := make([]string, 0, len(s.running))
	for id := range s.running {
		ids = append(ids, id)
	}
	sweep := s.o.Now().Sub(s.swept) >= min(s.o.TTL/4, time.Minute)
	if sweep {
		s.swept = s.o.Now()
	}
	s.mu.Unlock()
	if len(ids) > 0 {
		cancelIDs, err := s.store.Heartbeat(ctx, ids, s.o.Now().UnixMilli())
		if err != nil {
			s.log.Warn("statement heartbeat", "err", err.Error())
		}
		s.mu.Lock()
		for _, id := range cancelIDs {
			if st := s.running[id]; st != nil {
				st.canceled = true
				st.cancel()
			}
		}
		s.mu.Unlock()
	}
	if sweep {
		now := s.o.Now()
		if err := s.store.Expire(ctx, now.Add(-s.o.TTL).UnixMilli(), now.Add(-2*s.o.TTL).UnixMilli()); err != nil {
			s.log.Warn("expire statements", "err", err.Error())
		}
	}
}

func notFound(id string) error {
	return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "statement %q does not exist (or has expired)", id)
}

// get returns a statement as the store has it, aged: CLOSED once its
// result outlived the TTL, not found after another TTL, FAILED when the
// replica running it stopped heartbeating. When checkOwner is set,
// another principal's statement is not found.
func (s *Statements) get(ctx context.Context, id string, checkOwner bool) (StatementInfo, error) {
	who := ""
	if checkOwner {
		var err error
		if who, err = owner(ctx); err != nil {
			return StatementInfo{}, err
		}
	}
	r, err := s.store.Get(ctx, id)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return StatementInfo{}, notFound(id)
		}
		return StatementInfo{}, err
	}
	if checkOwner && r.Owner != who {
		return StatementInfo{}, notFound(id)
	}
	var m meta
	if err := json.Unmarshal(r.Meta, &m); err != nil {
		return StatementInfo{}, errs.Wrap(errs.Internal, "INTERNAL_ERROR", err, "statement %s is unreadable", id)
	}
	info := StatementInfo{ID: id, State: StatementState(r.State), Columns: m.Columns, Chunks: m.Chunks, TotalRows: m.TotalRows,
		Truncated: m.Truncated, Disposition: m.Disposition, Format: m.Format}
	if m.ErrKind != "" {
		msg := m.ErrMsg
		if msg == "" {
			msg = "internal error"
		}
		info.Err = errs.E(kindNamed(m.ErrKind), m.ErrReason, "%s", msg)
	}
	now := s.o.Now()
	switch {
	case r.FinishedMs == 0:
		if now.Sub(time.UnixMilli(r.HeartbeatMs)) > s.o.StaleAfter {
			info.State = StateFailed
			info.Err = errs.E(errs.Unavailable, "TEMPORARILY_UNAVAILABLE",
				"the server running statement %s stopped before it finished; run it again", id)
		}
	case now.Sub(time.UnixMilli(r.FinishedMs)) >= 2*s.o.TTL:
		return StatementInfo{}, notFound(id)
	case now.Sub(time.UnixMilli(r.FinishedMs)) >= s.o.TTL:
		info = StatementInfo{ID: id, State: StateClosed, Disposition: m.Disposition, Format: m.Format}
	}
	return info, nil
}

// local returns the caller's statement when this replica runs it.
func (s *Statements) local(ctx context.Context, id string) *statement {
	who, err := owner(ctx)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.running[id]; st != nil && st.owner == who {
		return st
	}
	return nil
}

// Get returns the caller's statement. Errors: errs.NotFound.
func (s *Statements) Get(ctx context.Context, id string) (StatementInfo, error) {
	if st := s.local(ctx, id); st != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		return st.info, nil
	}
	return s.get(ctx, id, true)
}

// Wait waits up to d (or until ctx is done) for the caller's statement to
// finish and returns it: on the channel of a statement this replica runs,
// by polling the store for one another replica runs. Errors:
// errs.NotFound.
func (s *Statements) Wait(ctx context.Context, id string, d time.Duration) (StatementInfo, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	if st := s.local(ctx, id); st != nil {
		if d > 0 {
			select {
			case <-st.done:
			case <-t.C:
			case <-ctx.Done():
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return st.info, nil
	}
	poll := 20 * time.Millisecond
	for {
		info, err := s.get(ctx, id, true)
		if err != nil || info.State.Finished() || d <= 0 {
			return info, err
		}
		select {
		case <-t.C:
			return s.get(ctx, id, true)
		case <-ctx.Done():
			return info, nil
		case <-time.After(poll):
		}
		poll = min(2*poll, 500*time.Millisecond)
	}
}

// Finished reports whether a statement in state s has stopped running.
func (s StatementState) Finished() bool {
	return s != StatePending && s != StateRunning
}

// Cancel asks the caller's statement to stop (DuckDB is interrupted
// through the statement's context; a statement another replica runs is
// canceled at that replica's next heartbeat); a finished statement is
// left as it is. Cancel does not wait. Errors: errs.NotFound.
func (s *Statements) Cancel(ctx context.Context, id string) error {
	if st := s.local(ctx, id); st != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !st.info.State.Finished() {
			st.canceled = true
			st.cancel()
		}
		return nil
	}
	info, err := s.get(ctx, id, true)
	if err != nil || info.State.Finished() {
		return err
	}
	return s.store.RequestCancel(ctx, id)
}

// Chunk returns chunk n of the caller's succeeded statement with its
// encoded rows (see StatementsOptions.Encode). Errors: errs.NotFound;
// errs.FailedPrecondition when the statement has no result (not
// finished, failed, canceled or closed); errs.Invalid for a chunk index
// out of range.
func (s *Statements) Chunk(ctx context.Context, id string, n int) (StatementInfo, Chunk, []byte, error) {
	info, err := s.get(ctx, id, true)
	if err != nil {
		return StatementInfo{}, Chunk{}, nil, err
	}
	return s.chunk(ctx, info, n, errs.Invalid, "INVALID_PARAMETER_VALUE")
}

// ResultChunk is Chunk for a statement the caller already holds: info as
// Get or Wait returned it (they checked the owner), so the statement is not
// read again.
func (s *Statements) ResultChunk(ctx context.Context, info StatementInfo, n int) (Chunk, []byte, error) {
	_, c, b, err := s.chunk(ctx, info, n, errs.Invalid, "INVALID_PARAMETER_VALUE")
	return c, b, err
}

// chunk returns chunk n of a succeeded statement; an index out of range
// is an error of the kind and reason given.
func (s *Statements) chunk(ctx context.Context, info StatementInfo, n int, kind errs.Kind, reason string) (StatementInfo, Chunk, []byte, error) {
	if info.State != StateSucceeded {
		return StatementInfo{}, Chunk{}, nil, errs.E(errs.FailedPrecondition, "INVALID_STATE",
			"statement %s is %s; results are available once it has SUCCEEDED and until they expire", info.ID, info.State)
	}
	if n < 0 || n >= len(info.Chunks) {
		return StatementInfo{}, Chunk{}, nil, errs.E(kind, reason,
			"chunk index %d is out of range: statement %s has chunks 0 to %d", n, info.ID, len(info.Chunks)-1)
	}
	b, err := s.store.Chunk(ctx, info.ID, n)
	if err != nil {
		return StatementInfo{}, Chunk{}, nil, err
	}
	return info, info.Chunks[n], b, nil
}

// LinkedChunk returns chunk n of a succeeded statement with its encoded
// rows whoever the caller is: it skips the owner check, so the caller must
// have authorised the access some other way (the SQL API's signed
// external links). Errors: errs.NotFound when there is no such statement
// or chunk; errs.FailedPrecondition when the statement has no result.
func (s *Statements) LinkedChunk(ctx context.Context, id string, n int) (StatementInfo, Chunk, []byte, error) {
	info, err := s.get(ctx, id, false)
	if err != nil {
		return StatementInfo{}, Chunk{}, nil, err
	}
	return s.chunk(ctx, info, n, errs.NotFound, "RESOURCE_DOES_NOT_EXIST")
}

// Close cancels the statements this replica runs, waits for them to stop
// (their outcome is stored) and refuses new ones.
func (s *Statements) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	for _, st := range s.running {
		st.canceled = true
		st.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
