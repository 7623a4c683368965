package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

const releaseColumns = `id, action, version, note, actor, idempotency_key, fingerprint, result, created_at`

// deliveryBatch is how many deliveries one INSERT writes.
const deliveryBatch = 500

// Release ships or rolls back requests in one transaction: the event, the
// statuses and history rows of the canonical requests of in.RequestIDs, and
// one pending delivery per subscribed thread of the changed requests (their
// mentions' threads and those of everything merged into them; mentions
// without a thread, such as API captures, have none). Requests already in the
// target state are skipped: shipping needs a status other than shipped,
// rolling back needs shipped. EINVALID for a bad action or no requests;
// ENOTFOUND when a request does not exist; ECONFLICT, writing nothing, when
// in.IdempotencyKey was used before.
func (s *DB) Release(ctx context.Context, in bot.ReleaseInput) (*bot.ReleaseResult, error) {
	var to bot.Status
	switch in.Action {
	case bot.ActionShipped:
		to = bot.StatusShipped
	case bot.ActionRolledBack:
		to = bot.StatusRolledBack
	default:
		return nil, bot.Errorf(bot.EINVALID, "Unknown release action %q.", in.Action)
	}
	if len(in.RequestIDs) == 0 {
		return nil, bot.Errorf(bot.EINVALID, "A release needs at least one request.")
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.now()

	ev := &bot.ReleaseEvent{
		Action:         in.Action,
		Version:        in.Version,
		Note:           in.Note,
		Actor:          in.Actor,
		IdempotencyKey: in.IdempotencyKey,
		Fingerprint:    in.Fingerprint,
		CreatedAt:      now,
	}
	err = tx.GetContext(ctx, &ev.ID, tx.Rebind(`
		INSERT INTO release_events (action, version, note, actor, idempotency_key, fingerprint, result, created_at)
		VALUES (?, ?, ?, ?, ?, ?, '', ?) RETURNING id`),
		ev.Action, ev.Version, ev.Note, ev.Actor, ev.IdempotencyKey, ev.Fingerprint, now)
	if isUniqueViolation(err) {
		return nil, storeError(bot.ECONFLICT, bot.ReasonReleaseRecorded, "This release was already recorded.")
	}
	if err != nil {
		return nil, fmt.Errorf("insert release event: %w", err)
	}

	roots, err := lockGroups(ctx, tx, in.RequestIDs...)
	if err != nil {
		return nil, err
	}
	res := &bot.ReleaseResult{Event: ev}
	seen := map[int64]bool{}
	for _, id := range in.RequestIDs {
		root := roots[id]
		if seen[root] {
			continue
		}
		seen[root] = true
		r, err := findRequestByID(ctx, tx, root)
		if err != nil {
			return nil, err
		}
		eligible := r.Status != bot.StatusShipped
		if to == bot.StatusRolledBack {
			eligible = r.Status == bot.StatusShipped
		}
		if !eligible {
			res.Skipped = append(res.Skipped, r)
			continue
		}
		if _, err := setStatus(ctx, tx, r, to, in.Actor, in.Version, in.Note, &ev.ID, now); err != nil {
			return nil, err
		}
		res.Changed = append(res.Changed, r)
	}
	n, err := enqueueDeliveries(ctx, tx, ev.ID, res.Changed, in.Text, in.Schedule, now)
	if err != nil {
		return nil, err
	}
	res.Threads = n
	if in.Result != nil {
		// The answer is stored with the event, so that a replay of the
		// idempotency key never sees the event without it.
		ev.Result = in.Result(res)
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE release_events SET result = ? WHERE id = ?`), ev.Result, ev.ID); err != nil {
			return nil, fmt.Errorf("store release result: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// enqueueDeliveries inserts one delivery per subscribed thread of reqs
// (canonical requests) for event eventID and returns how many, each due at
// the time schedule gives it (the engine's pacing), or now.
func enqueueDeliveries(ctx context.Context, tx *sqlx.Tx, eventID int64, reqs []*bot.Request, text func([]*bot.Request) string, schedule func([]bot.Thread, time.Time) []time.Time, now time.Time) (int, error) {
	if len(reqs) == 0 {
		return 0, nil
	}
	pos := make(map[int64]int, len(reqs))
	ids := make([]int64, len(reqs))
	for i, r := range reqs {
		pos[r.ID] = i
		ids[i] = r.ID
	}
	q, args, err := sqlx.In(`SELECT DISTINCT r.root_id, m.platform, m.workspace, m.channel, m.thread_id
		FROM mentions m JOIN requests r ON r.id = m.request_id
		WHERE r.root_id IN (?) AND m.thread_id <> '' AND m.platform <> ?`, ids, bot.PlatformAPI)
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, tx.Rebind(q), args...)
	if err != nil {
		return 0, fmt.Errorf("find subscribed threads: %w", err)
	}
	subs := map[bot.Thread][]int{}
	for rows.Next() {
		var root int64
		var t bot.Thread
		if err := rows.Scan(&root, &t.Platform, &t.Workspace, &t.Channel, &t.ThreadID); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find subscribed threads: %w", err)
		}
		subs[t] = append(subs[t], pos[root])
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find subscribed threads: %w", err)
	}
	threads := make([]bot.Thread, 0, len(subs))
	for t := range subs {
		threads = append(threads, t)
	}
	sort.Slice(threads, func(i, j int) bool {
		a, b := threads[i], threads[j]
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		if a.Workspace != b.Workspace {
			return a.Workspace < b.Workspace
		}
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		return a.ThreadID < b.ThreadID
	})
	var due []time.Time
	if schedule != nil {
		due = schedule(threads, now)
	}
	if len(due) != len(threads) {
		due = make([]time.Time, len(threads))
		for i := range due {
			due[i] = now
		}
	}
	for start := 0; start < len(threads); start += deliveryBatch {
		batch := threads[start:min(start+deliveryBatch, len(threads))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO deliveries (event_id, platform, workspace, channel, thread_id, text, state, attempts, next_at, created_at) VALUES `)
		args := make([]any, 0, len(batch)*10)
		for i, t := range batch {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, 0, ?, ?)")
			p := subs[t]
			sort.Ints(p)
			rs := make([]*bot.Request, 0, len(p))
			for _, k := range p {
				rs = append(rs, reqs[k])
			}
			body := ""
			if text != nil {
				body = text(rs)
			}
			args = append(args, eventID, t.Platform, t.Workspace, t.Channel, t.ThreadID, body, bot.DeliveryPending, due[start+i], now)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(sb.String()), args...); err != nil {
			return 0, fmt.Errorf("insert deliveries: %w", err)
		}
	}
	if len(threads) > 0 {
		if err := notifyEnqueued(ctx, tx); err != nil {
			return 0, err
		}
	}
	return len(threads), nil
}

