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

const requestColumns = `id, title, description, status, merged_into, root_id, demand, orgs, mentions, companies, value_cents, created_at, updated_at, tags, removed_at`

// subtreeCTE selects into sub(id) the request bound to its one parameter and
// everything merged into it, directly or through chains.
const subtreeCTE = `WITH RECURSIVE sub(id) AS (
	SELECT id FROM requests WHERE id = ?
	UNION ALL
	SELECT r.id FROM requests r JOIN sub ON r.merged_into = sub.id
) `

// CreateRequest inserts r (status open, not merged) with its first mention m
// and m's author as a voter. It sets r.ID, r.RootID, m.ID, m.RequestID, the
// timestamps and r's counts. ECONFLICT, with nothing written, when m's
// message is already captured.
//
// It is the capture hot path. Concurrent calls are written together (group
// commit, see group.go): one transaction for the batch, on PostgreSQL one
// prepared statement (one round trip) that checks the messages, inserts the
// rows and sets the counters, which for a new request are known without
// counting. It returns once the commit holding r is done.
func (s *DB) CreateRequest(ctx context.Context, r *bot.Request, m *bot.Mention) error {
	now := s.now().Truncate(time.Microsecond) // what the database keeps
	r.Status = bot.StatusOpen
	r.MergedInto = nil
	r.CreatedAt, r.UpdatedAt = now, now
	r.Demand, r.Orgs, r.Mentions, r.Companies, r.ValueCents = 0, 0, 1, 0, 0
	if m.AuthorID != "" {
		r.Demand = 1
	}
	m.CreatedAt, m.Deleted = now, false
	if err := s.creates.do(ctx, newCapture{r, m}); err != nil {
		return err
	}
	r.RootID = r.ID
	m.RequestID = r.ID
	return nil
}

// newCapture is one CreateRequest in a batch.
type newCapture struct {
	r *bot.Request
	m *bot.Mention
}

// createRequests writes a batch of CreateRequest calls (group.run).
func (s *DB) createRequests(ctx context.Context, batch []*groupItem[newCapture]) {
	if s.dialect != DialectPostgres {
		if err := s.createRequestsTx(ctx, batch); err != nil {
			for _, it := range batch {
				it.err = storageError(err)
			}
		}
		return
	}
	// A message captured by another transaction since the check (a unique
	// violation), a deadlock between two batches, a value one row cannot
	// take: the batch statement writes nothing and each capture is written
	// on its own, so only the one at fault fails. A capture alone is
	// written by the batch statement too once its plan is made once
	// (queryGeneric): the single statement is planned at each call.
	batchOrEach(batch, s.planned(), func(b []*groupItem[newCapture]) error { return s.createRequestsPostgres(ctx, b) },
		func(it *groupItem[newCapture]) error {
			return s.createRequestPostgres(ctx, it.in.r, it.in.m, it.in.r.CreatedAt)
		})
}

