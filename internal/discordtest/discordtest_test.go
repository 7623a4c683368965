package discordtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// specFile returns ../shared/specs/discord/openapi.json. It skips when
// ../shared is absent, except in CI (CI=true) where it fails.
func specFile(tb testing.TB) string {
	tb.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "specs", "discord", "openapi.json")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is missing (CI=true)", p)
		}
		tb.Skipf("%s is missing", p)
	}
	return p
}

// TestBuiltinRoutesMatchSpec keeps the embedded table (used when the spec
// is absent) in line with Discord's OpenAPI spec.
func TestBuiltinRoutesMatchSpec(t *testing.T) {
	sp, err := LoadSpec(specFile(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range BuiltinRoutes {
		path := strings.NewReplacer("{", "", "}", "").Replace(rt.Template)
		tmpl, ok, methodOK := sp.Match(rt.Method, path)
		if !ok || !methodOK || tmpl != rt.Template {
			t.Errorf("%s %s: spec match %q ok=%v method=%v", rt.Method, rt.Template, tmpl, ok, methodOK)
			continue
		}
		want := append([]string(nil), rt.Required...)
		sort.Strings(want)
		if got := sp.RequiredFields(rt.Template, rt.Method); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s %s: required %v, spec says %v", rt.Method, rt.Template, want, got)
		}
	}
}

func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bot tok")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func testServer(t *testing.T, withSpec bool) *Server {
	t.Helper()
	opts := Options{Token: "tok"}
	if withSpec {
		opts.SpecPath = specFile(t)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddGuild("1", "g")
	s.AddChannel(Channel{ID: "10", Type: ChannelText, GuildID: "1", Name: "general"})
	return s
}

func TestRESTValidation(t *testing.T) {
	for _, withSpec := range []bool{false, true} {
		name := "builtin"
		if withSpec {
			name = "spec"
		}
		t.Run(name, func(t *testing.T) {
			s := testServer(t, withSpec)
			api := s.URL() + "/api/v10"
			cases := []struct {
				method, path, body string
				status             int
			}{
				{"GET", "/nope/1", "", 404},
				{"DELETE", "/gateway", "", 405},
				{"POST", "/channels/10/messages", `{"content":"hi"}`, 200},
				{"POST", "/channels/10/messages", `{"content":"` + strings.Repeat("x", 2001) + `"}`, 400},
				{"POST", "/channels/10/messages", `{}`, 400},
				{"POST", "/channels/99/messages", `{"content":"hi"}`, 404},
				{"POST", "/channels/10/messages", `{"content":"x","components":[{"type":1,"components":[{"type":2,"style":1,"label":"a","custom_id":"` + strings.Repeat("x", 101) + `"}]}]}`, 400},
				{"POST", "/interactions/1/tok/callback", `{"data":{}}`, 400}, // type is required
				{"PUT", "/applications/100000000000000001/guilds/1/commands", `[{"description":"no name"}]`, 400},
				{"PUT", "/applications/100000000000000001/guilds/1/commands", `[{"name":"x","description":"d"}]`, 200},
			}
			for _, c := range cases {
				st, b := do(t, c.method, api+c.path, c.body)
				if st != c.status {
					t.Errorf("%s %s: %d %s, want %d", c.method, c.path, st, b, c.status)
				}
			}
			if len(s.Problems()) == 0 {
				t.Error("rejections must be recorded as problems")
			}
			if st, _ := do(t, "GET", api+"/users/@me", ""); st != 200 {
				t.Errorf("GET /users/@me = %d", st)
			}
		})
	}
}

func TestRateLimitOnDemand(t *testing.T) {
	s := testServer(t, false)
	s.RateLimit("POST", "/channels/{channel_id}/messages", 1, 250*time.Millisecond, true)
	req, _ := http.NewRequest("POST", s.URL()+"/api/v9/channels/10/messages", bytes.NewReader([]byte(`{"content":"x"}`)))
	req.Header.Set("Authorization", "Bot tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 429 || body.RetryAfter != 0.25 || !body.Global || resp.Header.Get("X-RateLimit-Global") != "true" || resp.Header.Get("X-RateLimit-Reset-After") != "0.250" || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("429 = %d %+v %v", resp.StatusCode, body, resp.Header)
	}
	if st, _ := do(t, "POST", s.URL()+"/api/v9/channels/10/messages", `{"content":"x"}`); st != 200 {
		t.Fatalf("after the limit: %d", st)
	}
}

// TestGatewayProtocol drives the gateway with a raw websocket client:
// HELLO, IDENTIFY, READY, heartbeat ACK, dispatch, drop, RESUME with replay.
func TestGatewayProtocol(t *testing.T) {
	s := testServer(t, false)
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"?v=10&encoding=json", nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	type frame struct {
		Op int             `json:"op"`
		S  int64           `json:"s"`
		T  string          `json:"t"`
		D  json.RawMessage `json:"d"`
	}
	read := func(c *websocket.Conn) frame {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var f frame
		if err := c.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	c := dial()
	if f := read(c); f.Op != 10 {
		t.Fatalf("first frame op %d", f.Op)
	}
	c.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": "Bot tok", "intents": 33281, "properties": map[string]any{}}})
	ready := read(c)
	var r struct {
		SessionID string `json:"session_id"`
	}
	json.Unmarshal(ready.D, &r)
	if ready.T != "READY" || ready.S != 1 || r.SessionID == "" {
		t.Fatalf("ready = %+v", ready)
	}
	if f := read(c); f.T != "GUILD_CREATE" || f.S != 2 {
		t.Fatalf("guild create = %+v", f)
	}
	c.WriteJSON(map[string]any{"op": 1, "d": 2})
	if f := read(c); f.Op != 11 {
		t.Fatalf("ack = %+v", f)
	}
	s.UserMessage("10", Member{User: &User{ID: "5", Username: "u"}}, "one")
	if f := read(c); f.T != "MESSAGE_CREATE" || f.S != 3 {
		t.Fatalf("dispatch = %+v", f)
	}
	s.DropConnection()
	c.Close()
	s.UserMessage("10", Member{User: &User{ID: "5", Username: "u"}}, "two") // while away
	c = dial()
	read(c) // HELLO
	c.WriteJSON(map[string]any{"op": 6, "d": map[string]any{"token": "Bot tok", "session_id": r.SessionID, "seq": 3}})
	if f := read(c); f.T != "MESSAGE_CREATE" || f.S != 4 || !strings.Contains(string(f.D), `"two"`) {
		t.Fatalf("replay = %+v", f)
	}
	if f := read(c); f.T != "RESUMED" {
		t.Fatalf("resumed = %+v", f)
	}
	// An unknown session is invalid: op 9.
	c2 := dial()
	read(c2)
	c2.WriteJSON(map[string]any{"op": 6, "d": map[string]any{"token": "Bot tok", "session_id": "nope", "seq": 1}})
	if f := read(c2); f.Op != 9 {
		t.Fatalf("invalid session = %+v", f)
	}
	c2.Close()
	if st := s.Gateway(); st.Identifies != 1 || st.Resumes != 1 || st.Heartbeats != 1 {
		t.Fatalf("stats = %+v", st)
	}
	c.Close()
}

// TestGatewayStalledBotCannotWedge is the regression test for a hang: a bot
// that stops reading its gateway socket (or whose connection drops half-way
// through a write) must hold up neither the fake's other calls nor Close.
// Dispatches queue without blocking; the stalled connection is dropped
// after the write timeout, and its events wait for a RESUME.
func TestGatewayStalledBotCannotWedge(t *testing.T) {
	s := testServer(t, false)
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"?v=10&encoding=json", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := dial()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); err != nil { // HELLO
		t.Fatal(err)
	}
	c.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": "Bot tok", "intents": 1}})
	deadline := time.Now().Add(60 * time.Second)
	for !s.Gateway().Connected {
		if time.Now().After(deadline) {
			t.Fatal("not identified")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The bot reads nothing more. 4000 events of 10 kB overflow the socket
	// buffers many times over.
	big := strings.Repeat("x", 10_000)
	start := time.Now()
	for i := range 4000 {
		if _, err := s.UserMessage("10", Member{User: &User{ID: "5", Username: "u"}}, big); err != nil {
			t.Fatal(err)
		}
		if i%500 == 0 {
			s.Gateway() // other callers are not held up either
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("dispatching to a stalled bot took %v", d)
	}
	// The writer gives up on the stalled socket and drops it.
	deadline = time.Now().Add(15 * time.Second)
	for s.Gateway().Connected {
		if time.Now().After(deadline) {
			t.Fatal("stalled connection still attached")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A connection that never identifies does not hold up Close.
	idle := dial()
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := idle.ReadMessage(); err != nil { // HELLO
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked")
	}
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := idle.ReadMessage(); err == nil {
		t.Fatal("connection still open after Close")
	}
}

func TestMessageNonce(t *testing.T) {
	s := testServer(t, true)
	post := func(body string) (int, Message) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.URL()+"/api/v9/channels/10/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bot tok")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m Message
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	_, a := post(`{"content":"hi","nonce":"k1","enforce_nonce":true}`)
	_, b := post(`{"content":"hi","nonce":"k1","enforce_nonce":true}`)
	if a.ID == "" || b.ID != a.ID || len(s.Messages("10")) != 1 || a.Nonce != "k1" {
		t.Fatalf("enforced nonce: %+v then %+v, %d messages", a, b, len(s.Messages("10")))
	}
	// Without enforce_nonce, a nonce does not de-duplicate.
	post(`{"content":"hi","nonce":"k2"}`)
	post(`{"content":"hi","nonce":"k2"}`)
	if n := len(s.Messages("10")); n != 3 {
		t.Fatalf("%d messages", n)
	}
	// Integer nonces too.
	_, c := post(`{"content":"hi","nonce":12345,"enforce_nonce":true}`)
	_, d := post(`{"content":"hi","nonce":12345,"enforce_nonce":true}`)
	if c.ID == "" || c.ID != d.ID {
		t.Fatalf("integer nonce: %s then %s", c.ID, d.ID)
	}
	if len(s.Problems()) != 0 {
		t.Fatalf("problems: %v", s.Problems())
	}
	// Longer than 25 characters: 400 and a problem.
	if code, _ := post(`{"content":"hi","nonce":"` + strings.Repeat("n", 26) + `","enforce_nonce":true}`); code != 400 || len(s.Problems()) == 0 {
		t.Fatalf("26-character nonce: %d, problems %v", code, s.Problems())
	}
}
