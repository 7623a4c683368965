package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

var _ bot.CurationStore = (*DB)(nil)

const editColumns = `id, request_id, actor, kind, from_value, to_value, note, created_at`

// UpdateRequest applies u to request id (not following merges) in one
// transaction and appends one edit row per field that changed. A field set
// to its current value changes nothing and writes no row. EINVALID, with
// nothing written, for an empty or too long title, a too long description,
// an invalid tag, or a result of more than bot.MaxTags tags; ENOTFOUND.
func (s *DB) UpdateRequest(ctx context.Context, id int64, u bot.RequestUpdate, actor string) (*bot.UpdateResult, error) {
	var title, desc *string
	if u.Title != nil {
		t, err := bot.CheckTitle(*u.Title)
		if err != nil {
			return nil, err
		}
		title = &t
	}
	if u.Description != nil {
		d, err := bot.CheckDescription(*u.Description)
		if err != nil {
			return nil, err
		}
		desc = &d
	}
	var set bot.Tags
	if u.Tags != nil {
		t, err := bot.NormalizeTags(*u.Tags)
		if err != nil {
			return nil, err
		}
		set = t
	}
	add, err := bot.NormalizeTags(u.AddTags)
	if err != nil {
		return nil, err
	}
	remove, err := bot.NormalizeTags(u.RemoveTags)
	if err != nil {
		return nil, err
	}

	tx, r, err := s.beginRequestTx(ctx, id)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	tags := slices.Clone(r.Tags)
	if u.Tags != nil {
		tags = set
	}
	tags = append(tags, add...)
	tags = slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(remove, t) })
	slices.Sort(tags)
	tags = slices.Compact(tags)
	if len(tags) > bot.MaxTags {
		return nil, bot.Errorf(bot.EINVALID, "A request has at most %d tags; this would give it %d.", bot.MaxTags, len(tags))
	}

	now := s.now()
	res := &bot.UpdateResult{}
	edit := func(kind, from, to string) error {
		e, err := insertEdit(ctx, tx, id, actor, kind, from, to, "", now)
		if err != nil {
			return err
		}
		res.Edits = append(res.Edits, e)
		return nil
	}
	if title != nil && *title != r.Title {
		if err := edit(bot.EditRename, r.Title, *title); err != nil {
			return nil, err
		}
		r.Title = *title
	}
	if desc != nil && *desc != r.Description {
		if err := edit(bot.EditDescribe, r.Description, *desc); err != nil {
			return nil, err
		}
		r.Description = *desc
	}
	if !slices.Equal(tags, r.Tags) {
		if err := edit(bot.EditTags, r.Tags.String(), bot.Tags(tags).String()); err != nil {
			return nil, err
		}
		if err := syncTags(ctx, tx, id, r.Tags, tags); err != nil {
			return nil, err
		}
		r.Tags = tags
	}
	if len(res.Edits) > 0 {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET title = ?, description = ?, tags = ?, updated_at = ? WHERE id = ?`),
			r.Title, r.Description, r.Tags, now, id); err != nil {
			return nil, fmt.Errorf("update request %d: %w", id, err)
		}
		if r, err = findRequestByID(ctx, tx, id); err != nil {
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, storageError(fmt.Errorf("commit: %w", err))
		}
	}
	res.Request = r
	return res, nil
}

// syncTags makes the request_tags rows of id go from old to tags.
func syncTags(ctx context.Context, tx *sqlx.Tx, id int64, old, tags bot.Tags) error {
	for _, t := range old {
		if !slices.Contains(tags, t) {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM request_tags WHERE request_id = ? AND tag = ?`), id, t); err != nil {
				return fmt.Errorf("untag %d: %w", id, err)
			}
		}
	}
	for _, t := range tags {
		if !slices.Contains(old, t) {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO request_tags (request_id, tag) VALUES (?, ?)`), id, t); err != nil {
				return fmt.Errorf("tag %d: %w", id, err)
			}
		}
	}
	return nil
}

func insertEdit(ctx context.Context, tx *sqlx.Tx, id int64, actor, kind, from, to, note string, now time.Time) (*bot.Edit, error) {
	e := &bot.Edit{RequestID: id, Actor: actor, Kind: kind, From: from, To: to, Note: note, CreatedAt: now}
	err := tx.GetContext(ctx, &e.ID, tx.Rebind(`
		INSERT INTO request_edits (request_id, actor, kind, from_value, to_value, note, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), id, actor, kind, from, to, note, now)
	if err != nil {
		return nil, fmt.Errorf("insert edit: %w", err)
	}
	return e, nil
}

// RemoveRequest takes request id off the board, the lists, search and the
// duplicate index, and appends a remove edit with the reason. Its mentions,
// votes and merges are kept, so RestoreRequest undoes it exactly. ECONFLICT
// when it is already removed; ENOTFOUND.
func (s *DB) RemoveRequest(ctx context.Context, id int64, actor, reason string) (*bot.Edit, error) {
	return s.setRemoved(ctx, id, true, actor, reason)
}

