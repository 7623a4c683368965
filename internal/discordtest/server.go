// Package discordtest is a fake Discord for tests and benchmarks: a REST API
// and a gateway websocket on 127.0.0.1 that a real discordgo client (or
// anything speaking Discord's wire format) can be pointed at through the
// bot's configurable API origin.
//
// REST calls are matched against Discord's OpenAPI spec when a spec file is
// given (Options.SpecPath), else against the embedded BuiltinRoutes:
// unknown paths get 404, known paths with another method 405, bodies that
// miss required fields or break limits 400, and every such mismatch is
// recorded in Problems so a test can fail on it. The gateway performs
// HELLO / IDENTIFY / READY / heartbeat ACK / RESUME (replaying missed events
// by sequence number) and can force a reconnect. Any route can be made to
// answer 429 with retry_after and X-RateLimit headers.
//
// Allowed imports: gorilla/websocket and the standard library.
package discordtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Server.
type Options struct {
	// Token is the bot token the fake accepts (without "Bot "); "" accepts any.
	Token string
	// AppID is the application (and bot user) id. Default "100000000000000001".
	AppID string
	// BotName is the bot user's name. Default "feedbackbot".
	BotName string
	// SpecPath is Discord's openapi.json; "" validates with BuiltinRoutes.
	SpecPath string
	// HeartbeatInterval is sent in HELLO. Default 41.25 s.
	HeartbeatInterval time.Duration
	// InteractionDeadline is how long an interaction accepts its first
	// response. Default 3 s, as on Discord.
	InteractionDeadline time.Duration
	// NonceWindow is how long a message nonce sent with enforce_nonce
	// de-duplicates: a post repeating it within the window gets the
	// message already created instead of a new one. Discord says "the past
	// few minutes"; default 2 minutes.
	NonceWindow time.Duration
	// Logf, when set, receives a line per request and gateway frame.
	Logf func(format string, args ...any)
}

// Server is a running fake Discord.
type Server struct {
	opts  Options
	spec  *Spec
	ln    net.Listener
	http  *http.Server
	ids   atomic.Int64
	start time.Time

	mu           sync.Mutex
	guilds       map[string]*guild
	guildOrder   []string
	channels     map[string]*Channel
	messages     map[string][]*Message // channel id -> messages in order
	byID         map[string]*Message   // message id -> message
	commands     map[string][]json.RawMessage
	interactions map[string]*interaction // id -> interaction
	byToken      map[string]*interaction
	modals       []Modal
	nonces       map[string]nonceEntry // enforced nonce of a bot post -> its message
	reqMu        sync.Mutex            // guards requests; may be taken under mu
	requests     []Request
	problems     []string
	limits       []*limitRule

	gw gatewayState
}

type nonceEntry struct {
	messageID string
	at        time.Time
}

type guild struct {
	ID, Name string
	Roles    []Role
}

type interaction struct {
	ID, Token, ChannelID string
	Type                 int
	Who                  Member
	Message              *Message // the message of a component interaction
	Modal                *Modal   // the modal this interaction answered with
	Data                 any      // the data of a modal submit
	Created              time.Time
	Acked                bool
	Original             *Message
	Responses            []InteractionResponse
}

type limitRule struct {
	method, template string
	n                int
	after            time.Duration
	global           bool
}