// createRequestPostgres writes a new request in one statement. The sequence
// value is taken only when the message is not captured yet, so a repeated
// event does not leave a gap in the keys.
func (s *DB) createRequestPostgres(ctx context.Context, r *bot.Request, m *bot.Mention, now time.Time) error {
	var ids struct {
		RequestID  int64 `db:"request_id"`
		MentionID  int64 `db:"id"`
		Orgs       int   `db:"orgs"`
		Companies  int   `db:"companies"`
		ValueCents int64 `db:"value_cents"`
	}
	// co is the author's customer companies: through the organisation and
	// through the email domains of the author's person; none for a home
	// organisation.
	err := s.get(ctx, &ids, `
		WITH nr AS (
			SELECT nextval('requests_id_seq'::regclass) AS id
			WHERE NOT EXISTS (SELECT 1 FROM mentions WHERE platform = $1::text AND workspace = $2::text AND channel = $3::text AND message_id = $4::text)
		), home AS (
			SELECT EXISTS (SELECT 1 FROM home_orgs WHERE org = $12::text) AS home
		), co AS (
			SELECT company_id FROM company_orgs WHERE org = $12::text AND $10::text <> '' AND NOT (SELECT home FROM home)
			UNION
			SELECT c.company_id FROM identities i JOIN identities j ON j.person_id = i.person_id
				JOIN company_orgs c ON c.org = j.email_domain AND c.kind = 'domain'
			WHERE i.ident = $17::text AND j.email_domain <> '' AND $10::text <> '' AND NOT (SELECT home FROM home)
		), r AS (
			INSERT INTO requests (id, title, description, status, root_id, demand, orgs, mentions, companies, value_cents, created_at, updated_at)
			SELECT id, $5::text, $6::text, 'open', id, $7::int,
				CASE WHEN $10::text <> '' AND $12::text <> '' AND NOT (SELECT home FROM home) THEN 1 ELSE 0 END, 1,
				(SELECT COUNT(*) FROM co),
				(SELECT COALESCE(SUM(mrr_cents), 0) FROM companies WHERE id IN (SELECT company_id FROM co)),
				$8::timestamptz, $8::timestamptz FROM nr
			RETURNING id, orgs, companies, value_cents
		), m AS (
			INSERT INTO mentions (request_id, platform, workspace, channel, message_id, thread_id, author_id,
				author_name, org, text, permalink, captured_by, via, deleted, created_at)
			SELECT id, $1::text, $2::text, $3::text, $4::text, $9::text, $10::text, $11::text, $12::text, $13::text,
				$14::text, $15::text, $16::text, FALSE, $8::timestamptz FROM r
			RETURNING id, request_id
		), v AS (
			INSERT INTO voters (request_id, platform, workspace, user_id, person, org, kind, created_at)
			SELECT id, $1::text, $2::text, $10::text, $17::text, $12::text, 'author', $8::timestamptz FROM r WHERE $10::text <> ''
		)
		SELECT m.request_id, m.id, r.orgs, r.companies, r.value_cents FROM m JOIN r ON r.id = m.request_id`,
		m.Platform, m.Workspace, m.Channel, m.MessageID, r.Title, r.Description, r.Demand, now,
		m.ThreadID, m.AuthorID, m.AuthorName, m.Org, m.Text, m.Permalink, m.CapturedBy, m.Via,
		person(m.Platform, m.Workspace, m.AuthorID))
	if errors.Is(err, sql.ErrNoRows) || isUniqueViolation(err) {
		return errCaptured()
	}
	if err != nil {
		return storageError(fmt.Errorf("create request: %w", err))
	}
	r.ID, m.ID = ids.RequestID, ids.MentionID
	r.Orgs, r.Companies, r.ValueCents = ids.Orgs, ids.Companies, ids.ValueCents
	s.grew(m.ID)
	return nil
}

