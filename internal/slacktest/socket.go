package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode envelope types.
const (
	EnvelopeEventsAPI   = "events_api"
	EnvelopeSlashCmd    = "slash_commands"
	EnvelopeInteractive = "interactive"
)

type envelope struct {
	ID      string
	Type    string
	Payload json.RawMessage
	Retry   int
}

// socketState is the fake's Socket Mode side: one live connection at a time
// (the newest), envelopes queued while none is live, envelopes not acked
// before a connection ends redelivered on the next one (as Slack does).
type socketState struct {
	s        *Server
	upgrader websocket.Upgrader

	mu       sync.Mutex
	cond     *sync.Cond
	conns    []*wsConn
	live     *wsConn
	pending  []envelope          // not sent yet
	inflight map[string]envelope // sent, not acked
	acks     []string
	ackBody  map[string]json.RawMessage // envelope id -> ack payload, when the ack carried one
	seq      int
	opened   int
	closed   bool
}

type wsConn struct {
	ws   *websocket.Conn
	out  chan []byte
	done chan struct{}
	once sync.Once
}

func (c *wsConn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

func newSocketState(s *Server) *socketState {
	st := &socketState{s: s, inflight: map[string]envelope{}, ackBody: map[string]json.RawMessage{}}
	st.upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	st.cond = sync.NewCond(&st.mu)
	return st
}

func (st *socketState) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := st.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{ws: ws, out: make(chan []byte, 256), done: make(chan struct{})}
	go st.writeLoop(c)
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		c.close()
		return
	}
	if st.live != nil {
		st.live.close()
	}
	st.conns = append(st.conns, c)
	st.live = c
	st.opened++
	hello, _ := json.Marshal(map[string]any{
		"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "slacktest", "approximate_connection_time": 3600},
		"connection_info": map[string]any{"app_id": "A0FAKE"},
	})
	c.out <- hello
	// Redeliver what was never acked, then what was queued.
	var again []envelope
	for _, e := range st.inflight {
		e.Retry++
		again = append(again, e)
	}
	slices.SortFunc(again, func(a, b envelope) int { return compareIDs(a.ID, b.ID) })
	for _, e := range append(again, st.pending...) {
		st.sendLocked(c, e)
	}
	st.pending = nil
	st.cond.Broadcast()
	st.mu.Unlock()

	st.readLoop(c)
}

func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (st *socketState) writeLoop(c *wsConn) {
	t := time.NewTicker(st.s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.close()
				return
			}
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second)); err != nil {
				c.close()
				return
			}
		}
	}
}

func (st *socketState) readLoop(c *wsConn) {
	defer func() {
		c.close()
		st.mu.Lock()
		if st.live == c {
			st.live = nil
		}
		st.cond.Broadcast()
		st.mu.Unlock()
	}()
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(b, &ack) != nil || ack.EnvelopeID == "" {
			st.s.mu.Lock()
			st.s.violate("socket mode: unexpected frame %s", b)
			st.s.mu.Unlock()
			continue
		}
		st.mu.Lock()
		if _, ok := st.inflight[ack.EnvelopeID]; !ok && !slices.Contains(st.acks, ack.EnvelopeID) {
			st.s.mu.Lock()
			st.s.violate("socket mode: ack for unknown envelope %s", ack.EnvelopeID)
			st.s.mu.Unlock()
		}
		if e, ok := st.inflight[ack.EnvelopeID]; ok && len(ack.Payload) > 0 && string(ack.Payload) != "null" {
			if e.Type == EnvelopeEventsAPI {
				st.s.mu.Lock()
				st.s.violate("socket mode: ack of events_api envelope %s with a payload", ack.EnvelopeID)
				st.s.mu.Unlock()
			}
			st.ackBody[ack.EnvelopeID] = ack.Payload
		}
		delete(st.inflight, ack.EnvelopeID)
		st.acks = append(st.acks, ack.EnvelopeID)
		st.cond.Broadcast()
		st.mu.Unlock()
	}
}

func (st *socketState) sendLocked(c *wsConn, e envelope) {
	b, _ := json.Marshal(map[string]any{
		"envelope_id": e.ID, "type": e.Type, "payload": e.Payload,
		"accepts_response_payload": e.Type != EnvelopeEventsAPI, "retry_attempt": e.Retry, "retry_reason": retryReason(e.Retry),
	})
	st.inflight[e.ID] = e
	select {
	case c.out <- b:
	case <-c.done:
	}
}

func retryReason(n int) string {
	if n == 0 {
		return ""
	}
	return "timeout"
}

func (st *socketState) closeAll() {
	st.mu.Lock()
	st.closed = true
	conns := slices.Clone(st.conns)
	st.live = nil
	st.cond.Broadcast()
	st.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Send queues a Socket Mode envelope of the given type (EnvelopeEventsAPI,
// EnvelopeSlashCmd, EnvelopeInteractive) with payload and returns its
// envelope id. It is written at once on the live connection, or on the next
// one.
func (s *Server) Send(typ string, payload []byte) string {
	st := s.sock
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq++
	e := envelope{ID: fmt.Sprintf("env-%06d", st.seq), Type: typ, Payload: json.RawMessage(payload)}
	if st.live != nil {
		st.sendLocked(st.live, e)
	} else {
		st.pending = append(st.pending, e)
	}
	return e.ID
}

// Disconnect sends a disconnect frame ("warning", "refresh_requested", …)
// on the live connection and stops using it: later envelopes wait for the
// client's next connection, and envelopes it did not ack are redelivered
// there.
func (s *Server) Disconnect(reason string) {
	st := s.sock
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.live
	if c == nil {
		return
	}
	st.live = nil
	b, _ := json.Marshal(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "slacktest"}})
	select {
	case c.out <- b:
	case <-c.done:
	}
	// Slack closes the old socket a little later.
	time.AfterFunc(2*time.Second, c.close)
}

// Acks returns the envelope ids acked so far, in order.
func (s *Server) Acks() []string {
	s.sock.mu.Lock()
	defer s.sock.mu.Unlock()
	return slices.Clone(s.sock.acks)
}

// Connections returns how many Socket Mode connections were opened.
func (s *Server) Connections() int {
	s.sock.mu.Lock()
	defer s.sock.mu.Unlock()
	return s.sock.opened
}

// WaitAck waits until envelope id is acked or ctx ends.
func (s *Server) WaitAck(ctx context.Context, id string) error {
	return s.waitSocket(ctx, func() bool { return slices.Contains(s.sock.acks, id) })
}

// WaitConnections waits until n connections were opened and one is live.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.waitSocket(ctx, func() bool { return s.sock.opened >= n && s.sock.live != nil })
}

func (s *Server) waitSocket(ctx context.Context, cond func() bool) error {
	st := s.sock
	stop := context.AfterFunc(ctx, func() {
		st.mu.Lock()
		st.cond.Broadcast()
		st.mu.Unlock()
	})
	defer stop()
	st.mu.Lock()
	defer st.mu.Unlock()
	for !cond() {
		if err := ctx.Err(); err != nil {
			return err
		}
		st.cond.Wait()
	}
	return nil
}

// AckPayload returns the payload the bot sent with its ack of envelope id
// (a view_submission's response_action, for example).
func (s *Server) AckPayload(id string) (json.RawMessage, bool) {
	s.sock.mu.Lock()
	defer s.sock.mu.Unlock()
	b, ok := s.sock.ackBody[id]
	return b, ok
}
