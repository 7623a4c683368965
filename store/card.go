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
	_, err := s.exec(ctx, `
		INSERT INTO cards (platform, workspace, channel, message_id, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE SET request_id = excluded.request_id`,
		ref.Platform, ref.Workspace, ref.Channel, ref.ID, requestID, s.now())
	if isForeignKeyViolation(err) {
		return errNoRequest(requestID)
	}
	if err != nil {
		return fmt.Errorf("save card: %w", err)
	}
	return nil
}

// FindCard returns the request id shown by the bot message. ENOTFOUND.
func (s *DB) FindCard(ctx context.Context, platform, workspace, channel, messageID string) (int64, error) {
	var id int64
	err := s.get(ctx, &id, `SELECT request_id FROM cards WHERE platform = ? AND workspace = ? AND channel = ? AND message_id = ?`,
		platform, workspace, channel, messageID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, bot.Errorf(bot.ENOTFOUND, "This message is not a request card.")
	}
	if err != nil {
		return 0, fmt.Errorf("find card: %w", err)
	}
	return id, nil
}
