package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/lakebox/lakebox/internal/serving"
)

const servingBase = "/api/2.0/serving-endpoints"

// CreateServingEndpoint creates an endpoint.
func (c *Client) CreateServingEndpoint(ctx context.Context, req serving.CreateRequest) (serving.EndpointView, error) {
	var out serving.EndpointView
	return out, c.Do(ctx, "POST", servingBase, nil, req, &out)
}

// ListServingEndpoints lists the endpoints the caller may see.
func (c *Client) ListServingEndpoints(ctx context.Context) ([]serving.EndpointView, error) {
	var out struct {
		Endpoints []serving.EndpointView `json:"endpoints"`
	}
	return out.Endpoints, c.Do(ctx, "GET", servingBase, nil, nil, &out)
}

// GetServingEndpoint returns one endpoint.
func (c *Client) GetServingEndpoint(ctx context.Context, name string) (serving.EndpointView, error) {
	var out serving.EndpointView
	return out, c.Do(ctx, "GET", servingBase+"/"+url.PathEscape(name), nil, nil, &out)
}

// UpdateServingEndpointConfig replaces an endpoint's served entities,
// traffic and capture configuration (a rolling update).
func (c *Client) UpdateServingEndpointConfig(ctx context.Context, name string, cfg serving.EndpointConfig) (serving.EndpointView, error) {
	var out serving.EndpointView
	return out, c.Do(ctx, "PUT", servingBase+"/"+url.PathEscape(name)+"/config", nil, cfg, &out)
}

// DeleteServingEndpoint deletes an endpoint.
func (c *Client) DeleteServingEndpoint(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", servingBase+"/"+url.PathEscape(name), nil, nil, nil)
}

// ServingEndpointEvents returns an endpoint's events log as JSON.
func (c *Client) ServingEndpointEvents(ctx context.Context, name string) (json.RawMessage, error) {
	var out json.RawMessage
	return out, c.Do(ctx, "GET", servingBase+"/"+url.PathEscape(name)+"/events", nil, nil, &out)
}

// QueryServingEndpoint sends a scoring request (MLflow scoring protocol
// JSON, or CSV with contentType "text/csv") and returns the response body
// and the name of the served entity that answered.
func (c *Client) QueryServingEndpoint(ctx context.Context, name, contentType string, body []byte) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.Host+"/serving-endpoints/"+url.PathEscape(name)+"/invocations", bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("cannot reach Lakebox at %s: %w", c.Host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode >= 300 {
		return nil, "", decodeError(resp, data)
	}
	return data, resp.Header.Get("served-model-name"), nil
}
