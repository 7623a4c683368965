package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// A read-only SQLite database (a read-only mount, a file the process may
// not write) still serves reads, and every write fails with EUNAVAILABLE
// and a message that says the database is read-only, rather than an
// internal error.
func TestFault_SQLiteReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedbackbot.db")
	rw := MustOpenDB(t, "sqlite:"+path)
	a := mustCreate(t, rw, "Dark mode", "m1", "u1")
	ro := MustOpenDB(t, "sqlite:file:"+path+"?mode=ro")
	ctx := context.Background()
	if got, err := ro.FindRequestByID(ctx, a.ID); err != nil || got.Title != "Dark mode" {
		t.Fatalf("read from a read-only database: %+v, %v", got, err)
	}
	err := ro.CreateRequest(ctx, &bot.Request{Title: "x"}, newMention("m2", "u2"))
	wantCode(t, err, bot.EUNAVAILABLE)
	if !strings.Contains(bot.ErrorMessage(err), "read-only") {
		t.Fatalf("message %q does not say the database is read-only", bot.ErrorMessage(err))
	}
	if _, err := ro.AddVote(ctx, bot.Voter{RequestID: a.ID, Platform: "slack", Workspace: "T1", UserID: "u9"}); bot.ErrorCode(err) == "" {
		t.Fatal("vote on a read-only database: no error")
	}
	if err := ro.SaveCard(ctx, a.ID, bot.MessageRef{Platform: "slack", Channel: "C1", ID: "card"}); bot.ErrorCode(err) != bot.EUNAVAILABLE {
		t.Fatalf("save card on a read-only database: %v", err)
	}
}

// A SQLite file whose write lock another process holds for longer than the
// busy timeout fails a capture with EUNAVAILABLE ("busy": transient, so
// chat captures are retried) instead of an internal error, and captures
// again once the lock is let go.
func TestFault_SQLiteBusy(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "feedbackbot.db")
	db := MustOpenDB(t, "sqlite:"+path)
	other := MustOpenDB(t, "sqlite:"+path)
	ctx := context.Background()
	tx, err := other.DB().BeginTxx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	err = db.CreateRequest(ctx, &bot.Request{Title: "While locked"}, newMention("m1", "u1")) // waits out the busy timeout
	wantCode(t, err, bot.EUNAVAILABLE)
	if !strings.Contains(bot.ErrorMessage(err), "busy") {
		t.Fatalf("message %q does not say the database is busy", bot.ErrorMessage(err))
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, db, "After the lock", "m2", "u2")
}

// Writers of one process on SQLite queue for their turn instead of polling
// SQLite's lock: a capture that waits longer than the busy timeout behind
// another transaction of the same store is written once that one ends,
// rather than failing "database is locked".
func TestSQLiteWritersTakeTurns(t *testing.T) {
	t.Parallel()
	db := MustOpenDB(t, "sqlite:"+filepath.Join(t.TempDir(), "feedbackbot.db"))
	ctx := context.Background()
	tx, err := db.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- db.CreateRequest(ctx, &bot.Request{Title: "Queued"}, newMention("m1", "u1")) }()
	// Longer than the 10 s busy timeout (not a timing check: whatever the
	// load, the capture waits for the transaction, which ends only below).
	time.Sleep(12 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("capture ended while another transaction held the write turn: %v", err)
	default:
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("capture after its turn came: %v", err)
	}
}

// A full SQLite database (here capped with max_page_count, as a full disk
// would) fails captures with EUNAVAILABLE saying it is full, writes
// nothing half-way, and takes captures again once there is room.
func TestFault_SQLiteFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedbackbot.db")
	full := MustOpenDB(t, "sqlite:"+path+"?_pragma=max_page_count(200)")
	ctx := context.Background()
	big := strings.Repeat("a long piece of feedback ", 150)
	var err error
	n := 0
	for ; n < 1000; n++ {
		err = full.CreateRequest(ctx, &bot.Request{Title: "t", Description: big}, newMention(fmt.Sprint("m", n), "u1", func(m *bot.Mention) { m.Text = big }))
		if err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("1000 captures fitted in 200 pages")
	}
	wantCode(t, err, bot.EUNAVAILABLE)
	if !strings.Contains(bot.ErrorMessage(err), "full") {
		t.Fatalf("message %q does not say the database is full", bot.ErrorMessage(err))
	}
	// /readyz says so (a write probe that needs no room does not hide it).
	if err := full.CheckWritable(ctx); bot.ErrorCode(err) != bot.EUNAVAILABLE || !strings.Contains(bot.ErrorMessage(err), "full") {
		t.Fatalf("CheckWritable on a full database = %v", err)
	}
	if _, total, err := full.FindRequests(ctx, bot.RequestFilter{}); err != nil || total != n {
		t.Fatalf("after the failed capture: %d requests (%v), want %d", total, err, n)
	}
	if _, err := full.FindMentionByMessage(ctx, "slack", "T1", "C1", fmt.Sprint("m", n)); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("the failed capture left its mention: %v", err)
	}
	full.Close()
	roomy := MustOpenDB(t, "sqlite:"+path)
	if err := roomy.CreateRequest(ctx, &bot.Request{Title: "t"}, newMention(fmt.Sprint("m", n), "u1")); err != nil {
		t.Fatalf("capture once there is room: %v", err)
	}
}