// createRequestsPostgresSQL writes a batch of captures in one statement: the
// batch comes in as one array per column; a message already captured, or
// twice in the batch (the first one wins), gets no row and no sequence
// value (nextval names requests' own sequence, as the column's default
// does: pg_get_serial_sequence would look it up in the catalog for each
// row). Rows are inserted in message order, so two batches that share
// messages lock them in the same order. The counters are those of
// createRequestPostgres, per row: k counts each new request's customer
// companies and their value (through the author's organisation and through
// the email domains of the author's person; none for a home organisation),
// in one lateral subquery that is not run at all while no organisation or
// domain belongs to a company (a one-time test per batch). Every row of nr
// is inserted into requests or the statement fails, so mentions and voters
// are written from nr itself.
const createRequestsPostgresSQL = `
WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
		$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
		$17::timestamptz[])
		WITH ORDINALITY AS t(platform, workspace, channel, message_id, title, description, demand,
			thread_id, author_id, author_name, org, text, permalink, captured_by, via, person, at, ord)
), fresh AS (
	SELECT DISTINCT ON (platform, workspace, channel, message_id) * FROM input i
	WHERE NOT EXISTS (SELECT 1 FROM mentions x WHERE x.platform = i.platform AND x.workspace = i.workspace
		AND x.channel = i.channel AND x.message_id = i.message_id OFFSET 0)
	ORDER BY platform, workspace, channel, message_id, ord
), nr AS (
	SELECT nextval('requests_id_seq'::regclass) AS id, f.*,
		f.author_id <> '' AND NOT EXISTS (SELECT 1 FROM home_orgs h WHERE h.org = f.org) AS customer
	FROM (SELECT * FROM fresh ORDER BY ord) f
), r AS (
	INSERT INTO requests (id, title, description, status, root_id, demand, orgs, mentions, companies, value_cents, created_at, updated_at)
	SELECT nr.id, nr.title, nr.description, 'open', nr.id, nr.demand,
		CASE WHEN nr.customer AND nr.org <> '' THEN 1 ELSE 0 END, 1,
		k.n, k.v, nr.at, nr.at
	FROM nr CROSS JOIN LATERAL (
		SELECT COUNT(*) AS n, COALESCE(SUM(mrr_cents), 0) AS v FROM companies
		WHERE nr.customer AND (SELECT EXISTS (SELECT 1 FROM company_orgs)) AND id IN (
			SELECT c.company_id FROM company_orgs c WHERE c.org = nr.org
			UNION
			SELECT c.company_id FROM identities i JOIN identities j ON j.person_id = i.person_id
				JOIN company_orgs c ON c.org = j.email_domain AND c.kind = 'domain'
			WHERE i.ident = nr.person AND j.email_domain <> '')
	) k
	ORDER BY nr.id
	RETURNING id, orgs, companies, value_cents
), m AS (
	INSERT INTO mentions (request_id, platform, workspace, channel, message_id, thread_id, author_id,
		author_name, org, text, permalink, captured_by, via, deleted, created_at)
	SELECT nr.id, nr.platform, nr.workspace, nr.channel, nr.message_id, nr.thread_id, nr.author_id,
		nr.author_name, nr.org, nr.text, nr.permalink, nr.captured_by, nr.via, FALSE, nr.at
	FROM nr ORDER BY nr.platform, nr.workspace, nr.channel, nr.message_id
	RETURNING id, request_id
), v AS (
	INSERT INTO voters (request_id, platform, workspace, user_id, person, org, kind, created_at)
	SELECT nr.id, nr.platform, nr.workspace, nr.author_id, nr.person, nr.org, 'author', nr.at
	FROM nr WHERE nr.author_id <> ''
)
SELECT nr.ord, m.request_id, m.id, r.orgs, r.companies, r.value_cents
FROM m JOIN r ON r.id = m.request_id JOIN nr ON nr.id = m.request_id`

// createArgs is the arguments of createRequestsPostgresSQL for batch.
func createArgs(batch []*groupItem[newCapture]) []any {
	n := len(batch)
	size := 0
	for _, it := range batch {
		r, m := it.in.r, it.in.m
		size += len(r.Title) + len(r.Description) + len(m.Text) + len(m.Permalink) + len(m.AuthorName) + 2*len(m.MessageID) + 256
	}
	a := newPGArrays(17, size)
	for _, col := range [...]func(*bot.Request, *bot.Mention) string{
		func(_ *bot.Request, m *bot.Mention) string { return m.Platform },
		func(_ *bot.Request, m *bot.Mention) string { return m.Workspace },
		func(_ *bot.Request, m *bot.Mention) string { return m.Channel },
		func(_ *bot.Request, m *bot.Mention) string { return m.MessageID },
		func(r *bot.Request, _ *bot.Mention) string { return r.Title },
		func(r *bot.Request, _ *bot.Mention) string { return r.Description },
	} {
		a.Text(n, func(i int) string { return col(batch[i].in.r, batch[i].in.m) })
	}
	a.Int(n, func(i int) int64 { return int64(batch[i].in.r.Demand) })
	for _, col := range [...]func(*bot.Mention) string{
		func(m *bot.Mention) string { return m.ThreadID },
		func(m *bot.Mention) string { return m.AuthorID },
		func(m *bot.Mention) string { return m.AuthorName },
		func(m *bot.Mention) string { return m.Org },
		func(m *bot.Mention) string { return m.Text },
		func(m *bot.Mention) string { return m.Permalink },
		func(m *bot.Mention) string { return m.CapturedBy },
		func(m *bot.Mention) string { return m.Via },
	} {
		a.Text(n, func(i int) string { return col(batch[i].in.m) })
	}
	a.Text(n, func(i int) string { m := batch[i].in.m; return person(m.Platform, m.Workspace, m.AuthorID) })
	a.Time(n, func(i int) time.Time { return batch[i].in.r.CreatedAt })
	return a.Args()
}

