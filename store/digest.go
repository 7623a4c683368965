package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

const digestColumns = `id, platform, workspace, channel, every, since_at, next_at, period, actor, created_at, updated_at`

func fixDigest(d *bot.Digest) {
	d.SinceAt = d.SinceAt.UTC()
	d.CreatedAt = d.CreatedAt.UTC()
	d.UpdatedAt = d.UpdatedAt.UTC()
	if d.NextAt != nil {
		t := d.NextAt.UTC()
		d.NextAt = &t
	}
}

// SetDigest sets a channel's digest interval. A new digest's first period
// starts now; changing the interval of an existing one keeps its period
// start and makes the next one due one interval from now (off: never).
func (s *DB) SetDigest(ctx context.Context, in bot.SetDigestInput) (*bot.Digest, error) {
	if in.Every != bot.DigestDaily && in.Every != bot.DigestWeekly && in.Every != bot.DigestOff {
		return nil, bot.Errorf(bot.EINVALID, "%q is not a digest interval.", in.Every)
	}
	now := s.now().UTC()
	var next *time.Time
	if iv := bot.DigestInterval(in.Every); iv > 0 {
		t := now.Add(iv)
		next = &t
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, tx.Rebind(`
		INSERT INTO digests (platform, workspace, channel, every, since_at, next_at, actor, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, workspace, channel) DO UPDATE SET every = excluded.every, next_at = excluded.next_at,
			actor = excluded.actor, updated_at = excluded.updated_at`),
		in.Platform, in.Workspace, in.Channel, in.Every, now, next, in.Actor, now, now); err != nil {
		return nil, fmt.Errorf("set digest: %w", err)
	}
	d, err := findDigest(ctx, tx, in.Platform, in.Workspace, in.Channel)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, storageError(fmt.Errorf("commit: %w", err))
	}
	return d, nil
}

func findDigest(ctx context.Context, tx *sqlx.Tx, platform, workspace, channel string) (*bot.Digest, error) {
	var d bot.Digest
	err := tx.GetContext(ctx, &d, tx.Rebind(`SELECT `+digestColumns+` FROM digests WHERE platform = ? AND workspace = ? AND channel = ?`), platform, workspace, channel)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find digest: %w", err)
	}
	fixDigest(&d)
	return &d, nil
}

// FindDigests lists a workspace's digests by channel.
func (s *DB) FindDigests(ctx context.Context, platform, workspace string) ([]*bot.Digest, error) {
	var out []*bot.Digest
	if err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT `+digestColumns+` FROM digests WHERE platform = ? AND workspace = ? ORDER BY channel`), platform, workspace); err != nil {
		return nil, fmt.Errorf("find digests: %w", err)
	}
	for _, d := range out {
		fixDigest(d)
	}
	return out, nil
}

// PostDueDigests claims each digest due now, one transaction per digest:
// an UPDATE conditioned on the digest's next_at moves the period on (so of
// several replicas only one claims a period) and, when the period has
// something to say, the digest event and its delivery are written in the
// same transaction. The event's idempotency key names the digest and its
// period, so a period is never enqueued twice.
func (s *DB) PostDueDigests(ctx context.Context, in bot.PostDigestInput) ([]*bot.DigestPost, error) {
	now := s.now().UTC()
	var due []*bot.Digest
	if err := s.db.SelectContext(ctx, &due, s.db.Rebind(`SELECT `+digestColumns+` FROM digests WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at, id`), now); err != nil {
		return nil, fmt.Errorf("due digests: %w", err)
	}
	var out []*bot.DigestPost
	for _, d := range due {
		fixDigest(d)
		p, err := s.postDigest(ctx, d, in, now, true)
		if err != nil {
			return out, err
		}
		if p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// PostDigestNow posts in's channel digest at once (an off digest is
// created there when there is none, its period starting at the beginning).
// Nothing is written when there is nothing new.
func (s *DB) PostDigestNow(ctx context.Context, in bot.PostDigestInput) (*bot.DigestPost, error) {
	now := s.now().UTC()
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`
		INSERT INTO digests (platform, workspace, channel, every, since_at, next_at, actor, created_at, updated_at)
		VALUES (?, ?, ?, 'off', ?, NULL, ?, ?, ?) ON CONFLICT (platform, workspace, channel) DO NOTHING`),
		in.Platform, in.Workspace, in.Channel, time.Unix(0, 0).UTC(), in.Actor, now, now); err != nil {
		return nil, fmt.Errorf("create digest: %w", err)
	}
	var d bot.Digest
	if err := s.db.GetContext(ctx, &d, s.db.Rebind(`SELECT `+digestColumns+` FROM digests WHERE platform = ? AND workspace = ? AND channel = ?`), in.Platform, in.Workspace, in.Channel); err != nil {
		return nil, fmt.Errorf("find digest: %w", err)
	}
	fixDigest(&d)
	p, err := s.postDigest(ctx, &d, in, now, false)
	if err != nil {
		return nil, err
	}
	if p == nil { // another digest of this period was claimed at the same moment
		return &bot.DigestPost{Content: &bot.DigestContent{Digest: &d, Since: d.SinceAt, Until: now}}, nil
	}
	return p, nil
}

// postDigest claims digest d's period (since_at as read, up to now) and
// enqueues its post. scheduled: claim only while due, and move next_at on
// by the interval. Nil when another transaction claimed it first.
func (s *DB) postDigest(ctx context.Context, d *bot.Digest, in bot.PostDigestInput, now time.Time, scheduled bool) (*bot.DigestPost, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	c, err := digestContent(ctx, tx, d, now)
	if err != nil {
		return nil, err
	}
	var res sql.Result
	if scheduled {
		iv := bot.DigestInterval(d.Every)
		next := now.Add(iv)
		if d.NextAt != nil && iv > 0 { // keep the schedule's phase after a late claim
			next = d.NextAt.Add(iv)
			for !next.After(now) {
				next = next.Add(iv)
			}
		}
		res, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE digests SET since_at = ?, next_at = ?, period = period + 1, updated_at = ?
			WHERE id = ? AND period = ? AND next_at <= ?`), now, next, now, d.ID, d.Period, now)
	} else {
		if c.Empty() {
			return &bot.DigestPost{Content: c}, nil
		}
		res, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE digests SET since_at = ?, period = period + 1, updated_at = ? WHERE id = ? AND period = ?`), now, now, d.ID, d.Period)
	}
	if err != nil {
		return nil, fmt.Errorf("claim digest: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, err
	}
	p := &bot.DigestPost{Content: c}
	if !c.Empty() {
		key := "digest:" + strconv.FormatInt(d.ID, 10) + ":" + strconv.FormatInt(d.Period, 10)
		var eventID int64
		err := tx.GetContext(ctx, &eventID, tx.Rebind(`
			INSERT INTO release_events (action, version, note, actor, idempotency_key, result, created_at)
			VALUES (?, '', '', ?, ?, '', ?) ON CONFLICT (idempotency_key) WHERE idempotency_key <> '' DO NOTHING RETURNING id`),
			bot.ActionDigest, in.Actor, key, now)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil // this period was posted already
		}
		if err != nil {
			return nil, fmt.Errorf("insert digest event: %w", err)
		}
		th := bot.Thread{Platform: d.Platform, Workspace: d.Workspace, Channel: d.Channel}
		due := now
		if in.Schedule != nil {
			if ts := in.Schedule([]bot.Thread{th}, now); len(ts) == 1 {
				due = ts[0]
			}
		}
		text := ""
		if in.Text != nil {
			text = in.Text(c)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO deliveries (event_id, platform, workspace, channel, thread_id, text, state, attempts, next_at, created_at)
			VALUES (?, ?, ?, ?, '', ?, ?, 0, ?, ?)`), eventID, th.Platform, th.Workspace, th.Channel, text, bot.DeliveryPending, due, now); err != nil {
			return nil, fmt.Errorf("insert digest delivery: %w", err)
		}
		p.Posted = true
	}
	if err := tx.Commit(); err != nil {
		return nil, storageError(fmt.Errorf("commit: %w", err))
	}
	return p, nil
}

