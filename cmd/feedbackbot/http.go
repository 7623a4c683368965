package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/discord"
	"github.com/feedbackbot/feedbackbot/bot/slack"
	"github.com/feedbackbot/feedbackbot/bot/tracker"
	"github.com/feedbackbot/feedbackbot/bot/web"
	"github.com/feedbackbot/feedbackbot/store"
)

// startHTTP starts the one HTTP listener: board, API, Slack endpoints,
// metrics and health.
func (m *Main) startHTTP(ctx context.Context, cfg Config, eng *bot.Engine, db *store.DB, ready *readiness, log *slog.Logger, wg *sync.WaitGroup) (*http.Server, *http.ServeMux, error) {
	reg := prometheus.NewRegistry()
	metrics := web.NewMetrics(reg)
	eng.SetMetrics(metrics)
	wc := web.Config{APIToken: cfg.APIToken, BoardPublic: cfg.BoardPublic, Ready: ready.check, PublicURL: cfg.PublicURL,
		SessionTTL: cfg.SessionTTL, TeamEmails: splitList(cfg.TeamEmails), TeamDomains: splitList(cfg.TeamDomains), Sessions: db}
	if cfg.OIDCIssuer != "" {
		wc.OIDC = &web.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret, PublicURL: cfg.PublicURL}
	}
	board := web.New(wc, eng, metrics, log.With("component", "web"))
	mux := http.NewServeMux()
	mux.Handle("/", board)
	tracker.New(tracker.Config{
		GitHubSecret: cfg.GitHubWebhookSecret, LinearSecret: cfg.LinearWebhookSecret, ShipOn: cfg.GitHubShipOn,
		KeyPrefix: cfg.KeyPrefix, Logger: log.With("component", "tracker"),
	}, db, tracker.ForEngine(eng)).Register(mux)
	srv := web.NewHTTPServer(cfg.HTTPAddr, mux)
	ln, err := m.listen(cfg.HTTPAddr)
	if err != nil {
		return nil, nil, err
	}
	log.Info("http listening", "addr", ln.Addr().String())
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http", "err", err)
		}
	}()
	return srv, mux, nil
}

// startAdapters starts the Slack and Discord adapters whose tokens are set.
// Slack in HTTP mode serves its endpoints on mux.
func (m *Main) startAdapters(ctx context.Context, cfg Config, eng *bot.Engine, people slack.People, mux *http.ServeMux, ready *readiness, log *slog.Logger, wg *sync.WaitGroup, errc chan<- error) error {
	type runner interface{ Run(context.Context) error }
	var started []runner
	if cfg.SlackBotToken != "" {
		if cfg.SlackAppToken == "" && cfg.SlackSigningSecret == "" {
			return fmt.Errorf("%w: SLACK_BOT_TOKEN needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)", errUsage)
		}
		sa, err := slack.New(slack.Config{
			BotToken: cfg.SlackBotToken, AppToken: cfg.SlackAppToken, SigningSecret: cfg.SlackSigningSecret,
			APIURL: cfg.SlackAPIURL, TeamUsergroup: cfg.SlackTeamUsergroup, ReleaseLeads: splitList(cfg.SlackReleaseLeads),
			Logger: log.With("platform", "slack"), People: people, BoardURL: cfg.PublicURL, BoardPublic: cfg.BoardPublic,
		}, eng)
		if err != nil {
			return fmt.Errorf("slack: %w", err)
		}
		if !sa.SocketMode() && mux != nil {
			sa.Routes(mux)
		}
		eng.AddPlatform(sa)
		ready.add(sa)
		started = append(started, sa)
	}
	if cfg.DiscordToken != "" {
		da, err := discord.New(discord.Config{
			Token: cfg.DiscordToken, GuildID: cfg.DiscordGuildID, APIURL: cfg.DiscordAPIURL,
			TeamRole: cfg.DiscordTeamRole, ReleaseRole: cfg.DiscordReleaseRole,
			ShardID: cfg.DiscordShardID, ShardCount: cfg.DiscordShardCount,
			CaptureEmoji: cfg.CaptureEmoji, VoteEmoji: cfg.VoteEmoji,
			Logger: log.With("platform", "discord"),
		}, eng)
		if err != nil {
			return fmt.Errorf("discord: %w", err)
		}
		eng.AddPlatform(da)
		ready.add(da)
		started = append(started, da)
	}
	for _, r := range started {
		wg.Add(1)
		go func(r runner) {
			defer wg.Done()
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				errc <- err
			}
		}(r)
	}
	return nil
}

// readiness tells /readyz whether every chat adapter is connected (the web
// server itself checks the database; migrations ran before it started).
type readiness struct {
	mu       sync.Mutex
	started  bool // the index is loaded and every adapter is registered
	adapters []connector
}

// start marks start-up as finished.
func (r *readiness) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = true
}

type connector interface {
	Name() string
	Connected() bool
}

func (r *readiness) add(a any) {
	c, ok := a.(connector)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.adapters = append(r.adapters, c)
}

func (r *readiness) check(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		return errors.New("starting: loading the duplicate index")
	}
	for _, a := range r.adapters {
		if !a.Connected() {
			return fmt.Errorf("%s adapter is not connected", a.Name())
		}
	}
	return nil
}
