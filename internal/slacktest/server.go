package slacktest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Options configure a Server. Zero fields get the defaults shown.
type Options struct {
	TeamID     string // "T0FAKE"
	TeamDomain string // "fake"
	BotToken   string // "xoxb-fake"
	AppToken   string // "xapp-fake"
	BotUserID  string // "UBOT"
	BotID      string // "BBOT"
	// Methods is the method table calls are validated against; nil means
	// DefaultMethods. Use LoadSpec to validate against Slack's spec.
	Methods map[string]MethodSpec
	// PingInterval is how often the websocket pings the client (slack-go
	// reconnects when Slack stops pinging); 0 means 5 s.
	PingInterval time.Duration
	// TriggerTTL is how long a trigger_id opens a view; 0 means
	// DefaultTriggerTTL (Slack's 3 s).
	TriggerTTL time.Duration
}

// User is a person the fake knows (users.info).
type User struct {
	ID          string
	Name        string // handle
	DisplayName string
	TeamID      string // "" means the server's team
	// Restricted is a multi-channel guest, UltraRestricted a single-channel
	// guest.
	Restricted      bool
	UltraRestricted bool
	// Email is profile.email (what users:read.email shows); "" for none.
	Email string
}

// Button is a button of a Block Kit actions block.
type Button struct {
	ActionID string
	Value    string
	Text     string
	Style    string
}

// Message is a message in a channel of the fake, posted by a person (through
// NewMessage) or by the bot (chat.postMessage).
type Message struct {
	Channel  string
	TS       string
	ThreadTS string // "" for a top-level message
	User     string
	BotID    string
	Text     string
	Blocks   json.RawMessage
	Buttons  []Button
	// Updates counts chat.update calls on this message.
	Updates int
}

// Ephemeral is a chat.postEphemeral call.
type Ephemeral struct {
	Channel, User, ThreadTS, Text string
	Buttons                       []Button
}

// Response is a message posted to a response_url.
type Response struct {
	URL             string
	Text            string
	ResponseType    string
	ReplaceOriginal bool
	Buttons         []Button
}

// Reaction is a reactions.add call.
type Reaction struct{ Channel, TS, Name string }

// Call is one Web API request the fake received.
type Call struct {
	Method string
	Params url.Values
	At     time.Time
	// Status is the HTTP status answered, Error the Slack error code ("" when ok).
	Status int
	Error  string
}

// Server is a fake Slack. It is safe for concurrent use.
type Server struct {
	opts    Options
	srv     *httptest.Server
	methods map[string]MethodSpec
	start   time.Time

	mu             sync.Mutex
	users          map[string]User
	groups         map[string][]string
	msgs           map[string]*Message // channel + "/" + ts
	sharedChannels map[string]bool     // conversations.info is_ext_shared
	order          []*Message          // every message, in creation order
	posts          []Message           // chat.postMessage results, in order
	updates        []Message           // state after each chat.update
	ephemerals     []Ephemeral
	responses      []Response
	reactions      []Reaction
	calls          []Call
	violations     []string
	rateLimits     map[string]*rateLimit
	failNext       map[string][]string
	chanErrs       map[string]string
	respURLs       map[string]int // response_url id -> uses
	triggers       map[string]*trigger
	views          []*View
	homes          []HomeView
	unfurls        []Unfurl
	tsSeq          int
	idSeq          int

	sock *socketState
}

type rateLimit struct {
	times int
	after time.Duration
	match func(url.Values) bool
}

// New starts a fake Slack on 127.0.0.1. Close it when done.
func New(opts Options) *Server {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&opts.TeamID, "T0FAKE")
	def(&opts.TeamDomain, "fake")
	def(&opts.BotToken, "xoxb-fake")
	def(&opts.AppToken, "xapp-fake")
	def(&opts.BotUserID, "UBOT")
	def(&opts.BotID, "BBOT")
	if opts.PingInterval == 0 {
		opts.PingInterval = 5 * time.Second
	}
	if opts.TriggerTTL == 0 {
		opts.TriggerTTL = DefaultTriggerTTL
	}
	s := &Server{
		opts:       opts,
		methods:    opts.Methods,
		start:      time.Now(),
		users:      map[string]User{},
		groups:     map[string][]string{},
		msgs:       map[string]*Message{},
		rateLimits: map[string]*rateLimit{},
		failNext:   map[string][]string{},
		chanErrs:   map[string]string{},
		respURLs:   map[string]int{},
		triggers:   map[string]*trigger{},
	}
	if s.methods == nil {
		s.methods = DefaultMethods
	}
	s.sock = newSocketState(s)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("POST /response/{id}", s.serveResponseURL)
	mux.HandleFunc("/ws", s.sock.serve)
	s.srv = httptest.NewUnstartedServer(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("slacktest: listen: %v", err))
	}
	s.srv.Listener = ln
	s.srv.Start()
	return s
}