// New starts a fake Discord on a free port of 127.0.0.1.
func New(opts Options) (*Server, error) {
	if opts.AppID == "" {
		opts.AppID = "100000000000000001"
	}
	if opts.BotName == "" {
		opts.BotName = "feedbackbot"
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	if opts.InteractionDeadline <= 0 {
		opts.InteractionDeadline = 3 * time.Second
	}
	if opts.NonceWindow <= 0 {
		opts.NonceWindow = 2 * time.Minute
	}
	s := &Server{
		opts:         opts,
		start:        time.Now(),
		guilds:       make(map[string]*guild),
		channels:     make(map[string]*Channel),
		messages:     make(map[string][]*Message),
		byID:         make(map[string]*Message),
		commands:     make(map[string][]json.RawMessage),
		interactions: make(map[string]*interaction),
		byToken:      make(map[string]*interaction),
		nonces:       make(map[string]nonceEntry),
	}
	s.ids.Store(1_200_000_000_000_000_000)
	s.gw.sessions = make(map[string]*gwSession)
	s.gw.conns = make(map[*gwConn]struct{})
	if opts.SpecPath != "" {
		sp, err := LoadSpec(opts.SpecPath)
		if err != nil {
			return nil, err
		}
		s.spec = sp
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/gateway", s.serveGateway)
	mux.HandleFunc("/gateway/", s.serveGateway)
	mux.HandleFunc("/api/", s.serveREST)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.http.Serve(ln)
	return s, nil
}

// URL is the fake's origin, for DISCORD_API_URL.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// GatewayURL is the websocket URL the gateway discovery returns.
func (s *Server) GatewayURL() string { return "ws://" + s.ln.Addr().String() + "/gateway" }

// AppID is the application and bot user id.
func (s *Server) AppID() string { return s.opts.AppID }

// BotUser is the bot's user.
func (s *Server) BotUser() User {
	return User{ID: s.opts.AppID, Username: s.opts.BotName, Discriminator: "0", Bot: true}
}

// Close stops the server and drops the gateway connections (a bot still
// connected sees a network failure). It returns within a few seconds
// whatever state the bot left its connections in.
func (s *Server) Close() {
	s.mu.Lock()
	s.gw.closed = true
	conns := make([]*gwConn, 0, len(s.gw.conns))
	for c := range s.gw.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.http.Shutdown(ctx)
	s.http.Close()
	// Gateway handlers and writers end once their connection is closed;
	// the wait is bounded all the same.
	done := make(chan struct{})
	go func() { s.gw.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.logf("GW: gateway goroutines still running 5s after Close")
	}
}

// NewID returns a fresh snowflake.
func (s *Server) NewID() string { return strconv.FormatInt(s.ids.Add(1), 10) }

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Server) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.logf("PROBLEM: %s", msg)
	s.problems = append(s.problems, msg)
}

// Problems returns the requests that did not conform to the spec or to
// Discord's documented limits, and protocol errors on the gateway.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

// --- world ------------------------------------------------------------------

// AddGuild creates a guild with roles (the @everyone role, id = guild id,
// is added when missing).
func (s *Server) AddGuild(id, name string, roles ...Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &guild{ID: id, Name: name, Roles: roles}
	hasEveryone := false
	for _, r := range roles {
		if r.ID == id {
			hasEveryone = true
		}
	}
	if !hasEveryone {
		g.Roles = append([]Role{{ID: id, Name: "@everyone", Permissions: "1024"}}, g.Roles...)
	}
	if _, ok := s.guilds[id]; !ok {
		s.guildOrder = append(s.guildOrder, id)
	}
	s.guilds[id] = g
}

// AddChannel creates a channel (or forum, or thread) in its guild. It is
// announced in GUILD_CREATE on the next IDENTIFY, not dispatched.
func (s *Server) AddChannel(ch Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := ch
	s.channels[c.ID] = &c
}

// Channel returns a copy of a channel.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[id]
	if !ok {
		return Channel{}, false
	}
	return *c, true
}

// Messages returns copies of the messages of a channel, oldest first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages[channelID] {
		out = append(out, *m)
	}
	return out
}

// BotMessages returns the messages the bot posted in a channel.
func (s *Server) BotMessages(channelID string) []Message {
	var out []Message
	for _, m := range s.Messages(channelID) {
		if m.Author != nil && m.Author.ID == s.opts.AppID && m.WebhookID == "" {
			out = append(out, m)
		}
	}
	return out
}

// Message returns a copy of a message by id.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Commands returns the application commands registered for guild ("" for
// global ones), as the bot sent them.
func (s *Server) Commands(guildID string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.commands[guildID]...)
}

// Requests returns the REST calls received so far.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return append([]Request(nil), s.requests...)
}

// CountRequests counts the REST calls with this method and template.
func (s *Server) CountRequests(method, template string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Template == template {
			n++
		}
	}
	return n
}

// Responses returns what the bot answered to an interaction.
func (s *Server) Responses(interactionID string) []InteractionResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.interactions[interactionID]
	if !ok {
		return nil
	}
	return append([]InteractionResponse(nil), in.Responses...)
}

// RateLimit makes the next n calls matching method and template (the
// spec's path template, e.g. "/channels/{channel_id}/messages"; "" for
// any) answer 429 with retry_after = after.
func (s *Server) RateLimit(method, template string, n int, after time.Duration, global bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, &limitRule{method: method, template: template, n: n, after: after, global: global})
}

