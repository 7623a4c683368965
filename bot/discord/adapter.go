package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/lru"
)

// Handler handles one platform-neutral event. Its Response (or
// bot.ErrorMessage of its error) is the reply to the person who caused an
// interaction.
type Handler interface {
	Handle(ctx context.Context, ev *bot.Event) (*bot.Response, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev *bot.Event) (*bot.Response, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
	return f(ctx, ev)
}

// discordAPI is the part of *discordgo.Session the adapter calls over REST.
// Unit tests swap it for a fake.
type discordAPI interface {
	ChannelMessageSendComplex(channelID string, data *discordgo.MessageSend, options ...discordgo.RequestOption) (*discordgo.Message, error)
	// RequestWithBucketID sends a REST call with a body of our own: posts
	// with a nonce, which discordgo v0.29's MessageSend cannot carry.
	RequestWithBucketID(method, urlStr string, data interface{}, bucketID string, options ...discordgo.RequestOption) ([]byte, error)
	ChannelMessageEditComplex(m *discordgo.MessageEdit, options ...discordgo.RequestOption) (*discordgo.Message, error)
	ChannelMessage(channelID, messageID string, options ...discordgo.RequestOption) (*discordgo.Message, error)
	Channel(channelID string, options ...discordgo.RequestOption) (*discordgo.Channel, error)
	GuildRoles(guildID string, options ...discordgo.RequestOption) ([]*discordgo.Role, error)
	MessageReactionAdd(channelID, messageID, emojiID string, options ...discordgo.RequestOption) error
	InteractionRespond(interaction *discordgo.Interaction, resp *discordgo.InteractionResponse, options ...discordgo.RequestOption) error
	InteractionResponseEdit(interaction *discordgo.Interaction, newresp *discordgo.WebhookEdit, options ...discordgo.RequestOption) (*discordgo.Message, error)
	InteractionResponseDelete(interaction *discordgo.Interaction, options ...discordgo.RequestOption) error
	FollowupMessageCreate(interaction *discordgo.Interaction, wait bool, data *discordgo.WebhookParams, options ...discordgo.RequestOption) (*discordgo.Message, error)
	ApplicationCommandBulkOverwrite(appID string, guildID string, commands []*discordgo.ApplicationCommand, options ...discordgo.RequestOption) ([]*discordgo.ApplicationCommand, error)
}

// gateway is the part of *discordgo.Session that Run uses to connect.
type gateway interface {
	AddHandler(handler interface{}) func()
	GatewayBot(options ...discordgo.RequestOption) (*discordgo.GatewayBotResponse, error)
	Open() error
	Close() error
}

// Adapter connects feedbackbot to Discord. It implements bot.Platform,
// bot.Pacer, bot.Throttle, bot.Reactor and bot.LinkFetcher.
type Adapter struct {
	cfg Config
	log *slog.Logger
	h   Handler
	api discordAPI
	gw  gateway

	mu        sync.RWMutex
	appID     string
	botID     string
	sessionID string

	seen     *lru.Cache[string, struct{}]   // de-duplicates replayed gateway events
	channels *lru.Cache[string, chanInfo]   // channel and thread metadata
	roots    *lru.Cache[string, rootInfo]   // whether a root message id names a thread
	roles    *lru.Cache[string, guildRoles] // guild id -> roles
	posted   *lru.Cache[string, string]     // id of a message the bot posted -> its channel

	wg      sync.WaitGroup
	slots   chan struct{} // bounds concurrently handled events
	stopped atomic.Bool
}

var (
	_ bot.Platform     = (*Adapter)(nil)
	_ bot.Pacer        = (*Adapter)(nil)
	_ bot.Throttle     = (*Adapter)(nil)
	_ bot.Reactor      = (*Adapter)(nil)
	_ bot.LinkFetcher  = (*Adapter)(nil)
	_ bot.ChannelNamer = (*Adapter)(nil)
)

// New returns an adapter for cfg that passes events to h. It does not
// connect; Run does. Post and Update work before Run.
func New(cfg Config, h Handler) (*Adapter, error) {
	if h == nil {
		return nil, errors.New("discord: nil handler")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s, err := discordgo.New("Bot " + cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: new session: %w", err)
	}
	origin, _ := url.Parse(cfg.APIURL)
	s.Client = &http.Client{
		Timeout: 20 * time.Second,
		Transport: &originTransport{
			origin:  origin,
			base:    http.DefaultTransport,
			limiter: rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), restBurst(cfg.RequestsPerSecond)),
		},
	}
	s.Dialer = gatewayDialer(cfg.GatewayTimeout)
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages |
		discordgo.IntentsGuildMessageReactions | discordgo.IntentsMessageContent
	if cfg.ShardCount > 1 {
		s.ShardID, s.ShardCount = cfg.ShardID, cfg.ShardCount
	}
	s.StateEnabled = false           // the adapter keeps the little state it needs
	s.SyncEvents = true              // see onGatewayEvent: ordering and de-dup run on the reader
	s.ShouldRetryOnRateLimit = false // 429 -> bot.RetryAfterError (retried by callers)
	a := newAdapter(cfg, h, s)
	a.gw = s
	return a, nil
}

func newAdapter(cfg Config, h Handler, api discordAPI) *Adapter {
	return &Adapter{
		cfg:      cfg,
		log:      cfg.Logger,
		h:        h,
		api:      api,
		seen:     lru.New[string, struct{}](100_000, 0),
		channels: lru.New[string, chanInfo](100_000, 0),
		roots:    lru.New[string, rootInfo](100_000, 0),
		roles:    lru.New[string, guildRoles](10_000, 0),
		posted:   lru.New[string, string](100_000, 0),
		slots:    make(chan struct{}, 64),
	}
}

