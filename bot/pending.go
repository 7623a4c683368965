package bot

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"
)

// This file keeps chat captures through a short database outage. A chat
// platform is acknowledged before its event is handled (Slack and Discord
// want an answer within seconds and redeliver nothing once answered), so a
// capture that meets an unavailable database (EUNAVAILABLE: unreachable,
// timed out, read-only, full) would be lost. Engine.Handle keeps such an
// event in the pending queue instead and answers nothing; the queue tries
// it again with backoff (Config.CaptureRetryBackoff doubling up to ten
// times it) until it is stored or Config.CaptureRetryWindow has passed
// since it arrived. Only then is the person told, once, through the
// platform's Teller (Slack: an ephemeral message; the console prints it).
//
// A retry is exactly once because a chat message is captured at most once
// (the store refuses a second mention of it with ECONFLICT): a retry that
// meets its own earlier attempt (a commit whose answer was lost) finishes
// that capture instead, and posts the card only when the request has none
// in the channel yet (HasCard), so it shows once.
//
// What is kept: watched-channel messages, thread replies, forum posts,
// mentions, capture reactions and votes by reaction, the capture shortcut
// (handled again as events: their handling writes nothing but the capture
// or vote), and the capture of a /feedback command (the capture alone, so a
// card already posted for it is not posted again). The HTTP API is not
// kept: it answers 503 and its clients retry with their Idempotency-Key.
// The queue lives in memory, and in a local file when
// Engine.OpenCaptureSpool opened one (spool.go: a restart then keeps what
// it holds); it holds at most Config.CaptureRetryLimit events; one more is
// refused at once with the database's error, which the adapter shows to
// the person as before.

// Recipient is the person to tell something to later, and where: the
// conversation of the event they caused.
type Recipient struct {
	Platform  string
	Workspace string
	Channel   string
	ThreadID  string // the conversation's root message, "" for the channel
	User      User
}

// Teller is implemented by platforms that can tell one person something
// outside the answer to an event (Slack: an ephemeral message in the
// conversation; the console prints it). The engine uses it for a capture
// given up after a database outage; on a platform without it the engine
// posts in the conversation, naming the person.
type Teller interface {
	Tell(ctx context.Context, to Recipient, text string) error
}

// ReasonKept (EUNAVAILABLE): no IDs — the capture met an unavailable
// database and is kept to be tried again; Engine.Handle answers nothing.
const ReasonKept = "kept"

// pendingCapture is one kept event.
type pendingCapture struct {
	// Event is handled again (nil for a command's capture).
	Event *Event
	// Actor, Message and Via are a command's capture, captured again.
	Actor   Actor
	Message *Message
	Via     string
	To      Recipient
	// Quiet: a channel message not known to be in a watched channel (its
	// settings could not be read) is given up without a word, since most
	// such messages were never to be captured.
	Quiet bool
	Since time.Time
	// Attempts counts the retries; LastErr is the latest error.
	Attempts int
	LastErr  error
	id       int64 // in the spool
}

// pendingQueue holds the kept captures and retries them in arrival order
// in a goroutine of its own, which runs while the queue is not empty (so
// the console, which does not call Engine.Run, retries too).
type pendingQueue struct {
	e      *Engine
	window time.Duration
	first  time.Duration
	most   time.Duration
	limit  int

	mu      sync.Mutex
	items   []*pendingCapture
	convs   map[string]int // kept captures by conversation (convKey)
	running bool
	nextID  int64
	// spool, when open, has the kept captures too (spool.go).
	spool    *os.File
	spoolErr bool
}

// convKey names the conversation of a kept capture: a later event in it
// waits behind it, so that a reply is not handled before its thread's
// root is captured.
func convKey(to Recipient) string {
	return to.Platform + "\x00" + to.Workspace + "\x00" + to.Channel + "\x00" + to.ThreadID
}

// holds reports whether a capture in ev's conversation is kept.
func (q *pendingQueue) holds(ev *Event) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	// Nothing kept (nearly always): no key to build.
	return len(q.convs) > 0 && q.convs[convKey(recipientOf(ev))] > 0
}