// RestoreRequest puts a removed request back. ECONFLICT when it is not
// removed; ENOTFOUND.
func (s *DB) RestoreRequest(ctx context.Context, id int64, actor string) (*bot.Edit, error) {
	return s.setRemoved(ctx, id, false, actor, "")
}

func (s *DB) setRemoved(ctx context.Context, id int64, remove bool, actor, reason string) (*bot.Edit, error) {
	tx, r, err := s.beginRequestTx(ctx, id)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if r.Removed() == remove {
		if remove {
			return nil, bot.Errorf(bot.ECONFLICT, "Request %d is already removed.", id)
		}
		return nil, bot.Errorf(bot.ECONFLICT, "Request %d is not removed.", id)
	}
	now := s.now()
	var at *time.Time
	kind := bot.EditRestore
	if remove {
		at, kind = &now, bot.EditRemove
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET removed_at = ?, updated_at = ? WHERE id = ?`), at, now, id); err != nil {
		return nil, fmt.Errorf("remove request %d: %w", id, err)
	}
	e, err := insertEdit(ctx, tx, id, actor, kind, "", "", reason, now)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, storageError(fmt.Errorf("commit: %w", err))
	}
	return e, nil
}

// FindEdits returns the edit history of a request, oldest first.
func (s *DB) FindEdits(ctx context.Context, requestID int64) ([]*bot.Edit, error) {
	var es []*bot.Edit
	if err := s.db.SelectContext(ctx, &es, s.db.Rebind(`SELECT `+editColumns+` FROM request_edits WHERE request_id = ? ORDER BY id`), requestID); err != nil {
		return nil, storageError(fmt.Errorf("find edits of %d: %w", requestID, err))
	}
	for _, e := range es {
		e.CreatedAt = e.CreatedAt.UTC()
	}
	return es, nil
}

// ClaimCardRefreshes stamps newly queued refreshes as seen now, then leases
// to worker, until now+lease, up to limit refreshes seen at least settle ago
// that are due and not leased to a live worker. Replicas claim disjoint
// rows. EINVALID without a worker.
func (s *DB) ClaimCardRefreshes(ctx context.Context, worker string, limit int, settle, lease time.Duration) ([]*bot.CardRefresh, error) {
	if worker == "" {
		return nil, bot.Errorf(bot.EINVALID, "A card worker needs a name.")
	}
	if limit <= 0 {
		return nil, nil
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.now()
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE card_refreshes SET seen_at = ? WHERE seen_at IS NULL`), now); err != nil {
		return nil, fmt.Errorf("stamp card refreshes: %w", err)
	}
	pick := `SELECT root_id FROM card_refreshes
		WHERE seen_at <= ? AND (next_at IS NULL OR next_at <= ?) AND (locked_until IS NULL OR locked_until < ?)
		ORDER BY seen_at, root_id LIMIT ?`
	q := `UPDATE card_refreshes SET locked_by = ?, locked_until = ?, attempts = attempts + 1
		WHERE root_id IN (` + pick + `) RETURNING root_id, gen, attempts`
	args := []any{worker, now.Add(lease), now.Add(-settle), now, now, limit}
	if s.dialect == DialectPostgres {
		q = `WITH picked AS (` + pick + ` FOR UPDATE SKIP LOCKED)
		UPDATE card_refreshes c SET locked_by = ?, locked_until = ?, attempts = c.attempts + 1
		FROM picked WHERE c.root_id = picked.root_id RETURNING c.root_id, c.gen, c.attempts`
		args = []any{now.Add(-settle), now, now, limit, worker, now.Add(lease)}
	}
	var cs []*bot.CardRefresh
	if err := tx.SelectContext(ctx, &cs, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("claim card refreshes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, storageError(fmt.Errorf("commit: %w", err))
	}
	slices.SortFunc(cs, func(a, b *bot.CardRefresh) int { return int(a.RootID - b.RootID) })
	return cs, nil
}