// createRequestsPostgres writes a batch in one statement (its own
// transaction). Captures that got no row are ECONFLICT.
func (s *DB) createRequestsPostgres(ctx context.Context, batch []*groupItem[newCapture]) error {
	n := len(batch)
	args := createArgs(batch)
	type row struct {
		Ord        int
		RequestID  int64
		MentionID  int64
		Orgs       int
		Companies  int
		ValueCents int64
	}
	rows := make([]row, 0, n)
	var cur row
	target := func(col string) any {
		switch col {
		case "ord":
			return intDest{&cur.Ord}
		case "request_id":
			return int64Dest{&cur.RequestID}
		case "id":
			return int64Dest{&cur.MentionID}
		case "orgs":
			return intDest{&cur.Orgs}
		case "companies":
			return intDest{&cur.Companies}
		case "value_cents":
			return int64Dest{&cur.ValueCents}
		}
		return nil
	}
	res, err := s.queryGeneric(ctx, createRequestsPostgresSQL, args...)
	if err == nil {
		err = scanRows(res, target, func() error {
			if cur.Ord < 1 || cur.Ord > n {
				return fmt.Errorf("row for capture %d of %d", cur.Ord, n)
			}
			rows = append(rows, cur)
			return nil
		})
	}
	if err != nil {
		return storageError(fmt.Errorf("create requests: %w", err))
	}
	written := make([]bool, n)
	for _, row := range rows {
		it := batch[row.Ord-1]
		it.in.r.ID, it.in.m.ID = row.RequestID, row.MentionID
		s.grew(row.MentionID)
		it.in.r.Orgs, it.in.r.Companies, it.in.r.ValueCents = row.Orgs, row.Companies, row.ValueCents
		written[row.Ord-1] = true
	}
	for i, it := range batch {
		if !written[i] {
			it.err = errCaptured()
		}
	}
	return nil
}

