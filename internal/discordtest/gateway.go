package discordtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// maxLog bounds the events a session keeps for RESUME.
const maxLog = 100_000

type gatewayState struct {
	sessions   map[string]*gwSession
	current    *gwSession
	conns      map[*gwConn]struct{} // open connections, identified or not
	wg         sync.WaitGroup       // connection writers
	closed     bool
	identifies int
	resumes    int
	heartbeats int
	connects   int
	lastIdent  json.RawMessage
	overlap    int
}

type gwSession struct {
	id   string
	seq  int64
	log  []gwFrame
	conn *gwConn
}

type gwFrame struct {
	seq  int64
	data []byte
}

// Gateway timeouts. No fake goroutine waits on the bot without one.
const (
	// gwWriteTimeout bounds one frame write; a bot that does not read for
	// that long loses its connection (its events wait in the session log).
	gwWriteTimeout = 2 * time.Second
	// gwMaxQueue is the most frames queued for one connection; a bot that
	// falls further behind loses its connection.
	gwMaxQueue = maxLog + 1000
)

// gwConn is one gateway connection. Frames are queued under the server's
// lock (never blocking) and written by the connection's own writer
// goroutine, so the lock is never held across network I/O: a bot that
// stops reading, or a connection that drops half-way through a write, can
// delay only its own connection.
type gwConn struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	q    [][]byte
	wake chan struct{} // 1-buffered: frames were queued
	done chan struct{} // closed by close
	once sync.Once
}

func newGWConn(ws *websocket.Conn) *gwConn {
	return &gwConn{ws: ws, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// send queues a text frame; false when the connection is closed (or was
// closed now because the bot is too far behind).
func (c *gwConn) send(data []byte) bool {
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		return false
	default:
	}
	if len(c.q) >= gwMaxQueue {
		c.mu.Unlock()
		c.close()
		return false
	}
	c.q = append(c.q, data)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

func (c *gwConn) sendJSON(v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	return c.send(b)
}

// writeLoop writes the queued frames in order until the connection closes.
// A failed or timed-out write closes the connection, as a network failure
// would: the bot sees it and resumes.
func (c *gwConn) writeLoop() {
	defer c.close()
	for {
		c.mu.Lock()
		q := c.q
		c.q = nil
		c.mu.Unlock()
		for _, data := range q {
			select {
			case <-c.done:
				return
			default:
			}
			c.ws.SetWriteDeadline(time.Now().Add(gwWriteTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
				return
			}
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-c.done:
			return
		case <-c.wake:
		}
	}
}

// closeWith sends a close frame (written directly, with a deadline), then
// closes the connection.
func (c *gwConn) closeWith(code int, text string) {
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.close()
}

// close drops the connection without a close frame. It never blocks.
func (c *gwConn) close() {
	c.once.Do(func() {
		close(c.done)
		c.ws.UnderlyingConn().Close()
	})
}

type frame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s"`
	T  *string         `json:"t"`
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := newGWConn(ws)
	s.mu.Lock()
	if s.gw.closed {
		s.mu.Unlock()
		c.close()
		return
	}
	s.gw.connects++
	s.gw.conns[c] = struct{}{}
	s.gw.wg.Add(2) // this handler and the connection's writer
	s.mu.Unlock()
	go func() {
		defer s.gw.wg.Done()
		c.writeLoop()
	}()
	defer func() {
		c.close()
		s.mu.Lock()
		delete(s.gw.conns, c)
		s.mu.Unlock()
		s.detach(c)
		s.gw.wg.Done()
	}()
	hello := map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}, "s": nil, "t": nil}
	if !c.sendJSON(hello) {
		return
	}
	// Discord drops a connection that stops sending heartbeats; the read
	// deadline also ends this handler if the bot vanishes without closing.
	idle := 2*s.opts.HeartbeatInterval + 5*time.Second
	for {
		ws.SetReadDeadline(time.Now().Add(idle))
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			s.mu.Lock()
			s.problem("gateway: client sent invalid JSON: %v", err)
			s.mu.Unlock()
			continue
		}
		s.logf("GW <- op %d %s", f.Op, truncateLog(f.D))
		switch f.Op {
		case 1:
			s.mu.Lock()
			s.gw.heartbeats++
			s.mu.Unlock()
			c.sendJSON(map[string]any{"op": 11, "d": nil, "s": nil, "t": nil})
		case 2:
			if !s.identify(c, f.D) {
				return
			}
		case 6:
			s.resume(c, f.D)
		default:
			s.logf("GW: ignoring op %d", f.Op)
		}
	}
}