// Name returns "discord".
func (a *Adapter) Name() string { return bot.PlatformDiscord }

// ChannelInterval is the pause the delivery worker keeps between two posts
// in one channel: Discord allows about 5 messages per 5 s per channel.
func (a *Adapter) ChannelInterval() time.Duration { return time.Second }

// PostRate is the platform-wide pace of the delivery worker's posts
// (bot.Throttle): Discord allows a bot 50 requests per second in all, and
// the adapter keeps every REST call under Config.RequestsPerSecond (45 by
// default) with bursts of a fifth of that. Pacing the posts to the same
// rate keeps a fan-out from queueing behind the REST limiter (where a
// post's context deadline would run out) and leaves the rest of the bot's
// calls the bursts.
func (a *Adapter) PostRate() (perSecond float64, burst int) {
	return a.cfg.RequestsPerSecond, restBurst(a.cfg.RequestsPerSecond)
}

// restBurst is the burst of the REST limiter for rps requests per second.
func restBurst(rps float64) int { return int(rps)/5 + 1 }

// Run connects to the gateway, registers the application commands and
// handles events until ctx is done; then it disconnects and waits for the
// events being handled. It returns an error if it cannot connect or
// register the commands.
func (a *Adapter) Run(ctx context.Context) error {
	if a.gw == nil {
		return errors.New("discord: adapter has no gateway session")
	}
	// Events in flight finish after ctx ends (bounded by HandlerTimeout).
	hctx := context.WithoutCancel(ctx)
	remove := a.gw.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) { a.onGatewayEvent(hctx, e) })
	defer remove()
	// discordgo's reconnect loop can reopen the socket after Close; shut it
	// again if that happens once Run is over.
	a.gw.AddHandler(func(s *discordgo.Session, _ *discordgo.Connect) {
		if a.stopped.Load() {
			go s.Close()
		}
	})

	// Errors during start-up caused by ctx ending are not failures.
	startErr := func(err error) error {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	gb, err := callRetry(ctx, func(opts ...discordgo.RequestOption) (*discordgo.GatewayBotResponse, error) {
		return a.gw.GatewayBot(opts...)
	})
	if err != nil {
		return startErr(fmt.Errorf("discord: gateway discovery: %w", err))
	}
	if n := a.cfg.ShardCount; gb.Shards > 1 && gb.Shards > n {
		a.log.Warn("discord recommends more shards", "recommended", gb.Shards, "shard_count", n)
	}
	if err := a.gw.Open(); err != nil {
		return startErr(fmt.Errorf("discord: open gateway: %w", err))
	}
	a.stopped.Store(false)
	defer func() {
		a.stopped.Store(true)
		if err := a.gw.Close(); err != nil {
			a.log.Warn("close gateway", "err", err)
		}
		a.wg.Wait()
	}()
	if err := a.registerCommands(ctx); err != nil {
		return startErr(err)
	}
	a.log.Info("discord connected", "guild", a.cfg.GuildID, "shard", a.cfg.ShardID, "shard_count", a.cfg.ShardCount)
	<-ctx.Done()
	return nil
}

// registerCommands overwrites the application's commands with ours, in the
// configured guild or globally. The bulk overwrite is idempotent.
func (a *Adapter) registerCommands(ctx context.Context) error {
	appID := a.applicationID()
	if appID == "" {
		return errors.New("discord: READY carried no application id")
	}
	_, err := callRetry(ctx, func(opts ...discordgo.RequestOption) ([]*discordgo.ApplicationCommand, error) {
		return a.api.ApplicationCommandBulkOverwrite(appID, a.cfg.GuildID, applicationCommands(), opts...)
	})
	if err != nil {
		return fmt.Errorf("discord: register commands: %w", err)
	}
	return nil
}

func (a *Adapter) applicationID() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.appID != "" {
		return a.appID
	}
	return a.botID // bots created since 2020 share their application's id
}

func (a *Adapter) botUserID() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.botID
}

// gatewayDialer returns the websocket dialer for the gateway. discordgo
// reads the gateway without a deadline, in Open while it holds the
// session's lock: a connection that goes silent half-way through a
// (re)connection (the server accepted the socket but never sends HELLO or
// READY/RESUMED, or the network dropped it without a FIN) would block
// Open, and with it Close and Run's shutdown, forever. Every read on the
// connection therefore gets a deadline of idle: a silent connection fails,
// and discordgo closes it and resumes on a new one.
func gatewayDialer(idle time.Duration) *websocket.Dialer {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 30 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: c, idle: idle}, nil
		},
	}
}

// idleConn fails a Read that waits longer than idle for data.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

// originTransport sends requests for discord.com to the configured origin
// (discordgo's endpoint variables are fixed at package load) and keeps REST
// calls under the global rate limit. Interaction callbacks and webhooks are
// exempt from that limit on Discord's side and are not slowed.
type originTransport struct {
	origin  *url.URL
	base    http.RoundTripper
	limiter *rate.Limiter
}

func (t *originTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == "discord.com" || req.URL.Host == "discordapp.com" {
		r := req.Clone(req.Context())
		r.URL.Scheme = t.origin.Scheme
		r.URL.Host = t.origin.Host
		if p := strings.TrimSuffix(t.origin.Path, "/"); p != "" {
			r.URL.Path = p + r.URL.Path
			if r.URL.RawPath != "" {
				r.URL.RawPath = p + r.URL.RawPath
			}
		}
		r.Host = ""
		req = r
	}
	if t.limiter != nil && !strings.Contains(req.URL.Path, "/interactions/") && !strings.Contains(req.URL.Path, "/webhooks/") {
		if err := t.limiter.Wait(req.Context()); err != nil {
			return nil, err
		}
	}
	return t.base.RoundTrip(req)
}
