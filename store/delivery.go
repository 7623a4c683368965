package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

const deliveryColumns = `id, event_id, platform, workspace, channel, thread_id, text, state, attempts, next_at,
	locked_by, locked_until, last_error, message_id, created_at, done_at, buttons`

// claimable is the condition that a deliveries row may be claimed: pending
// and due, or running with a lapsed lease: it ran out, or its worker
// stopped beating (Heartbeat) and is taken for dead. Three terms, each
// served by an index (state, next_at or locked_until), so the claim never
// scans the whole table. The claimer's own heartbeat does not count: a
// worker whose heartbeat is late (a slow database) must not take back, over
// and over, the deliveries it holds. Its arguments are pending, the due
// limit, running, now, running, the claiming worker and now.
const claimable = `(state = ? AND next_at <= ?) OR (state = ? AND locked_until < ?)
			OR (state = ? AND locked_by <> ? AND locked_by IN (SELECT worker FROM delivery_workers WHERE expires_at < ?))`

// ClaimDeliveries leases up to limit due deliveries (pending with next_at
// passed, or running with a lapsed lease: expired, or held by a worker whose
// heartbeat expired) to worker until now+lease,
// counting an attempt, and returns them oldest due first. On PostgreSQL
// concurrent claimers skip each other's rows (FOR UPDATE SKIP LOCKED); on
// SQLite the write transaction serialises them. EINVALID without a worker.
func (s *DB) ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]*bot.Delivery, error) {
	return s.ClaimDeliveriesAhead(ctx, worker, limit, lease, 0)
}

