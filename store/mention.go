package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

const mentionColumns = `id, request_id, platform, workspace, channel, message_id, thread_id, author_id,
	author_name, org, text, permalink, captured_by, via, deleted, created_at`

// AddMention inserts m for m.RequestID and its author as a voter, and
// updates the counters of the request and of everything it is merged into.
// ENOTFOUND when the request does not exist; ECONFLICT when the message is
// already captured.
func (s *DB) AddMention(ctx context.Context, m *bot.Mention) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := lockGroups(ctx, tx, m.RequestID); err != nil {
		return err
	}
	now := s.now()
	if err := insertMention(ctx, tx, m, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET updated_at = ? WHERE id = ?`), now, m.RequestID); err != nil {
		return fmt.Errorf("touch request: %w", err)
	}
	if err := recountChain(ctx, tx, m.RequestID); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// insertMention inserts m and its author's authorship vote.
func insertMention(ctx context.Context, tx *sqlx.Tx, m *bot.Mention, now time.Time) error {
	m.CreatedAt = now
	m.Deleted = false
	err := tx.GetContext(ctx, &m.ID, tx.Rebind(`
		INSERT INTO mentions (request_id, platform, workspace, channel, message_id, thread_id, author_id,
			author_name, org, text, permalink, captured_by, via, deleted, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		m.RequestID, m.Platform, m.Workspace, m.Channel, m.MessageID, m.ThreadID, m.AuthorID,
		m.AuthorName, m.Org, m.Text, m.Permalink, m.CapturedBy, m.Via, false, now)
	if isUniqueViolation(err) {
		return errCaptured()
	}
	if isForeignKeyViolation(err) {
		return errNoRequest(m.RequestID)
	}
	if err != nil {
		return fmt.Errorf("insert mention: %w", err)
	}
	if m.AuthorID == "" {
		return nil
	}
	_, err = insertVoter(ctx, tx, bot.Voter{
		RequestID: m.RequestID,
		Platform:  m.Platform,
		Workspace: m.Workspace,
		UserID:    m.AuthorID,
		Org:       m.Org,
		Kind:      bot.VoteAuthor,
	}, now)
	return err
}

// FindMentionByMessage returns the mention of a chat message. ENOTFOUND.
func (s *DB) FindMentionByMessage(ctx context.Context, platform, workspace, channel, messageID string) (*bot.Mention, error) {
	return s.findMention(ctx, `platform = ? AND workspace = ? AND channel = ? AND message_id = ?`,
		platform, workspace, channel, messageID)
}

// FindThreadMention returns the earliest mention whose message is the thread
// root threadID or a message in that thread. ENOTFOUND.
func (s *DB) FindThreadMention(ctx context.Context, platform, workspace, channel, threadID string) (*bot.Mention, error) {
	if threadID == "" {
		return nil, bot.Errorf(bot.ENOTFOUND, "This thread is not on the board.")
	}
	// Two index lookups (the message itself, the earliest reply) rather than
	// an OR that would scan the channel's mentions.
	return s.findMention(ctx, `id = (SELECT MIN(id) FROM (
			SELECT MIN(id) AS id FROM mentions WHERE platform = ? AND workspace = ? AND channel = ? AND message_id = ?
			UNION ALL
			SELECT MIN(id) AS id FROM mentions WHERE platform = ? AND workspace = ? AND channel = ? AND thread_id = ?
		) t)`,
		platform, workspace, channel, threadID, platform, workspace, channel, threadID)
}

// findMention is one prepared statement: no transaction around a single read.
func (s *DB) findMention(ctx context.Context, cond string, args ...any) (*bot.Mention, error) {
	var m bot.Mention
	err := s.get(ctx, &m, `SELECT `+mentionColumns+` FROM mentions WHERE `+cond+` ORDER BY id LIMIT 1`, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "This message is not on the board.")
	}
	if err != nil {
		return nil, fmt.Errorf("find mention: %w", err)
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return &m, nil
}

// FindMentions returns the mentions of requestID and of everything merged
// into it, oldest first. ENOTFOUND when the request does not exist.
func (s *DB) FindMentions(ctx context.Context, requestID int64) ([]*bot.Mention, error) {
	ms, err := subtreeRows[bot.Mention](ctx, s, requestID, "mentions", mentionColumns, "mentions")
	for _, m := range ms {
		m.CreatedAt = m.CreatedAt.UTC()
	}
	return ms, err
}

// subtreeRows reads, in one read transaction, the rows of table (columns
// cols) of request id and of everything merged into it, oldest first
// (created_at, id). ENOTFOUND when the request does not exist; what names
// the rows in other errors.
func subtreeRows[T any](ctx context.Context, s *DB, id int64, what, cols, table string) ([]*T, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := findRequestByID(ctx, tx, id); err != nil {
		return nil, err
	}
	var rows []*T
	if err := tx.SelectContext(ctx, &rows, tx.Rebind(subtreeCTE+`SELECT `+cols+` FROM `+table+`
		WHERE request_id IN (SELECT id FROM sub) ORDER BY created_at, id`), id); err != nil {
		return nil, fmt.Errorf("find %s of %d: %w", what, id, err)
	}
	return rows, nil
}

// MarkMentionDeleted marks the mention of a deleted chat message. The
// mention keeps counting. ENOTFOUND when the message is not captured.
func (s *DB) MarkMentionDeleted(ctx context.Context, platform, workspace, channel, messageID string) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE mentions SET deleted = ?
		WHERE platform = ? AND workspace = ? AND channel = ? AND message_id = ?`),
		true, platform, workspace, channel, messageID)
	if err != nil {
		return fmt.Errorf("mark mention deleted: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bot.Errorf(bot.ENOTFOUND, "This message is not on the board.")
	}
	return tx.Commit()
}