// FindReleaseByIdempotencyKey returns the event recorded with key. ENOTFOUND.
func (s *DB) FindReleaseByIdempotencyKey(ctx context.Context, key string) (*bot.ReleaseEvent, error) {
	if key == "" {
		return nil, bot.Errorf(bot.ENOTFOUND, "There is no release with that idempotency key.")
	}
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var ev bot.ReleaseEvent
	err = tx.GetContext(ctx, &ev, tx.Rebind(`SELECT `+releaseColumns+` FROM release_events WHERE idempotency_key = ?`), key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "There is no release with that idempotency key.")
	}
	if err != nil {
		return nil, fmt.Errorf("find release: %w", err)
	}
	ev.CreatedAt = ev.CreatedAt.UTC()
	return &ev, nil
}

// SetReleaseResult stores the first answer to a release, for idempotent
// replays. ENOTFOUND.
func (s *DB) SetReleaseResult(ctx context.Context, eventID int64, result string) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE release_events SET result = ? WHERE id = ?`), result, eventID)
	if err != nil {
		return fmt.Errorf("set release result: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bot.Errorf(bot.ENOTFOUND, "Release %d does not exist.", eventID)
	}
	return tx.Commit()
}

// FindShippedIn returns the ids of requests whose status is shipped and whose
// latest ship was in version, in id order.
func (s *DB) FindShippedIn(ctx context.Context, version string) ([]int64, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var ids []int64
	err = tx.SelectContext(ctx, &ids, tx.Rebind(`
		SELECT DISTINCT h.request_id FROM status_history h JOIN requests r ON r.id = h.request_id
		WHERE h.to_status = 'shipped' AND h.version = ? AND r.status = 'shipped'
		AND h.id = (SELECT MAX(h2.id) FROM status_history h2 WHERE h2.request_id = h.request_id AND h2.to_status = 'shipped')
		ORDER BY h.request_id`), version)
	if err != nil {
		return nil, fmt.Errorf("find shipped in %q: %w", version, err)
	}
	return ids, nil
}
