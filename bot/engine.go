package bot

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Config holds the engine's settings. Zero values take the defaults of
// DefaultConfig.
type Config struct {
	KeyPrefix    string // "FB"
	CaptureEmoji string // "bulb"
	VoteEmoji    string // "+1"
	// SuggestThreshold is the lowest score shown as a duplicate candidate.
	// Its default is the duplicate index's calibrated threshold
	// (dedup.DefaultSuggestThreshold; bot cannot import dedup, so the value
	// is repeated here; a test in bot/dedup keeps them equal).
	SuggestThreshold float64
	// RegressionReports is how many distinct people reporting problems in
	// a shipped request's threads within 7 days raise a regression alert.
	RegressionReports int
	// AutoMergeThreshold merges new feedback into its best candidate
	// directly when the score reaches it; 0 turns auto-merge off.
	AutoMergeThreshold float64
	// MaxSuggestions is the number of candidates shown (at most 3).
	MaxSuggestions int
	// CommandTimeout bounds each handled event.
	CommandTimeout time.Duration
	// Worker names this process in delivery leases.
	Worker string
	// DeliveryLease is how long a claimed delivery stays leased without
	// renewal; the worker renews its leases every third of it, so it only
	// bounds how long the deliveries of a crashed replica wait.
	DeliveryLease time.Duration
	// DeliveryHeartbeat is how often a running worker (Outbox.Run) tells
	// the store it is alive; one that missed three is taken for dead and
	// its leases are taken over at once. 0: a tenth of DeliveryLease,
	// between 100 ms and 3 s.
	DeliveryHeartbeat time.Duration
	// DeliveryGiveUp is how long after enqueueing a failing delivery is
	// retried before it is marked failed.
	DeliveryGiveUp time.Duration
	// DeliveryPoll is how often the worker looks for due deliveries; it
	// claims those due within two polls and waits for their time.
	DeliveryPoll time.Duration
	// DeliveryMaxInFlight caps the deliveries one worker holds (claimed,
	// not yet settled).
	DeliveryMaxInFlight int
	// DeliveryRate caps posts per second to each platform (0: the
	// platform's Throttle, or no cap).
	DeliveryRate float64
	// IndexPoll is how often the duplicate index picks up changes made by
	// other replicas; 0 turns it off.
	IndexPoll time.Duration
	// CardSettle is how long a change waits before its cards are edited,
	// so that a burst of changes makes one edit per card; CardPoll is how
	// often the card worker looks.
	CardSettle time.Duration
	CardPoll   time.Duration
	// NotifyStatuses are the statuses whose changes (by SetStatus) are
	// announced in every subscribed thread, through the delivery queue.
	// Nil takes the default (planned, in_progress); an empty, non-nil slice
	// turns notices off.
	NotifyStatuses []Status
	// DigestPoll is how often Engine.Run looks for due digests; 0 turns
	// the scheduler off (RunDigests still posts when called).
	DigestPoll time.Duration
	// CaptureRetryWindow is how long a chat capture that met an
	// unavailable database is kept and tried again before the person is
	// told it was not saved (pending.go); negative turns keeping off (the
	// person is told at once). CaptureRetryBackoff is the first wait
	// between attempts, doubled after each failure up to ten times it;
	// CaptureRetryLimit bounds the captures kept (one more is refused at
	// once).
	CaptureRetryWindow  time.Duration
	CaptureRetryBackoff time.Duration
	CaptureRetryLimit   int
}

