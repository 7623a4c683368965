package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/discord"
	"github.com/feedbackbot/feedbackbot/bot/slack"
	"github.com/feedbackbot/feedbackbot/bot/tracker"
	"github.com/feedbackbot/feedbackbot/bot/web"
)

// Config is every setting of the binary. Environment variables set the
// defaults (names are part of the product's interface, README
// "Configuration"); flags
// override them.
type Config struct {
	DatabaseURL string
	HTTPAddr    string
	APIToken    string
	BoardPublic bool
	KeyPrefix   string
	LogFormat   string
	LogLevel    string

	EmbeddingsURL    string
	EmbeddingsModel  string
	EmbeddingsKey    string
	EmbeddingsWeight float64

	CaptureEmoji       string
	VoteEmoji          string
	SuggestThreshold   float64
	RegressionReports  int
	AutoMergeThreshold float64

	SlackBotToken      string
	SlackAppToken      string
	SlackSigningSecret string
	SlackAPIURL        string
	SlackTeamUsergroup string
	SlackReleaseLeads  string

	DiscordToken       string
	DiscordGuildID     string
	DiscordAPIURL      string
	DiscordTeamRole    string
	DiscordReleaseRole string
	DiscordShardID     int
	DiscordShardCount  int

	ConsoleTeam         string
	ConsoleReleaseLeads string
	ConsoleChannel      string
	ConsoleNoHTTP       bool

	HomeOrgs string

	GitHubWebhookSecret string
	LinearWebhookSecret string
	GitHubShipOn        string
	OIDCIssuer          string
	OIDCClientID        string
	OIDCClientSecret    string
	PublicURL           string
	SessionTTL          time.Duration
	TeamEmails          string
	TeamDomains         string
	// NotifyStatuses: comma-separated statuses announced in the threads;
	// "" turns status notices off.
	NotifyStatuses string

	WorkerName string
	ShutdownIn time.Duration
	// CaptureRetryWindow: how long a chat capture that met an unavailable
	// database is kept and retried; 0 or less: not kept.
	CaptureRetryWindow time.Duration
	// CaptureSpool: a file that also holds the kept captures, so that a
	// restart does not lose them ("": memory only).
	CaptureSpool string

	// lookupEnv tells a variable set to "" from an unset one (nil: cannot).
	lookupEnv func(string) (string, bool)
}