// ClaimDeliveriesAhead is ClaimDeliveries for pending deliveries due within
// ahead from now: the worker queues them and waits for each one's next_at,
// so a poll interval does not delay a schedule. EINVALID without a worker.
func (s *DB) ClaimDeliveriesAhead(ctx context.Context, worker string, limit int, lease, ahead time.Duration) ([]*bot.Delivery, error) {
	if worker == "" {
		return nil, bot.Errorf(bot.EINVALID, "A delivery worker needs a name.")
	}
	if limit <= 0 {
		return nil, nil
	}
	if ahead < 0 {
		ahead = 0
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.now()
	// On PostgreSQL the candidates are picked once in a CTE (a LIMIT inside
	// "id IN (subquery)" may be evaluated more than once) and locked with
	// SKIP LOCKED so that replicas claiming at the same time take disjoint
	// rows.
	q := `
		UPDATE deliveries SET state = ?, locked_by = ?, locked_until = ?, attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM deliveries
			WHERE ` + claimable + `
			ORDER BY next_at, id LIMIT ?
		)
		RETURNING ` + deliveryColumns
	if s.dialect == DialectPostgres {
		q = `
		WITH picked AS (
			SELECT id FROM deliveries
			WHERE ` + claimable + `
			ORDER BY next_at, id LIMIT ?
			FOR UPDATE SKIP LOCKED
		)
		UPDATE deliveries d SET state = ?, locked_by = ?, locked_until = ?, attempts = d.attempts + 1
		FROM picked WHERE d.id = picked.id
		RETURNING ` + prefixColumns("d.", deliveryColumns)
	}
	cond := []any{bot.DeliveryPending, now.Add(ahead), bot.DeliveryRunning, now, bot.DeliveryRunning, worker, now}
	args := append(append([]any{bot.DeliveryRunning, worker, now.Add(lease)}, cond...), limit)
	if s.dialect == DialectPostgres {
		args = append(append(cond, limit), bot.DeliveryRunning, worker, now.Add(lease))
	}
	var ds []*bot.Delivery
	if err := tx.SelectContext(ctx, &ds, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	sort.Slice(ds, func(i, j int) bool {
		if !ds[i].NextAt.Equal(ds[j].NextAt) {
			return ds[i].NextAt.Before(ds[j].NextAt)
		}
		return ds[i].ID < ds[j].ID
	})
	for _, d := range ds {
		fixDelivery(d)
	}
	return ds, nil
}

// prefixColumns qualifies each column of a comma-separated list.
func prefixColumns(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// leaseBatch is how many ids one lease UPDATE names.
const leaseBatch = 500

// ExtendDeliveries renews worker's leases on the running deliveries ids
// until now+lease and returns the ids it still holds (a lease that expired
// but was not taken over is renewed too). The rest were claimed by another
// worker or settled: the caller must not post them.
//
// On PostgreSQL the rows are locked in id order (lockedInOrder), as
// finishBatch locks them, so that a renewal and a batch of finishes never
// wait for each other in a cycle (40P01).
func (s *DB) ExtendDeliveries(ctx context.Context, worker string, ids []int64, lease time.Duration) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ids = sortedIDs(ids)
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	until := s.now().Add(lease)
	var held []int64
	for start := 0; start < len(ids); start += leaseBatch {
		batch := ids[start:min(start+leaseBatch, len(ids))]
		q, args, err := sqlx.In(`UPDATE deliveries SET locked_until = ?
			WHERE id IN (`+s.lockedInOrder()+`) AND locked_by = ? AND state = ? RETURNING id`, until, batch, worker, bot.DeliveryRunning)
		if err != nil {
			return nil, err
		}
		var got []int64
		if err := tx.SelectContext(ctx, &got, tx.Rebind(q), args...); err != nil {
			return nil, fmt.Errorf("extend delivery leases: %w", err)
		}
		held = append(held, got...)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return held, nil
}

// ReleaseDeliveries hands worker's leased deliveries ids back to the queue,
// due at their old next_at and without counting the attempt, so that another
// worker takes them at once instead of waiting for the leases to expire.
// Ids not leased to worker are left alone.
func (s *DB) ReleaseDeliveries(ctx context.Context, worker string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ids = sortedIDs(ids)
	for start := 0; start < len(ids); start += leaseBatch {
		batch := ids[start:min(start+leaseBatch, len(ids))]
		q, args, err := sqlx.In(`UPDATE deliveries
			SET state = ?, locked_by = '', locked_until = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
			WHERE id IN (`+s.lockedInOrder()+`) AND locked_by = ? AND state = ?`, bot.DeliveryPending, batch, worker, bot.DeliveryRunning)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("release deliveries: %w", err)
		}
	}
	return tx.Commit()
}

// FinishDelivery marks a delivery leased to worker done, with the id of the
// posted message. ENOTFOUND; ECONFLICT when the delivery is not leased to
// worker any more (its lease expired and another worker took it, or it is
// finished).
//
// In the same transaction the channel's last post (LastPosts) becomes now,
// unless a later one is recorded. Finishes that arrive while others are
// being written are written together, in one transaction (group commit, as
// captures are): a fan-out finishes hundreds of deliveries a second, and
// the sooner each is recorded, the fewer replies a crash leaves posted but
// not recorded (posted again after it). A batch locks its deliveries in id
// order and its channels in name order, as lease renewals and other
// batches do, so that on PostgreSQL they never deadlock.
func (s *DB) FinishDelivery(ctx context.Context, id int64, worker, messageID string) error {
	return s.finishes.do(ctx, finishing{id: id, worker: worker, messageID: messageID, at: s.now()})
}

// sortedIDs returns ids in ascending order (a sorted copy).
func sortedIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// lockedInOrder is the "id IN (…)" list of a statement that updates the
// deliveries ids, sorted: on PostgreSQL a subquery that locks them in id
// order first (an UPDATE locks rows in whatever order its plan meets them),
// so that two transactions updating overlapping sets never wait for each
// other in a cycle. SQLite has one writer at a time: the plain list.
func (s *DB) lockedInOrder() string {
	if s.dialect != DialectPostgres {
		return "?"
	}
	return "SELECT id FROM deliveries WHERE id IN (?) ORDER BY id FOR UPDATE"
}

// finishing is one FinishDelivery in a batch.
type finishing struct {
	id                int64
	worker, messageID string
	at                time.Time
}

// finishDeliveries writes a batch of FinishDelivery calls (group.run). A
// batch that fails for another reason than an unavailable database is
// written again call by call, so one bad call never fails the others.
func (s *DB) finishDeliveries(ctx context.Context, batch []*groupItem[finishing]) {
	batchOrEach(batch, false, func(b []*groupItem[finishing]) error { return s.finishBatch(ctx, b) },
		func(it *groupItem[finishing]) error {
			if err := s.finishBatch(ctx, []*groupItem[finishing]{it}); err != nil {
				return err
			}
			return it.err // its own answer (ENOTFOUND, ECONFLICT)
		})
}

// finishBatch finishes the deliveries of batch in one transaction and
// sets each item's own answer (ENOTFOUND, ECONFLICT). An error is the
// batch's: nothing was written.
func (s *DB) finishBatch(ctx context.Context, batch []*groupItem[finishing]) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	last := map[bot.Thread]time.Time{}
	answers := make([]error, len(batch))
	// In id order, as ExtendDeliveries locks them (see FinishDelivery).
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return batch[order[a]].in.id < batch[order[b]].in.id })
	for _, i := range order {
		f := batch[i].in
		var chans []bot.Thread
		if err := tx.SelectContext(ctx, &chans, tx.Rebind(`UPDATE deliveries SET state = ?, message_id = ?, locked_until = NULL, done_at = ?
			WHERE id = ? AND locked_by = ? AND state = ? RETURNING platform, workspace, channel, '' AS thread_id`),
			bot.DeliveryDone, f.messageID, f.at, f.id, f.worker, bot.DeliveryRunning); err != nil {
			return storageError(fmt.Errorf("finish delivery %d: %w", f.id, err))
		}
		if len(chans) == 0 {
			answers[i] = settleMiss(ctx, tx, f.id, f.worker)
			if bot.ErrorCode(answers[i]) == "" || bot.ErrorCode(answers[i]) == bot.EINTERNAL {
				return answers[i]
			}
			continue
		}
		if f.at.After(last[chans[0]]) {
			last[chans[0]] = f.at
		}
	}
	if err := s.recordPosts(ctx, tx, last); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return storageError(fmt.Errorf("commit: %w", err))
	}
	for i, it := range batch {
		it.err = answers[i]
	}
	return nil
}