// DefaultConfig returns the engine defaults.
func DefaultConfig() Config {
	return Config{
		KeyPrefix:           "FB",
		CaptureEmoji:        "bulb",
		VoteEmoji:           "+1",
		SuggestThreshold:    0.20, // = dedup.DefaultSuggestThreshold
		RegressionReports:   2,
		AutoMergeThreshold:  0,
		MaxSuggestions:      3,
		CommandTimeout:      30 * time.Second,
		Worker:              "worker",
		DeliveryLease:       30 * time.Second,
		DeliveryGiveUp:      30 * time.Minute,
		DeliveryPoll:        500 * time.Millisecond,
		DeliveryMaxInFlight: 1000,
		IndexPoll:           3 * time.Second,
		CardSettle:          time.Second,
		NotifyStatuses:      []Status{StatusPlanned, StatusInProgress},
		CardPoll:            500 * time.Millisecond,
		DigestPoll:          30 * time.Second,
		CaptureRetryWindow:  2 * time.Minute,
		CaptureRetryBackoff: time.Second,
		CaptureRetryLimit:   10000,
	}
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.KeyPrefix == "" {
		c.KeyPrefix = d.KeyPrefix
	}
	if c.CaptureEmoji == "" {
		c.CaptureEmoji = d.CaptureEmoji
	}
	if c.VoteEmoji == "" {
		c.VoteEmoji = d.VoteEmoji
	}
	if c.RegressionReports <= 0 {
		c.RegressionReports = d.RegressionReports
	}
	if c.SuggestThreshold <= 0 {
		c.SuggestThreshold = d.SuggestThreshold
	}
	if c.MaxSuggestions <= 0 || c.MaxSuggestions > 3 {
		c.MaxSuggestions = d.MaxSuggestions
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = d.CommandTimeout
	}
	if c.Worker == "" {
		c.Worker = d.Worker
	}
	if c.DeliveryLease <= 0 {
		c.DeliveryLease = d.DeliveryLease
	}
	if c.DeliveryHeartbeat <= 0 {
		c.DeliveryHeartbeat = min(max(c.DeliveryLease/10, 100*time.Millisecond), 3*time.Second)
	}
	if c.DeliveryGiveUp <= 0 {
		c.DeliveryGiveUp = d.DeliveryGiveUp
	}
	if c.DeliveryPoll <= 0 {
		c.DeliveryPoll = d.DeliveryPoll
	}
	if c.DeliveryMaxInFlight <= 0 {
		c.DeliveryMaxInFlight = d.DeliveryMaxInFlight
	}
	if c.NotifyStatuses == nil {
		c.NotifyStatuses = d.NotifyStatuses
	}
	if c.CardSettle <= 0 {
		c.CardSettle = d.CardSettle
	}
	if c.CardPoll <= 0 {
		c.CardPoll = d.CardPoll
	}
	if c.CaptureRetryWindow == 0 {
		c.CaptureRetryWindow = d.CaptureRetryWindow
	}
	if c.CaptureRetryBackoff <= 0 {
		c.CaptureRetryBackoff = d.CaptureRetryBackoff
	}
	if c.CaptureRetryLimit <= 0 {
		c.CaptureRetryLimit = d.CaptureRetryLimit
	}
}

// CommandRunner runs a /feedback command. The commands package implements it;
// the engine calls it for EventCommand.
type CommandRunner interface {
	Run(ctx context.Context, ev *Event) (*Response, error)
}

// Metrics receives counts of what the engine does. Implementations must be
// safe for concurrent use. A nil Metrics counts nothing.
type Metrics interface {
	Captured(platform, via string)
	Suggested()
	Merged()
	Delivered(platform, outcome string)
}

type noMetrics struct{}

func (noMetrics) Captured(string, string)  {}
func (noMetrics) Suggested()               {}
func (noMetrics) Merged()                  {}
func (noMetrics) Delivered(string, string) {}

// Engine turns platform-neutral events into state changes and replies.
// Construct it with NewEngine, register platforms with AddPlatform and the
// command runner with SetCommands, then call Run (or, in a single-threaded
// console, Flush after each input).
type Engine struct {
	store   Store
	scorer  Scorer
	cfg     Config
	log     *slog.Logger
	metrics Metrics

	outbox  *Outbox
	pending *pendingQueue

	mu        sync.RWMutex
	platforms map[string]Platform
	commands  CommandRunner
	indexedAt time.Time
	channels  channelCache // recently read channel settings (channels.go)
}

// NewEngine returns an engine over store, using scorer for duplicate checks.
func NewEngine(store Store, scorer Scorer, cfg Config, logger *slog.Logger) *Engine {
	cfg.fill()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		store:     store,
		scorer:    scorer,
		cfg:       cfg,
		log:       logger,
		metrics:   noMetrics{},
		platforms: map[string]Platform{},
	}
	e.outbox = newOutbox(store, e, cfg, logger)
	e.pending = newPendingQueue(e, cfg)
	return e
}

// Config returns the engine's effective configuration.
func (e *Engine) Config() Config { return e.cfg }

// Store returns the store the engine works on (read access for commands,
// the board and the API).
func (e *Engine) Store() Store { return e.store }

// Key formats a request id as a key with the configured prefix.
func (e *Engine) Key(id int64) string { return FormatKey(e.cfg.KeyPrefix, id) }

// ParseKey parses a key with the configured prefix.
func (e *Engine) ParseKey(s string) (int64, error) { return ParseKey(e.cfg.KeyPrefix, s) }

// AddPlatform registers a platform the engine can post to.
func (e *Engine) AddPlatform(p Platform) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.platforms[p.Name()] = p
}

// SetCommands sets the runner for EventCommand.
func (e *Engine) SetCommands(r CommandRunner) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.commands = r
}