func (s *Server) timestamp() string {
	return time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

var mentionRE = regexp.MustCompile(`<@!?(\d+)>`)

// newMessage stores a message; the caller holds s.mu.
func (s *Server) newMessage(channelID string, author *User, member *Member, content string) *Message {
	m := &Message{
		ID:           s.NewID(),
		ChannelID:    channelID,
		Author:       author,
		Content:      content,
		Timestamp:    s.timestamp(),
		Mentions:     []*User{},
		MentionRoles: []string{},
		Attachments:  []any{},
		Embeds:       []any{},
		Components:   []Component{},
	}
	if ch, ok := s.channels[channelID]; ok {
		m.GuildID = ch.GuildID
	}
	if member != nil {
		mm := *member
		mm.User = nil
		mm.Permissions = ""
		m.Member = &mm
	}
	for _, sm := range mentionRE.FindAllStringSubmatch(content, -1) {
		if sm[1] == s.opts.AppID {
			bu := s.BotUser()
			m.Mentions = append(m.Mentions, &bu)
		} else {
			m.Mentions = append(m.Mentions, &User{ID: sm[1], Username: "user" + sm[1], Discriminator: "0"})
		}
	}
	s.store(m)
	return m
}

func (s *Server) store(m *Message) {
	s.messages[m.ChannelID] = append(s.messages[m.ChannelID], m)
	s.byID[m.ID] = m
}

// wire returns m as dispatched on the gateway (with guild_id and member).
func wire(m *Message) *Message {
	c := *m
	return &c
}

// rest returns m as REST returns it (no guild_id, no member).
func rest(m *Message) *Message {
	c := *m
	c.GuildID = ""
	c.Member = nil
	return &c
}

// --- REST -------------------------------------------------------------------

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		json.NewEncoder(w).Encode(v)
	}
}

var versionRE = regexp.MustCompile(`^/api/v(\d+)(/.*)$`)

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	body, _ := readBody(r)
	path := r.URL.EscapedPath()
	version := ""
	if m := versionRE.FindStringSubmatch(path); m != nil {
		version, path = m[1], m[2]
	} else {
		path = strings.TrimPrefix(path, "/api")
	}
	req := Request{Method: r.Method, Path: path, Version: version, Body: body}
	req.Template, _ = s.match(r.Method, path)
	// Recorded before the answer is written, so that a client which has
	// its answer always finds its request here.
	s.reqMu.Lock()
	i := len(s.requests)
	s.requests = append(s.requests, req)
	s.reqMu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, set: func(code int) {
		s.reqMu.Lock()
		s.requests[i].Status = code
		s.reqMu.Unlock()
	}}
	status := s.route(rec, r, &req)
	s.logf("REST %s %s -> %d %s", r.Method, path, status, truncateLog(body))
}

// statusRecorder notes the status of a response before it is sent.
type statusRecorder struct {
	http.ResponseWriter
	set func(int)
}

func (r *statusRecorder) WriteHeader(code int) {
	r.set(code)
	r.ResponseWriter.WriteHeader(code)
}

func truncateLog(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	defer r.Body.Close()
	var buf strings.Builder
	b := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(b)
		buf.Write(b[:n])
		if err != nil {
			break
		}
	}
	return []byte(buf.String()), nil
}

// match finds the route template for a path, with the spec when loaded.
func (s *Server) match(method, path string) (tmpl string, status int) {
	if s.spec != nil {
		t, ok, methodOK := s.spec.Match(method, path)
		switch {
		case !ok:
			return "", http.StatusNotFound
		case !methodOK:
			return t, http.StatusMethodNotAllowed
		}
		for _, rt := range BuiltinRoutes {
			if rt.Template == t && rt.Method == method {
				return t, 0
			}
		}
		return t, http.StatusNotImplemented
	}
	found := ""
	ts := make([]string, 0, len(BuiltinRoutes))
	for _, rt := range BuiltinRoutes {
		ts = append(ts, rt.Template)
	}
	sortTemplates(ts)
	for _, t := range ts {
		if matchTemplate(t, path) {
			found = t
			break
		}
	}
	if found == "" {
		return "", http.StatusNotFound
	}
	for _, rt := range BuiltinRoutes {
		if rt.Template == found && rt.Method == method {
			return found, 0
		}
	}
	return found, http.StatusMethodNotAllowed
}

