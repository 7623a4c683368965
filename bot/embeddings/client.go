package embeddings

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API root, such as https://api.openai.com/v1 or
	// http://127.0.0.1:11434/v1 (Ollama); "/embeddings" is appended. A URL
	// that already ends in /embeddings is used as is.
	BaseURL string
	// Model is the embedding model, such as text-embedding-3-small or
	// nomic-embed-text.
	Model string
	// APIKey is sent as a bearer token when not empty. It is never logged.
	APIKey string
	// Timeout bounds each HTTP request (default 10 s).
	Timeout time.Duration
	// BatchSize is the most inputs sent in one request (default 64).
	BatchSize int
	// HTTPClient is the client to use (default: one with Timeout).
	HTTPClient *http.Client
}

// Client calls an OpenAI-compatible embeddings endpoint. It is safe for
// concurrent use.
type Client struct {
	url   string
	cfg   Config
	httpc *http.Client
}

// NewClient returns a client for cfg.
func NewClient(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 64
	}
	u := strings.TrimRight(cfg.BaseURL, "/")
	if !strings.HasSuffix(u, "/embeddings") {
		u += "/embeddings"
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	return &Client{url: u, cfg: cfg, httpc: hc}
}

// Model returns the configured model name.
func (c *Client) Model() string { return c.cfg.Model }

type embedRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type embedResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Embed returns one vector per input, in order, sending at most
// Config.BatchSize inputs per request. It fails on any HTTP, timeout or
// decoding error, and on an answer with missing or empty vectors.
func (c *Client) Embed(ctx context.Context, inputs []string) ([][]float32, error) {
	out := make([][]float32, 0, len(inputs))
	for start := 0; start < len(inputs); start += c.cfg.BatchSize {
		end := min(len(inputs), start+c.cfg.BatchSize)
		vs, err := c.embedBatch(ctx, inputs[start:end])
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

func (c *Client) embedBatch(ctx context.Context, inputs []string) ([][]float32, error) {
	body, err := json.Marshal(embedRequest{Model: c.cfg.Model, Input: inputs})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("embeddings request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("embeddings: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("embeddings: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("embeddings: HTTP %d: %s", resp.StatusCode, snippet(data))
	}
	var er embedResponse
	if err := json.Unmarshal(data, &er); err != nil {
		return nil, fmt.Errorf("embeddings: decode answer: %w", err)
	}
	if er.Error != nil {
		return nil, fmt.Errorf("embeddings: %s", er.Error.Message)
	}
	out := make([][]float32, len(inputs))
	for _, d := range er.Data {
		if d.Index < 0 || d.Index >= len(out) {
			return nil, fmt.Errorf("embeddings: answer index %d out of range", d.Index)
		}
		out[d.Index] = d.Embedding
	}
	for i, v := range out {
		if len(v) == 0 {
			return nil, fmt.Errorf("embeddings: no vector for input %d", i)
		}
		if i > 0 && len(v) != len(out[0]) {
			return nil, errors.New("embeddings: vectors of different lengths")
		}
	}
	return out, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
