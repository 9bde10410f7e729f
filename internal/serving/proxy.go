package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// proxyRuntime forwards requests to an external server that speaks the
// MLflow scoring protocol (POST <url>/invocations).
type proxyRuntime struct {
	url    string
	client *http.Client
}

func newProxyRuntime(url string) (Runtime, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "external model URL %q must be http:// or https://", url)
	}
	url = strings.TrimSuffix(strings.TrimSuffix(url, "/"), "/invocations")
	return &proxyRuntime{url: url, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 5 * time.Minute}}, nil
}

func (p *proxyRuntime) Kind() string                                    { return "proxy" }
func (p *proxyRuntime) Batching() bool                                  { return false }
func (p *proxyRuntime) Slots() int                                      { return 64 }
func (p *proxyRuntime) NewReplica(ctx context.Context) (Replica, error) { return p, nil }

func (p *proxyRuntime) Predict(ctx context.Context, f *Frame) (any, error) {
	body := map[string]any{"dataframe_split": map[string]any{"columns": f.Columns, "data": f.Rows}}
	if f.Columns == nil {
		body = map[string]any{"instances": f.Rows}
	}
	if len(f.Params) > 0 {
		body["params"] = f.Params
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/invocations", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, "EXTERNAL_MODEL_UNAVAILABLE", err, "the external model server is unreachable")
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    string `json:"error_code"`
			Message string `json:"message"`
		}
		json.Unmarshal(data, &e)
		if resp.StatusCode == http.StatusBadRequest {
			return nil, errs.E(errs.Invalid, "BAD_REQUEST", "the external model rejected the input: %s", e.Message)
		}
		return nil, errs.E(errs.Unavailable, "EXTERNAL_MODEL_ERROR", "the external model server answered %d: %s", resp.StatusCode, truncate(string(data), 200))
	}
	var out struct {
		Predictions any `json:"predictions"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, errs.Wrap(errs.Unavailable, "EXTERNAL_MODEL_ERROR", err, "the external model server's answer is not JSON")
	}
	return out.Predictions, nil
}

func (p *proxyRuntime) Ping(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/ping", nil)
	resp, err := p.client.Do(req)
	if err != nil {
		return errs.Wrap(errs.Unavailable, "EXTERNAL_MODEL_UNAVAILABLE", err, "the external model server is unreachable")
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errs.E(errs.Unavailable, "EXTERNAL_MODEL_UNAVAILABLE", "the external model server's /ping answered %d", resp.StatusCode)
	}
	return nil
}

func (p *proxyRuntime) Close() error { return nil }