// validate checks the body of a matched route; the caller holds no lock.
func (s *Server) validate(method, tmpl string, body []byte) []string {
	if s.spec != nil {
		return s.spec.ValidateBody(tmpl, method, body)
	}
	var req []string
	for _, rt := range BuiltinRoutes {
		if rt.Template == tmpl && rt.Method == method {
			req = rt.Required
		}
	}
	if len(req) == 0 {
		if len(strings.TrimSpace(string(body))) > 0 && !json.Valid(body) {
			return []string{"body is not JSON"}
		}
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{"body is not JSON: " + err.Error()}
	}
	objs := []any{v}
	if arr, ok := v.([]any); ok {
		objs = arr
	}
	var errs []string
	for i, o := range objs {
		m, ok := o.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Sprintf("$[%d]: not an object", i))
			continue
		}
		for _, f := range req {
			if _, ok := m[f]; !ok {
				errs = append(errs, fmt.Sprintf("$[%d]: missing required field %q", i, f))
			}
		}
	}
	return errs
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, req *Request) int {
	tmpl, status := s.match(r.Method, req.Path)
	req.Template = tmpl
	if status != 0 {
		s.mu.Lock()
		s.problem("%s %s: not a known route (HTTP %d)", r.Method, req.Path, status)
		s.mu.Unlock()
		writeJSON(w, status, apiError{Code: 0, Message: http.StatusText(status)})
		return status
	}
	if errs := s.validate(r.Method, tmpl, req.Body); len(errs) > 0 {
		s.mu.Lock()
		s.problem("%s %s: body does not match the spec: %s", r.Method, tmpl, strings.Join(errs, "; "))
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, apiError{Code: 50035, Message: "Invalid Form Body: " + strings.Join(errs, "; ")})
		return http.StatusBadRequest
	}
	webhook := strings.HasPrefix(tmpl, "/webhooks/") || strings.HasPrefix(tmpl, "/interactions/")
	if !webhook && s.opts.Token != "" && r.Header.Get("Authorization") != "Bot "+s.opts.Token {
		writeJSON(w, http.StatusUnauthorized, apiError{Code: 0, Message: "401: Unauthorized"})
		return http.StatusUnauthorized
	}
	if st := s.maybeLimit(w, r.Method, tmpl); st != 0 {
		return st
	}
	params := pathParams(tmpl, req.Path)
	switch r.Method + " " + tmpl {
	case "GET /gateway":
		writeJSON(w, 200, map[string]any{"url": s.GatewayURL()})
	case "GET /gateway/bot":
		writeJSON(w, 200, map[string]any{
			"url": s.GatewayURL(), "shards": 1,
			"session_start_limit": map[string]any{"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
		})
	case "GET /users/@me":
		writeJSON(w, 200, s.BotUser())
	case "PUT /applications/{application_id}/commands", "PUT /applications/{application_id}/guilds/{guild_id}/commands":
		return s.putCommands(w, params, req.Body)
	case "GET /channels/{channel_id}":
		s.mu.Lock()
		ch, ok := s.channels[params["channel_id"]]
		var c Channel
		if ok {
			c = *ch
			c.NewlyCreated = false
		}
		s.mu.Unlock()
		if !ok {
			writeJSON(w, 404, apiError{Code: 10003, Message: "Unknown Channel"})
			return 404
		}
		writeJSON(w, 200, c)
	case "GET /channels/{channel_id}/messages/{message_id}":
		s.mu.Lock()
		m, ok := s.byID[params["message_id"]]
		if ok && m.ChannelID != params["channel_id"] {
			ok = false
		}
		var out *Message
		if ok {
			out = rest(m)
			if t, isThread := s.channels[m.ID]; isThread && t.IsThread() && t.ParentID == m.ChannelID {
				tc := *t
				tc.NewlyCreated = false
				out.Thread = &tc
			}
		}
		s.mu.Unlock()
		if !ok {
			writeJSON(w, 404, apiError{Code: 10008, Message: "Unknown Message"})
			return 404
		}
		writeJSON(w, 200, out)
	case "POST /channels/{channel_id}/messages":
		return s.postMessage(w, params["channel_id"], req.Body)
	case "PATCH /channels/{channel_id}/messages/{message_id}":
		return s.editMessage(w, params["channel_id"], params["message_id"], req.Body)
	case "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me":
		s.mu.Lock()
		m, ok := s.byID[params["message_id"]]
		ok = ok && m.ChannelID == params["channel_id"]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, 404, apiError{Code: 10008, Message: "Unknown Message"})
			return 404
		}
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	case "GET /guilds/{guild_id}/roles":
		s.mu.Lock()
		g, ok := s.guilds[params["guild_id"]]
		var roles []Role
		if ok {
			roles = append(roles, g.Roles...)
		}
		s.mu.Unlock()
		if !ok {
			writeJSON(w, 404, apiError{Code: 10004, Message: "Unknown Guild"})
			return 404
		}
		writeJSON(w, 200, roles)
	case "POST /interactions/{interaction_id}/{interaction_token}/callback":
		return s.callback(w, params["interaction_id"], params["interaction_token"], req.Body)
	case "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original":
		return s.editOriginal(w, params["webhook_id"], params["webhook_token"], req.Body)
	case "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original":
		return s.deleteOriginal(w, params["webhook_token"])
	case "POST /webhooks/{webhook_id}/{webhook_token}":
		return s.followup(w, params["webhook_id"], params["webhook_token"], req.Body)
	default:
		writeJSON(w, http.StatusNotImplemented, apiError{Message: "not implemented by discordtest"})
		return http.StatusNotImplemented
	}
	return 200
}

