package bot

import (
	"context"
	"strings"
	"time"
)

// Digest intervals (/feedback digest [#channel] daily|weekly|off).
const (
	DigestDaily  = "daily"
	DigestWeekly = "weekly"
	DigestOff    = "off"
)

// ActionDigest is the release_events action of a posted digest: an event
// with one delivery, in the digest's channel.
const ActionDigest = "digest"

// DigestInterval returns the period of a digest interval (0 for off).
func DigestInterval(every string) time.Duration {
	switch every {
	case DigestDaily:
		return 24 * time.Hour
	case DigestWeekly:
		return 7 * 24 * time.Hour
	}
	return 0
}

// Digest is a channel's digest setting.
type Digest struct {
	ID        int64      `db:"id"`
	Platform  string     `db:"platform"`
	Workspace string     `db:"workspace"`
	Channel   string     `db:"channel"`
	Every     string     `db:"every"`
	SinceAt   time.Time  `db:"since_at"` // start of the next digest's period
	NextAt    *time.Time `db:"next_at"`  // when it is due; nil when off
	Period    int64      `db:"period"`   // digests posted (or claimed) so far
	Actor     string     `db:"actor"`
	CreatedAt time.Time  `db:"created_at"`
	UpdatedAt time.Time  `db:"updated_at"`
}

// RisingRequest is a request with the people who joined it in a period.
type RisingRequest struct {
	Request   *Request
	NewPeople int
}

// DigestRelease is a ship or rollback of a period with its requests.
type DigestRelease struct {
	Event    *ReleaseEvent
	Requests []*Request
}

// DigestContent is what a digest says about [Since, Until).
type DigestContent struct {
	Digest   *Digest
	Since    time.Time
	Until    time.Time
	New      []*Request      // requests created in the period, newest first
	Rising   []RisingRequest // older requests by most new people
	Releases []DigestRelease // ships and rollbacks, oldest first
}

// Empty reports whether the digest has nothing to say.
func (c *DigestContent) Empty() bool {
	return c == nil || len(c.New) == 0 && len(c.Rising) == 0 && len(c.Releases) == 0
}

// SetDigestInput sets a channel's digest (Every: daily, weekly or off).
type SetDigestInput struct {
	Platform, Workspace, Channel string
	Every                        string
	Actor                        string
}

// PostDigestInput posts due digests (Channel empty) or one channel's
// digest now. Text renders the digest; Schedule gives the delivery's due
// time (the outbox's pacing).
type PostDigestInput struct {
	Platform, Workspace, Channel string
	Actor                        string
	Text                         func(*DigestContent) string
	Schedule                     func(threads []Thread, now time.Time) []time.Time
}

// DigestPost is one digest the store handled: Posted when a delivery was
// enqueued (false: nothing to say, and nothing was written).
type DigestPost struct {
	Content *DigestContent
	Posted  bool
}

// DigestStore is the store side of digests. Claims are atomic: of two
// replicas running PostDueDigests at once, one posts each due period.
type DigestStore interface {
	SetDigest(ctx context.Context, in SetDigestInput) (*Digest, error)
	FindDigests(ctx context.Context, platform, workspace string) ([]*Digest, error)
	// PostDueDigests claims every digest due at the store's now, moves
	// its period on and, when there is something to say, enqueues its
	// delivery in the same transaction.
	PostDueDigests(ctx context.Context, in PostDigestInput) ([]*DigestPost, error)
	// PostDigestNow does the same for in's channel at once (creating an
	// off digest there when there is none), keeping its schedule.
	PostDigestNow(ctx context.Context, in PostDigestInput) (*DigestPost, error)
}

func (e *Engine) digestStore() (DigestStore, error) {
	ds, ok := e.store.(DigestStore)
	if !ok {
		return nil, Errorf(EUNAVAILABLE, "Digests are not available with this store.")
	}
	return ds, nil
}

// SetDigestResult is what SetDigest did.
type SetDigestResult struct {
	Digest      *Digest
	ChannelName string
}

