package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// ReleaseCommand asks the engine to ship or roll back requests.
type ReleaseCommand struct {
	Action  string // ActionShipped or ActionRolledBack
	Keys    []string
	Version string
	Note    string
	By      User
	// IdempotencyKey makes a repeated command (webhook retry) return the
	// first result without notifying anyone twice.
	IdempotencyKey string
	// AllowUnknown reports unknown keys in the outcome instead of failing
	// the whole command (the webhook's behaviour).
	AllowUnknown bool
	// Progress, when set, is where the bot posts the "Notifying N threads…"
	// message that it edits as deliveries progress.
	Progress *OutMessage
	Platform string
}

// ReleaseOutcome is what a release did.
type ReleaseOutcome struct {
	EventID  int64    `json:"event_id"`
	Action   string   `json:"action"`
	Version  string   `json:"version,omitempty"`
	Changed  []string `json:"changed"`
	Skipped  []string `json:"skipped"`
	Unknown  []string `json:"unknown"`
	Threads  int      `json:"threads"`
	Replayed bool     `json:"replayed,omitempty"`
}

// Release ships or rolls back requests (release leads only). In one store
// transaction the statuses change, history rows are written and one delivery
// per subscribed thread is enqueued; the worker posts them.
func (e *Engine) Release(ctx context.Context, c ReleaseCommand) (*ReleaseOutcome, error) {
	what := "ship requests"
	if c.Action == ActionRolledBack {
		what = "roll back releases"
	} else if c.Action != ActionShipped {
		return nil, Errorf(EINVALID, "Unknown release action %q: use shipped or rolled_back.", clip(c.Action, 30))
	}
	if err := RequireReleaseLead(c.By, what); err != nil {
		return nil, err
	}
	if c.IdempotencyKey != "" {
		if ev, err := e.store.FindReleaseByIdempotencyKey(ctx, c.IdempotencyKey); err == nil {
			return e.replayed(ev)
		} else if ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
	}
	out := &ReleaseOutcome{Action: c.Action, Version: c.Version, Changed: []string{}, Skipped: []string{}, Unknown: []string{}}
	var ids []int64
	seen := map[int64]bool{}
	for _, k := range c.Keys {
		id, err := e.ParseKey(k)
		var req *Request
		if err == nil {
			req, err = e.resolve(ctx, id)
		}
		if err != nil {
			if !c.AllowUnknown || (ErrorCode(err) != ENOTFOUND && ErrorCode(err) != EINVALID) {
				return nil, err
			}
			out.Unknown = append(out.Unknown, k)
			continue
		}
		if !seen[req.ID] {
			seen[req.ID] = true
			ids = append(ids, req.ID)
		}
	}
	if len(c.Keys) == 0 && c.Action == ActionRolledBack && c.Version != "" {
		shipped, err := e.store.FindShippedIn(ctx, c.Version)
		if err != nil {
			return nil, err
		}
		if len(shipped) == 0 {
			return nil, Errorf(ENOTFOUND, "No request is shipped in %s.", clip(c.Version, 40))
		}
		ids = shipped
	}
	if len(ids) == 0 {
		if len(out.Unknown) > 0 {
			return out, nil
		}
		return nil, Errorf(EINVALID, "Name at least one request key, for example %s-12.", e.cfg.KeyPrefix)
	}
	res, err := e.store.Release(ctx, ReleaseInput{
		Action: c.Action, Version: c.Version, Note: c.Note, Actor: actorName(c.By),
		IdempotencyKey: c.IdempotencyKey, RequestIDs: ids,
		Text:    func(reqs []*Request) string { return ReleaseText(c.Action, c.Version, c.Note, reqs) },
		Spacing: e.channelInterval,
	})
	if ErrorCode(err) == ECONFLICT && c.IdempotencyKey != "" {
		ev, ferr := e.store.FindReleaseByIdempotencyKey(ctx, c.IdempotencyKey)
		if ferr == nil {
			return e.replayed(ev)
		}
	}
	if err != nil {
		return nil, err
	}
	out.EventID = res.Event.ID
	out.Threads = res.Threads
	if res.Threads > 0 {
		e.kick()
	}
	for _, r := range res.Changed {
		out.Changed = append(out.Changed, e.Key(r.ID))
	}
	for _, r := range res.Skipped {
		out.Skipped = append(out.Skipped, e.Key(r.ID))
	}
	if b, err := json.Marshal(out); err == nil {
		if err := e.store.SetReleaseResult(ctx, res.Event.ID, string(b)); err != nil {
			e.log.Warn("save release result", "err", err)
		}
	}
	for _, r := range res.Changed {
		e.reindex(ctx, r.ID)
	}
	if c.Progress != nil && res.Threads > 0 {
		e.startProgress(ctx, c.Platform, *c.Progress, out)
	}
	return out, nil
}

