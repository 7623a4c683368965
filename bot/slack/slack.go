package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/lru"
	"github.com/slack-go/slack"
)

// DefaultAPIURL is Slack's Web API base URL.
const DefaultAPIURL = "https://slack.com/api/"

// Defaults for the adapter's internal limits.
const (
	// channelInterval is Slack's posting pace: about one message per second
	// per channel (Slack's rate-limit documentation for chat.postMessage).
	channelInterval = time.Second
	// handleTimeout bounds the work done for one event.
	handleTimeout = 30 * time.Second
	// drainTimeout is how long Run waits for in-flight events at shutdown
	// before cancelling them.
	drainTimeout = 10 * time.Second
	// maxWorkers bounds the events handled at the same time.
	maxWorkers = 64
	// dedupSize and dedupTTL bound the memory of seen event ids. Slack
	// retries an event for about 6 minutes.
	dedupSize = 20000
	dedupTTL  = 15 * time.Minute
	// userTTL is how long users.info answers (name, team, guest flags) and
	// user group memberships are trusted.
	userTTL    = 10 * time.Minute
	groupTTL   = 2 * time.Minute
	maxUsers   = 50000
	maxBodyLen = 1 << 20 // request bodies above 1 MiB get 413
)

// ShortcutCallbackID is the callback id of the "Send to feedback board"
// message shortcut (manifest.yaml).
const ShortcutCallbackID = "send_to_feedback_board"

