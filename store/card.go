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

// SaveNewCard is what a capture does once its card is posted, in one write:
// SaveCardShown, SetSuggestionMessage(suggestion, ref) when suggestion is
// not 0, and it returns the canonical request of requestID as it is once
// the card is saved. Every change to the request commits either before that
// read (and is in what it returns) or after the card is saved (and then
// queues a refresh of the card, requests_card_refresh): on PostgreSQL the
// request's row is locked (FOR SHARE) by the write, which waits for a vote
// or an edit in progress and makes one that comes later wait for the
// card's commit; on SQLite the write transaction excludes every other.
// ENOTFOUND, with nothing written, when the request does not exist; when
// the suggestion does not exist the card is saved and ENOTFOUND returned.
func (s *DB) SaveNewCard(ctx context.Context, requestID int64, ref bot.MessageRef, shown string, suggestion int64) (*bot.Request, error) {
	out := &newCard{}
	err := s.cards.do(ctx, cardSave{requestID: requestID, ref: ref, at: s.now(), shown: shown, withShown: true, suggestion: suggestion, out: out})
	if err != nil {
		return nil, err
	}
	if !out.suggested && suggestion != 0 {
		return nil, errNoSuggestion(suggestion)
	}
	r := out.req
	if r.RootID != r.ID {
		// Merged already (rare): the card shows the canonical request,
		// read after the card's commit.
		return s.ResolveRequest(ctx, requestID)
	}
	fixRequest(r)
	return r, nil
}

// cardSave is one SaveCard, SaveCardShown or SaveNewCard in a batch.
type cardSave struct {
	requestID int64
	ref       bot.MessageRef
	at        time.Time
	shown     string
	withShown bool // SaveCardShown: shown replaces what the card showed
	// SaveNewCard: the suggestion whose message the card is (0: none), and
	// where the request read under the write and whether the suggestion
	// was found are put (nil for SaveCard and SaveCardShown).
	suggestion int64
	out        *newCard
}

// newCard is what a SaveNewCard's write found.
type newCard struct {
	req       *bot.Request
	suggested bool
}

// saveCardSQL saves one card; shown replaces the recorded content when the
// last argument is true.
const saveCardSQL = `
	INSERT INTO cards (platform, workspace, channel, message_id, request_id, created_at, shown) VALUES (?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE SET request_id = excluded.request_id,
		shown = CASE WHEN ? THEN excluded.shown ELSE cards.shown END`

// saveCardPostgresSQL is saveCardSQL on PostgreSQL, where cards have no
// foreign key to requests (migration 00094): a card of a request that does
// not exist is refused as the key refused it (request_missing raises its
// foreign_key_violation, and nothing is written). A request is never
// deleted, so one found here exists when the card commits.
const saveCardPostgresSQL = `
	INSERT INTO cards (platform, workspace, channel, message_id, request_id, created_at, shown)
	SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::timestamptz, $7::text
	WHERE CASE WHEN EXISTS (SELECT 1 FROM requests WHERE id = $5::bigint) THEN TRUE ELSE request_missing($5::bigint) END
	ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE SET request_id = excluded.request_id,
		shown = CASE WHEN $8::bool THEN excluded.shown ELSE cards.shown END`

// setSuggestionMessageSQL points a suggestion at the message that shows it.
const setSuggestionMessageSQL = `UPDATE suggestions SET platform = ?, workspace = ?, channel = ?, message_id = ?, thread_id = ? WHERE id = ?`

func (c cardSave) args() []any {
	return []any{c.ref.Platform, c.ref.Workspace, c.ref.Channel, c.ref.ID, c.requestID, c.at, c.shown, c.withShown}
}

// saveNewCardPostgresSQL is one SaveNewCard alone on PostgreSQL: the
// request's row locked and read (the lock returns the latest committed
// version, after waiting for a transaction that holds it), the card saved
// and the suggestion pointed at it, in one statement. A request that does
// not exist fails the statement (request_missing), with nothing written.
const saveNewCardPostgresSQL = `
	WITH req AS (
		SELECT ` + requestColumns + ` FROM requests WHERE id = $5 FOR SHARE
	), card AS (
		INSERT INTO cards (platform, workspace, channel, message_id, request_id, created_at, shown)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::timestamptz, $7::text
		WHERE CASE WHEN EXISTS (SELECT 1 FROM req) THEN TRUE ELSE request_missing($5::bigint) END
		ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE SET request_id = excluded.request_id, shown = excluded.shown
	), sugg AS (
		UPDATE suggestions SET platform = $1, workspace = $2, channel = $3, message_id = $4, thread_id = $8
		WHERE id = $9 RETURNING id
	)
	SELECT req.*, EXISTS (SELECT 1 FROM sugg) AS suggested FROM req`

