// Package stmtstore defines where the SQL statement registry keeps
// statements and their results so that every Lakebox replica sees them: a
// statement submitted through one replica can be polled, fetched and
// canceled through any other. The metastore implements Store
// (internal/sqldb); Memory serves a single process and tests.
//
// The store does not interpret a statement's description or result bytes:
// the registry (internal/query) encodes them.
package stmtstore

import (
	"context"
	"slices"
	"sync"

	"github.com/lakebox/lakebox/internal/errs"
)

// Record is a statement as stored. Times are Unix milliseconds.
type Record struct {
	ID    string
	Owner string
	// State is the registry's state name (PENDING, RUNNING, SUCCEEDED, ...).
	State string
	// CreatedMs is when it was submitted; FinishedMs when it finished (0
	// while it runs); HeartbeatMs when the replica running it last said it
	// still does.
	CreatedMs, FinishedMs, HeartbeatMs int64
	// CancelRequested is set by Cancel through a replica that does not run
	// the statement; the replica running it cancels it at its next
	// heartbeat.
	CancelRequested bool
	// Meta is the registry's description of the statement (options,
	// columns, chunks, error), opaque to the store.
	Meta []byte
}

// Store keeps statements and their result chunks. Implementations are safe
// for concurrent use by many processes.
type Store interface {
	// Create records a new, unfinished statement. Errors:
	// errs.AlreadyExists for a duplicate id.
	Create(ctx context.Context, r Record) error
	// Finish records r's final state, finish time and description and
	// stores its result chunks, in one step, if the statement is not
	// finished yet (a second Finish changes nothing). Errors:
	// errs.NotFound.
	Finish(ctx context.Context, r Record, chunks [][]byte) error
	// Get returns a statement. Errors: errs.NotFound.
	Get(ctx context.Context, id string) (Record, error)
	// Chunk returns result chunk n of a statement. Errors: errs.NotFound
	// (no such statement or chunk, or the result expired).
	Chunk(ctx context.Context, id string, n int) ([]byte, error)
	// Heartbeat marks the unfinished statements among ids as RUNNING and
	// alive at nowMs, and returns those whose cancellation was requested.
	Heartbeat(ctx context.Context, ids []string, nowMs int64) (cancel []string, err error)
	// RequestCancel asks the replica running an unfinished statement to
	// cancel it; a finished one is left as it is. Errors: errs.NotFound.
	RequestCancel(ctx context.Context, id string) error
	// Expire drops the result chunks of statements finished before
	// dropBeforeMs and forgets statements finished before forgetBeforeMs
	// (the registry reports the former CLOSED by their age).
	Expire(ctx context.Context, dropBeforeMs, forgetBeforeMs int64) error
}

// Memory is a Store in this process's memory.
type Memory struct {
	mu     sync.Mutex
	m      map[string]*Record
	chunks map[string][][]byte
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{m: map[string]*Record{}, chunks: map[string][][]byte{}}
}

func notFound(id string) error {
	return errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "statement %q does not exist (or has expired)", id)
}

// Create implements Store.
func (s *Memory) Create(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[r.ID]; ok {
		return errs.E(errs.AlreadyExists, "RESOURCE_ALREADY_EXISTS", "statement %q exists already", r.ID)
	}
	r.Meta = slices.Clone(r.Meta)
	s.m[r.ID] = &r
	return nil
}

// Finish implements Store.
func (s *Memory) Finish(_ context.Context, r Record, chunks [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.m[r.ID]
	if !ok {
		return notFound(r.ID)
	}
	if cur.FinishedMs != 0 {
		return nil
	}
	cur.State, cur.FinishedMs, cur.Meta = r.State, r.FinishedMs, slices.Clone(r.Meta)
	s.chunks[r.ID] = chunks
	return nil
}

// Get implements Store.
func (s *Memory) Get(_ context.Context, id string) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[id]
	if !ok {
		return Record{}, notFound(id)
	}
	out := *r
	out.Meta = slices.Clone(r.Meta)
	return out, nil
}

// Chunk implements Store.
func (s *Memory) Chunk(_ context.Context, id string, n int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chunks[id]
	if n < 0 || n >= len(cs) {
		return nil, errs.E(errs.NotFound, "RESOURCE_DOES_NOT_EXIST", "statement %q has no result chunk %d", id, n)
	}
	return cs[n], nil
}

// Heartbeat implements Store.
func (s *Memory) Heartbeat(_ context.Context, ids []string, nowMs int64) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cancel []string
	for _, id := range ids {
		r, ok := s.m[id]
		if !ok || r.FinishedMs != 0 {
			continue
		}
		r.State, r.HeartbeatMs = "RUNNING", nowMs
		if r.CancelRequested {
			cancel = append(cancel, id)
		}
	}
	return cancel, nil
}

// RequestCancel implements Store.
func (s *Memory) RequestCancel(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[id]
	if !ok {
		return notFound(id)
	}
	if r.FinishedMs == 0 {
		r.CancelRequested = true
	}
	return nil
}

// Expire implements Store.
func (s *Memory) Expire(_ context.Context, dropBeforeMs, forgetBeforeMs int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, r := range s.m {
		switch {
		case r.FinishedMs == 0:
		case r.FinishedMs < forgetBeforeMs:
			delete(s.m, id)
			delete(s.chunks, id)
		case r.FinishedMs < dropBeforeMs:
			delete(s.chunks, id)
		}
	}
	return nil
}
