package query

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/auth"
	"github.com/lakebox/lakebox/internal/errs"
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
	// ChunkRows and ChunkBytes bound one result chunk (default 10,000 rows
	// and 16 MiB, estimated from the values).
	ChunkRows  int
	ChunkBytes int
	// TTL is how long a finished statement's result is kept (default 1
	// hour); then the statement is CLOSED, and after another TTL forgotten.
	TTL    time.Duration
	Now    func() time.Time
	NewID  func() string
	Logger *slog.Logger
}

// Statements runs statements asynchronously and keeps their results in
// chunks until they expire: the registry behind the SQL Statement
// Execution API. A statement belongs to the principal who submitted it;
// to anyone else it does not exist. It is safe for concurrent use.
type Statements struct {
	exec Executor
	o    StatementsOptions
	log  *slog.Logger

	mu     sync.Mutex
	m      map[string]*statement
	closed bool
	wg     sync.WaitGroup
}

// statement is one submitted statement; fields after done are guarded by
// Statements.mu.
type statement struct {
	id, owner string
	cancel    context.CancelFunc
	done      chan struct{}

	state     StatementState
	err       error
	canceled  bool
	cols      []Column
	rows      [][]any
	chunks    []Chunk
	total     int
	truncated bool
	finished  time.Time
	result    ResultOptions
}

// ResultOptions say how a statement's result is kept and delivered.
type ResultOptions struct {
	// RowLimit > 0 keeps only the first RowLimit rows (the result is then
	// truncated).
	RowLimit int
	// Disposition and Format are kept with the statement for the API that
	// renders its result (the registry does not interpret them).
	Disposition, Format string
}

// Chunk locates one chunk of a result.
type Chunk struct {
	Index     int
	RowOffset int
	RowCount  int
	ByteCount int64
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

// NewStatements returns a registry that runs statements with exec.
func NewStatements(exec Executor, o StatementsOptions) *Statements {
	if o.ChunkRows <= 0 {
		o.ChunkRows = 10_000
	}
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = 16 << 20
	}
	if o.TTL <= 0 {
		o.TTL = time.Hour
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
	return &Statements{exec: exec, o: o, log: log, m: map[string]*statement{}}
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
// errs.Unavailable once the registry is closed.
func (s *Statements) Submit(ctx context.Context, sess Session, text string, params []Parameter, o ResultOptions) (string, error) {
	who, err := owner(ctx)
	if err != nil {
		return "", err
	}
	if text, err = BindParameters(text, params); err != nil {
		return "", err
	}
	id := s.o.NewID()
	rctx, cancel := context.WithCancel(WithStatementID(context.WithoutCancel(ctx), id))
	st := &statement{id: id, owner: who, cancel: cancel, done: make(chan struct{}), state: StatePending, result: o}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		return "", errs.E(errs.Unavailable, "TEMPORARILY_UNAVAILABLE", "the server is shutting down")
	}
	s.sweep()
	s.m[id] = st
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer cancel()
		s.mu.Lock()
		if st.state == StatePending {
			st.state = StateRunning
		}
		s.mu.Unlock()
		res, err := s.exec.Exec(rctx, &sess, text)
		s.finish(st, res, err, o.RowLimit)
	}()
	return id, nil
}

func (s *Statements) finish(st *statement, res *Result, err error, rowLimit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer close(st.done)
	st.finished = s.o.Now()
	switch {
	case st.canceled:
		st.state = StateCanceled
	case err != nil:
		st.state, st.err = StateFailed, err
		if errs.KindOf(err) == errs.Internal {
			s.log.Error("statement failed", "statement_id", st.id, "err", err.Error())
		}
	default:
		st.state, st.cols, st.rows = StateSucceeded, res.Columns, res.Rows
		if rowLimit > 0 && len(st.rows) > rowLimit {
			st.rows, st.truncated = st.rows[:rowLimit:rowLimit], true
		}
		st.total = len(st.rows)
		st.chunks = chunkRows(st.rows, s.o.ChunkRows, s.o.ChunkBytes)
	}
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

// sweep closes statements whose result outlived the TTL and forgets those
// closed for another TTL. Callers hold s.mu.
func (s *Statements) sweep() {
	now := s.o.Now()
	for id, st := range s.m {
		if st.finished.IsZero() {
			continue
		}
		switch age := now.Sub(st.finished); {
		case age >= 2*s.o.TTL:
			delete(s.m, id)
		case age >= s.o.TTL && st.state != StateClosed:
			st.state, st.err, st.cols, st.rows, st.chunks = StateClosed, nil, nil, nil, nil
		}
	}
}

// lookup returns the caller's statement. Callers hold s.mu. Errors:
// errs.NotFound when there is no such statement or it is someone else's.
func (s *Statements) lookup(ctx context.Context, id string) (*statement, error) {
	who, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	s.sweep()
	st, ok := s.m[id]
	if !ok || st.owner != who {
		return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "statement %q does not exist (or has expired)", id)
	}
	return st, nil
}