// Close stops the websocket connections and the server.
func (s *Server) Close() {
	s.sock.closeAll()
	s.srv.Close()
}

// URL is the server's base URL (http://127.0.0.1:PORT).
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base URL to configure (SLACK_API_URL), with a
// trailing slash.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// Options returns the server's effective options (tokens, ids).
func (s *Server) Options() Options { return s.opts }

// AddUser makes a user known to users.info.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.TeamID == "" {
		u.TeamID = s.opts.TeamID
	}
	s.users[u.ID] = u
}

// AddUsergroup sets the members of a user group (usergroups.users.list).
func (s *Server) AddUsergroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = slices.Clone(members)
}

// RateLimit makes the next n calls of method answer 429 with Retry-After
// (whole seconds, at least 1).
func (s *Server) RateLimit(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits[method] = &rateLimit{times: n, after: retryAfter}
}

// RateLimitMatching is RateLimit for the calls whose parameters match (for
// example a chat.postMessage with a given thread_ts).
func (s *Server) RateLimitMatching(method string, n int, retryAfter time.Duration, match func(url.Values) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits[method] = &rateLimit{times: n, after: retryAfter, match: match}
}

// FailNext makes the next call of method answer {"ok":false,"error":code}.
func (s *Server) FailNext(method, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[method] = append(s.failNext[method], code)
}

// SetChannelError makes every chat.* call in channel fail with code (for
// example "channel_not_found", "is_archived"); "" clears it.
func (s *Server) SetChannelError(channel, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		delete(s.chanErrs, channel)
		return
	}
	s.chanErrs[channel] = code
}

// NewMessage stores a message by user in channel (in threadTS's thread when
// set) and returns it with its new ts.
func (s *Server) NewMessage(channel, user, text, threadTS string) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{Channel: channel, TS: s.nextTSLocked(), ThreadTS: threadTS, User: user, Text: text}
	s.storeLocked(m)
	return *m
}

// Message returns the current state of a message.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgs[channel+"/"+ts]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Posts returns the messages the bot posted with chat.postMessage, in order,
// as they were posted.
func (s *Server) Posts() []Message { s.mu.Lock(); defer s.mu.Unlock(); return slices.Clone(s.posts) }

// Updates returns each chat.update, in order, with the message as updated.
func (s *Server) Updates() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.updates)
}

// Ephemerals returns the chat.postEphemeral calls.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ephemerals)
}

// Responses returns the messages posted to response_urls.
func (s *Server) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.responses)
}

// Reactions returns the reactions.add calls that succeeded.
func (s *Server) Reactions() []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reactions)
}

// Calls returns every Web API call received.
func (s *Server) Calls() []Call { s.mu.Lock(); defer s.mu.Unlock(); return slices.Clone(s.calls) }

// CallCount returns how many calls of method were received.
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Method == method {
			n++
		}
	}
	return n
}

// Violations returns the calls that broke the method table or Slack's
// limits: unknown methods, missing or unknown parameters, wrong tokens,
// invalid blocks. A correct client leaves it empty.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

func (s *Server) nextTSLocked() string {
	s.tsSeq++
	return fmt.Sprintf("%d.%06d", s.start.Unix()+int64(s.tsSeq/1000000), s.tsSeq%1000000)
}

func (s *Server) nextIDLocked(prefix string) string {
	s.idSeq++
	return fmt.Sprintf("%s%06d", prefix, s.idSeq)
}

func (s *Server) storeLocked(m *Message) {
	s.msgs[m.Channel+"/"+m.TS] = m
	s.order = append(s.order, m)
}

// apiError is a Slack {"ok":false} answer.
type apiError struct {
	code    string
	message string // goes to response_metadata.messages
}

func (s *Server) violate(format string, a ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, a...))
}