// FinishCardRefresh deletes a refresh claimed by worker unless the group
// changed after the claim; then the refresh is handed back, to run again
// once it settles.
func (s *DB) FinishCardRefresh(ctx context.Context, worker string, c *bot.CardRefresh) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM card_refreshes WHERE root_id = ? AND gen = ? AND locked_by = ?`), c.RootID, c.Gen, worker)
	if err != nil {
		return fmt.Errorf("finish card refresh: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`
			UPDATE card_refreshes SET locked_by = '', locked_until = NULL, next_at = NULL, attempts = 0, seen_at = ?
			WHERE root_id = ? AND locked_by = ?`), s.now(), c.RootID, worker); err != nil {
			return fmt.Errorf("requeue card refresh: %w", err)
		}
	}
	return storageError(tx.Commit())
}

// RetryCardRefresh hands a refresh claimed by worker back, due at next.
func (s *DB) RetryCardRefresh(ctx context.Context, worker string, c *bot.CardRefresh, next time.Time) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`
		UPDATE card_refreshes SET locked_by = '', locked_until = NULL, next_at = ? WHERE root_id = ? AND locked_by = ?`),
		next.UTC(), c.RootID, worker)
	if err != nil {
		return storageError(fmt.Errorf("retry card refresh: %w", err))
	}
	return nil
}

// FindGroupCards returns every card showing a request of the group whose
// canonical request is rootID, in the order they were posted.
func (s *DB) FindGroupCards(ctx context.Context, rootID int64) ([]*bot.Card, error) {
	var rows []struct {
		RequestID int64  `db:"request_id"`
		Platform  string `db:"platform"`
		Workspace string `db:"workspace"`
		Channel   string `db:"channel"`
		MessageID string `db:"message_id"`
		Shown     string `db:"shown"`
	}
	err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`
		SELECT c.request_id, c.platform, c.workspace, c.channel, c.message_id, c.shown
		FROM cards c JOIN requests g ON g.id = c.request_id
		WHERE g.root_id = ? ORDER BY c.created_at, c.message_id`), rootID)
	if err != nil {
		return nil, storageError(fmt.Errorf("find cards of %d: %w", rootID, err))
	}
	out := make([]*bot.Card, len(rows))
	for i, r := range rows {
		out[i] = &bot.Card{RequestID: r.RequestID, Shown: r.Shown, MessageRef: bot.MessageRef{
			Platform: r.Platform, Workspace: r.Workspace, Channel: r.Channel, ID: r.MessageID}}
	}
	return out, nil
}

// PendingCardRefreshes counts queued card refreshes.
func (s *DB) PendingCardRefreshes(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM card_refreshes`); err != nil {
		return 0, storageError(fmt.Errorf("count card refreshes: %w", err))
	}
	return n, nil
}

// SetCardShown records what the card ref now shows (a hash of its content).
func (s *DB) SetCardShown(ctx context.Context, ref bot.MessageRef, shown string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE cards SET shown = ? WHERE platform = ? AND workspace = ? AND channel = ? AND message_id = ?`),
		shown, ref.Platform, ref.Workspace, ref.Channel, ref.ID)
	if err != nil {
		return storageError(fmt.Errorf("set card shown: %w", err))
	}
	return nil
}

// FindSuggestionByMessage returns the suggestion shown by the bot message,
// ENOTFOUND if none.
func (s *DB) FindSuggestionByMessage(ctx context.Context, ref bot.MessageRef) (*bot.Suggestion, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var id int64
	err = tx.GetContext(ctx, &id, tx.Rebind(`SELECT id FROM suggestions WHERE platform = ? AND workspace = ? AND channel = ? AND message_id = ? ORDER BY id DESC LIMIT 1`),
		ref.Platform, ref.Workspace, ref.Channel, ref.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "This message shows no suggestion.")
	}
	if err != nil {
		return nil, storageError(fmt.Errorf("find suggestion by message: %w", err))
	}
	return findSuggestion(ctx, tx, id)
}

// SetStatusNotify is SetStatus for a status whose change is announced: in
// the same transaction it records a status event (action "status", note the
// new status) linked from the history row, and one delivery per subscribed
// thread of the request, unique per (event, thread), so the replies go out
// once each even across restarts and replicas. It returns the history row
// and the number of deliveries. Same errors as SetStatus.
func (s *DB) SetStatusNotify(ctx context.Context, in bot.StatusNoticeInput) (*bot.StatusChange, int, error) {
	if !in.Status.Valid() {
		return nil, 0, bot.Errorf(bot.EINVALID, "%q is not a status.", string(in.Status))
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	roots, err := lockGroups(ctx, tx, in.Request)
	if err != nil {
		return nil, 0, err
	}
	r, err := findRequestByID(ctx, tx, roots[in.Request])
	if err != nil {
		return nil, 0, err
	}
	if r.Status == in.Status {
		return nil, 0, storeError(bot.ECONFLICT, bot.ReasonSameStatus, fmt.Sprintf("Request %d is already %s.", r.ID, statusWords(in.Status)), r.ID)
	}
	now := s.now()
	var eventID int64
	if err := tx.GetContext(ctx, &eventID, tx.Rebind(`
		INSERT INTO release_events (action, version, note, actor, idempotency_key, result, created_at)
		VALUES (?, '', ?, ?, '', '', ?) RETURNING id`), bot.ActionStatus, string(in.Status), in.Actor, now); err != nil {
		return nil, 0, fmt.Errorf("insert status event: %w", err)
	}
	c, err := setStatus(ctx, tx, r, in.Status, in.Actor, "", in.Note, &eventID, now)
	if err != nil {
		return nil, 0, err
	}
	n, err := enqueueDeliveries(ctx, tx, eventID, []*bot.Request{r}, in.Text, in.Schedule, now)
	if err != nil {
		return nil, 0, err
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, storageError(fmt.Errorf("commit: %w", err))
	}
	return c, n, nil
}
