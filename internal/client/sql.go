package client

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/lakebox/lakebox/internal/httpapi"
)

// ExecuteStatement submits a statement (POST /api/2.0/sql/statements).
// The answer holds the result when the statement finished within the
// request's wait_timeout.
func (c *Client) ExecuteStatement(ctx context.Context, req httpapi.ExecuteStatementRequest) (*httpapi.StatementResponse, error) {
	var out httpapi.StatementResponse
	return &out, c.Do(ctx, "POST", httpapi.SQLPrefix, nil, req, &out)
}

// GetStatement returns a statement's status (and, once it succeeded, its
// manifest and first chunk).
func (c *Client) GetStatement(ctx context.Context, id string) (*httpapi.StatementResponse, error) {
	var out httpapi.StatementResponse
	return &out, c.Do(ctx, "GET", httpapi.SQLPrefix+"/"+url.PathEscape(id), nil, nil, &out)
}

// GetChunk returns chunk n of a succeeded statement's result.
func (c *Client) GetChunk(ctx context.Context, id string, n int) (*httpapi.ResultData, error) {
	var out httpapi.ResultData
	return &out, c.Do(ctx, "GET", fmt.Sprintf("%s/%s/result/chunks/%d", httpapi.SQLPrefix, url.PathEscape(id), n), nil, nil, &out)
}

// CancelStatement asks the server to cancel a statement.
func (c *Client) CancelStatement(ctx context.Context, id string) error {
	return c.Do(ctx, "POST", httpapi.SQLPrefix+"/"+url.PathEscape(id)+"/cancel", nil, struct{}{}, nil)
}

// StatementResult is a finished statement with all its rows.
type StatementResult struct {
	StatementID string
	Columns     []httpapi.SQLColumn
	Rows        [][]*string
	Truncated   bool
}

// StatementFailedError is a statement that ended FAILED or CANCELED.
type StatementFailedError struct {
	StatementID string
	State       string
	ErrorCode   string
	Message     string
}

// Error implements error.
func (e *StatementFailedError) Error() string {
	if e.State == "CANCELED" {
		return "statement " + e.StatementID + " was canceled"
	}
	return e.ErrorCode + ": " + e.Message
}

// RunStatement executes a statement, polls until it finishes (calling
// progress, when set, after each poll with the time waited so far) and
// fetches every chunk. When ctx is canceled the statement is canceled on
// the server too. A FAILED or CANCELED statement is a
// *StatementFailedError.
func (c *Client) RunStatement(ctx context.Context, req httpapi.ExecuteStatementRequest, progress func(waited time.Duration, state string)) (*StatementResult, error) {
	if req.WaitTimeout == "" {
		req.WaitTimeout = "5s"
	}
	start := time.Now()
	resp, err := c.ExecuteStatement(ctx, req)
	if err != nil {
		return nil, err
	}
	id := resp.StatementID
	delay := 100 * time.Millisecond
	for resp.Status.State == "PENDING" || resp.Status.State == "RUNNING" {
		if progress != nil {
			progress(time.Since(start), resp.Status.State)
		}
		select {
		case <-ctx.Done():
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			c.CancelStatement(cctx, id)
			cancel()
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 2*time.Second {
			delay *= 2
		}
		if resp, err = c.GetStatement(ctx, id); err != nil {
			return nil, err
		}
	}
	switch resp.Status.State {
	case "SUCCEEDED":
	case "FAILED", "CANCELED", "CLOSED":
		fe := &StatementFailedError{StatementID: id, State: resp.Status.State}
		if e := resp.Status.Error; e != nil {
			fe.ErrorCode, fe.Message = e.ErrorCode, e.Message
		} else if resp.Status.State == "CLOSED" {
			fe.ErrorCode, fe.Message = "CLOSED", "the statement's result has expired"
		}
		return nil, fe
	default:
		return nil, fmt.Errorf("statement %s is in unknown state %q", id, resp.Status.State)
	}
	out := &StatementResult{StatementID: id}
	if resp.Manifest != nil {
		out.Columns, out.Truncated = resp.Manifest.Schema.Columns, resp.Manifest.Truncated
	}
	chunk := resp.Result
	for chunk != nil {
		out.Rows = append(out.Rows, chunk.DataArray...)
		if chunk.NextChunkIndex == nil {
			break
		}
		if chunk, err = c.GetChunk(ctx, id, *chunk.NextChunkIndex); err != nil {
			return nil, err
		}
	}
	return out, nil
}