// SetMetrics sets the metrics sink.
func (e *Engine) SetMetrics(m Metrics) {
	if m == nil {
		m = noMetrics{}
	}
	e.metrics = m
}

func (e *Engine) platform(name string) Platform {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.platforms[name]
}

// Run loads the duplicate index (unless LoadIndex already did), then
// delivers queued replies and follows index changes made by other replicas
// until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.RLock()
	loaded := !e.indexedAt.IsZero()
	e.mu.RUnlock()
	if !loaded {
		if err := e.LoadIndex(ctx); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	if e.cfg.IndexPoll > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); e.followIndex(ctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); e.outbox.Run(ctx) }()
	wg.Add(1)
	go func() { defer wg.Done(); e.runCards(ctx) }()
	wg.Add(1)
	go func() { defer wg.Done(); e.runDigests(ctx) }()
	wg.Wait()
	return nil
}

// Handle processes one event and returns the answer for the person who
// caused it (nil when there is nothing to say). Errors carry user-safe
// messages (ErrorMessage); panics become EINTERNAL.
//
// A chat capture (watched message, thread reply, mention, capture reaction
// or shortcut, /feedback command) that meets an unavailable database is
// kept and tried again (pending.go): Handle then answers nothing, and the
// person is told only when it is finally given up.
func (e *Engine) Handle(ctx context.Context, ev *Event) (resp *Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("panic handling event", "kind", ev.Kind, "panic", r, "stack", string(debug.Stack()))
			resp, err = nil, errInternal
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, e.cfg.CommandTimeout)
	defer cancel()
	if ev.Kind == EventCommand {
		ctx = context.WithValue(ctx, keepKey{}, recipientOf(ev))
	}
	if !retrying(ctx) && keepable(ev) && e.pending.holds(ev) && e.pending.keepEvent(ev, errKept) {
		// An earlier capture in this conversation waits for the database:
		// this event waits behind it.
		return nil, nil
	}
	resp, err = e.handle(ctx, ev)
	if ErrorReason(err) == ReasonKept {
		return nil, nil
	}
	if unavailable(err) && !retrying(ctx) && keepable(ev) && e.pending.keepEvent(ev, err) {
		return nil, nil
	}
	if err != nil && ErrorCode(err) == EINTERNAL {
		e.log.Error("handle event", "kind", ev.Kind, "platform", ev.Platform, "err", err)
	}
	return resp, err
}

func (e *Engine) handle(ctx context.Context, ev *Event) (*Response, error) {
	switch ev.Kind {
	case EventMessage, EventForumPost, EventMention:
		if ev.Message != nil && ev.Message.Bot {
			return nil, nil
		}
	}
	switch ev.Kind {
	case EventMessage:
		return e.onMessage(ctx, ev)
	case EventForumPost:
		return e.onForumPost(ctx, ev)
	case EventMention:
		return e.onMention(ctx, ev)
	case EventMessageDeleted:
		if ev.Message == nil {
			return nil, nil
		}
		m := ev.Message
		err := e.store.MarkMentionDeleted(ctx, m.Platform, m.Workspace, m.Channel, m.ID)
		if ErrorCode(err) == ENOTFOUND {
			return nil, nil
		}
		return nil, err
	case EventReactionAdded:
		return e.onReaction(ctx, ev, true)
	case EventReactionRemoved:
		return e.onReaction(ctx, ev, false)
	case EventUnfurl:
		id, err := e.ParseKey(ev.Text)
		if err != nil {
			return nil, err
		}
		r, err := e.store.ResolveRequest(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.Removed() {
			return nil, e.Text().errNoRequest(id)
		}
		return &Response{Text: e.TextFor(ctx, ev.Platform, ev.Workspace, ev.Channel).Card(r), RequestID: r.ID}, nil
	case EventHomeOpened:
		h, err := e.Home(ctx, ChatActor(ev))
		if err != nil {
			return nil, err
		}
		return &Response{Home: h}, nil
	case EventCapture:
		res, err := e.CaptureMessage(ctx, ChatActor(ev), CaptureMessageInput{Message: ev.Message, Via: ViaShortcut})
		if err != nil {
			return nil, err
		}
		return e.captureResponse(res), nil
	case EventCommand:
		e.mu.RLock()
		r := e.commands
		e.mu.RUnlock()
		if r == nil {
			return nil, errNoCommands
		}
		return r.Run(ctx, ev)
	case EventButton:
		return e.onButton(ctx, ev)
	case EventFormSubmit:
		return e.onFormSubmit(ctx, ev)
	}
	return nil, nil
}

// Connected reports whether a platform of that name is registered.
func (e *Engine) Connected(platform string) bool { return e.platform(platform) != nil }
