package discordfake

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

type gwConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex
}

func (c *gwConn) write(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

func (c *gwConn) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.write(b)
}

func (c *gwConn) close() { c.ws.UnderlyingConn().Close() }

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
	c := &gwConn{ws: ws}
	defer func() {
		s.detach(c)
		ws.Close()
	}()
	s.mu.Lock()
	s.gw.connects++
	s.mu.Unlock()
	hello := map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}, "s": nil, "t": nil}
	if err := c.writeJSON(hello); err != nil {
		return
	}
	for {
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
			c.writeJSON(map[string]any{"op": 11, "d": nil, "s": nil, "t": nil})
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
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "Error while decoding payload."), time.Now().Add(time.Second))
		return false
	}
	if !s.tokenOK(id.Token) {
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."), time.Now().Add(time.Second))
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
		c.writeJSON(map[string]any{"op": 9, "d": false, "s": nil, "t": nil})
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
		if f.seq > from {
			if err := c.write(f.data); err != nil {
				return
			}
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
	if sess.conn != nil {
		if err := sess.conn.write(data); err != nil {
			s.logf("GW: write failed, event kept for RESUME: %v", err)
		}
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
	return s.gw.current.conn.write(data) == nil
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
