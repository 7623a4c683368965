package embeddings

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
)

// fakeServer speaks the OpenAI embeddings wire format. A text's vector is
// [1,0] if it mentions night-time reading ("night", "dark"), else [0,1];
// mode switches it to failing answers.
type fakeServer struct {
	*httptest.Server
	mu     sync.Mutex
	mode   string // "", "500", "timeout", "malformed"
	inputs [][]string
	auth   string
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var req embedRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "fake-model" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		mode := f.mode
		f.inputs = append(f.inputs, req.Input)
		f.auth = r.Header.Get("Authorization")
		f.mu.Unlock()
		switch mode {
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		case "timeout":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		case "malformed":
			w.Write([]byte(`{"data":[{"index":0,"embedding":[0.1,`))
			return
		}
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var resp struct {
			Object string `json:"object"`
			Data   []item `json:"data"`
			Model  string `json:"model"`
		}
		resp.Object, resp.Model = "list", req.Model
		// Answer in reverse order: clients must use "index".
		for i := len(req.Input) - 1; i >= 0; i-- {
			v := []float32{0, 1}
			if s := strings.ToLower(req.Input[i]); strings.Contains(s, "night") || strings.Contains(s, "dark") {
				v = []float32{1, 0}
			}
			resp.Data = append(resp.Data, item{"embedding", i, v})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) setMode(m string) { f.mu.Lock(); f.mode = m; f.mu.Unlock() }

func (f *fakeServer) calls() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.inputs...)
}

func (f *fakeServer) client() *Client {
	return NewClient(Config{BaseURL: f.URL + "/v1", Model: "fake-model", APIKey: "sk-test", Timeout: 200 * time.Millisecond, BatchSize: 2})
}

func TestClient(t *testing.T) {
	f := newFakeServer(t)
	t.Run("OK", func(t *testing.T) {
		vs, err := f.client().Embed(context.Background(), []string{"dark", "light", "night", "day", "x"})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(vs); got != "[[1 0] [0 1] [1 0] [0 1] [0 1]]" {
			t.Fatalf("vectors %s", got)
		}
		if n := len(f.calls()); n != 3 {
			t.Fatalf("%d requests for 5 inputs in batches of 2", n)
		}
		if f.auth != "Bearer sk-test" {
			t.Fatalf("Authorization %q", f.auth)
		}
	})
	for _, mode := range []string{"500", "timeout", "malformed"} {
		t.Run("Err"+mode, func(t *testing.T) {
			f.setMode(mode)
			defer f.setMode("")
			if _, err := f.client().Embed(context.Background(), []string{"a"}); err == nil {
				t.Fatal("no error")
			}
		})
	}
	t.Run("FullURL", func(t *testing.T) {
		c := NewClient(Config{BaseURL: f.URL + "/v1/embeddings", Model: "fake-model"})
		if _, err := c.Embed(context.Background(), []string{"a"}); err != nil {
			t.Fatal(err)
		}
	})
}

// logCounter counts warnings.
type logCounter struct {
	mu    sync.Mutex
	warns int
	buf   bytes.Buffer
}

func (l *logCounter) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if bytes.Contains(p, []byte("level=WARN")) {
			l.warns++
		}
		return l.buf.Write(p)
	}), nil))
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

var docs = []bot.Doc{
	{ID: 1, Title: "Export the dashboard", Description: "Export the dashboard at night as PDF", Active: true},
	{ID: 2, Title: "Dark theme", Description: "A dashboard theme for reading at night", Active: true},
	{ID: 3, Title: "SSO login", Description: "Okta", Active: true},
}

const query = "Export dashboard\nI read the dashboard at night, export it"

func newHybrid(t *testing.T, f *fakeServer, cache VectorCache, l *logCounter) *Hybrid {
	t.Helper()
	h := NewHybrid(dedup.New(dedup.DefaultConfig()), f.client(), cache, 0.5, l.logger())
	h.Load(docs)
	return h
}