func (e *Engine) replayed(ev *ReleaseEvent) (*ReleaseOutcome, error) {
	var out ReleaseOutcome
	if ev.Result == "" || json.Unmarshal([]byte(ev.Result), &out) != nil {
		out = ReleaseOutcome{EventID: ev.ID, Action: ev.Action, Version: ev.Version}
	}
	out.Replayed = true
	return &out, nil
}

// ReleaseText is the reply posted in a subscribed thread.
func ReleaseText(action, version, note string, reqs []*Request) string {
	titles := make([]string, len(reqs))
	for i, r := range reqs {
		titles[i] = r.Title
	}
	list := strings.Join(titles, "; ")
	var s string
	if action == ActionShipped {
		if version != "" {
			s = fmt.Sprintf("🚀 Shipped in %s: %s. Thanks for asking!", version, list)
		} else {
			s = fmt.Sprintf("🚀 Shipped: %s. Thanks for asking!", list)
		}
	} else {
		verb := "is"
		if len(reqs) > 1 {
			verb = "are"
		}
		if version != "" {
			s = fmt.Sprintf("↩️ %s was rolled back: %s %s not available for now. We'll reply here when it's back.", version, list, verb)
		} else {
			s = fmt.Sprintf("↩️ The release was rolled back: %s %s not available for now. We'll reply here when it's back.", list, verb)
		}
	}
	if note = strings.TrimSpace(note); note != "" {
		s += "\n> " + strings.ReplaceAll(note, "\n", "\n> ")
	}
	return s
}

// headline says what changed, for example "Shipped FB-1, FB-2 in v2.4."
func (o *ReleaseOutcome) headline() string {
	verb := "Shipped"
	if o.Action == ActionRolledBack {
		verb = "Rolled back"
	}
	s := verb + " " + strings.Join(o.Changed, ", ")
	if o.Version != "" {
		s += " in " + o.Version
	}
	return s + "."
}

// Summary is a one-line description of the outcome for the release lead.
func (o *ReleaseOutcome) Summary() string {
	var b strings.Builder
	verb := "Shipped"
	if o.Action == ActionRolledBack {
		verb = "Rolled back"
	}
	if len(o.Changed) > 0 {
		fmt.Fprintf(&b, "%s %s", verb, strings.Join(o.Changed, ", "))
		if o.Version != "" {
			fmt.Fprintf(&b, " in %s", o.Version)
		}
		fmt.Fprintf(&b, "; notifying %s.", threadCount(o.Threads))
	} else {
		b.WriteString("Nothing changed.")
	}
	if len(o.Skipped) > 0 {
		state := "already shipped"
		if o.Action == ActionRolledBack {
			state = "not shipped"
		}
		fmt.Fprintf(&b, " %s %s %s.", strings.Join(o.Skipped, ", "), isAre(len(o.Skipped)), state)
	}
	if len(o.Unknown) > 0 {
		fmt.Fprintf(&b, " Unknown: %s.", strings.Join(o.Unknown, ", "))
	}
	if o.Replayed {
		b.WriteString(" (repeated request: nothing was done again)")
	}
	return b.String()
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func threadCount(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%s threads", groupThousands(n))
}

func groupThousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Ship is the /feedback ship command.
func (e *Engine) Ship(ctx context.Context, ev *Event, keys []string, version, note string) (*Response, error) {
	return e.releaseCommand(ctx, ev, ActionShipped, keys, version, note)
}

// Rollback is the /feedback rollback command; with no keys it rolls back
// every request shipped in version.
func (e *Engine) Rollback(ctx context.Context, ev *Event, keys []string, version, reason string) (*Response, error) {
	return e.releaseCommand(ctx, ev, ActionRolledBack, keys, version, reason)
}

func (e *Engine) releaseCommand(ctx context.Context, ev *Event, action string, keys []string, version, note string) (*Response, error) {
	c := ReleaseCommand{Action: action, Keys: keys, Version: version, Note: note, By: ev.User, Platform: ev.Platform}
	if ev.Channel != "" && e.platform(ev.Platform) != nil {
		c.Progress = &OutMessage{Workspace: ev.Workspace, Channel: ev.Channel}
		if ev.Message != nil && ev.Message.ThreadID != "" {
			c.Progress.ThreadID = ev.Message.ThreadID
		}
	}
	out, err := e.Release(ctx, c)
	if err != nil {
		return nil, err
	}
	return &Response{Text: out.Summary()}, nil
}
