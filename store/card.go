package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/feedbackbot/feedbackbot/bot"
)

// SaveCard records that the bot's message ref shows request id (replacing
// what that message showed before). ENOTFOUND when the request does not exist.
//
// Cards are saved on every capture, so concurrent calls share a commit and,
// on PostgreSQL, one statement (group commit, group.go).
func (s *DB) SaveCard(ctx context.Context, requestID int64, ref bot.MessageRef) error {
	return s.cards.do(ctx, cardSave{requestID: requestID, ref: ref, at: s.now()})
}

// SaveCardShown is SaveCard and SetCardShown in one write, for a card just
// posted.
func (s *DB) SaveCardShown(ctx context.Context, requestID int64, ref bot.MessageRef, shown string) error {
	return s.cards.do(ctx, cardSave{requestID: requestID, ref: ref, at: s.now(), shown: shown, withShown: true})
}

// cardSave is one SaveCard or SaveCardShown in a batch.
type cardSave struct {
	requestID int64
	ref       bot.MessageRef
	at        time.Time
	shown     string
	withShown bool // SaveCardShown: shown replaces what the card showed
}

// saveCardSQL saves one card; shown replaces the recorded content when the
// last argument is true.
const saveCardSQL = `
	INSERT INTO cards (platform, workspace, channel, message_id, request_id, created_at, shown) VALUES (?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE SET request_id = excluded.request_id,
		shown = CASE WHEN ? THEN excluded.shown ELSE cards.shown END`

func (c cardSave) args() []any {
	return []any{c.ref.Platform, c.ref.Workspace, c.ref.Channel, c.ref.ID, c.requestID, c.at, c.shown, c.withShown}
}

// saveCards writes a batch of SaveCard calls (group.run).
func (s *DB) saveCards(ctx context.Context, batch []*groupItem[cardSave]) {
	if s.dialect == DialectPostgres {
		// A request that does not exist, the same card twice in the batch:
		// the batch statement writes nothing and each card is saved alone.
		batchOrEach(batch, func(b []*groupItem[cardSave]) error { return s.saveCardsPostgres(ctx, b) },
			func(it *groupItem[cardSave]) error {
				_, err := s.exec(ctx, saveCardSQL, it.in.args()...)
				return saveCardError(it.in.requestID, err)
			})
		return
	}
	tx, err := s.beginTx(ctx)
	if err == nil {
		err = func() error {
			defer tx.Rollback()
			for _, it := range batch {
				if _, err := tx.ExecContext(ctx, `SAVEPOINT card`); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, tx.Rebind(saveCardSQL), it.in.args()...)
				if it.err = saveCardError(it.in.requestID, err); it.err != nil {
					if _, err := tx.ExecContext(ctx, `ROLLBACK TO card`); err != nil {
						return err
					}
				}
				if _, err := tx.ExecContext(ctx, `RELEASE card`); err != nil {
					return err
				}
			}
			return tx.Commit()
		}()
	}
	if err != nil {
		for _, it := range batch {
			it.err = storageError(fmt.Errorf("save cards: %w", err))
		}
	}
}

// saveCardsPostgres saves a batch of cards in one statement (SaveCard and
// SaveCardShown calls both, each row with its own rule for shown).
func (s *DB) saveCardsPostgres(ctx context.Context, batch []*groupItem[cardSave]) error {
	n := len(batch)
	platform, workspace, channel, message := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ids, at, shown, with := make([]int64, n), make([]string, n), make([]string, n), make([]bool, n)
	for i, it := range batch {
		c := it.in
		platform[i], workspace[i], channel[i], message[i] = c.ref.Platform, c.ref.Workspace, c.ref.Channel, c.ref.ID
		ids[i], at[i], shown[i], with[i] = c.requestID, c.at.UTC().Format(time.RFC3339Nano), c.shown, c.withShown
	}
	// with_shown is not a column: it is carried in the shown value of the
	// conflicting row through a join on the input.
	_, err := s.exec(ctx, `
		WITH input AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[], $7::text[], $8::bool[])
				AS t(platform, workspace, channel, message_id, request_id, created_at, shown, with_shown)
		)
		INSERT INTO cards AS c (platform, workspace, channel, message_id, request_id, created_at, shown)
		SELECT platform, workspace, channel, message_id, request_id, created_at, shown FROM input
		ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE SET request_id = excluded.request_id,
			shown = CASE WHEN (SELECT i.with_shown FROM input i WHERE i.platform = excluded.platform AND i.workspace = excluded.workspace
				AND i.channel = excluded.channel AND i.message_id = excluded.message_id LIMIT 1) THEN excluded.shown ELSE c.shown END`,
		pq.Array(platform), pq.Array(workspace), pq.Array(channel), pq.Array(message), pq.Array(ids), pq.Array(at), pq.Array(shown), pq.Array(with))
	return storageError(err)
}

func saveCardError(requestID int64, err error) error {
	if isForeignKeyViolation(err) {
		return errNoRequest(requestID)
	}
	if err != nil {
		return storageError(fmt.Errorf("save card: %w", err))
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

// HasCard reports whether the bot has a card of request id in the channel
// (a capture's card in its thread, or any other). A capture retried after
// a commit whose answer was lost asks it, so that its card is posted once.
func (s *DB) HasCard(ctx context.Context, requestID int64, platform, workspace, channel string) (bool, error) {
	var n int
	err := s.get(ctx, &n, `SELECT COUNT(*) FROM cards WHERE request_id = ? AND platform = ? AND workspace = ? AND channel = ?`,
		requestID, platform, workspace, channel)
	if err != nil {
		return false, fmt.Errorf("has card: %w", err)
	}
	return n > 0, nil
}
