package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/feedbackbot/feedbackbot/bot"
)

// SaveCard records that the bot's message ref shows request id (replacing
// what that message showed before). ENOTFOUND when the request does not exist.
func (s *DB) SaveCard(ctx context.Context, requestID int64, ref bot.MessageRef) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, tx.Rebind(`
		INSERT INTO cards (platform, workspace, channel, message_id, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE SET request_id = excluded.request_id`),
		ref.Platform, ref.Workspace, ref.Channel, ref.ID, requestID, s.now())
	if isForeignKeyViolation(err) {
		return errNoRequest(requestID)
	}
	if err != nil {
		return fmt.Errorf("save card: %w", err)
	}
	return tx.Commit()
}

// FindCard returns the request id shown by the bot message. ENOTFOUND.
func (s *DB) FindCard(ctx context.Context, platform, workspace, channel, messageID string) (int64, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var id int64
	err = tx.GetContext(ctx, &id, tx.Rebind(`SELECT request_id FROM cards WHERE platform = ? AND workspace = ? AND channel = ? AND message_id = ?`),
		platform, workspace, channel, messageID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, bot.Errorf(bot.ENOTFOUND, "This message is not a request card.")
	}
	if err != nil {
		return 0, fmt.Errorf("find card: %w", err)
	}
	return id, nil
}