// recordPosts moves the channels' last posts (channel_pace) on to the
// given times, never back.
func (s *DB) recordPosts(ctx context.Context, tx *sqlx.Tx, last map[bot.Thread]time.Time) error {
	greatest := "GREATEST"
	if s.dialect != DialectPostgres {
		greatest = "MAX"
	}
	chans := make([]bot.Thread, 0, len(last))
	for c := range last {
		chans = append(chans, c)
	}
	// In name order, as every batch does (see FinishDelivery).
	slices.SortFunc(chans, func(a, b bot.Thread) int {
		return cmp.Or(cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Workspace, b.Workspace), cmp.Compare(a.Channel, b.Channel))
	})
	for _, c := range chans {
		at := last[c]
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO channel_pace (platform, workspace, channel, last_post_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (platform, workspace, channel) DO UPDATE SET last_post_at = `+greatest+`(channel_pace.last_post_at, excluded.last_post_at)`),
			c.Platform, c.Workspace, c.Channel, at); err != nil {
			return storageError(fmt.Errorf("channel pace: %w", err))
		}
	}
	return nil
}

// settleMiss explains why settling delivery id as worker changed nothing:
// ENOTFOUND or ECONFLICT.
func settleMiss(ctx context.Context, tx *sqlx.Tx, id int64, worker string) error {
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM deliveries WHERE id = ?`), id); err != nil {
		return fmt.Errorf("settle delivery %d: %w", id, err)
	}
	if n == 0 {
		return bot.Errorf(bot.ENOTFOUND, "Delivery %d does not exist.", id)
	}
	return bot.Errorf(bot.ECONFLICT, "Delivery %d is no longer leased to %s.", id, worker)
}

// LastPosts returns the time of the last reply the outbox posted in each of
// channels (Thread with ThreadID ignored) that has one.
func (s *DB) LastPosts(ctx context.Context, channels []bot.Thread) (map[bot.Thread]time.Time, error) {
	out := map[bot.Thread]time.Time{}
	if len(channels) == 0 {
		return out, nil
	}
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// One query per platform and workspace, by channel name: a fan-out's
	// channels are almost always of one workspace.
	type ws struct{ platform, workspace string }
	names := map[ws][]string{}
	for _, c := range channels {
		k := ws{c.Platform, c.Workspace}
		names[k] = append(names[k], c.Channel)
	}
	for k, chans := range names {
		for start := 0; start < len(chans); start += leaseBatch {
			batch := chans[start:min(start+leaseBatch, len(chans))]
			q, args, err := sqlx.In(`SELECT channel, last_post_at FROM channel_pace
				WHERE platform = ? AND workspace = ? AND channel IN (?)`, k.platform, k.workspace, batch)
			if err != nil {
				return nil, err
			}
			var rows []struct {
				Channel string    `db:"channel"`
				Last    time.Time `db:"last_post_at"`
			}
			if err := tx.SelectContext(ctx, &rows, tx.Rebind(q), args...); err != nil {
				return nil, fmt.Errorf("last posts: %w", err)
			}
			for _, r := range rows {
				out[bot.Thread{Platform: k.platform, Workspace: k.workspace, Channel: r.Channel}] = r.Last.UTC()
			}
		}
	}
	return out, nil
}