// serveAPI validates and answers one Web API call.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	params, token, err := readParams(r)
	call := Call{Method: method, Params: params, At: time.Now(), Status: http.StatusOK}
	var (
		res  map[string]any
		aerr *apiError
	)
	s.mu.Lock()
	defer func() {
		if aerr != nil {
			call.Error = aerr.code
		}
		s.calls = append(s.calls, call)
		s.mu.Unlock()
		if call.Status != http.StatusOK {
			return
		}
		if aerr != nil {
			res = map[string]any{"ok": false, "error": aerr.code}
			if aerr.message != "" {
				res["response_metadata"] = map[string]any{"messages": []string{aerr.message}}
			}
		} else {
			res["ok"] = true
		}
		writeJSON(w, res)
	}()
	if err != nil {
		s.violate("%s: unreadable request: %v", method, err)
		aerr = &apiError{code: "invalid_form_data"}
		return
	}
	spec, known := s.methods[method]
	if !known {
		s.violate("%s: unknown method", method)
		aerr = &apiError{code: "unknown_method"}
		return
	}
	want := s.opts.BotToken
	if method == "apps.connections.open" {
		want = s.opts.AppToken
	}
	if token == "" {
		aerr = &apiError{code: "not_authed"}
		s.violate("%s: no token", method)
		return
	}
	if token != want {
		aerr = &apiError{code: "invalid_auth"}
		return
	}
	for _, p := range spec.Required {
		if params.Get(p) == "" {
			s.violate("%s: missing required parameter %q", method, p)
			aerr = &apiError{code: "invalid_arguments", message: "[ERROR] missing required field: " + p}
			return
		}
	}
	if len(spec.Known) > 0 {
		for p := range params {
			if !slices.Contains(spec.Known, p) {
				s.violate("%s: unknown parameter %q", method, p)
			}
		}
	}
	if rl := s.rateLimits[method]; rl != nil && rl.times > 0 && (rl.match == nil || rl.match(params)) {
		rl.times--
		secs := max(1, int(rl.after.Round(time.Second)/time.Second))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
		call.Status, call.Error = http.StatusTooManyRequests, "ratelimited"
		return
	}
	if q := s.failNext[method]; len(q) > 0 {
		s.failNext[method] = q[1:]
		aerr = &apiError{code: q[0]}
		return
	}
	h, ok := s.handlers()[method]
	if !ok {
		s.violate("%s: known to Slack but not implemented by the fake", method)
		aerr = &apiError{code: "not_implemented_in_fake"}
		return
	}
	res, aerr = h(params)
	if res == nil {
		res = map[string]any{}
	}
}

// readParams returns the call's parameters (query, form or JSON body) and
// its token (form field or bearer header).
func readParams(r *http.Request) (url.Values, string, error) {
	params := url.Values{}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && err.Error() != "EOF" {
			return nil, "", err
		}
		for k, v := range body {
			switch v := v.(type) {
			case string:
				params.Set(k, v)
			default:
				b, _ := json.Marshal(v)
				params.Set(k, string(b))
			}
		}
		for k, v := range r.URL.Query() {
			params[k] = v
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return nil, "", err
		}
		for k, v := range r.Form {
			params[k] = v
		}
	}
	if t := params.Get("token"); t != "" {
		token = t
	}
	params.Del("token")
	return params, token, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

type apiHandler func(p url.Values) (map[string]any, *apiError)

// handlers are the implemented methods; they run with s.mu held.
func (s *Server) handlers() map[string]apiHandler {
	return map[string]apiHandler{
		"auth.test":             s.authTest,
		"apps.connections.open": s.connectionsOpen,
		"chat.postMessage":      s.postMessage,
		"chat.update":           s.update,
		"chat.postEphemeral":    s.postEphemeral,
		"chat.getPermalink":     s.getPermalink,
		"users.info":            s.usersInfo,
		"usergroups.users.list": s.usergroupMembers,
		"conversations.history": s.history,
		"conversations.replies": s.replies,
		"conversations.info":    s.conversationInfo,
		"reactions.add":         s.reactionsAdd,
		"views.open":            s.viewsOpen,
		"views.update":          s.viewsUpdate,
		"views.publish":         s.viewsPublish,
		"chat.unfurl":           s.chatUnfurl,
	}
}

func (s *Server) authTest(url.Values) (map[string]any, *apiError) {
	return map[string]any{
		"url": s.workspaceURL(), "team": "Fake Team", "user": "feedbackbot",
		"team_id": s.opts.TeamID, "user_id": s.opts.BotUserID, "bot_id": s.opts.BotID,
	}, nil
}