func pathParams(tmpl, path string) map[string]string {
	out := make(map[string]string)
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	for i := range ts {
		if i < len(ps) && strings.HasPrefix(ts[i], "{") {
			out[strings.Trim(ts[i], "{}")] = ps[i]
		}
	}
	return out
}

func (s *Server) maybeLimit(w http.ResponseWriter, method, tmpl string) int {
	s.mu.Lock()
	var hit *limitRule
	for _, l := range s.limits {
		if l.n > 0 && (l.method == "" || l.method == method) && (l.template == "" || l.template == tmpl) {
			l.n--
			hit = l
			break
		}
	}
	s.mu.Unlock()
	if hit == nil {
		return 0
	}
	secs := hit.after.Seconds()
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(int(secs+0.999)))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(time.Now().Add(hit.after).UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", "fakebucket")
	scope := "user"
	if hit.global {
		h.Set("X-RateLimit-Global", "true")
		scope = "global"
	}
	h.Set("X-RateLimit-Scope", scope)
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message": "You are being rate limited.", "retry_after": secs, "global": hit.global,
	})
	return http.StatusTooManyRequests
}

func (s *Server) putCommands(w http.ResponseWriter, params map[string]string, body []byte) int {
	if params["application_id"] != s.opts.AppID {
		writeJSON(w, 403, apiError{Code: 50001, Message: "Missing Access"})
		return 403
	}
	var cmds []json.RawMessage
	if err := json.Unmarshal(body, &cmds); err != nil {
		writeJSON(w, 400, apiError{Code: 50035, Message: "Invalid Form Body"})
		return 400
	}
	guildID := params["guild_id"]
	s.mu.Lock()
	if guildID != "" {
		if _, ok := s.guilds[guildID]; !ok {
			s.mu.Unlock()
			writeJSON(w, 404, apiError{Code: 10004, Message: "Unknown Guild"})
			return 404
		}
	}
	s.commands[guildID] = cmds
	out := make([]map[string]any, 0, len(cmds))
	for _, c := range cmds {
		var m map[string]any
		json.Unmarshal(c, &m)
		m["id"] = s.NewID()
		m["application_id"] = s.opts.AppID
		m["version"] = s.NewID()
		if guildID != "" {
			m["guild_id"] = guildID
		}
		if _, ok := m["type"]; !ok {
			m["type"] = 1
		}
		out = append(out, m)
	}
	s.mu.Unlock()
	writeJSON(w, 200, out)
	return 200
}

// messageBody is what POST/PATCH message and webhook bodies carry.
type messageBody struct {
	Content          *string           `json:"content"`
	Components       *[]Component      `json:"components"`
	Flags            int               `json:"flags"`
	MessageReference *MessageReference `json:"message_reference"`
	Embeds           []any             `json:"embeds"`
	// Nonce is a string or an integer; EnforceNonce makes it de-duplicate
	// (POST message only).
	Nonce        json.RawMessage `json:"nonce"`
	EnforceNonce *bool           `json:"enforce_nonce"`
}