// RetryDelivery releases a delivery leased to worker to be tried again at
// next. ENOTFOUND; ECONFLICT when the lease was lost.
func (s *DB) RetryDelivery(ctx context.Context, id int64, worker, lastErr string, next time.Time) error {
	return s.settleDelivery(ctx, id, worker,
		`state = ?, last_error = ?, next_at = ?, locked_by = '', locked_until = NULL`,
		bot.DeliveryPending, lastErr, next.UTC())
}

// FailDelivery marks a delivery leased to worker failed for good.
// ENOTFOUND; ECONFLICT when the lease was lost.
func (s *DB) FailDelivery(ctx context.Context, id int64, worker, lastErr string) error {
	now := s.now()
	return s.settleDelivery(ctx, id, worker,
		`state = ?, last_error = ?, locked_until = NULL, done_at = ?`,
		bot.DeliveryFailed, lastErr, now)
}

// settleDelivery applies set to delivery id if it is running and leased to
// worker.
func (s *DB) settleDelivery(ctx context.Context, id int64, worker, set string, args ...any) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	args = append(args, id, worker, bot.DeliveryRunning)
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE deliveries SET `+set+` WHERE id = ? AND locked_by = ? AND state = ?`), args...)
	if err != nil {
		return fmt.Errorf("settle delivery %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return settleMiss(ctx, tx, id, worker)
	}
	return tx.Commit()
}

// FindDeliveries returns the deliveries of an event in id order.
func (s *DB) FindDeliveries(ctx context.Context, eventID int64) ([]*bot.Delivery, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var ds []*bot.Delivery
	if err := tx.SelectContext(ctx, &ds, tx.Rebind(`SELECT `+deliveryColumns+` FROM deliveries WHERE event_id = ? ORDER BY id`), eventID); err != nil {
		return nil, fmt.Errorf("find deliveries of %d: %w", eventID, err)
	}
	for _, d := range ds {
		fixDelivery(d)
	}
	return ds, nil
}

// EventDeliveryStats counts an event's deliveries by state.
func (s *DB) EventDeliveryStats(ctx context.Context, eventID int64) (bot.DeliveryStats, error) {
	var st bot.DeliveryStats
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, tx.Rebind(`SELECT state, COUNT(*) FROM deliveries WHERE event_id = ? GROUP BY state`), eventID)
	if err != nil {
		return st, fmt.Errorf("delivery stats of %d: %w", eventID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return st, fmt.Errorf("delivery stats of %d: %w", eventID, err)
		}
		switch state {
		case bot.DeliveryPending:
			st.Pending = n
		case bot.DeliveryRunning:
			st.Running = n
		case bot.DeliveryDone:
			st.Done = n
		case bot.DeliveryFailed:
			st.Failed = n
		}
	}
	return st, rows.Err()
}

// DeliveryQueueDepth counts deliveries not yet done or failed.
func (s *DB) DeliveryQueueDepth(ctx context.Context) (int, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM deliveries WHERE state IN (?, ?)`), bot.DeliveryPending, bot.DeliveryRunning); err != nil {
		return 0, fmt.Errorf("delivery queue depth: %w", err)
	}
	return n, nil
}

func fixDelivery(d *bot.Delivery) {
	d.NextAt = d.NextAt.UTC()
	d.CreatedAt = d.CreatedAt.UTC()
	if d.LockedUntil != nil {
		t := d.LockedUntil.UTC()
		d.LockedUntil = &t
	}
	if d.DoneAt != nil {
		t := d.DoneAt.UTC()
		d.DoneAt = &t
	}
}
