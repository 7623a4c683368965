package store_test

import (
	"io/fs"
	"sort"

	"bytes"
	"context"
	"github.com/feedbackbot/feedbackbot/migrations"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// forEachDB runs fn against a fresh, migrated store on SQLite and on
// PostgreSQL (see storetest.ForEachDB).
func forEachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		fn(t, MustOpenDB(t, dsn))
	})
}

// MustOpenDB opens and migrates the store at dsn and closes it when the test ends.
func MustOpenDB(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

// newMention returns a Slack mention of message id by author in channel C1 of
// workspace T1, top level (its own thread), with organisation T1.
func newMention(id, author string, opts ...func(*bot.Mention)) *bot.Mention {
	m := &bot.Mention{
		Platform:   bot.PlatformSlack,
		Workspace:  "T1",
		Channel:    "C1",
		MessageID:  id,
		ThreadID:   id,
		AuthorID:   author,
		AuthorName: strings.ToUpper(author),
		Org:        "T1",
		Text:       "text of " + id,
		CapturedBy: author,
		Via:        bot.ViaChannel,
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

func inThread(thread string) func(*bot.Mention) { return func(m *bot.Mention) { m.ThreadID = thread } }
func inChannel(ch string) func(*bot.Mention)    { return func(m *bot.Mention) { m.Channel = ch } }
func withOrg(org string) func(*bot.Mention)     { return func(m *bot.Mention) { m.Org = org } }

// mustCreate captures a new request titled title from message msgID by author.
func mustCreate(tb testing.TB, db *store.DB, title, msgID, author string, opts ...func(*bot.Mention)) *bot.Request {
	tb.Helper()
	r := &bot.Request{Title: title, Description: title + " please"}
	if err := db.CreateRequest(context.Background(), r, newMention(msgID, author, opts...)); err != nil {
		tb.Fatalf("create request %q: %v", title, err)
	}
	return r
}

func mustAddMention(tb testing.TB, db *store.DB, requestID int64, m *bot.Mention) {
	tb.Helper()
	m.RequestID = requestID
	if err := db.AddMention(context.Background(), m); err != nil {
		tb.Fatalf("add mention %s: %v", m.MessageID, err)
	}
}

func mustVote(tb testing.TB, db *store.DB, requestID int64, user, org string) bool {
	tb.Helper()
	ok, err := db.AddVote(context.Background(), bot.Voter{RequestID: requestID, Platform: bot.PlatformSlack, Workspace: "T1", UserID: user, Org: org})
	if err != nil {
		tb.Fatalf("vote %s on %d: %v", user, requestID, err)
	}
	return ok
}

func mustMerge(tb testing.TB, db *store.DB, src, dst int64) *bot.Request {
	tb.Helper()
	r, err := db.Merge(context.Background(), src, dst, "lead")
	if err != nil {
		tb.Fatalf("merge %d into %d: %v", src, dst, err)
	}
	return r
}

func mustFind(tb testing.TB, db *store.DB, id int64) *bot.Request {
	tb.Helper()
	r, err := db.FindRequestByID(context.Background(), id)
	if err != nil {
		tb.Fatalf("find %d: %v", id, err)
	}
	return r
}

// counts returns demand, orgs and mentions of request id.
func counts(tb testing.TB, db *store.DB, id int64) [3]int {
	tb.Helper()
	r := mustFind(tb, db, id)
	return [3]int{r.Demand, r.Orgs, r.Mentions}
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := bot.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestParseDSN(t *testing.T) {
	for _, tt := range []struct {
		dsn, dialect, source string
	}{
		{"postgres://u@h/db", store.DialectPostgres, "postgres://u@h/db"},
		{"postgresql://u@h/db?sslmode=disable", store.DialectPostgres, "postgresql://u@h/db?sslmode=disable"},
		{"", store.DialectSQLite, "./feedbackbot.db?"},
		{"sqlite:/tmp/x.db", store.DialectSQLite, "/tmp/x.db?"},
		{"/tmp/y.db", store.DialectSQLite, "/tmp/y.db?"},
		{"sqlite:/tmp/z.db?mode=rwc", store.DialectSQLite, "/tmp/z.db?mode=rwc&"},
	} {
		dialect, _, source := store.ParseDSN(tt.dsn)
		if dialect != tt.dialect || !strings.HasPrefix(source, tt.source) {
			t.Errorf("ParseDSN(%q) = %q, %q; want %q, %q…", tt.dsn, dialect, source, tt.dialect, tt.source)
		}
		if dialect == store.DialectSQLite {
			for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(", "_txlock=immediate"} {
				if !strings.Contains(source, p) {
					t.Errorf("ParseDSN(%q) source %q lacks %s", tt.dsn, source, p)
				}
			}
		}
	}
}

func TestOpen(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		if err := db.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if db.Dialect() != store.DialectSQLite && db.Dialect() != store.DialectPostgres {
			t.Fatalf("dialect %q", db.Dialect())
		}
		if db.Dialect() == store.DialectSQLite {
			var mode string
			var fk int
			if err := db.DB().Get(&mode, `PRAGMA journal_mode`); err != nil || mode != "wal" {
				t.Errorf("journal_mode = %q, %v; want wal", mode, err)
			}
			if err := db.DB().Get(&fk, `PRAGMA foreign_keys`); err != nil || fk != 1 {
				t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
			}
		}
	})
}

func TestOpen_Twice(t *testing.T) {
	// Opening an already migrated database applies nothing and works.
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		a := MustOpenDB(t, dsn)
		mustCreate(t, a, "one", "m1", "alice")
		b := MustOpenDB(t, dsn)
		if r := mustFind(t, b, 1); r.Title != "one" {
			t.Fatalf("title %q", r.Title)
		}
	})
}

func TestMigrate(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		var out bytes.Buffer
		if err := store.Migrate(ctx, dsn, "status", &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "00001_init.sql") || !strings.Contains(out.String(), "pending") {
			t.Fatalf("status before up:\n%s", out.String())
		}
		out.Reset()
		if err := store.Migrate(ctx, dsn, "up", &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "applied 00001_init.sql") {
			t.Fatalf("up:\n%s", out.String())
		}
		out.Reset()
		if err := store.Migrate(ctx, dsn, "status", &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "applied") || strings.Contains(out.String(), "pending") {
			t.Fatalf("status after up:\n%s", out.String())
		}
		out.Reset()
		if err := store.Migrate(ctx, dsn, "down", &out); err != nil {
			t.Fatal(err)
		}
		if newest := newestMigration(t); !strings.Contains(out.String(), "rolled back "+newest) {
			t.Fatalf("down:\n%s", out.String())
		}
		out.Reset()
		if err := store.Migrate(ctx, dsn, "status", &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "pending") {
			t.Fatalf("status after down:\n%s", out.String())
		}
		// Up again after down: the schema is complete and usable.
		db := MustOpenDB(t, dsn)
		mustCreate(t, db, "after round trip", "m1", "alice")

		wantCode(t, store.Migrate(ctx, dsn, "sideways", &out), bot.EINVALID)
	})
}

// newestMigration names the last migration file, which "migrate down" rolls back.
func newestMigration(t *testing.T) string {
	t.Helper()
	fsys, err := migrations.Dialect(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	sort.Strings(names)
	return names[len(names)-1]
}