// A PostgreSQL server that accepts connections but stops answering (on
// open connections and new ones alike) makes every store call fail with
// EUNAVAILABLE once its context ends, instead of hanging: lib/pq alone
// waits for the server to acknowledge a cancel that never comes. A new
// connection gives up after the connect timeout. Once the server answers
// again the store serves by itself, without a restart.
func TestFault_PostgresStopsAnswering(t *testing.T) {
	dsn, proxy := storetest.ViaFreezeProxy(t, storetest.PostgresDSN(t))
	db := MustOpenDB(t, dsn)
	mustCreate(t, db, "Before the freeze", "m1", "u1")
	proxy.Freeze()
	defer proxy.Thaw()

	within(t, 20*time.Second, "Ping with a 3 s deadline", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		wantCode(t, db.Ping(ctx), bot.EUNAVAILABLE)
	})
	within(t, 20*time.Second, "capture with an 8 s deadline", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		wantCode(t, db.CreateRequest(ctx, &bot.Request{Title: "During"}, newMention("m2", "u2")), bot.EUNAVAILABLE)
	})
	within(t, 20*time.Second, "list with a 3 s deadline", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, _, err := db.FindRequests(ctx, bot.RequestFilter{})
		wantCode(t, err, bot.EUNAVAILABLE)
	})
	// Many calls at once need new connections: each gives up too.
	within(t, 30*time.Second, "40 reads at once", func() {
		var wg sync.WaitGroup
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				if _, err := db.FindRequestByID(ctx, 1); bot.ErrorCode(err) != bot.EUNAVAILABLE {
					t.Errorf("read while frozen: %v", err)
				}
			}()
		}
		wg.Wait()
	})
	// Opening the store (no deadline at all) gives up after the connect
	// timeout the store forces, whatever the URL says.
	within(t, 30*time.Second, "Open without a deadline", func() {
		if s, err := store.Open(context.Background(), dsn+"&connect_timeout=0"); err == nil {
			s.Close()
			t.Error("Open succeeded against a server that does not answer")
		}
	})

	proxy.Thaw()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := db.CreateRequest(ctx, &bot.Request{Title: "After"}, newMention("m3", "u3"))
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture after the server answers again: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, total, err := db.FindRequests(context.Background(), bot.RequestFilter{}); err != nil || total != 2 {
		t.Fatalf("after recovery: %d requests (%v), want 2", total, err)
	}
}

// The store bounds PostgreSQL's waits whatever DATABASE_URL says: the
// bot's connections run with a statement_timeout of at most 30 s (a
// smaller one in the URL is kept).
func TestPostgresStatementTimeout(t *testing.T) {
	base := storetest.PostgresDSN(t)
	for _, tt := range []struct{ extra, want string }{
		{"", "30s"},
		{"&statement_timeout=0", "30s"},
		{"&statement_timeout=600000", "30s"},
		{"&statement_timeout=2000", "2s"},
	} {
		db := MustOpenDB(t, base+tt.extra)
		var got string
		if err := db.DB().GetContext(t.Context(), &got, `SHOW statement_timeout`); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("URL %q: statement_timeout = %s, want %s", tt.extra, got, tt.want)
		}
		db.Close()
	}
}

// syncLog collects log output from several goroutines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A SQLite file that cannot be written for a moment: the connections
// opened meanwhile are read-only for their whole life. Writes fail with
// EUNAVAILABLE, CheckWritable (what /readyz asks) says so even with no
// write going on, a warning is logged; once the file is writable again
// writes succeed without a restart, because the read-only connections are
// dropped instead of being kept in the pool.
func TestFault_SQLiteReadOnlyForAMoment(t *testing.T) {
	db := MustOpenDB(t, storetest.SQLiteDSN(t))
	var logs syncLog
	db.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()
	mustCreate(t, db, "Before", "m1", "u1")
	if err := db.CheckWritable(ctx); err != nil {
		t.Fatalf("CheckWritable on a writable file: %v", err)
	}

	store.SimulateReadOnly(db, true)
	// Fill the pool with read-only connections.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.CreateRequest(ctx, &bot.Request{Title: "During"}, newMention(fmt.Sprint("d", i), "u2"))
			if bot.ErrorCode(err) != bot.EUNAVAILABLE {
				t.Errorf("capture while read-only: %v, want EUNAVAILABLE", err)
			}
		}()
	}
	wg.Wait()
	if err := db.CheckWritable(ctx); bot.ErrorCode(err) != bot.EUNAVAILABLE || !strings.Contains(bot.ErrorMessage(err), "read-only") {
		t.Fatalf("CheckWritable while read-only = %v, want EUNAVAILABLE saying read-only", err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "database writes are failing") {
		t.Fatalf("no warning logged:\n%s", logs.String())
	}

	store.SimulateReadOnly(db, false)
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; ; n++ {
		err := db.CreateRequest(ctx, &bot.Request{Title: "After"}, newMention(fmt.Sprint("a", n), "u3"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture once the file is writable again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Every pooled connection writes again.
	for i := range 16 {
		if err := db.CreateRequest(ctx, &bot.Request{Title: "Later"}, newMention(fmt.Sprint("l", i), "u4")); err != nil {
			t.Fatalf("capture %d after recovery: %v", i, err)
		}
	}
	if err := db.CheckWritable(ctx); err != nil {
		t.Fatalf("CheckWritable after recovery: %v", err)
	}
	if !strings.Contains(logs.String(), "database writes succeed again") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
}