func (s *Server) workspaceURL() string { return "https://" + s.opts.TeamDomain + ".slack.com/" }

func (s *Server) connectionsOpen(url.Values) (map[string]any, *apiError) {
	return map[string]any{"url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws"}, nil
}

func (s *Server) postMessage(p url.Values) (map[string]any, *apiError) {
	ch := p.Get("channel")
	if code := s.chanErrs[ch]; code != "" {
		return nil, &apiError{code: code}
	}
	buttons, aerr := s.checkContent(p)
	if aerr != nil {
		return nil, aerr
	}
	m := &Message{
		Channel: ch, TS: s.nextTSLocked(), ThreadTS: p.Get("thread_ts"), User: s.opts.BotUserID, BotID: s.opts.BotID,
		Text: p.Get("text"), Blocks: json.RawMessage(p.Get("blocks")), Buttons: buttons,
	}
	s.storeLocked(m)
	s.posts = append(s.posts, *m)
	return map[string]any{"channel": ch, "ts": m.TS, "message": wireMessage(m)}, nil
}

func (s *Server) update(p url.Values) (map[string]any, *apiError) {
	ch, ts := p.Get("channel"), p.Get("ts")
	if code := s.chanErrs[ch]; code != "" {
		return nil, &apiError{code: code}
	}
	m, ok := s.msgs[ch+"/"+ts]
	if !ok {
		return nil, &apiError{code: "message_not_found"}
	}
	if m.BotID != s.opts.BotID {
		return nil, &apiError{code: "cant_update_message"}
	}
	buttons, aerr := s.checkContent(p)
	if aerr != nil {
		return nil, aerr
	}
	m.Text, m.Blocks, m.Buttons = p.Get("text"), json.RawMessage(p.Get("blocks")), buttons
	m.Updates++
	s.updates = append(s.updates, *m)
	return map[string]any{"channel": ch, "ts": ts, "text": m.Text}, nil
}

func (s *Server) postEphemeral(p url.Values) (map[string]any, *apiError) {
	ch := p.Get("channel")
	if code := s.chanErrs[ch]; code != "" {
		return nil, &apiError{code: code}
	}
	buttons, aerr := s.checkContent(p)
	if aerr != nil {
		return nil, aerr
	}
	s.ephemerals = append(s.ephemerals, Ephemeral{Channel: ch, User: p.Get("user"), ThreadTS: p.Get("thread_ts"), Text: p.Get("text"), Buttons: buttons})
	return map[string]any{"message_ts": s.nextTSLocked()}, nil
}

// Permalink returns the link the fake gives a message.
func (s *Server) Permalink(channel, ts, threadTS string) string {
	link := s.workspaceURL() + "archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
	if threadTS != "" && threadTS != ts {
		link += "?thread_ts=" + threadTS + "&cid=" + channel
	}
	return link
}

func (s *Server) getPermalink(p url.Values) (map[string]any, *apiError) {
	ch, ts := p.Get("channel"), p.Get("message_ts")
	m, ok := s.msgs[ch+"/"+ts]
	if !ok {
		return nil, &apiError{code: "message_not_found"}
	}
	return map[string]any{"channel": ch, "permalink": s.Permalink(ch, ts, m.ThreadTS)}, nil
}

func (s *Server) usersInfo(p url.Values) (map[string]any, *apiError) {
	u, ok := s.users[p.Get("user")]
	if !ok {
		return nil, &apiError{code: "user_not_found"}
	}
	return map[string]any{"user": map[string]any{
		"id": u.ID, "team_id": u.TeamID, "name": u.Name, "real_name": u.DisplayName,
		"is_restricted": u.Restricted, "is_ultra_restricted": u.UltraRestricted,
		"profile": profile(u),
	}}, nil
}

func profile(u User) map[string]any {
	p := map[string]any{"display_name": u.DisplayName, "real_name": u.DisplayName, "team": u.TeamID}
	if u.Email != "" {
		p["email"] = u.Email
	}
	return p
}

// ShareChannel marks a channel as shared with other organisations (Slack
// Connect): conversations.info answers is_ext_shared true.
func (s *Server) ShareChannel(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sharedChannels == nil {
		s.sharedChannels = map[string]bool{}
	}
	s.sharedChannels[channel] = true
}