// SetDigest turns a channel's digest on (daily, weekly) or off (team).
func (e *Engine) SetDigest(ctx context.Context, a Actor, in SetDigestInput) (*SetDigestResult, error) {
	if err := RequireTeam(a, doDigest); err != nil {
		return nil, err
	}
	in.Every = strings.ToLower(in.Every)
	if in.Every != DigestDaily && in.Every != DigestWeekly && in.Every != DigestOff {
		return nil, Errorf(EINVALID, "A digest is daily, weekly or off.")
	}
	if in.Channel == "" {
		return nil, Errorf(EINVALID, "Name a channel for the digest.")
	}
	ds, err := e.digestStore()
	if err != nil {
		return nil, err
	}
	in.Actor = a.DisplayName()
	d, err := ds.SetDigest(ctx, in)
	if err != nil {
		return nil, err
	}
	return &SetDigestResult{Digest: d, ChannelName: e.channelName(in.Platform, in.Channel)}, nil
}

// DigestNowInput names the channel of /feedback digest now: Channel when
// named, else the digest of Current (or the workspace's only digest), else
// Current.
type DigestNowInput struct {
	Platform, Workspace string
	Channel             string
	Current             string
}

// DigestNowResult is what DigestNow did: Posted false means nothing new.
type DigestNowResult struct {
	Channel     string
	ChannelName string
	Content     *DigestContent
	Posted      bool
}

// DigestNow posts a channel's digest at once and starts its next period
// there (team). Nothing is posted when there is nothing new.
func (e *Engine) DigestNow(ctx context.Context, a Actor, in DigestNowInput) (*DigestNowResult, error) {
	if err := RequireTeam(a, doDigest); err != nil {
		return nil, err
	}
	ds, err := e.digestStore()
	if err != nil {
		return nil, err
	}
	ch := in.Channel
	if ch == "" {
		ds2, err := ds.FindDigests(ctx, in.Platform, in.Workspace)
		if err != nil {
			return nil, err
		}
		var on []*Digest
		for _, d := range ds2 {
			if d.Channel == in.Current {
				ch = d.Channel
				break
			}
			if d.NextAt != nil {
				on = append(on, d)
			}
		}
		if ch == "" && len(on) == 1 {
			ch = on[0].Channel
		}
		if ch == "" {
			ch = in.Current
		}
	}
	if ch == "" {
		return nil, Errorf(EINVALID, "Name a channel for the digest.")
	}
	p, err := ds.PostDigestNow(ctx, e.digestInput(in.Platform, in.Workspace, ch, a.DisplayName()))
	if err != nil {
		return nil, err
	}
	if p.Posted {
		e.outbox.Kick()
	}
	return &DigestNowResult{Channel: ch, ChannelName: e.channelName(in.Platform, ch), Content: p.Content, Posted: p.Posted}, nil
}

func (e *Engine) digestInput(platform, workspace, channel, actor string) PostDigestInput {
	t := e.Text()
	return PostDigestInput{Platform: platform, Workspace: workspace, Channel: channel, Actor: actor,
		Text: t.Digest, Schedule: e.outbox.Schedule}
}

// RunDigests posts every digest that is due (as the digest actor) and
// returns how many were posted. Engine.Run calls it every DigestPoll; of
// several replicas, one posts each digest.
func (e *Engine) RunDigests(ctx context.Context) (int, error) {
	ds, ok := e.store.(DigestStore)
	if !ok {
		return 0, nil
	}
	a := ServiceActor(ActorDigest, "digest", true, false)
	posts, err := ds.PostDueDigests(ctx, e.digestInput("", "", "", a.DisplayName()))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range posts {
		if p.Posted {
			n++
		}
	}
	if n > 0 {
		e.outbox.Kick()
	}
	return n, nil
}

// runDigests checks for due digests every DigestPoll until ctx ends.
func (e *Engine) runDigests(ctx context.Context) {
	if e.cfg.DigestPoll <= 0 {
		return
	}
	t := time.NewTicker(e.cfg.DigestPoll)
	defer t.Stop()
	for {
		if _, err := e.RunDigests(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("digests", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