func (s *Server) detach(c *gwConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.gw.sessions {
		if sess.conn == c {
			sess.conn = nil
		}
	}
}

func (s *Server) tokenOK(tok string) bool {
	return s.opts.Token == "" || tok == "Bot "+s.opts.Token || tok == s.opts.Token
}

func (s *Server) identify(c *gwConn, d json.RawMessage) bool {
	var id struct {
		Token   string `json:"token"`
		Intents *int   `json:"intents"`
		Shard   []int  `json:"shard"`
	}
	if err := json.Unmarshal(d, &id); err != nil || id.Intents == nil {
		s.mu.Lock()
		s.problem("gateway: IDENTIFY without intents or malformed: %s", d)
		s.mu.Unlock()
		c.closeWith(4002, "Error while decoding payload.")
		return false
	}
	if !s.tokenOK(id.Token) {
		c.closeWith(4004, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.identifies++
	s.gw.lastIdent = append(json.RawMessage(nil), d...)
	if cur := s.gw.current; cur != nil && cur.conn != nil && cur.conn != c {
		cur.conn.close()
		cur.conn = nil
	}
	sess := &gwSession{id: "session" + s.NewID(), conn: c}
	s.gw.sessions[sess.id] = sess
	s.gw.current = sess
	guilds := make([]map[string]any, 0, len(s.guildOrder))
	for _, g := range s.guildOrder {
		guilds = append(guilds, map[string]any{"id": g, "unavailable": true})
	}
	ready := map[string]any{
		"v":                  10,
		"user":               s.BotUser(),
		"guilds":             guilds,
		"session_id":         sess.id,
		"resume_gateway_url": s.GatewayURL(),
		"application":        map[string]any{"id": s.opts.AppID, "flags": 0},
		"private_channels":   []any{},
	}
	if len(id.Shard) == 2 {
		ready["shard"] = id.Shard
	}
	s.dispatchLocked(sess, "READY", ready)
	for _, gid := range s.guildOrder {
		s.dispatchLocked(sess, "GUILD_CREATE", s.guildCreateLocked(gid))
	}
	return true
}

func (s *Server) guildCreateLocked(gid string) map[string]any {
	g := s.guilds[gid]
	channels, threads := []Channel{}, []Channel{}
	for _, ch := range s.channels {
		if ch.GuildID != gid {
			continue
		}
		c := *ch
		c.NewlyCreated = false
		if c.IsThread() {
			if c.ThreadMetadata == nil || !c.ThreadMetadata.Archived {
				threads = append(threads, c)
			}
		} else {
			channels = append(channels, c)
		}
	}
	return map[string]any{
		"id": g.ID, "name": g.Name, "owner_id": "1", "unavailable": false, "member_count": 1,
		"roles": g.Roles, "channels": channels, "threads": threads, "members": []any{},
		"emojis": []any{}, "stickers": []any{}, "features": []any{}, "joined_at": s.timestamp(),
	}
}

func (s *Server) resume(c *gwConn, d json.RawMessage) {
	var rs struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	json.Unmarshal(d, &rs)
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.gw.sessions[rs.SessionID]
	if !ok || !s.tokenOK(rs.Token) {
		s.logf("GW: RESUME of unknown session %q: invalid session", rs.SessionID)
		c.sendJSON(map[string]any{"op": 9, "d": false, "s": nil, "t": nil})
		return
	}
	s.gw.resumes++
	if sess.conn != nil && sess.conn != c {
		sess.conn.close()
	}
	sess.conn = c
	s.gw.current = sess
	from := rs.Seq - int64(s.gw.overlap)
	for _, f := range sess.log {
		if f.seq > from && !c.send(f.data) {
			return
		}
	}
	s.dispatchLocked(sess, "RESUMED", map[string]any{})
}

// dispatchLocked sends an event with the session's next sequence number;
// the caller holds s.mu. When the bot is not connected the event waits in
// the session log for a RESUME.
func (s *Server) dispatchLocked(sess *gwSession, t string, d any) int64 {
	data, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return s.dispatchRawLocked(sess, t, data)
}

func (s *Server) dispatchRawLocked(sess *gwSession, t string, d json.RawMessage) int64 {
	sess.seq++
	seq := sess.seq
	f := frame{Op: 0, D: d, S: &seq, T: &t}
	data, _ := json.Marshal(f)
	if t != "READY" && t != "RESUMED" {
		sess.log = append(sess.log, gwFrame{seq: seq, data: data})
		if len(sess.log) > maxLog {
			sess.log = sess.log[len(sess.log)-maxLog:]
		}
	}
	s.logf("GW -> %s s=%d %s", t, seq, truncateLog(d))
	if sess.conn != nil && !sess.conn.send(data) {
		s.logf("GW: connection closed, event kept for RESUME")
	}
	return seq
}

// Dispatch sends a gateway event (op 0) with the next sequence number and
// returns it, or 0 when no bot has identified yet.
func (s *Server) Dispatch(t string, d any) int64 {
	data, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return s.DispatchRaw(t, data)
}

// DispatchRaw sends a gateway event whose data is raw JSON, possibly
// malformed on purpose.
func (s *Server) DispatchRaw(t string, d json.RawMessage) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.gw.current
	if sess == nil {
		s.logf("GW: no session, dropping %s", t)
		return 0
	}
	return s.dispatchRawLocked(sess, t, d)
}

// SendFrame writes a raw websocket text frame to the connected bot (for
// malformed frames); it reports whether a bot was connected.
func (s *Server) SendFrame(data []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gw.current == nil || s.gw.current.conn == nil {
		return false
	}
	return s.gw.current.conn.send(data)
}

// ForceReconnect sends op 7 RECONNECT: the bot should close and RESUME.
func (s *Server) ForceReconnect() bool {
	return s.SendFrame([]byte(`{"op":7,"d":null,"s":null,"t":null}`))
}

// DropConnection closes the bot's socket without a close frame, as a
// network failure would. Events dispatched until the bot resumes wait in
// the session log.
func (s *Server) DropConnection() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gw.current == nil || s.gw.current.conn == nil {
		return false
	}
	s.gw.current.conn.close()
	s.gw.current.conn = nil
	return true
}

// SetResumeOverlap makes RESUME replay n events the bot had already
// received, as Discord may, to test de-duplication.
func (s *Server) SetResumeOverlap(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gw.overlap = n
}

// GatewayStats reports gateway activity.
type GatewayStats struct {
	Connects, Identifies, Resumes, Heartbeats int
	Connected                                 bool
	Seq                                       int64
	// Identify is the last IDENTIFY payload.
	Identify json.RawMessage
}

// Gateway returns the gateway's counters.
func (s *Server) Gateway() GatewayStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := GatewayStats{
		Connects: s.gw.connects, Identifies: s.gw.identifies, Resumes: s.gw.resumes, Heartbeats: s.gw.heartbeats,
		Identify: append(json.RawMessage(nil), s.gw.lastIdent...),
	}
	if cur := s.gw.current; cur != nil {
		st.Connected = cur.conn != nil
		st.Seq = cur.seq
	}
	return st
}

// IdentifyToken returns the token of the last IDENTIFY, for tests that
// check the "Bot " prefix.
func (s *Server) IdentifyToken() string {
	var id struct {
		Token string `json:"token"`
	}
	json.Unmarshal(s.Gateway().Identify, &id)
	return strings.TrimSpace(id.Token)
}