func newPendingQueue(e *Engine, cfg Config) *pendingQueue {
	return &pendingQueue{
		e: e, window: cfg.CaptureRetryWindow, first: cfg.CaptureRetryBackoff, most: 10 * cfg.CaptureRetryBackoff,
		limit: cfg.CaptureRetryLimit, convs: map[string]int{},
	}
}

// PendingCaptures is the number of chat captures waiting for the database
// to come back (the gauge feedbackbot_pending_captures).
func (e *Engine) PendingCaptures() int {
	e.pending.mu.Lock()
	defer e.pending.mu.Unlock()
	return len(e.pending.items)
}

// retryKey marks the context of a retry: a capture that meets its own
// earlier attempt finishes it.
type retryKey struct{}

func retrying(ctx context.Context) bool { return ctx.Value(retryKey{}) != nil }

// keepKey carries, in the context of a /feedback command, whom to tell
// when its capture, kept for a retry, is given up.
type keepKey struct{}

func keepFor(ctx context.Context) (Recipient, bool) {
	to, ok := ctx.Value(keepKey{}).(Recipient)
	return to, ok && !retrying(ctx)
}

// recipientOf is the person who caused ev, in its conversation.
func recipientOf(ev *Event) Recipient {
	to := Recipient{Platform: ev.Platform, Workspace: ev.Workspace, Channel: ev.Channel, User: ev.User}
	if ev.Message != nil {
		if to.Channel == "" {
			to.Channel = ev.Message.Channel
		}
		to.ThreadID = ev.Message.Root()
	}
	return to
}

// keepable reports whether an event whose handling met an unavailable
// database is kept and handled again.
func keepable(ev *Event) bool {
	if ev.Message == nil {
		return false
	}
	switch ev.Kind {
	case EventMessage, EventForumPost, EventMention, EventReactionAdded, EventCapture:
		return true
	}
	return false
}

// unavailable reports whether err means the database cannot serve now
// (or did not answer in time).
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return ErrorCode(err) == EUNAVAILABLE && ErrorReason(err) != ReasonKept
}

// keepEvent keeps ev for a retry; false when retries are off or the queue
// is full.
func (q *pendingQueue) keepEvent(ev *Event, cause error) bool {
	cp := *ev
	if ev.Message != nil {
		m := *ev.Message
		cp.Message = &m
	}
	quiet := (ev.Kind == EventMessage || ev.Kind == EventForumPost) && !q.e.knownWatched(ev.Platform, ev.Workspace, ev.Message.Channel)
	return q.add(&pendingCapture{Event: &cp, To: recipientOf(ev), Quiet: quiet, LastErr: cause})
}

// keepCapture keeps a command's capture of m for a retry.
func (q *pendingQueue) keepCapture(a Actor, m *Message, via string, to Recipient, cause error) bool {
	mm := *m
	return q.add(&pendingCapture{Actor: a, Message: &mm, Via: via, To: to, LastErr: cause})
}

func (q *pendingQueue) add(p *pendingCapture) bool {
	if q.window <= 0 {
		return false
	}
	p.Since = time.Now()
	q.mu.Lock()
	if len(q.items) >= q.limit {
		n := len(q.items)
		q.mu.Unlock()
		q.e.log.Warn("database unavailable and the capture retry queue is full: the person is told to try again",
			"pending", n, "platform", p.To.Platform, "channel", p.To.Channel)
		return false
	}
	q.items = append(q.items, p)
	q.convs[convKey(p.To)]++
	q.nextID++
	p.id = q.nextID
	q.spoolWrite(keepRecord(p))
	n := len(q.items)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if n == 1 {
		q.e.log.Warn("database unavailable: keeping chat captures to store them when it is back",
			"window", q.window.String(), "err", p.LastErr)
	}
	if start {
		go q.run()
	}
	return true
}

// run retries until the queue is empty: every attempt is made on the
// oldest capture first; while it fails the wait doubles.
func (q *pendingQueue) run() {
	delay := q.first
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		<-t.C
		if q.drain() {
			delay = q.first
		} else {
			delay = min(2*delay, q.most)
		}
		q.mu.Lock()
		if len(q.items) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		t.Reset(delay)
	}
}

