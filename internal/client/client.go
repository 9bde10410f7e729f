// Package client is the Go client of Lakebox's HTTP API. The CLI and the
// end-to-end tests use it; it speaks the same wire formats as third-party
// clients do.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one Lakebox server with one token.
type Client struct {
	Host  string // e.g. http://127.0.0.1:8080
	Token string
	HTTP  *http.Client
}

// New returns a client for host authenticating with token.
func New(host, token string) *Client {
	return &Client{Host: strings.TrimRight(host, "/"), Token: token, HTTP: &http.Client{Timeout: 5 * time.Minute}}
}

// APIError is an error answered by the server, in any surface's format.
type APIError struct {
	Status    int
	ErrorCode string
	Message   string
	RequestID string
}

// Error implements error.
func (e *APIError) Error() string {
	code := e.ErrorCode
	if code == "" {
		code = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s: %s (HTTP %d)", code, e.Message, e.Status)
}

// Do sends a request with an optional JSON body and decodes a JSON answer
// into out (when non-nil).
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	u := c.Host + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Lakebox at %s: %w", c.Host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode >= 300 {
		return decodeError(resp, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode response from %s %s: %w", method, path, err)
		}
	}
	return nil
}

func decodeError(resp *http.Response, data []byte) error {
	e := &APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	var body struct {
		ErrorCode string `json:"error_code"`
		Message   string `json:"message"`
		Detail    string `json:"detail"`
		ScimType  string `json:"scimType"`
		Error     *struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil {
		e.ErrorCode, e.Message = body.ErrorCode, body.Message
		if e.Message == "" {
			e.Message = body.Detail
		}
		if body.Error != nil {
			e.ErrorCode, e.Message = body.Error.Type, body.Error.Message
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(data))
	}
	return e
}