// statusList joins statuses with commas.
func statusList(ss []bot.Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// DefaultConfig returns the defaults before the environment is read. The
// engine's settings and the platforms' URLs come from their packages, so
// each default has one source.
func DefaultConfig() Config {
	ec := bot.DefaultConfig()
	return Config{
		HTTPAddr:           ":8080",
		KeyPrefix:          ec.KeyPrefix,
		LogFormat:          "text",
		LogLevel:           "info",
		CaptureEmoji:       ec.CaptureEmoji,
		VoteEmoji:          ec.VoteEmoji,
		SuggestThreshold:   ec.SuggestThreshold,
		RegressionReports:  ec.RegressionReports,
		AutoMergeThreshold: ec.AutoMergeThreshold,
		SlackAPIURL:        slack.DefaultAPIURL,
		EmbeddingsWeight:   0.3,
		DiscordAPIURL:      discord.DefaultAPIURL,
		ConsoleChannel:     "general",
		NotifyStatuses:     statusList(ec.NotifyStatuses),
		ShutdownIn:         10 * time.Second,
		GitHubShipOn:       tracker.ShipOnMerge,
		SessionTTL:         web.DefaultSessionTTL,
		CaptureRetryWindow: ec.CaptureRetryWindow,
	}
}

// envVar binds one configuration value to its environment variable and flag.
type envVar struct {
	env, flag, help string
	str             *string
	f64             *float64
	num             *int
	boolean         *bool
	dur             *time.Duration
	// emptyOK: the variable set to "" means an empty value (not "unset").
	emptyOK bool
}

func (c *Config) vars() []envVar {
	return []envVar{
		{env: "DATABASE_URL", flag: "database-url", help: "postgres://… for PostgreSQL; sqlite:PATH or empty (./feedbackbot.db) for SQLite", str: &c.DatabaseURL},
		{env: "FEEDBACKBOT_HTTP_ADDR", flag: "http-addr", help: "HTTP listener address (board, API, Slack HTTP endpoints, metrics)", str: &c.HTTPAddr},
		{env: "FEEDBACKBOT_API_TOKEN", flag: "api-token", help: "bearer token for API writes (and a private board)", str: &c.APIToken},
		{env: "FEEDBACKBOT_BOARD_PUBLIC", flag: "board-public", help: "serve the board read-only without the token", boolean: &c.BoardPublic},
		{env: "FEEDBACKBOT_KEY_PREFIX", flag: "key-prefix", help: "request key prefix", str: &c.KeyPrefix},
		{env: "FEEDBACKBOT_LOG_FORMAT", flag: "log-format", help: "text or json", str: &c.LogFormat},
		{env: "FEEDBACKBOT_LOG_LEVEL", flag: "log-level", help: "debug, info, warn or error", str: &c.LogLevel},
		{env: "FEEDBACKBOT_CAPTURE_EMOJI", flag: "capture-emoji", help: "reaction that captures a message (Slack name)", str: &c.CaptureEmoji},
		{env: "FEEDBACKBOT_VOTE_EMOJI", flag: "vote-emoji", help: "reaction that votes (Slack name)", str: &c.VoteEmoji},
		{env: "FEEDBACKBOT_SUGGEST_THRESHOLD", flag: "suggest-threshold", help: "lowest duplicate score suggested", f64: &c.SuggestThreshold},
		{env: "FEEDBACKBOT_REGRESSION_REPORTS", flag: "regression-reports", help: "distinct people reporting problems after a ship that raise a regression alert", num: &c.RegressionReports},
		{env: "FEEDBACKBOT_AUTOMERGE_THRESHOLD", flag: "automerge-threshold", help: "score from which new feedback is merged without asking (0 = off)", f64: &c.AutoMergeThreshold},
		{env: "FEEDBACKBOT_EMBEDDINGS_URL", flag: "embeddings-url", help: "OpenAI-compatible embeddings endpoint base URL (unset: lexical duplicate detection only)", str: &c.EmbeddingsURL},
		{env: "FEEDBACKBOT_EMBEDDINGS_MODEL", flag: "embeddings-model", help: "embeddings model name", str: &c.EmbeddingsModel},
		{env: "FEEDBACKBOT_EMBEDDINGS_KEY", flag: "embeddings-key", help: "embeddings API key", str: &c.EmbeddingsKey},
		{env: "FEEDBACKBOT_EMBEDDINGS_WEIGHT", flag: "embeddings-weight", help: "weight of the semantic score in the hybrid score (0..1)", f64: &c.EmbeddingsWeight},
		{env: "SLACK_BOT_TOKEN", flag: "slack-bot-token", help: "Slack bot token (xoxb-…)", str: &c.SlackBotToken},
		{env: "SLACK_APP_TOKEN", flag: "slack-app-token", help: "Slack app-level token (xapp-…) for Socket Mode", str: &c.SlackAppToken},
		{env: "SLACK_SIGNING_SECRET", flag: "slack-signing-secret", help: "Slack signing secret for HTTP mode", str: &c.SlackSigningSecret},
		{env: "SLACK_API_URL", flag: "slack-api-url", help: "Slack Web API base URL (tests point it at a fake)", str: &c.SlackAPIURL},
		{env: "SLACK_TEAM_USERGROUP", flag: "slack-team-usergroup", help: "user group id whose members count as team", str: &c.SlackTeamUsergroup},
		{env: "SLACK_RELEASE_LEADS", flag: "slack-release-leads", help: "comma-separated user ids and/or user group ids", str: &c.SlackReleaseLeads},
		{env: "DISCORD_BOT_TOKEN", flag: "discord-bot-token", help: "Discord bot token", str: &c.DiscordToken},
		{env: "DISCORD_GUILD_ID", flag: "discord-guild-id", help: "register commands in this guild only (else globally)", str: &c.DiscordGuildID},
		{env: "DISCORD_API_URL", flag: "discord-api-url", help: "origin replacing https://discord.com (tests point it at a fake)", str: &c.DiscordAPIURL},
		{env: "DISCORD_TEAM_ROLE", flag: "discord-team-role", help: "role id or name for team members", str: &c.DiscordTeamRole},
		{env: "DISCORD_RELEASE_ROLE", flag: "discord-release-role", help: "role id or name for release leads", str: &c.DiscordReleaseRole},
		{env: "DISCORD_SHARD_ID", flag: "discord-shard-id", help: "this process's shard id", num: &c.DiscordShardID},
		{env: "DISCORD_SHARD_COUNT", flag: "discord-shard-count", help: "total number of shards (0 = no sharding)", num: &c.DiscordShardCount},
		{env: "FEEDBACKBOT_CONSOLE_TEAM", flag: "team", help: "console: comma-separated team members (default: everyone)", str: &c.ConsoleTeam},
		{env: "FEEDBACKBOT_CONSOLE_RELEASE_LEADS", flag: "release-leads", help: "console: comma-separated release leads (default: everyone)", str: &c.ConsoleReleaseLeads},
		{env: "FEEDBACKBOT_CONSOLE_CHANNEL", flag: "channel", help: "console: starting channel", str: &c.ConsoleChannel},
		{env: "FEEDBACKBOT_CONSOLE_NO_HTTP", flag: "no-http", help: "console: do not start the HTTP listener", boolean: &c.ConsoleNoHTTP},
		{env: "FEEDBACKBOT_HOME_ORGS", flag: "home-orgs", help: "comma-separated organisations of your own team, never counted as customers (added to the console's people without @org and the installing Slack workspace)", str: &c.HomeOrgs},
		{env: "FEEDBACKBOT_GITHUB_WEBHOOK_SECRET", flag: "github-webhook-secret", help: "secret of the GitHub webhook (POST /webhooks/github; unset: 404)", str: &c.GitHubWebhookSecret},
		{env: "FEEDBACKBOT_LINEAR_WEBHOOK_SECRET", flag: "linear-webhook-secret", help: "signing secret of the Linear webhook (POST /webhooks/linear; unset: 404)", str: &c.LinearWebhookSecret},
		{env: "FEEDBACKBOT_GITHUB_SHIP_ON", flag: "github-ship-on", help: "merge: merged pull requests and completed issues ship; release: GitHub work ships when a release is published", str: &c.GitHubShipOn},
		{env: "FEEDBACKBOT_OIDC_ISSUER", flag: "oidc-issuer", help: "OpenID Connect issuer for signing in to the board (https://slack.com, https://accounts.google.com, …)", str: &c.OIDCIssuer},
		{env: "FEEDBACKBOT_OIDC_CLIENT_ID", flag: "oidc-client-id", help: "OpenID Connect client id", str: &c.OIDCClientID},
		{env: "FEEDBACKBOT_OIDC_CLIENT_SECRET", flag: "oidc-client-secret", help: "OpenID Connect client secret", str: &c.OIDCClientSecret},
		{env: "FEEDBACKBOT_PUBLIC_URL", flag: "public-url", help: "the board's public address; the sign-in redirect URI is <public URL>/auth/callback", str: &c.PublicURL},
		{env: "FEEDBACKBOT_SESSION_TTL", flag: "session-ttl", help: "how long a board session lasts", dur: &c.SessionTTL},
		{env: "FEEDBACKBOT_TEAM_EMAILS", flag: "team-emails", help: "comma-separated emails with team rights on the web", str: &c.TeamEmails},
		{env: "FEEDBACKBOT_TEAM_DOMAINS", flag: "team-domains", help: "comma-separated email domains with team rights on the web", str: &c.TeamDomains},
		{env: "FEEDBACKBOT_NOTIFY_STATUSES", flag: "notify-statuses", help: "comma-separated statuses whose changes are announced in every subscribed thread (empty: none)", str: &c.NotifyStatuses, emptyOK: true},
		{env: "FEEDBACKBOT_WORKER", flag: "worker", help: "name of this replica in delivery leases (default: host name and pid)", str: &c.WorkerName},
		{env: "FEEDBACKBOT_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", help: "how long shutdown waits for in-flight work", dur: &c.ShutdownIn},
		{env: "FEEDBACKBOT_CAPTURE_RETRY_WINDOW", flag: "capture-retry-window", help: "how long a chat capture that met an unavailable database is kept and retried before the person is told (0: told at once)", dur: &c.CaptureRetryWindow},
		{env: "FEEDBACKBOT_CAPTURE_SPOOL", flag: "capture-spool", help: "file that also holds the captures kept during a database outage, so that a restart does not lose them (one per replica; unset: memory only)", str: &c.CaptureSpool},
	}
}

// load reads the environment into c and then parses flags over it; extra
// (if set) adds flags or a usage function first. Errors wrap errUsage,
// except flag.ErrHelp after -h printed the usage.
func (c *Config) load(name string, args []string, getenv func(string) string, out io.Writer, extra func(*flag.FlagSet)) (*flag.FlagSet, error) {
	for _, v := range c.vars() {
		if s := getenv(v.env); s != "" {
			if err := v.set(s); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", errUsage, v.env, err)
			}
		} else if v.emptyOK && c.lookupEnv != nil {
			if _, set := c.lookupEnv(v.env); set {
				_ = v.set("")
			}
		}
	}
	fs := c.flagSet(name, out)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		// The flag package has printed the error already.
		return nil, errUsage
	}
	return fs, nil
}

// flagSet binds a flag to every setting, with c's values as defaults.
func (c *Config) flagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if out != nil {
		fs.SetOutput(out)
	}
	for _, v := range c.vars() {
		help := v.help + " (env " + v.env + ")"
		switch {
		case v.str != nil:
			fs.StringVar(v.str, v.flag, *v.str, help)
		case v.f64 != nil:
			fs.Float64Var(v.f64, v.flag, *v.f64, help)
		case v.num != nil:
			fs.IntVar(v.num, v.flag, *v.num, help)
		case v.boolean != nil:
			fs.BoolVar(v.boolean, v.flag, *v.boolean, help)
		case v.dur != nil:
			fs.DurationVar(v.dur, v.flag, *v.dur, help)
		}
	}
	return fs
}

func (v envVar) set(s string) error {
	var err error
	switch {
	case v.str != nil:
		*v.str = s
	case v.f64 != nil:
		*v.f64, err = strconv.ParseFloat(s, 64)
	case v.num != nil:
		*v.num, err = strconv.Atoi(s)
	case v.boolean != nil:
		*v.boolean, err = strconv.ParseBool(s)
	case v.dur != nil:
		*v.dur, err = time.ParseDuration(s)
	}
	return err
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