// Handler receives every event the adapter translates. The returned Response,
// or bot.ErrorMessage(err) on error, is shown to the person who caused the
// event only (or in the channel when Response.Public is set).
type Handler interface {
	Handle(ctx context.Context, ev *bot.Event) (*bot.Response, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev *bot.Event) (*bot.Response, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
	return f(ctx, ev)
}

// Config configures the adapter. cmd fills it from the environment
// (SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL,
// SLACK_TEAM_USERGROUP, SLACK_RELEASE_LEADS).
type Config struct {
	// BotToken (xoxb-…) is required.
	BotToken string
	// AppToken (xapp-…) selects Socket Mode.
	AppToken string
	// SigningSecret verifies HTTP-mode requests (Routes).
	SigningSecret string
	// APIURL is the Web API base URL; "" means DefaultAPIURL. Tests point it
	// at a fake.
	APIURL string
	// TeamUsergroup is a user group id (S…) whose members count as team
	// members even when they are guests or external.
	TeamUsergroup string
	// ReleaseLeads lists user ids (U…/W…) and user group ids (S…).
	ReleaseLeads []string
	// Logger receives the adapter's logs; nil means slog.Default().
	Logger *slog.Logger
	// HTTPClient is used for Web API calls; nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// People, when set, hears what Slack tells about people: the installing
	// workspace is a home organisation (never counted as a customer), and
	// a user's profile email (scope users:read.email) links their
	// identity with the same person elsewhere.
	People People
	// PostRate caps the delivery worker's posts to this workspace, in
	// messages per second with bursts of one second's worth (bot.Throttle).
	// 0, the default, sets no workspace-wide cap: see Adapter.PostRate.
	PostRate float64
	// FormTimeout bounds the handling of a view_submission, which Slack
	// needs answered within 3 s. Default 2.5 s.
	FormTimeout time.Duration
	// BoardURL is the board's public address (FEEDBACKBOT_PUBLIC_URL); the
	// home tab links requests to it. "" shows keys without links.
	BoardURL string
	// BoardPublic is FEEDBACKBOT_BOARD_PUBLIC: a private board's links
	// unfurl only in channels not shared with other organisations.
	BoardPublic bool
}

// People is the part of the store the adapter tells about people
// (*store.DB implements it).
type People interface {
	AddHomeOrg(ctx context.Context, org, source string) error
	SetIdentityEmail(ctx context.Context, ref bot.Identity, name, email string) (bool, error)
}

// Adapter connects feedbackbot to one Slack workspace.
type Adapter struct {
	cfg    Config
	api    slackAPI
	h      Handler
	log    *slog.Logger
	apiURL string
	now    func() time.Time

	// newSocket builds the Socket Mode client; tests replace it.
	newSocket func() socketClient

	self   selfCache
	users  *lru.Cache[string, slack.User]
	shared *lru.Cache[string, bool] // channel id → shared with other organisations
	groups *lru.Cache[string, map[string]bool]
	seen   *lru.Cache[string, struct{}]

	jobs *jobRunner

	// connected is true while the adapter can receive events: after
	// auth.test in HTTP mode, between "connected" and a disconnect in
	// Socket Mode.
	connected atomic.Bool
}

// Connected reports whether the adapter can receive events now (/readyz).
func (a *Adapter) Connected() bool { return a.connected.Load() }

var (
	_ bot.Platform = (*Adapter)(nil)
	_ bot.Reactor  = (*Adapter)(nil)
	_ bot.Teller   = (*Adapter)(nil)
	_ bot.Pacer    = (*Adapter)(nil)
	_ bot.Throttle = (*Adapter)(nil)

	_ bot.SharedChannels = (*Adapter)(nil)
)

// New returns an adapter. It does no I/O. It returns EINVALID when the bot
// token is missing or when neither an app token (Socket Mode) nor a signing
// secret (HTTP mode) is set.
func New(cfg Config, h Handler) (*Adapter, error) {
	if cfg.BotToken == "" {
		return nil, bot.Errorf(bot.EINVALID, "SLACK_BOT_TOKEN is required.")
	}
	if cfg.AppToken == "" && cfg.SigningSecret == "" {
		return nil, bot.Errorf(bot.EINVALID, "Set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode).")
	}
	if h == nil {
		return nil, bot.Errorf(bot.EINVALID, "slack: nil handler.")
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	opts := []slack.Option{slack.OptionAPIURL(apiURL), slack.OptionHTTPClient(hc)}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	client := slack.New(cfg.BotToken, opts...)
	a := newAdapter(cfg, client, h, log)
	a.apiURL = apiURL
	a.newSocket = func() socketClient { return newSocketClient(client) }
	return a, nil
}

// newAdapter wires an adapter around any slackAPI (tests pass a fake).
func newAdapter(cfg Config, api slackAPI, h Handler, log *slog.Logger) *Adapter {
	return &Adapter{
		cfg:    cfg,
		api:    api,
		h:      h,
		log:    log,
		apiURL: DefaultAPIURL,
		now:    time.Now,
		users:  lru.New[string, slack.User](maxUsers, userTTL),
		shared: lru.New[string, bool](maxUsers, userTTL),
		groups: lru.New[string, map[string]bool](64, groupTTL),
		seen:   lru.New[string, struct{}](dedupSize, dedupTTL),
		jobs:   newJobRunner(maxWorkers, log),
	}
}

// Name returns "slack".
func (a *Adapter) Name() string { return bot.PlatformSlack }

// SocketMode reports whether Run connects with Socket Mode (an app token is
// set). Otherwise events arrive on the HTTP endpoints of Routes.
func (a *Adapter) SocketMode() bool { return a.cfg.AppToken != "" }

// ChannelInterval is Slack's posting pace per channel (bot.Pacer).
func (a *Adapter) ChannelInterval() time.Duration { return channelInterval }

// PostRate is the workspace-wide pace of the delivery worker's posts
// (bot.Throttle): Config.PostRate, with bursts of one second's worth. By
// default there is none (0), and the worker's posts are paced per channel
// only (ChannelInterval).
//
// Slack rate-limits chat.postMessage in its "special" tier: about one
// message per second per channel, short bursts allowed, "while also
// maintaining a workspace-wide limit" (Slack's rate-limit documentation).
// Slack gives no figure for that
// workspace-wide limit, and any guess would be wrong one way: too high and
// it protects nothing, too low and it slows every fan-out across many
// channels for no documented reason. So the default is none; when Slack
// does refuse a post (429 with Retry-After) the worker pauses that channel
// and retries. An operator who learns the workspace's limit sets
// Config.PostRate (or the engine's DeliveryRate for every platform).
func (a *Adapter) PostRate() (perSecond float64, burst int) {
	if a.cfg.PostRate <= 0 {
		return 0, 0
	}
	return a.cfg.PostRate, max(1, int(a.cfg.PostRate))
}

// Run checks the bot token (auth.test), then in Socket Mode connects and
// handles envelopes until ctx ends; in HTTP mode it waits for ctx while the
// Routes handlers serve. When ctx ends it stops accepting events, lets the
// events in flight finish for a few seconds, cancels the rest and returns
// after every goroutine it started has stopped. It returns nil on a normal
// shutdown.
func (a *Adapter) Run(ctx context.Context) error {
	defer a.jobs.stop(drainTimeout)
	self, err := a.identity(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("slack auth.test: %w", err)
	}
	if a.cfg.People != nil && self.TeamID != "" {
		if err := a.cfg.People.AddHomeOrg(ctx, self.TeamID, bot.PlatformSlack); err != nil {
			a.log.Warn("recording the installing workspace as a home organisation failed", "err", err)
		}
	}
	defer a.connected.Store(false)
	if !a.SocketMode() {
		a.log.Info("slack http mode ready", "routes", "/slack/events /slack/interactions /slack/commands")
		a.connected.Store(true)
		<-ctx.Done()
		return nil
	}
	err = a.runSocket(ctx)
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// selfCache holds auth.test's answer: who the bot is and which workspace
// installed it.
type selfCache struct {
	mu sync.Mutex
	id *slack.AuthTestResponse
}

// identity returns auth.test's answer, calling it once (again after a
// failure).
func (a *Adapter) identity(ctx context.Context) (*slack.AuthTestResponse, error) {
	a.self.mu.Lock()
	defer a.self.mu.Unlock()
	if a.self.id != nil {
		return a.self.id, nil
	}
	id, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return nil, err
	}
	a.self.id = id
	return id, nil
}