func (st *statement) info() StatementInfo {
	return StatementInfo{ID: st.id, State: st.state, Err: st.err, Columns: st.cols, Chunks: st.chunks, TotalRows: st.total, Truncated: st.truncated,
		Disposition: st.result.Disposition, Format: st.result.Format}
}

// Get returns the caller's statement. Errors: errs.NotFound.
func (s *Statements) Get(ctx context.Context, id string) (StatementInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookup(ctx, id)
	if err != nil {
		return StatementInfo{}, err
	}
	return st.info(), nil
}

// Wait waits up to d (or until ctx is done) for the caller's statement to
// finish and returns it. Errors: errs.NotFound.
func (s *Statements) Wait(ctx context.Context, id string, d time.Duration) (StatementInfo, error) {
	s.mu.Lock()
	st, err := s.lookup(ctx, id)
	s.mu.Unlock()
	if err != nil {
		return StatementInfo{}, err
	}
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-st.done:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return st.info(), nil
}

// Cancel asks the caller's statement to stop (DuckDB is interrupted
// through the statement's context); a finished statement is left as it
// is. Cancel does not wait. Errors: errs.NotFound.
func (s *Statements) Cancel(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookup(ctx, id)
	if err != nil {
		return err
	}
	if st.finished.IsZero() {
		st.canceled = true
		st.cancel()
	}
	return nil
}

// Done returns a channel closed when the caller's statement finishes.
// Errors: errs.NotFound.
func (s *Statements) Done(ctx context.Context, id string) (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	return st.done, nil
}

// Chunk returns chunk n of the caller's succeeded statement with its
// rows. Errors: errs.NotFound; errs.FailedPrecondition when the statement
// has no result (not finished, failed, canceled or closed);
// errs.Invalid for a chunk index out of range.
func (s *Statements) Chunk(ctx context.Context, id string, n int) (StatementInfo, Chunk, [][]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookup(ctx, id)
	if err != nil {
		return StatementInfo{}, Chunk{}, nil, err
	}
	if st.state != StateSucceeded {
		return StatementInfo{}, Chunk{}, nil, errs.E(errs.FailedPrecondition, "INVALID_STATE",
			"statement %s is %s; results are available once it has SUCCEEDED and until they expire", id, st.state)
	}
	if n < 0 || n >= len(st.chunks) {
		return StatementInfo{}, Chunk{}, nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE",
			"chunk index %d is out of range: statement %s has chunks 0 to %d", n, id, len(st.chunks)-1)
	}
	c := st.chunks[n]
	return st.info(), c, st.rows[c.RowOffset : c.RowOffset+c.RowCount], nil
}

// LinkedChunk returns chunk n of a succeeded statement with its rows
// whoever the caller is: it skips the owner check, so the caller must have
// authorised the access some other way (the SQL API's signed external
// links). Errors: errs.NotFound when there is no such statement or chunk;
// errs.FailedPrecondition when the statement has no result.
func (s *Statements) LinkedChunk(_ context.Context, id string, n int) (StatementInfo, Chunk, [][]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	st, ok := s.m[id]
	if !ok {
		return StatementInfo{}, Chunk{}, nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "statement %q does not exist (or has expired)", id)
	}
	if st.state != StateSucceeded {
		return StatementInfo{}, Chunk{}, nil, errs.E(errs.FailedPrecondition, "INVALID_STATE",
			"statement %s is %s; results are available once it has SUCCEEDED and until they expire", id, st.state)
	}
	if n < 0 || n >= len(st.chunks) {
		return StatementInfo{}, Chunk{}, nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST",
			"statement %s has no chunk %d (it has chunks 0 to %d)", id, n, len(st.chunks)-1)
	}
	c := st.chunks[n]
	return st.info(), c, st.rows[c.RowOffset : c.RowOffset+c.RowCount], nil
}

// Close cancels running statements, waits for them to stop and refuses
// new ones.
func (s *Statements) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, st := range s.m {
		if st.finished.IsZero() {
			st.cancel()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