func (s *Server) conversationInfo(p url.Values) (map[string]any, *apiError) {
	ch := p.Get("channel")
	return map[string]any{"channel": map[string]any{
		"id": ch, "is_channel": true, "is_ext_shared": s.sharedChannels[ch], "is_shared": s.sharedChannels[ch],
	}}, nil
}

func (s *Server) usergroupMembers(p url.Values) (map[string]any, *apiError) {
	members, ok := s.groups[p.Get("usergroup")]
	if !ok {
		return nil, &apiError{code: "no_such_subteam"}
	}
	return map[string]any{"users": members}, nil
}

// inRange applies latest/oldest/inclusive to a ts.
func inRange(ts string, p url.Values) bool {
	incl := p.Get("inclusive") == "1" || p.Get("inclusive") == "true"
	if l := p.Get("latest"); l != "" && (tsLess(l, ts) || (!incl && ts == l)) {
		return false
	}
	if o := p.Get("oldest"); o != "" && (tsLess(ts, o) || (!incl && ts == o)) {
		return false
	}
	return true
}

func tsLess(a, b string) bool {
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	if fa != fb {
		return fa < fb
	}
	return a < b
}

func limitOf(p url.Values, def int) int {
	if n, err := strconv.Atoi(p.Get("limit")); err == nil && n > 0 {
		return n
	}
	return def
}

// history returns the channel's top-level messages, newest first.
func (s *Server) history(p url.Values) (map[string]any, *apiError) {
	ch := p.Get("channel")
	var out []any
	for i := len(s.order) - 1; i >= 0 && len(out) < limitOf(p, 100); i-- {
		m := s.order[i]
		if m.Channel == ch && (m.ThreadTS == "" || m.ThreadTS == m.TS) && inRange(m.TS, p) {
			out = append(out, wireMessage(m))
		}
	}
	return map[string]any{"messages": nonNil(out), "has_more": false}, nil
}

// replies returns a thread: its root first, then the replies within
// latest/oldest, oldest first.
func (s *Server) replies(p url.Values) (map[string]any, *apiError) {
	ch, ts := p.Get("channel"), p.Get("ts")
	m, ok := s.msgs[ch+"/"+ts]
	if !ok {
		return nil, &apiError{code: "thread_not_found"}
	}
	root := m.TS
	if m.ThreadTS != "" {
		root = m.ThreadTS
	}
	var thread []*Message
	for _, x := range s.order {
		if x.Channel == ch && x.TS != root && x.ThreadTS == root && inRange(x.TS, p) {
			thread = append(thread, x)
		}
	}
	sort.SliceStable(thread, func(i, j int) bool { return tsLess(thread[i].TS, thread[j].TS) })
	var out []any
	if r, ok := s.msgs[ch+"/"+root]; ok {
		out = append(out, wireMessage(r))
	}
	for _, x := range thread {
		if len(out) >= limitOf(p, 100) {
			break
		}
		out = append(out, wireMessage(x))
	}
	return map[string]any{"messages": nonNil(out), "has_more": false}, nil
}

func (s *Server) reactionsAdd(p url.Values) (map[string]any, *apiError) {
	r := Reaction{Channel: p.Get("channel"), TS: p.Get("timestamp"), Name: p.Get("name")}
	if _, ok := s.msgs[r.Channel+"/"+r.TS]; !ok {
		return nil, &apiError{code: "message_not_found"}
	}
	if slices.Contains(s.reactions, r) {
		return nil, &apiError{code: "already_reacted"}
	}
	s.reactions = append(s.reactions, r)
	return map[string]any{}, nil
}

