package query

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/query/stmtstore"
)

func TestBindParameters(t *testing.T) {
	for name, tc := range map[string]struct {
		text   string
		params []Parameter
		want   string
		reason string
	}{
		"OK":         {text: "SELECT :a, :B", params: []Parameter{{Name: "a", Value: "x'y"}, {Name: "b", Value: "7", Type: "int"}}, want: "SELECT CAST('x''y' AS VARCHAR), CAST(7 AS INTEGER)"},
		"Null":       {text: "SELECT :a", params: []Parameter{{Name: "a", Null: true, Type: "DATE"}}, want: "SELECT CAST(NULL AS DATE)"},
		"Decimal":    {text: "SELECT :d", params: []Parameter{{Name: "d", Value: "1.25", Type: "DECIMAL(5,2)"}}, want: "SELECT CAST('1.25' AS DECIMAL(5,2))"},
		"NotMarkers": {text: "SELECT ':a', x::INT, raw:field, \":a\" -- :a\nFROM t", want: "SELECT ':a', x::INT, raw:field, \":a\" -- :a\nFROM t"},
		"ErrUnbound": {text: "SELECT :a", reason: "UNBOUND_SQL_PARAMETER"},
		"ErrBadInt":  {text: "SELECT :a", params: []Parameter{{Name: "a", Value: "1.5", Type: "INT"}}, reason: "INVALID_PARAMETER_VALUE"},
		"ErrType":    {text: "SELECT :a", params: []Parameter{{Name: "a", Value: "1", Type: "UUID"}}, reason: "INVALID_PARAMETER_VALUE"},
		"ErrTwice":   {text: "SELECT :a", params: []Parameter{{Name: "a"}, {Name: "A"}}, reason: "INVALID_PARAMETER_VALUE"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := BindParameters(tc.text, tc.params)
			if tc.reason != "" {
				require.Error(t, err)
				require.Equal(t, tc.reason, errs.ReasonOf(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRedactStatement(t *testing.T) {
	sens := func(n string) bool {
		n = strings.ToLower(n)
		return strings.Contains(n, "secret") || strings.Contains(n, "password") || strings.Contains(n, "token")
	}
	for in, want := range map[string]string{
		"SELECT 'a', 42 WHERE x = 'b'":                             "SELECT 'a', 42 WHERE x = 'b'",
		"COPY INTO t FROM '/x' CREDENTIAL (AWS_SECRET_KEY = 's3')": "COPY INTO t FROM '/x' CREDENTIAL (AWS_SECRET_KEY = '[REDACTED]')",
		"SELECT 'lbx_abc', 'Bearer xyz'":                           "SELECT '[REDACTED]', '[REDACTED]'",
		"SELECT 1 WHERE password = CAST('pw' AS VARCHAR)":          "SELECT 1 WHERE password = CAST('[REDACTED]' AS VARCHAR)",
		"OPTIONS ('password' 'hunter2')":                           "OPTIONS ('password' '[REDACTED]')",
		"SELECT 'unterminated":                                     "[statement not recorded: it does not lex]",
	} {
		require.Equal(t, want, RedactStatement(in, sens), in)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	env := mustEnv(t, "SQLite")
	_, err := env.eng.Exec(env.ctx("admin"), &Session{}, "SELECT 1 FROM range(3) WHERE range = = 1")
	require.Error(t, err)
	require.Equal(t, "PARSE_SYNTAX_ERROR", errs.ReasonOf(err))
	require.Contains(t, errs.Message(err), "line 1, position 38")
}

// fakeExec is an Executor returning a fixed result (or blocking until
// canceled when block is set).
type fakeExec struct {
	res   *Result
	block bool
}

func (f fakeExec) Exec(ctx context.Context, _ *Session, _ string) (*Result, error) {
	if f.block {
		<-ctx.Done()
		return nil, errs.Wrap(errs.Canceled, "CANCELED", ctx.Err(), "canceled")
	}
	return f.res, nil
}

func TestStatements(t *testing.T) {
	env := mustEnv(t, "SQLite")
	now := time.Unix(1_700_000_000, 0)
	rows := make([][]any, 25)
	for i := range rows {
		rows[i] = []any{int64(i), strings.Repeat("x", 100)}
	}
	s := NewStatements(fakeExec{res: &Result{Columns: []Column{{Name: "i"}, {Name: "s"}}, Rows: rows}},
		StatementsOptions{ChunkRows: 10, ChunkBytes: 500, TTL: time.Minute, Now: func() time.Time { return now }})
	defer s.Close()
	ctx := env.ctx("alice")
	id, err := s.Submit(ctx, Session{}, "SELECT 1", nil, ResultOptions{})
	require.NoError(t, err)
	info, err := s.Wait(ctx, id, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, StateSucceeded, info.State)
	require.Len(t, info.Chunks, 9, "500 bytes hold 3 rows of ~130 bytes")
	require.Equal(t, Chunk{Index: 8, RowOffset: 24, RowCount: 1, ByteCount: info.Chunks[8].ByteCount}, info.Chunks[8])
	_, _, got, err := s.Chunk(ctx, id, 8)
	require.NoError(t, err)
	require.JSONEq(t, `[[24, "`+strings.Repeat("x", 100)+`"]]`, string(got), "the default encoding: rows as JSON")

	t.Run("ErrOtherOwner", func(t *testing.T) {
		_, err := s.Get(env.ctx("bob"), id)
		require.True(t, errs.Is(err, errs.NotFound))
	})
	t.Run("LinkedChunk", func(t *testing.T) {
		s2, err := s.Submit(ctx, Session{}, "SELECT 1", nil, ResultOptions{Disposition: "EXTERNAL_LINKS", Format: "ARROW_STREAM"})
		require.NoError(t, err)
		_, err = s.Wait(ctx, s2, 10*time.Second)
		require.NoError(t, err)
		info, c, got, err := s.LinkedChunk(context.Background(), s2, 8)
		require.NoError(t, err, "no identity needed: the caller vouches for the access")
		require.Equal(t, "ARROW_STREAM", info.Format)
		require.Equal(t, "EXTERNAL_LINKS", info.Disposition)
		require.Equal(t, 24, c.RowOffset)
		require.JSONEq(t, `[[24, "`+strings.Repeat("x", 100)+`"]]`, string(got))
		_, _, _, err = s.LinkedChunk(context.Background(), s2, 9)
		require.True(t, errs.Is(err, errs.NotFound))
		_, _, _, err = s.LinkedChunk(context.Background(), "nope", 0)
		require.True(t, errs.Is(err, errs.NotFound))
	})
	t.Run("Expiry", func(t *testing.T) {
		now = now.Add(time.Minute)
		info, err := s.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, StateClosed, info.State)
		_, _, _, err = s.Chunk(ctx, id, 0)
		require.True(t, errs.Is(err, errs.FailedPrecondition))
		now = now.Add(time.Minute)
		_, err = s.Get(ctx, id)
		require.True(t, errs.Is(err, errs.NotFound))
	})
	t.Run("SharedStore", func(t *testing.T) {
		// Two replicas on one store: B waits for, and cancels, a statement
		// A runs; A picks the cancellation up at its heartbeat.
		store := stmtstore.NewMemory()
		a := NewStatements(fakeExec{block: true}, StatementsOptions{Store: store, Heartbeat: 10 * time.Millisecond})
		defer a.Close()
		b := NewStatements(fakeExec{}, StatementsOptions{Store: store})
		defer b.Close()
		id, err := a.Submit(ctx, Session{}, "SELECT 1", nil, ResultOptions{})
		require.NoError(t, err)
		info, err := b.Wait(ctx, id, 50*time.Millisecond)
		require.NoError(t, err)
		require.Equal(t, StateRunning, info.State, "a heartbeat marks it RUNNING in the store")
		_, err = b.Get(env.ctx("bob"), id)
		require.True(t, errs.Is(err, errs.NotFound))
		require.NoError(t, b.Cancel(ctx, id))
		info, err = b.Wait(ctx, id, 10*time.Second)
		require.NoError(t, err)
		require.Equal(t, StateCanceled, info.State)
	})
	t.Run("StaleReplica", func(t *testing.T) {
		// A statement whose replica stopped heartbeating is FAILED.
		store := stmtstore.NewMemory()
		who := env.ids["alice"].Principal.ID
		old := time.Now().Add(-time.Minute).UnixMilli()
		require.NoError(t, store.Create(ctx, stmtstore.Record{ID: "gone", Owner: who, State: "RUNNING", CreatedMs: old, HeartbeatMs: old, Meta: []byte("{}")}))
		b := NewStatements(fakeExec{}, StatementsOptions{Store: store})
		defer b.Close()
		info, err := b.Get(ctx, "gone")
		require.NoError(t, err)
		require.Equal(t, StateFailed, info.State)
		require.Equal(t, "TEMPORARILY_UNAVAILABLE", errs.ReasonOf(info.Err))
		require.Contains(t, errs.Message(info.Err), "stopped before it finished")
	})
	t.Run("Cancel", func(t *testing.T) {
		b := NewStatements(fakeExec{block: true}, StatementsOptions{})
		id, err := b.Submit(ctx, Session{}, "SELECT 1", nil, ResultOptions{})
		require.NoError(t, err)
		require.NoError(t, b.Cancel(ctx, id))
		info, err := b.Wait(ctx, id, 10*time.Second)
		require.NoError(t, err)
		require.Equal(t, StateCanceled, info.State)
		require.NoError(t, b.Close())
	})
}