// drain tries the kept captures in order until one meets the database
// still unavailable (false) or none is left (true). Captures older than
// the window are given up when the database is still unavailable.
func (q *pendingQueue) drain() bool {
	stored := 0
	defer func() {
		if stored > 0 {
			q.e.log.Warn("database back: stored kept chat captures", "stored", stored, "pending", q.e.PendingCaptures())
		}
	}()
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			q.mu.Unlock()
			return true
		}
		p := q.items[0]
		q.mu.Unlock()

		err := q.attempt(p)
		if unavailable(err) {
			p.Attempts++
			p.LastErr = err
			q.expire(err)
			return false
		}
		q.remove(p)
		if err == nil {
			stored++
			continue
		}
		// What the person would have been told at once (Engine.Handle
		// logged an internal error).
		q.tell(p, ErrorMessage(err))
	}
}

// attempt handles p once, within the command timeout.
func (q *pendingQueue) attempt(p *pendingCapture) error {
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), retryKey{}, true), q.e.cfg.CommandTimeout)
	defer cancel()
	if p.Event == nil {
		_, err := q.e.capture(ctx, p.Actor, p.Message, p.Via)
		return err
	}
	_, err := q.e.Handle(ctx, p.Event)
	return err
}

// expire gives up the captures kept for longer than the window; cause is
// the database's latest error.
func (q *pendingQueue) expire(cause error) {
	now := time.Now()
	q.mu.Lock()
	var gone []*pendingCapture
	kept := q.items[:0]
	for _, p := range q.items {
		if now.Sub(p.Since) >= q.window {
			gone = append(gone, p)
			q.forget(p)
			q.spoolWrite(spoolRecord{Op: "done", ID: p.id})
		} else {
			kept = append(kept, p)
		}
	}
	clear(q.items[len(kept):])
	q.items = kept
	q.spoolReset()
	q.mu.Unlock()
	for _, p := range gone {
		if p.Quiet {
			q.e.log.Warn("database unavailable for the whole retry window: a channel message that may have been for a watched channel is given up",
				"platform", p.To.Platform, "channel", p.To.Channel, "err", cause)
			continue
		}
		q.e.log.Warn("database unavailable for the whole retry window: a chat capture is given up and the person told",
			"platform", p.To.Platform, "channel", p.To.Channel, "kept_for", now.Sub(p.Since).Round(time.Second).String(), "err", cause)
		q.tell(p, q.e.Text().notSaved(cause))
	}
}

func (q *pendingQueue) remove(p *pendingCapture) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, x := range q.items {
		if x == p {
			q.items = append(q.items[:i], q.items[i+1:]...)
			q.forget(p)
			q.spoolWrite(spoolRecord{Op: "done", ID: p.id})
			q.spoolReset()
			return
		}
	}
}

// forget drops p from the conversation counts (q.mu held).
func (q *pendingQueue) forget(p *pendingCapture) {
	k := convKey(p.To)
	if q.convs[k]--; q.convs[k] <= 0 {
		delete(q.convs, k)
	}
}

// tell says text to the person who caused p.
func (q *pendingQueue) tell(p *pendingCapture, text string) {
	ctx, cancel := context.WithTimeout(context.Background(), q.e.cfg.CommandTimeout)
	defer cancel()
	if err := q.e.tell(ctx, p.To, text); err != nil {
		q.e.log.Warn("tell a person their capture was not saved", "platform", p.To.Platform, "channel", p.To.Channel, "err", err)
	}
}

// tell says text to one person: through the platform's Teller, else in the
// conversation, naming them.
func (e *Engine) tell(ctx context.Context, to Recipient, text string) error {
	p := e.platform(to.Platform)
	if p == nil {
		return errors.New("platform " + to.Platform + " is not connected")
	}
	if t, ok := p.(Teller); ok {
		return t.Tell(ctx, to, text)
	}
	name := to.User.Name
	if name == "" {
		name = to.User.ID
	}
	_, err := e.post(ctx, p, OutMessage{Workspace: to.Workspace, Channel: to.Channel, ThreadID: to.ThreadID, Text: name + ": " + text})
	return err
}