func nonNil(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

// wireMessage is a message as the Web API returns it.
func wireMessage(m *Message) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
	if m.User != "" {
		out["user"] = m.User
	}
	if m.BotID != "" {
		out["bot_id"] = m.BotID
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	return out
}

// Limits Slack enforces on message content (chat.postMessage and Block Kit
// references).
const (
	MaxText        = 40000
	MaxBlocks      = 50
	MaxSectionText = 3000
	MaxActions     = 25
	MaxButtonText  = 75
	MaxActionID    = 255
)

// checkContent validates text and blocks against Slack's limits and returns
// the buttons. Slack answers invalid_blocks / msg_too_long / no_text.
func (s *Server) checkContent(p url.Values) ([]Button, *apiError) {
	text, raw := p.Get("text"), p.Get("blocks")
	if utf8.RuneCountInString(text) > MaxText {
		s.violate("text of %d characters", utf8.RuneCountInString(text))
		return nil, &apiError{code: "msg_too_long"}
	}
	if raw == "" {
		if strings.TrimSpace(text) == "" {
			return nil, &apiError{code: "no_text"}
		}
		return nil, nil
	}
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Text    *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Style    string `json:"style"`
			Text     struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	bad := func(format string, a ...any) ([]Button, *apiError) {
		msg := fmt.Sprintf(format, a...)
		s.violate("invalid blocks: %s", msg)
		return nil, &apiError{code: "invalid_blocks", message: "[ERROR] " + msg}
	}
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return bad("not a JSON array of blocks: %v", err)
	}
	if len(blocks) > MaxBlocks {
		return bad("%d blocks (max %d)", len(blocks), MaxBlocks)
	}
	var buttons []Button
	ids := map[string]bool{}
	for i, b := range blocks {
		if b.BlockID != "" {
			if ids["block:"+b.BlockID] {
				return bad("duplicate block_id %q", b.BlockID)
			}
			ids["block:"+b.BlockID] = true
		}
		switch b.Type {
		case "section":
			if b.Text == nil || strings.TrimSpace(b.Text.Text) == "" {
				return bad("block %d: section without text", i)
			}
			if n := utf8.RuneCountInString(b.Text.Text); n > MaxSectionText {
				return bad("block %d: section text of %d characters (max %d)", i, n, MaxSectionText)
			}
		case "actions":
			if len(b.Elements) == 0 || len(b.Elements) > MaxActions {
				return bad("block %d: %d elements (1..%d)", i, len(b.Elements), MaxActions)
			}
			for _, e := range b.Elements {
				if e.Type != "button" {
					continue
				}
				if e.ActionID == "" || len(e.ActionID) > MaxActionID || ids[e.ActionID] {
					return bad("block %d: bad or duplicate action_id %q", i, e.ActionID)
				}
				ids[e.ActionID] = true
				if n := utf8.RuneCountInString(e.Text.Text); n == 0 || n > MaxButtonText {
					return bad("block %d: button text of %d characters (1..%d)", i, n, MaxButtonText)
				}
				buttons = append(buttons, Button{ActionID: e.ActionID, Value: e.Value, Text: e.Text.Text, Style: e.Style})
			}
		}
	}
	return buttons, nil
}

// serveResponseURL receives a message posted to a response_url made by the
// fake (see NewResponseURL). A response_url works 5 times.
func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var body struct {
		Text            string          `json:"text"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	err := json.NewDecoder(r.Body).Decode(&body)
	s.mu.Lock()
	defer s.mu.Unlock()
	uses, ok := s.respURLs[id]
	switch {
	case !ok:
		s.violate("response_url %s: unknown", id)
		http.Error(w, "no_such_url", http.StatusNotFound)
		return
	case uses >= 5:
		s.violate("response_url %s: used more than 5 times", id)
		http.Error(w, "used_url", http.StatusNotFound)
		return
	case err != nil:
		s.violate("response_url %s: bad JSON: %v", id, err)
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.respURLs[id] = uses + 1
	p := url.Values{"text": {body.Text}}
	if len(body.Blocks) > 0 && string(body.Blocks) != "null" {
		p.Set("blocks", string(body.Blocks))
	}
	buttons, aerr := s.checkContent(p)
	if aerr != nil {
		writeJSON(w, map[string]any{"ok": false, "error": aerr.code})
		return
	}
	s.responses = append(s.responses, Response{URL: s.srv.URL + "/response/" + id, Text: body.Text, ResponseType: body.ResponseType, ReplaceOriginal: body.ReplaceOriginal, Buttons: buttons})
	writeJSON(w, map[string]any{"ok": true})
}

// NewResponseURL returns a fresh response_url served by the fake.
func (s *Server) NewResponseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newResponseURLLocked()
}

func (s *Server) newResponseURLLocked() string {
	id := s.nextIDLocked("R")
	s.respURLs[id] = 0
	return s.srv.URL + "/response/" + id
}

// ForgetViolations drops the recorded violations that start with one of
// prefixes (a test that provokes them on purpose).
func (s *Server) ForgetViolations(prefixes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = slices.DeleteFunc(s.violations, func(v string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(v, p) {
				return true
			}
		}
		return false
	})
}
