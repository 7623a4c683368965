// Package tracker follows GitHub and Linear: their webhooks update the state
// of the items linked to requests (links are made with /feedback track, the
// links API, or automatically when an item mentions a request key), and the
// transitions those states ask for (planned, in progress, shipped, rolled
// back, declined) go through the engine's use cases with a github or linear
// actor, like a chat ship or status change. See the README section "Issue
// trackers (GitHub, Linear)".
//
// Each delivery id is processed once: it is recorded in the transaction that
// writes the item states and automatic links, every status change carries an
// idempotency key derived from it, and a delivery that was recorded but not
// finished (a crash, or another replica working on it) is resumed with the
// same keys, so redeliveries, restarts and replicas never notify twice.
package tracker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// MaxBody is the largest webhook body accepted (larger ones answer 413).
const MaxBody = 1 << 20

// Webhook sources; also the actor names written in the history.
const (
	SourceGitHub = "github"
	SourceLinear = "linear"
)

// Store is what the tracker reads and writes directly.
type Store interface {
	bot.LinkStore
	ResolveRequest(ctx context.Context, id int64) (*bot.Request, error)
	FindShippedIn(ctx context.Context, version string) ([]int64, error)
}

// Engine applies transitions through the board's use cases. source is
// SourceGitHub or SourceLinear, the actor of the change.
type Engine interface {
	// Release ships (bot.ActionShipped) or rolls back requests in one
	// event; a repeated idempotency key does nothing again.
	Release(ctx context.Context, source, action string, ids []int64, version, note, idempotencyKey string) error
	// SetStatus moves a request to planned, in_progress or declined; a
	// request already there is not an error.
	SetStatus(ctx context.Context, source string, id int64, to bot.Status, note string) error
}

// Config configures the webhook endpoints.
type Config struct {
	// GitHubSecret and LinearSecret are the webhook secrets; a route whose
	// secret is empty answers 404.
	GitHubSecret string
	LinearSecret string
	// ShipOn is ShipOnMerge (default) or ShipOnRelease.
	ShipOn string
	// KeyPrefix is the request key prefix, default "FB".
	KeyPrefix string
	// Now is the clock for Linear's freshness check (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service serves POST /webhooks/github and POST /webhooks/linear.
type Service struct {
	cfg   Config
	store Store
	eng   Engine
	keyRe *regexp.Regexp
	log   *slog.Logger
}

// New returns the webhook service.
func New(cfg Config, st Store, eng Engine) *Service {
	if cfg.ShipOn == "" {
		cfg.ShipOn = ShipOnMerge
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "FB"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		cfg:   cfg,
		store: st,
		eng:   eng,
		keyRe: regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(cfg.KeyPrefix) + `-([0-9]{1,18})\b`),
		log:   log,
	}
}

// ValidShipOn reports whether s is a FEEDBACKBOT_GITHUB_SHIP_ON value.
func ValidShipOn(s string) bool { return s == ShipOnMerge || s == ShipOnRelease }

// Register adds the webhook routes to mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.Handle("POST /webhooks/github", http.HandlerFunc(s.serveGitHub))
	mux.Handle("POST /webhooks/linear", http.HandlerFunc(s.serveLinear))
}

// Keys returns the ids of the request keys mentioned in texts, in order of
// first mention.
func (s *Service) Keys(texts ...string) []int64 {
	var ids []int64
	for _, t := range texts {
		for _, m := range s.keyRe.FindAllStringSubmatch(t, -1) {
			id, err := strconv.ParseInt(m[1], 10, 64)
			if err == nil && id > 0 && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// ChangeMade is one status change a delivery asked for, for the webhook's answer.
type ChangeMade struct {
	Key  string     `json:"key"`
	From bot.Status `json:"from"`
	To   bot.Status `json:"to"`
}

// Outcome is the webhook's answer body.
type Outcome struct {
	Delivery string       `json:"delivery,omitempty"`
	Event    string       `json:"event,omitempty"`
	Ignored  bool         `json:"ignored,omitempty"`
	Replayed bool         `json:"replayed,omitempty"`
	Linked   []string     `json:"linked,omitempty"`
	Changes  []ChangeMade `json:"changes"`
}

// delivery is what a webhook carries once decoded.
type delivery struct {
	source, id, event string
	items             []bot.ItemUpdate
	// revertedBy maps an item reverted by this delivery to "#M".
	revertedBy map[string]string
	// after runs once the item updates are recorded (release events).
	after func(ctx context.Context, out *Outcome) error
}

// process records d once and applies the transitions it asks for.
func (s *Service) process(ctx context.Context, d *delivery) (*Outcome, error) {
	out := &Outcome{Delivery: d.id, Event: d.event, Changes: []ChangeMade{}}
	rec, err := s.store.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{
		Source: d.source, DeliveryID: d.id, Event: d.event, Items: d.items, CreatedBy: d.source,
	})
	if err != nil {
		return nil, err
	}
	if rec.Done {
		out.Replayed = true
		return out, nil
	}
	if rec.Unrecorded {
		return out, nil // about nothing the board follows
	}
	out.Replayed = rec.Resumed
	for i, it := range rec.Items {
		if i >= len(d.items) {
			break
		}
		u := d.items[i]
		for _, id := range it.Linked {
			out.Linked = append(out.Linked, bot.FormatKey(s.cfg.KeyPrefix, id))
		}
		for _, rid := range it.Requests {
			req, err := s.store.ResolveRequest(ctx, rid)
			if err != nil {
				return nil, err
			}
			links, err := s.store.FindLinks(ctx, req.ID)
			if err != nil {
				return nil, err
			}
			ch := Change{Kind: u.Kind, Prev: it.Prev, Next: u.State, Milestone: u.Milestone,
				Linked: slices.Contains(it.Linked, rid), RevertedBy: d.revertedBy[it.Item]}
			for _, l := range links {
				if l.Item == it.Item {
					ch.Kind = l.Kind
				}
			}
			t := Decide(req.Status, links, ch, s.cfg.ShipOn)
			if t == nil {
				continue
			}
			if t.Note == "" && (t.To == bot.StatusPlanned || t.To == bot.StatusInProgress || t.To == bot.StatusDeclined) {
				t.Note = linkURL(links, it.Item)
			}
			key := fmt.Sprintf("%s:%s:%d:%d", d.source, d.id, i, req.ID)
			if err := s.apply(ctx, d.source, []int64{req.ID}, t, key); err != nil {
				return nil, err
			}
			out.Changes = append(out.Changes, ChangeMade{Key: bot.FormatKey(s.cfg.KeyPrefix, req.ID), From: req.Status, To: t.To})
		}
	}
	if d.after != nil {
		if err := d.after(ctx, out); err != nil {
			return nil, err
		}
	}
	if err := s.store.FinishTrackerDelivery(ctx, d.source, d.id); err != nil {
		return nil, err
	}
	return out, nil
}

func linkURL(links []*bot.Link, item string) string {
	for _, l := range links {
		if l.Item == item {
			return l.URL
		}
	}
	return ""
}

// apply runs one transition of requests ids through the engine.
func (s *Service) apply(ctx context.Context, source string, ids []int64, t *Transition, key string) error {
	switch t.To {
	case bot.StatusShipped:
		return s.eng.Release(ctx, source, bot.ActionShipped, ids, t.Version, t.Note, key)
	case bot.StatusRolledBack:
		return s.eng.Release(ctx, source, bot.ActionRolledBack, ids, t.Version, t.Note, key)
	}
	for _, id := range ids {
		if err := s.eng.SetStatus(ctx, source, id, t.To, t.Note); err != nil {
			return err
		}
	}
	return nil
}