// nonceString returns the nonce as a string ("" for none or null) and
// whether it is well-formed: an integer, or a string of at most 25
// characters.
func (b messageBody) nonceString() (string, bool) {
	raw := strings.TrimSpace(string(b.Nonce))
	if raw == "" || raw == "null" {
		return "", true
	}
	if strings.HasPrefix(raw, `"`) {
		var s string
		if err := json.Unmarshal(b.Nonce, &s); err != nil {
			return "", false
		}
		return s, len([]rune(s)) <= 25
	}
	if _, err := strconv.ParseInt(raw, 10, 64); err != nil {
		return "", false
	}
	return raw, true
}

// checkLimits applies Discord's documented limits (API reference), which
// are stricter than the spec's (content 2000, not 4000).
func checkLimits(b messageBody, create bool) []string {
	var errs []string
	if b.Content != nil && len([]rune(*b.Content)) > 2000 {
		errs = append(errs, fmt.Sprintf("content: %d characters, at most 2000", len([]rune(*b.Content))))
	}
	if _, ok := b.nonceString(); !ok {
		errs = append(errs, "nonce: an integer or a string of at most 25 characters")
	}
	if create && (b.Content == nil || *b.Content == "") && (b.Components == nil || len(*b.Components) == 0) && len(b.Embeds) == 0 {
		errs = append(errs, "Cannot send an empty message")
	}
	if b.Components != nil {
		rows := *b.Components
		if len(rows) > 5 {
			errs = append(errs, fmt.Sprintf("components: %d action rows, at most 5", len(rows)))
		}
		ids := make(map[string]bool)
		for i, row := range rows {
			if row.Type != 1 {
				errs = append(errs, fmt.Sprintf("components[%d]: type %d, want action row 1", i, row.Type))
			}
			if len(row.Components) == 0 || len(row.Components) > 5 {
				errs = append(errs, fmt.Sprintf("components[%d]: %d buttons, want 1-5", i, len(row.Components)))
			}
			for j, c := range row.Components {
				at := fmt.Sprintf("components[%d].components[%d]", i, j)
				if c.Type != 2 {
					errs = append(errs, at+": not a button")
					continue
				}
				if c.Style == 5 {
					continue
				}
				if n := len(c.CustomID); n < 1 || n > 100 {
					errs = append(errs, fmt.Sprintf("%s: custom_id of %d characters, want 1-100", at, n))
				}
				if ids[c.CustomID] {
					errs = append(errs, at+": duplicate custom_id "+c.CustomID)
				}
				ids[c.CustomID] = true
				if n := len([]rune(c.Label)); n > 80 {
					errs = append(errs, fmt.Sprintf("%s: label of %d characters, at most 80", at, n))
				}
				if c.Style < 1 || c.Style > 4 {
					errs = append(errs, fmt.Sprintf("%s: style %d", at, c.Style))
				}
			}
		}
	}
	return errs
}

func (s *Server) badBody(w http.ResponseWriter, what string, errs []string) int {
	s.mu.Lock()
	s.problem("%s: %s", what, strings.Join(errs, "; "))
	s.mu.Unlock()
	writeJSON(w, 400, apiError{Code: 50035, Message: "Invalid Form Body: " + strings.Join(errs, "; ")})
	return 400
}

