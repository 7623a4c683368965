package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
)

// ReleaseCommand asks the engine to ship or roll back requests.
type ReleaseCommand struct {
	Action  string // ActionShipped or ActionRolledBack
	Keys    []string
	Version string
	Note    string
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
// per subscribed thread is enqueued; the worker posts them. With no keys, a
// roll back takes every request shipped in c.Version. EFORBIDDEN; EINVALID
// for a bad action or no keys; ENOTFOUND for an unknown key (unless
// AllowUnknown, which lists it in the outcome instead).
func (e *Engine) Release(ctx context.Context, a Actor, c ReleaseCommand) (*ReleaseOutcome, error) {
	what := doShip
	if c.Action == ActionRolledBack {
		what = doRollback
	} else if c.Action != ActionShipped {
		return nil, errUnknownAction(c.Action)
	}
	if err := RequireReleaseLead(a, what); err != nil {
		return nil, err
	}
	fp := releaseFingerprint(c)
	if c.IdempotencyKey != "" {
		if ev, err := e.store.FindReleaseByIdempotencyKey(ctx, c.IdempotencyKey); err == nil {
			return e.replayed(ev, fp)
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
			return nil, errNothingShippedIn(c.Version)
		}
		ids = shipped
	}
	if len(ids) == 0 {
		if len(out.Unknown) > 0 {
			return out, nil
		}
		return nil, e.Text().errNoKeys()
	}
	res, err := e.store.Release(ctx, ReleaseInput{
		Action: c.Action, Version: c.Version, Note: c.Note, Actor: a.DisplayName(),
		IdempotencyKey: c.IdempotencyKey, Fingerprint: fp, RequestIDs: ids,
		Text:     func(reqs []*Request) string { return e.Text().ReleaseReply(c.Action, c.Version, c.Note, reqs) },
		Schedule: e.outbox.Schedule,
		Result: func(res *ReleaseResult) string {
			b, _ := json.Marshal(e.outcome(*out, res))
			return string(b)
		},
	})
	if ErrorCode(err) == ECONFLICT && c.IdempotencyKey != "" {
		ev, ferr := e.store.FindReleaseByIdempotencyKey(ctx, c.IdempotencyKey)
		if ferr == nil {
			return e.replayed(ev, fp)
		}
	}
	if err != nil {
		return nil, err
	}
	*out = e.outcome(*out, res)
	if res.Threads > 0 {
		e.outbox.Kick()
	}
	for _, r := range res.Changed {
		e.reindex(ctx, r.ID)
	}
	if c.Progress != nil && res.Threads > 0 {
		e.outbox.Track(ctx, c.Platform, *c.Progress, out)
	}
	return out, nil
}

// outcome is out completed with what the store did.
func (e *Engine) outcome(out ReleaseOutcome, res *ReleaseResult) ReleaseOutcome {
	out.EventID = res.Event.ID
	out.Threads = res.Threads
	out.Changed = make([]string, 0, len(res.Changed))
	for _, r := range res.Changed {
		out.Changed = append(out.Changed, e.Key(r.ID))
	}
	out.Skipped = make([]string, 0, len(res.Skipped))
	for _, r := range res.Skipped {
		out.Skipped = append(out.Skipped, e.Key(r.ID))
	}
	return out
}

// releaseFingerprint identifies what c asks for (not who asks), to tell a
// retry of an idempotency key from its reuse for another release.
func releaseFingerprint(c ReleaseCommand) string {
	h := sha256.New()
	for _, s := range append([]string{c.Action, c.Version, c.Note}, c.Keys...) {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// replayed is the stored answer of the release made with the same
// idempotency key, marked as a replay; ECONFLICT when that release asked
// for something else (fingerprint fp differs).
func (e *Engine) replayed(ev *ReleaseEvent, fp string) (*ReleaseOutcome, error) {
	if ev.Fingerprint != "" && ev.Fingerprint != fp {
		return nil, errIdempotencyReused()
	}
	var out ReleaseOutcome
	if ev.Result == "" || json.Unmarshal([]byte(ev.Result), &out) != nil {
		out = ReleaseOutcome{EventID: ev.ID, Action: ev.Action, Version: ev.Version}
	}
	out.Replayed = true
	return &out, nil
}
