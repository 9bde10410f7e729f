package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
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

// StatementResult is a finished statement with all its rows, every value
// as the JSON_ARRAY format renders it (a string, or nil for NULL) whatever
// the disposition and format the statement was run with.
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

// Progress is how far RunStatement has got: the statement's State and the
// time Waited since it was submitted; once it SUCCEEDED, the Rows fetched
// so far of TotalRows.
type Progress struct {
	Waited    time.Duration
	State     string
	Rows      int64
	TotalRows int64
}

// RunStatement executes a statement, polls until it finishes and fetches
// every chunk of its result, calling progress (when set) after each poll
// and each chunk. It reads both dispositions: INLINE rows, and
// EXTERNAL_LINKS in the JSON_ARRAY or ARROW_STREAM format, each link
// fetched without credentials (it is presigned) and fetched again through
// a fresh link when it has expired. When ctx is canceled the statement is
// canceled on the server too. A FAILED or CANCELED statement is a
// *StatementFailedError.
func (c *Client) RunStatement(ctx context.Context, req httpapi.ExecuteStatementRequest, progress func(Progress)) (*StatementResult, error) {
	if req.WaitTimeout == "" {
		req.WaitTimeout = "5s"
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	start := time.Now()
	resp, err := c.ExecuteStatement(ctx, req)
	if err != nil {
		return nil, err
	}
	id := resp.StatementID
	delay := 100 * time.Millisecond
	for resp.Status.State == "PENDING" || resp.Status.State == "RUNNING" {
		progress(Progress{Waited: time.Since(start), State: resp.Status.State})
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
	p := Progress{State: resp.Status.State}
	if resp.Manifest != nil {
		out.Columns, out.Truncated, p.TotalRows = resp.Manifest.Schema.Columns, resp.Manifest.Truncated, resp.Manifest.TotalRowCount
	}
	chunk := resp.Result
	for chunk != nil {
		out.Rows = append(out.Rows, chunk.DataArray...)
		next := chunk.NextChunkIndex
		for _, l := range chunk.ExternalLinks {
			rows, err := c.fetchLink(ctx, id, l)
			if err != nil {
				return nil, err
			}
			out.Rows = append(out.Rows, rows...)
			if l.NextChunkIndex != nil {
				next = l.NextChunkIndex
			}
		}
		p.Waited, p.Rows = time.Since(start), int64(len(out.Rows))
		progress(p)
		if next == nil {
			break
		}
		if chunk, err = c.GetChunk(ctx, id, *next); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fetchLink returns the rows of the chunk an external link serves. An
// expired link (403) is replaced once by a fresh one from GetChunk.
func (c *Client) fetchLink(ctx context.Context, id string, l httpapi.ExternalLink) ([][]*string, error) {
	rows, err := c.getLink(ctx, l.ExternalLink)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		fresh, ferr := c.GetChunk(ctx, id, l.ChunkIndex)
		if ferr != nil {
			return nil, ferr
		}
		for _, fl := range fresh.ExternalLinks {
			if fl.ChunkIndex == l.ChunkIndex {
				rows, err = c.getLink(ctx, fl.ExternalLink)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fetch chunk %d of statement %s: %w", l.ChunkIndex, id, err)
	}
	if int64(len(rows)) != l.RowCount {
		return nil, fmt.Errorf("fetch chunk %d of statement %s: got %d rows, the link announced %d", l.ChunkIndex, id, len(rows), l.RowCount)
	}
	return rows, nil
}

// getLink GETs an external link without the Authorization header (as
// Databricks clients fetch presigned URLs) and decodes the chunk by its
// content type: an Arrow IPC stream or a JSON array of rows.
func (c *Client) getLink(ctx context.Context, link string) ([][]*string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", link, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, decodeError(resp, data)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == httpapi.ArrowStreamType {
		return readArrowRows(resp.Body)
	}
	var rows [][]*string
	if err := json.NewDecoder(resp.Body).Decode(&rows); err != nil {
		return nil, fmt.Errorf("decode JSON_ARRAY chunk: %w", err)
	}
	return rows, nil
}