func TestHybrid(t *testing.T) {
	f := newFakeServer(t)
	ctx := context.Background()
	lexical := dedup.New(dedup.DefaultConfig())
	lexical.Load(docs)
	want, _ := lexical.Similar(ctx, query, 3)

	t.Run("OK", func(t *testing.T) {
		l := &logCounter{}
		h := newHybrid(t, f, nil, l)
		cs, err := h.Similar(ctx, query, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			t.Fatal("no candidates")
		}
		for _, c := range cs {
			if c.Score < 0 || c.Score > 1 {
				t.Fatalf("score out of [0,1]: %v", cs)
			}
		}
		// The semantic neighbour (dark theme at night) gets the cosine bonus.
		var lex2, hyb2 float64
		for _, c := range want {
			if c.RequestID == 2 {
				lex2 = c.Score
			}
		}
		for _, c := range cs {
			if c.RequestID == 2 {
				hyb2 = c.Score
			}
		}
		if hyb2 <= lex2 {
			t.Fatalf("request 2: hybrid %.3f, lexical %.3f", hyb2, lex2)
		}
	})
	t.Run("CacheAndEdit", func(t *testing.T) {
		f := newFakeServer(t)
		h := newHybrid(t, f, NewMemoryCache(), &logCounter{})
		h.Similar(ctx, query, 3)
		h.Similar(ctx, query, 3)
		calls := f.calls()
		if len(calls) < 2 || len(calls[len(calls)-1]) != 1 {
			t.Fatalf("second query re-embedded cached requests: %v", calls)
		}
		h.Upsert(bot.Doc{ID: 2, Title: "Dark theme", Description: "A dashboard theme for reading at night, please export", Active: true})
		before := len(f.calls())
		h.Similar(ctx, query, 3)
		calls = f.calls()[before:]
		found := false
		for _, in := range calls {
			for _, s := range in {
				found = found || strings.Contains(s, "please export")
			}
		}
		if !found {
			t.Fatalf("edited request not re-embedded: %v", calls)
		}
	})
	for _, mode := range []string{"500", "timeout", "malformed"} {
		t.Run("Fallback"+mode, func(t *testing.T) {
			f := newFakeServer(t)
			l := &logCounter{}
			h := newHybrid(t, f, nil, l)
			f.setMode(mode)
			for i := 0; i < 3; i++ {
				cs, err := h.Similar(ctx, query, 3)
				if err != nil {
					t.Fatalf("error to the caller: %v", err)
				}
				if fmt.Sprint(cs) != fmt.Sprint(want) {
					t.Fatalf("not lexical-only:\n%v\n%v", cs, want)
				}
			}
			if l.warns != 1 {
				t.Fatalf("%d warnings for one failure burst:\n%s", l.warns, l.buf.String())
			}
			if strings.Contains(l.buf.String(), "sk-test") {
				t.Fatal("API key logged")
			}
			f.setMode("")
			if _, err := h.Similar(ctx, query, 3); err != nil {
				t.Fatal(err)
			}
			f.setMode(mode)
			h.Similar(ctx, query, 3)
			if l.warns != 2 {
				t.Fatalf("new burst not logged: %d warnings", l.warns)
			}
		})
	}
	t.Run("LoadSeqKeepsTexts", func(t *testing.T) {
		// Start-up streams the board (bot.SeqLoader): the texts it keeps on
		// the way are what the candidates are embedded from, so a streamed
		// board ranks as one built by Upserts, cosine bonus included.
		f := newFakeServer(t)
		streamed := NewHybrid(dedup.New(dedup.DefaultConfig()), f.client(), nil, 0.5, nil)
		streamed.LoadSeq(slices.Values(docs))
		upserted := NewHybrid(dedup.New(dedup.DefaultConfig()), f.client(), nil, 0.5, nil)
		for _, d := range docs {
			upserted.Upsert(d)
		}
		got, err := streamed.Similar(ctx, query, 3)
		if err != nil {
			t.Fatal(err)
		}
		wantUp, err := upserted.Similar(ctx, query, 3)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(wantUp) {
			t.Fatalf("streamed %v, upserted %v", got, wantUp)
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			t.Fatalf("streamed board scored lexically only (no texts to embed): %v", got)
		}
	})
	t.Run("Off", func(t *testing.T) {
		h := NewHybrid(dedup.New(dedup.DefaultConfig()), nil, nil, 0.5, nil)
		h.Load(docs)
		cs, _ := h.Similar(ctx, query, 3)
		if fmt.Sprint(cs) != fmt.Sprint(want) {
			t.Fatalf("without a client: %v, want %v", cs, want)
		}
	})
}

// fakeVectorStore is the store's vector table in memory.
type fakeVectorStore struct {
	mu   sync.Mutex
	rows map[string]memEntry
	gets int
}

func (s *fakeVectorStore) GetVector(_ context.Context, id int64, model string) (string, []float32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	e, ok := s.rows[fmt.Sprint(id, model)]
	if !ok {
		return "", nil, bot.Errorf(bot.ENOTFOUND, "none")
	}
	return e.hash, e.v, nil
}

func (s *fakeVectorStore) PutVector(_ context.Context, id int64, model, hash string, v []float32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[fmt.Sprint(id, model)] = memEntry{hash, v}
	return nil
}

func TestStoreCache(t *testing.T) {
	vs := &fakeVectorStore{rows: map[string]memEntry{}}
	c := NewStoreCache(vs, "m", nil)
	c.Put(1, "h1", []float32{1, 2})
	// A fresh cache (restart) reads the store.
	c2 := NewStoreCache(vs, "m", nil)
	if v, ok := c2.Get(1, "h1"); !ok || fmt.Sprint(v) != "[1 2]" {
		t.Fatalf("get after restart: %v %v", v, ok)
	}
	if _, ok := c2.Get(1, "h2"); ok {
		t.Fatal("hit for another text")
	}
	if _, ok := NewStoreCache(vs, "other", nil).Get(1, "h1"); ok {
		t.Fatal("hit for another model")
	}
}