func (s *Server) postMessage(w http.ResponseWriter, channelID string, body []byte) int {
	var b messageBody
	if err := json.Unmarshal(body, &b); err != nil {
		return s.badBody(w, "POST message", []string{err.Error()})
	}
	if errs := checkLimits(b, true); len(errs) > 0 {
		return s.badBody(w, "POST message", errs)
	}
	nonce, _ := b.nonceString()
	enforce := nonce != "" && b.EnforceNonce != nil && *b.EnforceNonce
	s.mu.Lock()
	if enforce {
		// Discord: "If another message was created by the same author with
		// the same nonce, that message will be returned and no new message
		// will be created."
		if e, ok := s.nonces[nonce]; ok && time.Since(e.at) < s.opts.NonceWindow {
			if m, ok := s.byID[e.messageID]; ok {
				out := rest(m)
				s.mu.Unlock()
				s.logf("REST: nonce %q repeated: returning message %s", nonce, m.ID)
				writeJSON(w, 200, out)
				return 200
			}
		}
	}
	ch, ok := s.channels[channelID]
	if !ok || ch.Type == ChannelForum {
		s.mu.Unlock()
		if ok {
			writeJSON(w, 400, apiError{Code: 50008, Message: "Cannot send messages in a non-text channel"})
			return 400
		}
		writeJSON(w, 404, apiError{Code: 10003, Message: "Unknown Channel"})
		return 404
	}
	var ref *MessageReference
	if b.MessageReference != nil {
		r := *b.MessageReference
		target, ok := s.byID[r.MessageID]
		if !ok || target.ChannelID != channelID {
			if r.FailIfNotExists == nil || *r.FailIfNotExists {
				s.mu.Unlock()
				writeJSON(w, 400, apiError{Code: 50035, Message: "Invalid Form Body: message_reference: Unknown message"})
				return 400
			}
		} else {
			r.ChannelID, r.GuildID = channelID, ch.GuildID
			r.FailIfNotExists = nil
			ref = &r
		}
	}
	bu := s.BotUser()
	content := ""
	if b.Content != nil {
		content = *b.Content
	}
	m := s.newMessage(channelID, &bu, nil, content)
	m.Mentions = []*User{} // the bot sends allowed_mentions none
	m.MessageReference = ref
	if ref != nil {
		m.Type = 19
	}
	if b.Components != nil {
		m.Components = *b.Components
	}
	m.Nonce = nonce
	if enforce {
		s.nonces[nonce] = nonceEntry{messageID: m.ID, at: time.Now()}
	}
	out := rest(m)
	gwMsg := wire(m)
	s.mu.Unlock()
	s.Dispatch("MESSAGE_CREATE", gwMsg)
	writeJSON(w, 200, out)
	return 200
}

func (s *Server) editMessage(w http.ResponseWriter, channelID, messageID string, body []byte) int {
	var b messageBody
	if err := json.Unmarshal(body, &b); err != nil {
		return s.badBody(w, "PATCH message", []string{err.Error()})
	}
	if errs := checkLimits(b, false); len(errs) > 0 {
		return s.badBody(w, "PATCH message", errs)
	}
	s.mu.Lock()
	m, ok := s.byID[messageID]
	if !ok || m.ChannelID != channelID {
		s.mu.Unlock()
		writeJSON(w, 404, apiError{Code: 10008, Message: "Unknown Message"})
		return 404
	}
	if m.Author == nil || m.Author.ID != s.opts.AppID {
		s.mu.Unlock()
		writeJSON(w, 403, apiError{Code: 50005, Message: "Cannot edit a message authored by another user"})
		return 403
	}
	if b.Content != nil {
		m.Content = *b.Content
	}
	if b.Components != nil {
		m.Components = *b.Components
	}
	ts := s.timestamp()
	m.EditedTimestamp = &ts
	out := rest(m)
	s.mu.Unlock()
	writeJSON(w, 200, out)
	return 200
}

