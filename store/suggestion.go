package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

const suggestionColumns = `id, request_id, platform, workspace, channel, message_id, thread_id, state,
	merged_into, decided_by, decided_at, created_at`

// CreateSuggestion stores s (state pending) with its candidates, in order,
// and sets s.ID, s.State and s.CreatedAt. ENOTFOUND when a request does not
// exist.
//
// On PostgreSQL suggestions.request_id and suggestion_candidates.request_id
// have no foreign keys (migration 00093): the writes below check that the
// requests exist themselves. A request is never deleted, so one that
// exists when it is checked exists when the suggestion commits.
func (s *DB) CreateSuggestion(ctx context.Context, sg *bot.Suggestion) error {
	if s.dialect == DialectPostgres && len(sg.Candidates) > 0 && len(sg.Candidates) <= 3 {
		err := s.createSuggestionPostgres(ctx, sg)
		if !errors.Is(err, errMissingRequest) {
			return err
		}
		// Nothing was written; the transaction below says which request
		// is missing.
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.now()
	sg.State = bot.SuggestionPending
	sg.MergedInto, sg.DecidedBy, sg.DecidedAt = nil, "", nil
	sg.CreatedAt = now
	if err := s.checkRequest(ctx, tx, sg.RequestID); err != nil {
		return err
	}
	err = tx.GetContext(ctx, &sg.ID, tx.Rebind(`
		INSERT INTO suggestions (request_id, platform, workspace, channel, message_id, thread_id, state, decided_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, '', ?) RETURNING id`),
		sg.RequestID, sg.Platform, sg.Workspace, sg.Channel, sg.MessageID, sg.ThreadID, sg.State, now)
	if isForeignKeyViolation(err) {
		return errNoRequest(sg.RequestID)
	}
	if err != nil {
		return fmt.Errorf("insert suggestion: %w", err)
	}
	for i, c := range sg.Candidates {
		if err := s.checkRequest(ctx, tx, c.RequestID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO suggestion_candidates (suggestion_id, rank, request_id, score) VALUES (?, ?, ?, ?)`),
			sg.ID, i, c.RequestID, c.Score)
		if isForeignKeyViolation(err) {
			return errNoRequest(c.RequestID)
		}
		if err != nil {
			return fmt.Errorf("insert suggestion candidate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// checkRequest is ENOTFOUND when request id does not exist, on PostgreSQL
// (where suggestions and their candidates have no foreign key to requests,
// migration 00093); SQLite's foreign keys say it.
func (s *DB) checkRequest(ctx context.Context, tx *sqlx.Tx, id int64) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM requests WHERE id = $1`, id); err != nil {
		return fmt.Errorf("find request %d: %w", id, err)
	}
	if n == 0 {
		return errNoRequest(id)
	}
	return nil
}

// errMissingRequest: a suggestion statement wrote nothing because a
// request it names does not exist.
var errMissingRequest = errors.New("a request of the suggestion does not exist")

// createSuggestionPostgres writes the suggestion and its candidates in one
// statement, when every request they name exists (errMissingRequest and
// nothing written otherwise).
func (s *DB) createSuggestionPostgres(ctx context.Context, sg *bot.Suggestion) error {
	now := s.now().Truncate(time.Microsecond)
	var vals strings.Builder
	args := []any{sg.RequestID, sg.Platform, sg.Workspace, sg.Channel, sg.MessageID, sg.ThreadID, bot.SuggestionPending, now}
	for i, c := range sg.Candidates {
		if i > 0 {
			vals.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&vals, "($%d::int, $%d::bigint, $%d::float8)", n+1, n+2, n+3)
		args = append(args, i, c.RequestID, c.Score)
	}
	var id int64
	err := s.get(ctx, &id, `
		WITH v(rank, request_id, score) AS (VALUES `+vals.String()+`
		), s AS (
			INSERT INTO suggestions (request_id, platform, workspace, channel, message_id, thread_id, state, decided_by, created_at)
			SELECT $1, $2, $3, $4, $5, $6, $7, '', $8
			WHERE EXISTS (SELECT 1 FROM requests WHERE id = $1)
				AND NOT EXISTS (SELECT 1 FROM v WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = v.request_id))
			RETURNING id
		), c AS (
			INSERT INTO suggestion_candidates (suggestion_id, rank, request_id, score)
			SELECT s.id, v.rank, v.request_id, v.score FROM s, v
		)
		SELECT id FROM s`, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return errMissingRequest
	}
	if err != nil {
		return fmt.Errorf("insert suggestion: %w", err)
	}
	sg.ID = id
	sg.State = bot.SuggestionPending
	sg.MergedInto, sg.DecidedBy, sg.DecidedAt = nil, "", nil
	sg.CreatedAt = now
	return nil
}

// CreateSuggestionFrom keeps of found (the duplicate index's candidates
// for sg.RequestID, best first) what bot.KeepCandidates keeps, with the
// canonical requests as they are, and when it keeps any stores sg with
// them as CreateSuggestion does; it sets sg.Candidates and returns the
// kept requests, in order. When none is kept nothing is written and sg.ID
// stays 0. On PostgreSQL the read and the write are one statement (a
// capture with duplicates otherwise pays a round trip for each), and
// concurrent calls share it and its commit (group commit, group.go); on
// SQLite they are ResolveRequests and CreateSuggestion.
func (s *DB) CreateSuggestionFrom(ctx context.Context, sg *bot.Suggestion, found []bot.Candidate, max int) ([]*bot.Request, error) {
	sg.Candidates = nil
	if len(found) == 0 || max <= 0 {
		return nil, nil
	}
	if s.dialect == DialectPostgres {
		// The batch reads a copy of sg and writes only to out, which is
		// read once the batch is done: a caller whose context ends first
		// shares nothing with it.
		out := &suggestionMade{}
		err := s.suggestions.do(ctx, suggestionFrom{sg: *sg, found: found, max: max, at: s.now().Truncate(time.Microsecond), out: out})
		if err == nil {
			return out.apply(sg), nil
		}
		if !errors.Is(err, errMissingRequest) {
			return nil, err
		}
		// Nothing was written: the suggestion's own request does not
		// exist. The steps below say so (ENOTFOUND).
		sg.Candidates, sg.ID = nil, 0
	}
	ids := make([]int64, len(found))
	for i, c := range found {
		ids[i] = c.RequestID
	}
	resolved, err := s.ResolveRequests(ctx, ids)
	if err != nil {
		return nil, err
	}
	cands, reqs := bot.KeepCandidates(sg.RequestID, found, resolved, max)
	if len(cands) == 0 {
		return nil, nil
	}
	sg.Candidates = cands
	if err := s.CreateSuggestion(ctx, sg); err != nil {
		sg.Candidates = nil
		return nil, err
	}
	return reqs, nil
}

// suggestionFrom is one CreateSuggestionFrom in a batch (PostgreSQL): a
// copy of the suggestion (its request and where it is shown), the index's
// candidates, the most to keep, its creation time, and where what was
// written goes.
type suggestionFrom struct {
	sg    bot.Suggestion
	found []bot.Candidate
	max   int
	at    time.Time
	out   *suggestionMade
}

// suggestionMade is what a CreateSuggestionFrom wrote: the suggestion's id
// and creation time, the kept candidates and their requests (none when
// nothing was kept, and nothing was written).
type suggestionMade struct {
	id    int64
	at    time.Time
	cands []bot.Candidate
	reqs  []*bot.Request
}

// apply sets in sg what was written (nothing when nothing was kept) and
// returns the kept requests.
func (m *suggestionMade) apply(sg *bot.Suggestion) []*bot.Request {
	if len(m.reqs) == 0 {
		return nil
	}
	sg.Candidates = m.cands
	sg.ID = m.id
	sg.State = bot.SuggestionPending
	sg.MergedInto, sg.DecidedBy, sg.DecidedAt = nil, "", nil
	sg.CreatedAt = m.at
	return m.reqs
}

// suggestibleSQL lists the statuses a request is suggested in
// (bot.Status.Suggestible).
var suggestibleSQL = func() string {
	var q []string
	for _, st := range []bot.Status{bot.StatusOpen, bot.StatusPlanned, bot.StatusInProgress, bot.StatusShipped, bot.StatusDeclined, bot.StatusRolledBack} {
		if st.Suggestible() {
			q = append(q, "'"+string(st)+"'")
		}
	}
	return strings.Join(q, ", ")
}()

// createSuggestionFromSQL is CreateSuggestionFrom in one statement: found
// comes in as the array of its ids ($8, in order: the rank is the
// ordinality) and of its scores ($9). res is the canonical request of each
// found id that is suggestible and not the suggestion's own request, once
// (at its best rank); kept the first $10 of them. The suggestion is
// inserted only when something is kept. The rows are the kept requests,
// with their rank in found and the suggestion's id, NULL when the
// suggestion's own request does not exist (then nothing is written:
// suggestions have no foreign key to requests on PostgreSQL, migration
// 00093; the candidates are requests just read). The statement is
// prepared, and its plan may be made once (generic) while the board is
// small: each request is found through its key (lateral subqueries, OFFSET
// 0 so that PostgreSQL cannot turn them into joins), whatever the size of
// requests was when the plan was made.
var createSuggestionFromSQL = `
WITH res AS (
	SELECT DISTINCT ON (c.id) v.rank, ` + rootColumns + `
	FROM unnest($8::bigint[]) WITH ORDINALITY AS v(id, rank)
	CROSS JOIN LATERAL (SELECT root_id FROM requests r WHERE r.id = v.id OFFSET 0) r
	CROSS JOIN LATERAL (SELECT * FROM requests c WHERE c.id = r.root_id OFFSET 0) c
	WHERE c.id <> $1 AND c.status IN (` + suggestibleSQL + `)
	ORDER BY c.id, v.rank
), kept AS (
	SELECT row_number() OVER (ORDER BY rank) - 1 AS pos, * FROM (SELECT * FROM res ORDER BY rank LIMIT $10) k
), s AS (
	INSERT INTO suggestions (request_id, platform, workspace, channel, message_id, thread_id, state, decided_by, created_at)
	SELECT $1, $2, $3, $4, $5, $6, 'pending', '', $7
	WHERE EXISTS (SELECT 1 FROM kept) AND EXISTS (SELECT 1 FROM requests WHERE id = $1)
	RETURNING id
), c AS (
	INSERT INTO suggestion_candidates (suggestion_id, rank, request_id, score)
	SELECT s.id, kept.pos, kept.id, ($9::float8[])[kept.rank] FROM s, kept
)
SELECT (SELECT id FROM s) AS suggestion, kept.* FROM kept ORDER BY kept.pos`

// createSuggestionFromPostgres is one CreateSuggestionFrom on PostgreSQL,
// alone in its statement. errMissingRequest when the suggestion's own
// request does not exist (and something would have been kept).
func (s *DB) createSuggestionFromPostgres(ctx context.Context, in suggestionFrom) error {
	sg, found, max := &in.sg, in.found, in.max
	a := newPGArrays(2, 48*len(found))
	a.Int(len(found), func(i int) int64 { return found[i].RequestID })
	a.Float(len(found), func(i int) float64 { return found[i].Score })
	arrays := a.Args()
	var (
		q          requestScan
		suggestion sql.NullInt64
		pos, rank  int
		first      int64
		reqs       []*bot.Request
		cands      []bot.Candidate
	)
	target := func(col string) any {
		switch col {
		case "suggestion":
			return &suggestion
		case "pos":
			return intDest{&pos}
		case "rank":
			return intDest{&rank}
		}
		return q.target(col)
	}
	rows, err := s.queryGeneric(ctx, createSuggestionFromSQL, sg.RequestID, sg.Platform, sg.Workspace, sg.Channel, sg.MessageID, sg.ThreadID, in.at,
		arrays[0], arrays[1], max)
	if err == nil {
		err = scanRows(rows, target, func() error {
			if rank < 1 || rank > len(found) {
				return fmt.Errorf("candidate of rank %d of %d", rank, len(found))
			}
			if !suggestion.Valid {
				return errMissingRequest
			}
			if reqs == nil {
				first = suggestion.Int64
				reqs, cands = make([]*bot.Request, 0, min(max, len(found))), make([]bot.Candidate, 0, min(max, len(found)))
			}
			f := found[rank-1]
			r := q.request()
			fixRequest(r)
			reqs = append(reqs, r)
			cands = append(cands, bot.Candidate{RequestID: r.ID, Score: f.Score, Reason: f.Reason})
			return nil
		})
	}
	if err != nil {
		if errors.Is(err, errMissingRequest) {
			return err
		}
		return fmt.Errorf("insert suggestion: %w", err)
	}
	*in.out = suggestionMade{id: first, at: in.at, cands: cands, reqs: reqs}
	return nil
}

// createSuggestions writes a batch of CreateSuggestionFrom calls
// (group.run, PostgreSQL). A batch of more than one is one statement
// (createSuggestionsSQL); one alone, or each of a batch whose statement
// failed (it then wrote nothing), is createSuggestionFromSQL, so only the
// one at fault fails. A call whose own request does not exist is
// errMissingRequest (nothing written for it, the others written), which
// CreateSuggestionFrom answers as the unbatched path does.
func (s *DB) createSuggestions(ctx context.Context, batch []*groupItem[suggestionFrom]) {
	batchOrEach(batch, false, func(b []*groupItem[suggestionFrom]) error { return s.createSuggestionsPostgres(ctx, b) },
		func(it *groupItem[suggestionFrom]) error { return s.createSuggestionFromPostgres(ctx, it.in) })
}

// createSuggestionsSQL is createSuggestionFromSQL for a batch of calls, in
// one statement. The calls come in as arrays, one element each: its item
// (1, 2, …: $1), its suggestion's request, platform, workspace, channel,
// message and thread ($2-$7), creation time ($8) and the most to keep
// ($9); their candidates flattened, each with its call's item ($10), its
// rank in that call's found (1, 2, …: $11), its id ($12) and score ($13).
// res is, for each call, the canonical request of each candidate that is
// suggestible and not the call's own request, once (at its best rank);
// kept the first max of them, numbered from 0 (pos) in rank order. A
// suggestion id is drawn (in item order) for each call that keeps
// something and whose own request exists, and only for those, as the
// single statement inserts only then. The rows are the kept requests of
// every call, by item and pos, with the suggestion's id, NULL when the
// call's own request does not exist (nothing is written for it). As in
// createSuggestionFromSQL each request is found through its key whatever
// the size of the board when the generic plan was made.
var createSuggestionsSQL = `
WITH it AS (
	SELECT * FROM unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::int[])
		AS it(item, request_id, platform, workspace, channel, message_id, thread_id, created_at, lim)
), res AS (
	SELECT DISTINCT ON (v.item, c.id) v.item, v.rank, v.score, it.lim, ` + rootColumns + `
	FROM unnest($10::int[], $11::int[], $12::bigint[], $13::float8[]) AS v(item, rank, id, score)
	JOIN it ON it.item = v.item
	CROSS JOIN LATERAL (SELECT root_id FROM requests r WHERE r.id = v.id OFFSET 0) r
	CROSS JOIN LATERAL (SELECT * FROM requests c WHERE c.id = r.root_id OFFSET 0) c
	WHERE c.id <> it.request_id AND c.status IN (` + suggestibleSQL + `)
	ORDER BY v.item, c.id, v.rank
), kept AS (
	SELECT * FROM (SELECT row_number() OVER (PARTITION BY res.item ORDER BY res.rank) - 1 AS pos, res.* FROM res) k
	WHERE k.pos < k.lim
), s AS MATERIALIZED (
	SELECT it.item, nextval('suggestions_id_seq'::regclass) AS id, it.request_id, it.platform, it.workspace, it.channel,
		it.message_id, it.thread_id, it.created_at
	FROM it
	WHERE EXISTS (SELECT 1 FROM kept WHERE kept.item = it.item)
		AND EXISTS (SELECT 1 FROM requests r WHERE r.id = it.request_id OFFSET 0)
	ORDER BY it.item
), ins AS (
	INSERT INTO suggestions (id, request_id, platform, workspace, channel, message_id, thread_id, state, decided_by, created_at)
	SELECT id, request_id, platform, workspace, channel, message_id, thread_id, 'pending', '', created_at FROM s
), cs AS (
	INSERT INTO suggestion_candidates (suggestion_id, rank, request_id, score)
	SELECT s.id, kept.pos, kept.id, kept.score FROM kept JOIN s ON s.item = kept.item
)
SELECT kept.item, kept.pos, kept.rank, s.id AS suggestion, ` + "kept." + strings.ReplaceAll(requestColumns, ", ", ", kept.") + `
FROM kept LEFT JOIN s ON s.item = kept.item
ORDER BY kept.item, kept.pos`

// suggestionsArgs is the arguments of createSuggestionsSQL for batch.
func suggestionsArgs(batch []*groupItem[suggestionFrom]) []any {
	n, size := len(batch), 0
	type cand struct{ item, rank int }
	var cs []cand
	for i, it := range batch {
		sg := &it.in.sg
		size += len(sg.Platform) + len(sg.Workspace) + len(sg.Channel) + len(sg.MessageID) + len(sg.ThreadID) + 96 + 64*len(it.in.found)
		for r := range it.in.found {
			cs = append(cs, cand{i + 1, r + 1})
		}
	}
	a := newPGArrays(13, size)
	a.Int(n, func(i int) int64 { return int64(i + 1) })
	a.Int(n, func(i int) int64 { return batch[i].in.sg.RequestID })
	for _, col := range [...]func(*bot.Suggestion) string{
		func(sg *bot.Suggestion) string { return sg.Platform },
		func(sg *bot.Suggestion) string { return sg.Workspace },
		func(sg *bot.Suggestion) string { return sg.Channel },
		func(sg *bot.Suggestion) string { return sg.MessageID },
		func(sg *bot.Suggestion) string { return sg.ThreadID },
	} {
		a.Text(n, func(i int) string { return col(&batch[i].in.sg) })
	}
	a.Time(n, func(i int) time.Time { return batch[i].in.at })
	a.Int(n, func(i int) int64 { return int64(batch[i].in.max) })
	found := func(i int) bot.Candidate { return batch[cs[i].item-1].in.found[cs[i].rank-1] }
	a.Int(len(cs), func(i int) int64 { return int64(cs[i].item) })
	a.Int(len(cs), func(i int) int64 { return int64(cs[i].rank) })
	a.Int(len(cs), func(i int) int64 { return found(i).RequestID })
	a.Float(len(cs), func(i int) float64 { return found(i).Score })
	return a.Args()
}

// createSuggestionsPostgres writes a batch in one statement (its own
// transaction). A call whose own request does not exist is
// errMissingRequest; the others get what they wrote (nothing when nothing
// was kept).
func (s *DB) createSuggestionsPostgres(ctx context.Context, batch []*groupItem[suggestionFrom]) error {
	n := len(batch)
	var (
		q          requestScan
		suggestion sql.NullInt64
		item       int
		pos, rank  int
	)
	target := func(col string) any {
		switch col {
		case "item":
			return intDest{&item}
		case "suggestion":
			return &suggestion
		case "pos":
			return intDest{&pos}
		case "rank":
			return intDest{&rank}
		}
		return q.target(col)
	}
	made := make([]suggestionMade, n)
	missing := make([]bool, n)
	seen := make([]int, n) // rows of each call so far
	rows, err := s.queryGeneric(ctx, createSuggestionsSQL, suggestionsArgs(batch)...)
	if err == nil {
		err = scanRows(rows, target, func() error {
			if item < 1 || item > n {
				return fmt.Errorf("row for suggestion %d of %d", item, n)
			}
			in := &batch[item-1].in
			if rank < 1 || rank > len(in.found) || pos != seen[item-1] || pos >= in.max {
				return fmt.Errorf("candidate of rank %d of %d at %d", rank, len(in.found), pos)
			}
			seen[item-1]++
			if !suggestion.Valid {
				missing[item-1] = true
				return nil
			}
			m := &made[item-1]
			if m.reqs == nil {
				m.id = suggestion.Int64
				m.reqs, m.cands = make([]*bot.Request, 0, min(in.max, len(in.found))), make([]bot.Candidate, 0, min(in.max, len(in.found)))
			}
			f := in.found[rank-1]
			r := q.request()
			fixRequest(r)
			m.reqs = append(m.reqs, r)
			m.cands = append(m.cands, bot.Candidate{RequestID: r.ID, Score: f.Score, Reason: f.Reason})
			return nil
		})
	}
	if err != nil {
		return storageError(fmt.Errorf("insert suggestions: %w", err))
	}
	for i, it := range batch {
		if missing[i] {
			it.err = errMissingRequest
			continue
		}
		made[i].at = it.in.at
		*it.in.out = made[i]
	}
	return nil
}

// SetSuggestionMessage records the chat message that shows suggestion id.
// ENOTFOUND.
func (s *DB) SetSuggestionMessage(ctx context.Context, id int64, ref bot.MessageRef) error {
	res, err := s.exec(ctx, setSuggestionMessageSQL,
		ref.Platform, ref.Workspace, ref.Channel, ref.ID, ref.ThreadID, id)
	if err != nil {
		return fmt.Errorf("set suggestion message: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoSuggestion(id)
	}
	return nil
}

func errNoSuggestion(id int64) error {
	return bot.Errorf(bot.ENOTFOUND, "Suggestion %d does not exist.", id)
}

// FindSuggestion returns suggestion id with its candidates, best first.
// ENOTFOUND.
func (s *DB) FindSuggestion(ctx context.Context, id int64) (*bot.Suggestion, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findSuggestion(ctx, tx, id)
}

func findSuggestion(ctx context.Context, tx *sqlx.Tx, id int64) (*bot.Suggestion, error) {
	var sg bot.Suggestion
	err := tx.GetContext(ctx, &sg, tx.Rebind(`SELECT `+suggestionColumns+` FROM suggestions WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoSuggestion(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find suggestion %d: %w", id, err)
	}
	sg.CreatedAt = sg.CreatedAt.UTC()
	if sg.DecidedAt != nil {
		t := sg.DecidedAt.UTC()
		sg.DecidedAt = &t
	}
	rows, err := tx.QueryContext(ctx, tx.Rebind(`SELECT request_id, score FROM suggestion_candidates WHERE suggestion_id = ? ORDER BY rank`), id)
	if err != nil {
		return nil, fmt.Errorf("find suggestion candidates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c bot.Candidate
		if err := rows.Scan(&c.RequestID, &c.Score); err != nil {
			return nil, fmt.Errorf("find suggestion candidates: %w", err)
		}
		sg.Candidates = append(sg.Candidates, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find suggestion candidates: %w", err)
	}
	return &sg, nil
}

// DecideSuggestion moves a pending suggestion to merged, merging its request
// into `into` in the same transaction, or to dismissed. When the suggestion
// is no longer pending it changes nothing and returns it with false, so two
// presses (or two replicas) act once. EINVALID for another state; ENOTFOUND;
// the merge's ECONFLICT (nothing changes).
func (s *DB) DecideSuggestion(ctx context.Context, id int64, state string, into int64, actor string) (*bot.Suggestion, bool, error) {
	if state != bot.SuggestionMerged && state != bot.SuggestionDismissed {
		return nil, false, bot.Errorf(bot.EINVALID, "A suggestion is decided as %s or %s.", bot.SuggestionMerged, bot.SuggestionDismissed)
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	now := s.now()
	var mergedInto *int64
	if state == bot.SuggestionMerged {
		mergedInto = &into
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE suggestions SET state = ?, merged_into = ?, decided_by = ?, decided_at = ?
		WHERE id = ? AND state = ?`), state, mergedInto, actor, now, id, bot.SuggestionPending)
	if isForeignKeyViolation(err) {
		return nil, false, errNoRequest(into)
	}
	if err != nil {
		return nil, false, fmt.Errorf("decide suggestion %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		sg, err := findSuggestion(ctx, tx, id)
		return sg, false, err
	}
	if state == bot.SuggestionMerged {
		var src int64
		if err := tx.GetContext(ctx, &src, tx.Rebind(`SELECT request_id FROM suggestions WHERE id = ?`), id); err != nil {
			return nil, false, fmt.Errorf("decide suggestion %d: %w", id, err)
		}
		r, err := merge(ctx, tx, src, into, actor, now)
		if err != nil {
			return nil, false, err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE suggestions SET merged_into = ? WHERE id = ?`), r.ID, id); err != nil {
			return nil, false, fmt.Errorf("decide suggestion %d: %w", id, err)
		}
	}
	sg, err := findSuggestion(ctx, tx, id)
	if err != nil {
		return nil, false, err
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("commit: %w", err)
	}
	return sg, true, nil
}

// DismissedWith returns the ids of requests that were dismissed as
// duplicates of id, in either direction, in id order.
func (s *DB) DismissedWith(ctx context.Context, id int64) ([]int64, error) {
	var ids []int64
	err := s.selectAll(ctx, &ids, `
		SELECT c.request_id FROM suggestions s JOIN suggestion_candidates c ON c.suggestion_id = s.id
		WHERE s.state = 'dismissed' AND s.request_id = ?
		UNION
		SELECT s.request_id FROM suggestions s JOIN suggestion_candidates c ON c.suggestion_id = s.id
		WHERE s.state = 'dismissed' AND c.request_id = ?
		ORDER BY 1`, id, id)
	if err != nil {
		return nil, fmt.Errorf("dismissed with %d: %w", id, err)
	}
	return ids, nil
}