// newCardRow is a row of the SaveNewCard statements: the request, and
// whether the suggestion was found.
type newCardRow struct {
	Asked int `db:"asked"`
	bot.Request
	Suggested bool `db:"suggested"`
}

// saveCards writes a batch of SaveCard calls (group.run).
func (s *DB) saveCards(ctx context.Context, batch []*groupItem[cardSave]) {
	if s.dialect == DialectPostgres {
		// A request that does not exist, the same card twice in the batch:
		// the batch statement writes nothing and each card is saved alone.
		batchOrEach(batch, s.planned(), func(b []*groupItem[cardSave]) error { return s.saveCardsPostgres(ctx, b) },
			func(it *groupItem[cardSave]) error {
				if it.in.out != nil {
					return s.saveNewCardPostgres(ctx, it.in)
				}
				_, err := s.exec(ctx, saveCardPostgresSQL, it.in.args()...)
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
				if it.err = saveCardTx(ctx, tx, it.in); it.err != nil {
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

// saveCardTx writes one card of a batch in tx (SQLite), with the rest of a
// SaveNewCard: the write transaction holds the database's write lock, so
// the request read here cannot change before the card is committed.
func saveCardTx(ctx context.Context, tx *sqlx.Tx, c cardSave) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(saveCardSQL), c.args()...)
	if err := saveCardError(c.requestID, err); err != nil || c.out == nil {
		return err
	}
	if c.suggestion != 0 {
		res, err := tx.ExecContext(ctx, tx.Rebind(setSuggestionMessageSQL), c.ref.Platform, c.ref.Workspace, c.ref.Channel, c.ref.ID, c.ref.ThreadID, c.suggestion)
		if err != nil {
			return storageError(fmt.Errorf("set suggestion message: %w", err))
		}
		n, _ := res.RowsAffected()
		c.out.suggested = n > 0
	}
	r, err := findRequestByID(ctx, tx, c.requestID)
	if err != nil {
		return storageError(err)
	}
	c.out.req = r
	return nil
}

// saveNewCardPostgres is one SaveNewCard alone on PostgreSQL.
func (s *DB) saveNewCardPostgres(ctx context.Context, c cardSave) error {
	var row newCardRow
	err := s.get(ctx, &row, saveNewCardPostgresSQL, c.ref.Platform, c.ref.Workspace, c.ref.Channel, c.ref.ID,
		c.requestID, c.at, c.shown, c.ref.ThreadID, c.suggestion)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRequest(c.requestID)
	}
	if err := saveCardError(c.requestID, err); err != nil {
		return err
	}
	c.out.req, c.out.suggested = &row.Request, row.Suggested
	return nil
}

// saveCardsPostgresSQL saves a batch of cards in one statement (SaveCard,
// SaveCardShown and SaveNewCard calls, each row with its own rule for
// shown): the requests of SaveNewCard rows are locked in id order and read
// (as saveNewCardPostgresSQL), their suggestions pointed at their cards.
// with_shown is not a column: it is carried in the shown value of the
// conflicting row through a join on the input. It runs with a generic plan
// (queryGeneric): the requests are read one by one through a lateral
// subquery in id order, and the suggestions are matched by a range of one
// id (BETWEEN), which cannot be hashed; the batch pool plans no sequential
// scan unless nothing else can be done (genericPoolSettings), so each is
// found through its key whatever size the tables had when the plan was
// made (a plan made while suggestions was a few hundred rows read it in
// full, through a materialised sequential scan, at every batch that
// pointed a suggestion at its card). Cards have no foreign key to requests
// (migration 00094): a card's request is one of req (read and locked for a
// SaveNewCard row) or is looked up through its key (other rows, OFFSET 0
// so that the lookup is not turned into a hashed scan of all requests),
// and a request that does not exist fails the statement as the key did
// (request_missing), so that each card is saved alone.
//
// The batch commits without waiting for its WAL to be flushed
// (synchronous_commit off for its own transaction, set_config(..., true):
// the connection's next transaction is synchronous again). A card is the
// record of a message the bot has already posted, not what was captured:
// the capture's request, mention and voter committed, flushed, before the
// card was posted. The batch's commit is visible to every replica at once
// and durable at the next flushed commit (any capture's) or within
// 3 x wal_writer_delay (600 ms by default); only a PostgreSQL crash in that
// window loses it, and then that card is not refreshed on votes, as when
// the bot dies between posting a card and saving it. A capture waited on
// three flushed commits (request, suggestion, card) and waits on two at
// most: 0.56 -> 0.35 WAL flushes per capture, about 10% more captures a
// second on two CPUs (docs/performance.md, session 13).
const saveCardsPostgresSQL = `
	WITH input AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[], $7::text[], $8::bool[],
			$9::text[], $10::bigint[], $11::bool[])
			WITH ORDINALITY AS t(platform, workspace, channel, message_id, request_id, created_at, shown, with_shown, thread_id, suggestion, fresh, ord)
		-- This transaction only: see above.
		WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL
	), req AS (
		SELECT r.* FROM (SELECT DISTINCT request_id FROM input WHERE fresh ORDER BY request_id) i
		CROSS JOIN LATERAL (SELECT ` + requestColumns + ` FROM requests WHERE id = i.request_id OFFSET 0 FOR SHARE) r
	), card AS (
		INSERT INTO cards AS c (platform, workspace, channel, message_id, request_id, created_at, shown)
		SELECT platform, workspace, channel, message_id, request_id, created_at, shown FROM input i
		WHERE CASE WHEN CASE WHEN i.fresh THEN i.request_id IN (SELECT id FROM req)
			ELSE EXISTS (SELECT 1 FROM requests r WHERE r.id = i.request_id OFFSET 0) END THEN TRUE ELSE request_missing(i.request_id) END
		ON CONFLICT (platform, workspace, channel, message_id) DO UPDATE SET request_id = excluded.request_id,
			shown = CASE WHEN (SELECT i.with_shown FROM input i WHERE i.platform = excluded.platform AND i.workspace = excluded.workspace
				AND i.channel = excluded.channel AND i.message_id = excluded.message_id LIMIT 1) THEN excluded.shown ELSE c.shown END
	), sugg AS (
		UPDATE suggestions s SET platform = i.platform, workspace = i.workspace, channel = i.channel, message_id = i.message_id, thread_id = i.thread_id
		FROM input i WHERE i.suggestion <> 0 AND s.id BETWEEN i.suggestion AND i.suggestion
		RETURNING s.id
	)
	SELECT i.ord AS asked, req.*, i.suggestion IN (SELECT id FROM sugg) AS suggested
	FROM input i JOIN req ON req.id = i.request_id WHERE i.fresh`

// cardArgs is the arguments of saveCardsPostgresSQL for batch.
func cardArgs(batch []*groupItem[cardSave]) []any {
	n := len(batch)
	size := 0
	for _, it := range batch {
		r := it.in.ref
		size += len(r.Platform) + len(r.Workspace) + len(r.Channel) + len(r.ID) + len(r.ThreadID) + len(it.in.shown) + 128
	}
	a := newPGArrays(11, size)
	ref := func(i int) *bot.MessageRef { return &batch[i].in.ref }
	a.Text(n, func(i int) string { return ref(i).Platform })
	a.Text(n, func(i int) string { return ref(i).Workspace })
	a.Text(n, func(i int) string { return ref(i).Channel })
	a.Text(n, func(i int) string { return ref(i).ID })
	a.Int(n, func(i int) int64 { return batch[i].in.requestID })
	a.Time(n, func(i int) time.Time { return batch[i].in.at })
	a.Text(n, func(i int) string { return batch[i].in.shown })
	a.Bool(n, func(i int) bool { return batch[i].in.withShown })
	a.Text(n, func(i int) string { return ref(i).ThreadID })
	a.Int(n, func(i int) int64 { return batch[i].in.suggestion })
	a.Bool(n, func(i int) bool { return batch[i].in.out != nil })
	return a.Args()
}

// saveCardsPostgres saves a batch of cards in one statement.
func (s *DB) saveCardsPostgres(ctx context.Context, batch []*groupItem[cardSave]) error {
	n := len(batch)
	type row struct {
		k         int
		req       *bot.Request
		suggested bool
	}
	rows := make([]row, 0, n)
	var (
		q         requestScan
		asked     int
		suggested bool
	)
	target := func(col string) any {
		switch col {
		case "asked":
			return intDest{&asked}
		case "suggested":
			return &suggested
		}
		return q.target(col)
	}
	res, err := s.queryGeneric(ctx, saveCardsPostgresSQL, cardArgs(batch)...)
	if err == nil {
		err = scanRows(res, target, func() error {
			rows = append(rows, row{asked - 1, q.request(), suggested})
			return nil
		})
	}
	if err != nil {
		return storageError(err)
	}
	for _, row := range rows {
		if k := row.k; k >= 0 && k < n && batch[k].in.out != nil {
			batch[k].in.out.req, batch[k].in.out.suggested = row.req, row.suggested
		}
	}
	for _, it := range batch {
		if it.in.out != nil && it.in.out.req == nil {
			// Cannot happen (a missing request fails the statement).
			it.err = errNoRequest(it.in.requestID)
		}
	}
	return nil
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