func (s *Server) callback(w http.ResponseWriter, id, token string, body []byte) int {
	var cb struct {
		Type int         `json:"type"`
		Data messageBody `json:"data"`
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		return s.badBody(w, "interaction callback", []string{err.Error()})
	}
	if cb.Type == 9 {
		return s.modalCallback(w, id, token, body)
	}
	if errs := checkLimits(cb.Data, cb.Type == 4); len(errs) > 0 {
		return s.badBody(w, "interaction callback", errs)
	}
	s.mu.Lock()
	in, ok := s.interactions[id]
	if !ok || in.Token != token || time.Since(in.Created) > s.opts.InteractionDeadline {
		if ok {
			s.problem("interaction %s answered after %v (Discord allows %v)", id, time.Since(in.Created).Round(time.Millisecond), s.opts.InteractionDeadline)
		}
		s.mu.Unlock()
		writeJSON(w, 404, apiError{Code: 10062, Message: "Unknown interaction"})
		return 404
	}
	if in.Acked {
		s.problem("interaction %s acknowledged twice", id)
		s.mu.Unlock()
		writeJSON(w, 400, apiError{Code: 40060, Message: "Interaction has already been acknowledged."})
		return 400
	}
	in.Acked = true
	resp := InteractionResponse{Kind: "callback", Type: cb.Type, Flags: cb.Data.Flags, Raw: append(json.RawMessage(nil), body...)}
	if cb.Data.Content != nil {
		resp.Content = *cb.Data.Content
	}
	if cb.Data.Components != nil {
		resp.Components = *cb.Data.Components
	}
	in.Responses = append(in.Responses, resp)
	var dispatch *Message
	switch cb.Type {
	case 4, 5:
		bu := s.BotUser()
		m := &Message{ID: s.NewID(), ChannelID: in.ChannelID, Author: &bu, Content: resp.Content, Timestamp: s.timestamp(),
			Flags: cb.Data.Flags, Type: 20, Components: resp.Components, Mentions: []*User{}, MentionRoles: []string{}, Attachments: []any{}, Embeds: []any{}}
		if cb.Type == 5 {
			m.Flags |= 128 // LOADING
		}
		in.Original = m
		if m.Flags&64 == 0 {
			s.store(m)
			dispatch = wire(m)
		}
	}
	s.mu.Unlock()
	if dispatch != nil {
		s.Dispatch("MESSAGE_CREATE", dispatch)
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

func (s *Server) interactionByToken(appID, token string) (*interaction, error) {
	if appID != s.opts.AppID {
		return nil, errors.New("unknown webhook")
	}
	in, ok := s.byToken[token]
	if !ok {
		return nil, errors.New("unknown webhook")
	}
	return in, nil
}

func (s *Server) editOriginal(w http.ResponseWriter, appID, token string, body []byte) int {
	var b messageBody
	if err := json.Unmarshal(body, &b); err != nil {
		return s.badBody(w, "edit original", []string{err.Error()})
	}
	if errs := checkLimits(b, false); len(errs) > 0 {
		return s.badBody(w, "edit original", errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.interactionByToken(appID, token)
	if err != nil {
		writeJSON(w, 404, apiError{Code: 10015, Message: "Unknown Webhook"})
		return 404
	}
	if in.Original == nil {
		s.problem("interaction %s: original response edited before it exists", in.ID)
		writeJSON(w, 404, apiError{Code: 10008, Message: "Unknown Message"})
		return 404
	}
	resp := InteractionResponse{Kind: "edit", Flags: in.Original.Flags, Raw: append(json.RawMessage(nil), body...)}
	if b.Content != nil {
		in.Original.Content = *b.Content
	}
	if b.Components != nil {
		in.Original.Components = *b.Components
	}
	in.Original.Flags &^= 128
	resp.Content, resp.Components = in.Original.Content, in.Original.Components
	in.Responses = append(in.Responses, resp)
	writeJSON(w, 200, rest(in.Original))
	return 200
}

func (s *Server) deleteOriginal(w http.ResponseWriter, token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.byToken[token]
	if !ok || in.Original == nil {
		writeJSON(w, 404, apiError{Code: 10008, Message: "Unknown Message"})
		return 404
	}
	in.Responses = append(in.Responses, InteractionResponse{Kind: "delete"})
	in.Original = nil
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

func (s *Server) followup(w http.ResponseWriter, appID, token string, body []byte) int {
	var b messageBody
	if err := json.Unmarshal(body, &b); err != nil {
		return s.badBody(w, "follow-up", []string{err.Error()})
	}
	if errs := checkLimits(b, true); len(errs) > 0 {
		return s.badBody(w, "follow-up", errs)
	}
	s.mu.Lock()
	in, err := s.interactionByToken(appID, token)
	if err != nil || !in.Acked {
		if err == nil {
			s.problem("interaction %s: follow-up before the interaction was acknowledged", in.ID)
		}
		s.mu.Unlock()
		writeJSON(w, 404, apiError{Code: 10015, Message: "Unknown Webhook"})
		return 404
	}
	bu := s.BotUser()
	content := ""
	if b.Content != nil {
		content = *b.Content
	}
	m := &Message{ID: s.NewID(), ChannelID: in.ChannelID, Author: &bu, Content: content, Timestamp: s.timestamp(),
		Flags: b.Flags, Type: 20, WebhookID: s.opts.AppID, Mentions: []*User{}, MentionRoles: []string{}, Attachments: []any{}, Embeds: []any{}, Components: []Component{}}
	if b.Components != nil {
		m.Components = *b.Components
	}
	in.Responses = append(in.Responses, InteractionResponse{Kind: "followup", Content: content, Flags: b.Flags, Components: m.Components, Raw: append(json.RawMessage(nil), body...)})
	var dispatch *Message
	if m.Flags&64 == 0 {
		s.store(m)
		dispatch = wire(m)
	}
	out := rest(m)
	s.mu.Unlock()
	if dispatch != nil {
		s.Dispatch("MESSAGE_CREATE", dispatch)
	}
	writeJSON(w, 200, out)
	return 200
}
