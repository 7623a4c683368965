package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// SeedSpec describes the synthetic board SeedBulk writes (load tests and
// the start-up and memory measurements).
type SeedSpec struct {
	// Requests is the number of requests to add.
	Requests int
	// MentionsPerRequest is the number of mentions of each request (at
	// least 1: the captured message itself).
	MentionsPerRequest int
	// Channels spreads the mentions over that many Slack channels (default
	// 500).
	Channels int
	// Text returns the captured message of request i (0-based): its first
	// line becomes the title, the whole text the description.
	Text func(i int) string
	// Reply returns the text of the j-th further mention (j ≥ 1) of request i.
	Reply func(i, j int) string
	// Progress, when set, is called now and then with the requests written.
	Progress func(done int)
}

// SeedBulk adds spec.Requests requests with their mentions and authorship
// votes in bulk (COPY on PostgreSQL, prepared inserts on SQLite), with
// their counters set, as if each had been captured and then mentioned
// spec.MentionsPerRequest-1 more times by mostly different people (50,000
// people in 30 organisations). It writes in one transaction per 10,000
// requests and runs ANALYZE at the end. It is for tests and load runs; the
// bot never calls it.
func (s *DB) SeedBulk(ctx context.Context, spec SeedSpec) error {
	if spec.Requests <= 0 {
		return nil
	}
	ctx = unbounded(ctx)
	if spec.MentionsPerRequest < 1 {
		spec.MentionsPerRequest = 1
	}
	if spec.Channels <= 0 {
		spec.Channels = 500
	}
	if spec.Text == nil || spec.Reply == nil {
		return bot.Errorf(bot.EINVALID, "SeedBulk needs Text and Reply.")
	}
	var base int64
	if err := s.db.GetContext(ctx, &base, `SELECT COALESCE(MAX(id), 0) FROM requests`); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	const batch = 10_000
	start := time.Now().UTC().Add(-365 * 24 * time.Hour)
	for lo := 0; lo < spec.Requests; lo += batch {
		hi := min(spec.Requests, lo+batch)
		if err := s.seedBatch(ctx, spec, base, lo, hi, start); err != nil {
			return err
		}
		if spec.Progress != nil {
			spec.Progress(hi)
		}
	}
	if s.dialect == DialectPostgres {
		for _, t := range []string{"requests", "mentions", "voters"} {
			if _, err := s.db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT MAX(id) FROM `+t+`))`); err != nil {
				return fmt.Errorf("seed: sequence of %s: %w", t, err)
			}
		}
	}
	if err := s.analyze(ctx); err != nil {
		return fmt.Errorf("seed: analyze: %w", err)
	}
	return nil
}

// analyze runs ANALYZE, on PostgreSQL without the statement timeout.
func (s *DB) analyze(ctx context.Context) error {
	if s.dialect != DialectPostgres {
		_, err := s.db.ExecContext(ctx, `ANALYZE`)
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `ANALYZE`); err != nil {
		return err
	}
	return tx.Commit()
}

// seedInserter writes rows of one table.
type seedInserter interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	Close() error
}

func (s *DB) seedBatch(ctx context.Context, spec SeedSpec, base int64, lo, hi int, start time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed: begin: %w", err)
	}
	defer tx.Rollback()
	if s.dialect == DialectPostgres {
		// Bulk writes are not held to the bot's statement timeout.
		if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	reqCols := []string{"id", "title", "description", "status", "root_id", "demand", "orgs", "mentions", "created_at", "updated_at"}
	menCols := []string{"request_id", "platform", "workspace", "channel", "message_id", "thread_id", "author_id", "author_name", "org", "text", "captured_by", "via", "deleted", "created_at"}
	votCols := []string{"request_id", "platform", "workspace", "user_id", "person", "org", "kind", "created_at"}
	prep := func(table string, cols []string) (seedInserter, error) {
		var q string
		if s.dialect == DialectPostgres {
			q = "COPY " + table + " ("
			for i, c := range cols {
				if i > 0 {
					q += ", "
				}
				q += c
			}
			q += ") FROM STDIN"
		} else {
			q = "INSERT INTO " + table + " ("
			vals := ""
			for i, c := range cols {
				if i > 0 {
					q += ", "
					vals += ", "
				}
				q += c
				vals += "?"
			}
			q += ") VALUES (" + vals + ")"
		}
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("seed: prepare %s: %w", table, err)
		}
		return stmtInserter{st}, nil
	}
	// COPY streams one table at a time on a connection, so the three
	// tables are written one after the other.
	type voter struct {
		user, org string
	}
	reqs, err := prep("requests", reqCols)
	if err != nil {
		return err
	}
	for i := lo; i < hi; i++ {
		id := base + int64(i) + 1
		text := spec.Text(i)
		at := start.Add(time.Duration(i) * time.Second / 4)
		seen := map[string]bool{}
		orgs := map[string]bool{}
		for j := range spec.MentionsPerRequest {
			u, o := seedAuthor(i, j)
			seen[u], orgs[o] = true, true
		}
		_, err := reqs.ExecContext(ctx, id, seedTitle(text), text, string(bot.StatusOpen), id,
			len(seen), len(orgs), spec.MentionsPerRequest, at, at)
		if err != nil {
			return fmt.Errorf("seed: requests: %w", err)
		}
	}
	if err := s.closeInserter(ctx, reqs); err != nil {
		return fmt.Errorf("seed: requests: %w", err)
	}
	mens, err := prep("mentions", menCols)
	if err != nil {
		return err
	}
	for i := lo; i < hi; i++ {
		id := base + int64(i) + 1
		at := start.Add(time.Duration(i) * time.Second / 4)
		root := fmt.Sprintf("s%d-%d", id, 0)
		rootCh := fmt.Sprintf("C%d", i%spec.Channels)
		for j := range spec.MentionsPerRequest {
			u, o := seedAuthor(i, j)
			ch, msg, thread, text, via := rootCh, root, root, "", bot.ViaChannel
			if j == 0 {
				text = spec.Text(i)
			} else {
				text = spec.Reply(i, j)
				msg = fmt.Sprintf("s%d-%d", id, j)
				if j%2 == 1 {
					via = bot.ViaThread
				} else {
					ch = fmt.Sprintf("C%d", (i+j*7)%spec.Channels)
					thread, via = msg, bot.ViaReaction
				}
			}
			_, err := mens.ExecContext(ctx, id, "slack", "T1", ch, msg, thread, u, u, o, text, u, via, false, at.Add(time.Duration(j)*time.Minute))
			if err != nil {
				return fmt.Errorf("seed: mentions: %w", err)
			}
		}
	}
	if err := s.closeInserter(ctx, mens); err != nil {
		return fmt.Errorf("seed: mentions: %w", err)
	}
	vots, err := prep("voters", votCols)
	if err != nil {
		return err
	}
	for i := lo; i < hi; i++ {
		id := base + int64(i) + 1
		at := start.Add(time.Duration(i) * time.Second / 4)
		seen := map[string]bool{}
		for j := range spec.MentionsPerRequest {
			u, o := seedAuthor(i, j)
			if seen[u] {
				continue
			}
			seen[u] = true
			_, err := vots.ExecContext(ctx, id, "slack", "T1", u, person("slack", "T1", u), o, bot.VoteAuthor, at.Add(time.Duration(j)*time.Minute))
			if err != nil {
				return fmt.Errorf("seed: voters: %w", err)
			}
		}
	}
	if err := s.closeInserter(ctx, vots); err != nil {
		return fmt.Errorf("seed: voters: %w", err)
	}
	return tx.Commit()
}

// closeInserter flushes a COPY (on PostgreSQL, an Exec without arguments)
// and closes the statement.
func (s *DB) closeInserter(ctx context.Context, ins seedInserter) error {
	defer ins.Close()
	if s.dialect == DialectPostgres {
		if _, err := ins.ExecContext(ctx); err != nil {
			return err
		}
	}
	return nil
}

type stmtInserter struct{ *sql.Stmt }

func (s stmtInserter) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.Stmt.ExecContext(ctx, args...)
}

// seedAuthor returns the author and organisation of mention j of request i.
func seedAuthor(i, j int) (user, org string) {
	n := (uint64(i)*2654435761 + uint64(j)*40503) % 50_000
	return fmt.Sprintf("U%05d", n), fmt.Sprintf("T%d", n%30)
}

// seedTitle is the title a capture takes from text (see bot.titleOf): its
// first line.
func seedTitle(text string) string {
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			return text[:i]
		}
	}
	return text
}