// createRequestsTx writes a batch in one transaction (SQLite, where
// statements cost no round trip and the commit is what is shared). Each
// capture is its own savepoint: one that fails is rolled back alone and
// answered with its error.
func (s *DB) createRequestsTx(ctx context.Context, batch []*groupItem[newCapture]) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, it := range batch {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT capture`); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		it.err = createRequestTx(ctx, tx, it.in.r, it.in.m, it.in.r.CreatedAt)
		if it.err != nil {
			it.err = storageError(it.err)
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO capture`); err != nil {
				// A full SQLite database may roll the whole transaction
				// back itself (savepoint gone): report the cause.
				if bot.ErrorCode(it.err) == bot.EUNAVAILABLE {
					return it.err
				}
				return fmt.Errorf("rollback to savepoint: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE capture`); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// createRequestTx writes a new request in tx.
func createRequestTx(ctx context.Context, tx *sqlx.Tx, r *bot.Request, m *bot.Mention, now time.Time) error {
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM mentions WHERE platform = ? AND workspace = ? AND channel = ? AND message_id = ?`),
		m.Platform, m.Workspace, m.Channel, m.MessageID); err != nil {
		return fmt.Errorf("find mention: %w", err)
	}
	if n > 0 {
		return errCaptured()
	}
	if err := createRequest(ctx, tx, r, now); err != nil {
		return err
	}
	m.RequestID = r.ID
	if err := insertMention(ctx, tx, m, now); err != nil {
		return err
	}
	if err := recount(ctx, tx, r.ID); err != nil {
		return err
	}
	var c struct {
		Demand     int   `db:"demand"`
		Orgs       int   `db:"orgs"`
		Companies  int   `db:"companies"`
		ValueCents int64 `db:"value_cents"`
	}
	if err := tx.GetContext(ctx, &c, tx.Rebind(`SELECT demand, orgs, companies, value_cents FROM requests WHERE id = ?`), r.ID); err != nil {
		return fmt.Errorf("read counters: %w", err)
	}
	r.Demand, r.Orgs, r.Companies, r.ValueCents = c.Demand, c.Orgs, c.Companies, c.ValueCents
	return nil
}

func createRequest(ctx context.Context, tx *sqlx.Tx, r *bot.Request, now time.Time) error {
	r.Status = bot.StatusOpen
	r.MergedInto = nil
	r.CreatedAt, r.UpdatedAt = now, now
	err := tx.GetContext(ctx, &r.ID, tx.Rebind(`
		INSERT INTO requests (title, description, status, root_id, created_at, updated_at)
		VALUES (?, ?, ?, 0, ?, ?) RETURNING id`),
		r.Title, r.Description, r.Status, now, now)
	if err != nil {
		return fmt.Errorf("insert request: %w", err)
	}
	r.RootID = r.ID
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET root_id = id WHERE id = ?`), r.ID); err != nil {
		return fmt.Errorf("set root: %w", err)
	}
	return nil
}