// digestContent reads what happened in (d.SinceAt, now]: requests created
// (canonical, not removed), older requests by new people, ships and
// rollbacks.
func digestContent(ctx context.Context, tx *sqlx.Tx, d *bot.Digest, now time.Time) (*bot.DigestContent, error) {
	since := d.SinceAt
	c := &bot.DigestContent{Digest: d, Since: since, Until: now}
	var news []*bot.Request
	if err := tx.SelectContext(ctx, &news, tx.Rebind(`SELECT `+requestColumns+` FROM requests
		WHERE merged_into IS NULL AND removed_at IS NULL AND created_at > ? AND created_at <= ? ORDER BY id DESC LIMIT ?`),
		since, now, bot.DigestNewMax+1); err != nil {
		return nil, fmt.Errorf("digest new: %w", err)
	}
	for _, r := range news {
		fixRequest(r)
	}
	c.New = news
	rows, err := tx.QueryContext(ctx, tx.Rebind(`
		SELECT r.root_id, COUNT(DISTINCT v.person) FROM voters v JOIN requests r ON r.id = v.request_id
		WHERE v.created_at > ? AND v.created_at <= ?
		AND NOT EXISTS (SELECT 1 FROM voters v2 JOIN requests r2 ON r2.id = v2.request_id
			WHERE r2.root_id = r.root_id AND v2.person = v.person AND v2.created_at <= ?)
		GROUP BY r.root_id ORDER BY COUNT(DISTINCT v.person) DESC, r.root_id LIMIT 50`), since, now, since)
	if err != nil {
		return nil, fmt.Errorf("digest rising: %w", err)
	}
	type rise struct {
		id int64
		n  int
	}
	var rises []rise
	for rows.Next() {
		var x rise
		if err := rows.Scan(&x.id, &x.n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("digest rising: %w", err)
		}
		rises = append(rises, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("digest rising: %w", err)
	}
	for _, x := range rises {
		if len(c.Rising) == bot.DigestRisingMax {
			break
		}
		r, err := findRequestByID(ctx, tx, x.id)
		if err != nil {
			return nil, err
		}
		if r.MergedInto != nil || r.RemovedAt != nil || r.CreatedAt.After(since) {
			continue // new requests are listed as new
		}
		c.Rising = append(c.Rising, bot.RisingRequest{Request: r, NewPeople: x.n})
	}
	var evs []*bot.ReleaseEvent
	if err := tx.SelectContext(ctx, &evs, tx.Rebind(`SELECT `+releaseColumns+` FROM release_events
		WHERE action IN ('shipped', 'rolled_back') AND created_at > ? AND created_at <= ? ORDER BY id LIMIT 50`), since, now); err != nil {
		return nil, fmt.Errorf("digest releases: %w", err)
	}
	for _, ev := range evs {
		ev.CreatedAt = ev.CreatedAt.UTC()
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, tx.Rebind(`SELECT DISTINCT request_id FROM status_history WHERE event_id = ? ORDER BY request_id`), ev.ID); err != nil {
			return nil, fmt.Errorf("digest release requests: %w", err)
		}
		rel := bot.DigestRelease{Event: ev}
		for _, id := range ids {
			r, err := findRequestByID(ctx, tx, id)
			if err != nil {
				return nil, err
			}
			rel.Requests = append(rel.Requests, r)
		}
		c.Releases = append(c.Releases, rel)
	}
	return c, nil
}