// FindRequestByID returns request id with its counts over the request and
// everything merged into it. It does not follow merged_into. ENOTFOUND.
func (s *DB) FindRequestByID(ctx context.Context, id int64) (*bot.Request, error) {
	var r bot.Request
	err := s.get(ctx, &r, `SELECT `+requestColumns+` FROM requests WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoRequest(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find request %d: %w", id, err)
	}
	fixRequest(&r)
	return &r, nil
}

func findRequestByID(ctx context.Context, tx *sqlx.Tx, id int64) (*bot.Request, error) {
	var r bot.Request
	err := tx.GetContext(ctx, &r, tx.Rebind(`SELECT `+requestColumns+` FROM requests WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoRequest(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find request %d: %w", id, err)
	}
	fixRequest(&r)
	return &r, nil
}

// errNoRequest is ENOTFOUND naming request id (Reason ReasonNoRequest).
func errNoRequest(id int64) error {
	return storeError(bot.ENOTFOUND, bot.ReasonNoRequest, fmt.Sprintf("Request %d does not exist.", id), id)
}

// storeError is a structured store error: the code and reason with the ids
// they are about. msg describes it with raw ids, for store callers other
// than the engine (which renders its own sentence from reason and ids).
func storeError(code, reason, msg string, ids ...int64) *bot.Error {
	return &bot.Error{Code: code, Reason: reason, Message: msg, IDs: ids}
}

// errCaptured is ECONFLICT for a chat message that is already captured.
func errCaptured() error {
	return storeError(bot.ECONFLICT, bot.ReasonCaptured, "This message is already on the board.")
}

// rootColumns are requestColumns of the canonical request "c" of "r".
var rootColumns = "c." + strings.ReplaceAll(requestColumns, ", ", ", c.")

// ResolveRequest follows merged_into to the canonical request, in one
// query (root_id is kept current by every merge and unmerge). ENOTFOUND.
func (s *DB) ResolveRequest(ctx context.Context, id int64) (*bot.Request, error) {
	var r bot.Request
	err := s.get(ctx, &r, `SELECT `+rootColumns+` FROM requests r JOIN requests c ON c.id = r.root_id WHERE r.id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoRequest(id)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve request %d: %w", id, err)
	}
	fixRequest(&r)
	return &r, nil
}

// ResolveRequests is ResolveRequest for many ids in one query: it returns
// the canonical request of each id that exists, by that id.
func (s *DB) ResolveRequests(ctx context.Context, ids []int64) (map[int64]*bot.Request, error) {
	out := make(map[int64]*bot.Request, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT r.id AS asked, `+rootColumns+` FROM requests r JOIN requests c ON c.id = r.root_id WHERE r.id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Asked int64 `db:"asked"`
		bot.Request
	}
	if len(ids) <= 16 {
		// Few shapes (one per count): worth preparing.
		err = s.selectAll(ctx, &rows, q, args...)
	} else {
		err = s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve requests: %w", err)
	}
	for i := range rows {
		r := rows[i].Request
		fixRequest(&r)
		out[rows[i].Asked] = &r
	}
	return out, nil
}

func resolveRequest(ctx context.Context, tx *sqlx.Tx, id int64) (*bot.Request, error) {
	r, err := findRequestByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if r.RootID == r.ID {
		return r, nil
	}
	return findRequestByID(ctx, tx, r.RootID)
}

// FindRequests returns the requests matching f, with counts, and the number
// of matches ignoring f.Limit and f.Offset. EINVALID for an unknown sort.
func (s *DB) FindRequests(ctx context.Context, f bot.RequestFilter) ([]*bot.Request, int, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	return findRequests(ctx, tx, f)
}

func findRequests(ctx context.Context, tx *sqlx.Tx, f bot.RequestFilter) ([]*bot.Request, int, error) {
	var where []string
	var args []any
	if !f.IncludeMerged {
		where = append(where, "merged_into IS NULL")
	}
	if !f.IncludeRemoved {
		where = append(where, "removed_at IS NULL")
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Tag != "" {
		where = append(where, "id IN (SELECT request_id FROM request_tags WHERE tag = ?)")
		args = append(args, strings.ToLower(f.Tag))
	}
	if len(f.IDs) > 0 {
		q, a, err := sqlx.In("id IN (?)", f.IDs)
		if err != nil {
			return nil, 0, err
		}
		where = append(where, q)
		args = append(args, a...)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		where = append(where, `(LOWER(title) LIKE ? ESCAPE '\' OR LOWER(description) LIKE ? ESCAPE '\')`)
		p := likePattern(q)
		args = append(args, p, p)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var order string
	switch f.Sort {
	case "", bot.SortDemand:
		order = " ORDER BY demand DESC, id ASC"
	case bot.SortNew:
		order = " ORDER BY id DESC"
	case bot.SortValue:
		order = " ORDER BY value_cents DESC, demand DESC, id ASC"
	default:
		return nil, 0, bot.Errorf(bot.EINVALID, "Unknown sort %q (expected %s, %s or %s).", f.Sort, bot.SortDemand, bot.SortNew, bot.SortValue)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	offset := max(f.Offset, 0)

	var total int
	if err := tx.GetContext(ctx, &total, tx.Rebind(`SELECT COUNT(*) FROM requests`+cond), args...); err != nil {
		return nil, 0, fmt.Errorf("count requests: %w", err)
	}
	var rs []*bot.Request
	q := `SELECT ` + requestColumns + ` FROM requests` + cond + order + ` LIMIT ? OFFSET ?`
	if err := tx.SelectContext(ctx, &rs, tx.Rebind(q), append(args, limit, offset)...); err != nil {
		return nil, 0, fmt.Errorf("find requests: %w", err)
	}
	for _, r := range rs {
		fixRequest(r)
	}
	return rs, total, nil
}

// FindMergedInto returns the requests merged directly into id, oldest first.
func (s *DB) FindMergedInto(ctx context.Context, id int64) ([]*bot.Request, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var rs []*bot.Request
	if err := tx.SelectContext(ctx, &rs, tx.Rebind(`SELECT `+requestColumns+` FROM requests WHERE merged_into = ? ORDER BY id`), id); err != nil {
		return nil, fmt.Errorf("find merged into %d: %w", id, err)
	}
	for _, r := range rs {
		fixRequest(r)
	}
	return rs, nil
}

// EachDoc calls fn for every request, in id order, streaming from the
// database. fn's error stops the iteration and is returned.
//
// Doc.Extra is left empty: the texts of further mentions are not read.
// Measured with 100,000 requests and 1,000,000 mentions (PostgreSQL, 2
// CPUs), reading up to 20 mention texts per request made EachDoc take about
// 1.3 s instead of 0.2 s, indexing them about 1 s more, and the index about
// 120 MiB larger (docs/performance.md), against a 3 s start-up and a
// 300 MiB budget; the duplicate-detection figures do not use them (their
// corpora have no mentions), and a request's own title and description are
// what a new message is compared with.
func (s *DB) EachDoc(ctx context.Context, fn func(bot.Doc) error) error {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return eachDoc(ctx, tx, "", nil, fn)
}

// DocsChangedSince returns the docs of requests updated at or after t.
func (s *DB) DocsChangedSince(ctx context.Context, t time.Time) ([]bot.Doc, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var docs []bot.Doc
	err = eachDoc(ctx, tx, "updated_at >= ?", []any{t.UTC()}, func(d bot.Doc) error {
		docs = append(docs, d)
		return nil
	})
	return docs, err
}

func eachDoc(ctx context.Context, tx *sqlx.Tx, cond string, args []any, fn func(bot.Doc) error) error {
	q := `SELECT id, title, description, status, merged_into, removed_at FROM requests`
	if cond != "" {
		q += " WHERE " + cond
	}
	q += " ORDER BY id"
	rows, err := tx.QueryContext(ctx, tx.Rebind(q), args...)
	if err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			d       bot.Doc
			status  string
			merged  sql.NullInt64
			removed sql.NullTime
		)
		if err := rows.Scan(&d.ID, &d.Title, &d.Description, &status, &merged, &removed); err != nil {
			return fmt.Errorf("docs: %w", err)
		}
		d.Active = !merged.Valid && !removed.Valid && bot.Status(status) != bot.StatusDeclined
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	return nil
}

// lockGroups locks the canonical requests of ids for the rest of tx, in id
// order, and returns each id's root. On PostgreSQL it takes row locks on the
// roots (FOR NO KEY UPDATE, which does not block foreign key checks); SQLite
// transactions already hold the database write lock. Every method that
// changes a group's membership or counters locks its root first, so counters
// are recomputed from committed data. ENOTFOUND when an id does not exist.
func lockGroups(ctx context.Context, tx *sqlx.Tx, ids ...int64) (map[int64]int64, error) {
	postgres := tx.DriverName() == "postgres"
	for attempt := 0; ; attempt++ {
		roots := make(map[int64]int64, len(ids))
		for _, id := range ids {
			var root int64
			err := tx.GetContext(ctx, &root, tx.Rebind(`SELECT root_id FROM requests WHERE id = ?`), id)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, errNoRequest(id)
			}
			if err != nil {
				return nil, fmt.Errorf("find root of %d: %w", id, err)
			}
			roots[id] = root
		}
		if !postgres {
			return roots, nil
		}
		var uniq []int64
		seen := map[int64]bool{}
		for _, r := range roots {
			if !seen[r] {
				seen[r] = true
				uniq = append(uniq, r)
			}
		}
		sort.Slice(uniq, func(i, j int) bool { return uniq[i] < uniq[j] })
		for _, r := range uniq {
			if _, err := tx.ExecContext(ctx, `SELECT id FROM requests WHERE id = $1 FOR NO KEY UPDATE`, r); err != nil {
				return nil, fmt.Errorf("lock request %d: %w", r, err)
			}
		}
		// A concurrent merge or unmerge may have moved an id to another group
		// before we got the lock; check and try again.
		stable := true
		for _, id := range ids {
			var root int64
			if err := tx.GetContext(ctx, &root, `SELECT root_id FROM requests WHERE id = $1`, id); err != nil {
				return nil, fmt.Errorf("find root of %d: %w", id, err)
			}
			if root != roots[id] {
				stable = false
				break
			}
		}
		if stable {
			return roots, nil
		}
		if attempt >= 20 {
			return nil, fmt.Errorf("lock groups %v: too much contention", ids)
		}
	}
}

// chain returns id followed by the requests it is merged into, up to its root.
func chain(ctx context.Context, tx *sqlx.Tx, id int64) ([]int64, error) {
	var ids []int64
	err := tx.SelectContext(ctx, &ids, tx.Rebind(`
		WITH RECURSIVE up(id, merged_into, depth) AS (
			SELECT id, merged_into, 0 FROM requests WHERE id = ?
			UNION ALL
			SELECT r.id, r.merged_into, up.depth + 1 FROM requests r JOIN up ON r.id = up.merged_into
			WHERE up.depth < 1000
		)
		SELECT id FROM up ORDER BY depth`), id)
	if err != nil {
		return nil, fmt.Errorf("merge chain of %d: %w", id, err)
	}
	return ids, nil
}

// recountSQL recomputes the counters of one request over its subtree: demand
// counts distinct persons (an identity linked to a person counts as that
// person, one without a row as itself); orgs and companies leave out the
// team's home organisations; a voter's companies are those of its
// organisation and of the email domains of its person.
const recountSQL = subtreeCTE + `, vs AS (
		SELECT v.person, v.org FROM voters v WHERE v.request_id IN (SELECT id FROM sub)
	), co AS (
		SELECT c.company_id FROM vs JOIN company_orgs c ON c.org = vs.org
		WHERE vs.org NOT IN (SELECT org FROM home_orgs)
		UNION
		SELECT c.company_id FROM vs JOIN identities i ON i.ident = vs.person
			JOIN identities j ON j.person_id = i.person_id
			JOIN company_orgs c ON c.org = j.email_domain AND c.kind = 'domain'
		WHERE j.email_domain <> '' AND vs.org NOT IN (SELECT org FROM home_orgs)
	)
	UPDATE requests SET
		demand = (SELECT COUNT(DISTINCT COALESCE(CAST(i.person_id AS TEXT), vs.person)) FROM vs LEFT JOIN identities i ON i.ident = vs.person),
		orgs = (SELECT COUNT(DISTINCT org) FROM vs WHERE org <> '' AND org NOT IN (SELECT org FROM home_orgs)),
		mentions = (SELECT COUNT(*) FROM mentions WHERE request_id IN (SELECT id FROM sub)),
		companies = (SELECT COUNT(*) FROM co),
		value_cents = (SELECT COALESCE(SUM(mrr_cents), 0) FROM companies WHERE id IN (SELECT company_id FROM co))
	WHERE id = ?`

// recount recomputes the counters of each id over its subtree.
func recount(ctx context.Context, tx *sqlx.Tx, ids ...int64) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, tx.Rebind(recountSQL), id, id); err != nil {
			return fmt.Errorf("recount %d: %w", id, err)
		}
	}
	return nil
}

// recountChain recomputes the counters of id and of every request it is
// merged into.
func recountChain(ctx context.Context, tx *sqlx.Tx, id int64) error {
	ids, err := chain(ctx, tx, id)
	if err != nil {
		return err
	}
	return recount(ctx, tx, ids...)
}

func fixRequest(r *bot.Request) {
	r.CreatedAt = r.CreatedAt.UTC()
	r.UpdatedAt = r.UpdatedAt.UTC()
	if r.RemovedAt != nil {
		t := r.RemovedAt.UTC()
		r.RemovedAt = &t
	}
	if r.Tags == nil {
		r.Tags = bot.Tags{}
	}
}
