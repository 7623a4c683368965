package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// Internal tests of group commit (group.go): the batch writer run directly
// on batches made by hand, and the group under concurrency.

func openForTest(t *testing.T, dsn string) *DB {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// uncommittedMention captures a seed request and, in a transaction left
// open (rolled back at the end of the test unless committed), adds a
// mention of message msg in slack/T1/C1 to it, as another replica in the
// middle of capturing msg.
func uncommittedMention(t *testing.T, s *DB, msg string) *sqlx.Tx {
	t.Helper()
	seed := capture("seed", "u0")
	if err := s.CreateRequest(context.Background(), seed.r, seed.m); err != nil {
		t.Fatal(err)
	}
	tx, err := s.db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if _, err := tx.Exec(`INSERT INTO mentions (request_id, platform, workspace, channel, message_id, thread_id, author_id,
		author_name, org, text, permalink, captured_by, via, deleted, created_at)
		VALUES ($1, 'slack', 'T1', 'C1', $2, $2, 'x', 'x', '', 'other replica', '', 'x', 'channel', FALSE, now())`, seed.r.ID, msg); err != nil {
		t.Fatal(err)
	}
	return tx
}

func capture(msg, author string) newCapture {
	r := &bot.Request{Title: "title of " + msg, Description: "text of " + msg}
	m := &bot.Mention{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: msg, ThreadID: msg,
		AuthorID: author, AuthorName: author, Org: "O-" + author, Text: "text of " + msg, CapturedBy: author, Via: bot.ViaChannel}
	r.Status = bot.StatusOpen
	r.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	r.UpdatedAt = r.CreatedAt
	r.Mentions = 1
	if author != "" {
		r.Demand, r.Orgs = 1, 1
	}
	m.CreatedAt = r.CreatedAt
	return newCapture{r, m}
}

func batchOf(cs ...newCapture) []*groupItem[newCapture] {
	var b []*groupItem[newCapture]
	for _, c := range cs {
		b = append(b, &groupItem[newCapture]{ctx: context.Background(), in: c, done: make(chan struct{})})
	}
	return b
}

func countRows(t *testing.T, s *DB, table string) int {
	t.Helper()
	var n int
	if err := s.db.Get(&n, `SELECT COUNT(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkCreated checks that c's request and mention were written as
// returned, with the author's vote and the counters.
func checkCreated(t *testing.T, s *DB, c newCapture) {
	t.Helper()
	ctx := context.Background()
	if c.r.ID == 0 || c.m.ID == 0 {
		t.Fatalf("%s: no ids (%d, %d)", c.m.MessageID, c.r.ID, c.m.ID)
	}
	got, err := s.FindMentionByMessage(ctx, c.m.Platform, c.m.Workspace, c.m.Channel, c.m.MessageID)
	if err != nil || got.ID != c.m.ID || got.RequestID != c.r.ID || got.AuthorID != c.m.AuthorID || got.Text != c.m.Text {
		t.Fatalf("%s: mention %+v, %v (returned request %d mention %d)", c.m.MessageID, got, err, c.r.ID, c.m.ID)
	}
	r, err := s.FindRequestByID(ctx, c.r.ID)
	if err != nil || r.Title != c.r.Title || r.RootID != r.ID || r.Demand != c.r.Demand || r.Orgs != c.r.Orgs || r.Mentions != 1 {
		t.Fatalf("%s: request %+v, %v", c.m.MessageID, r, err)
	}
	var votes int
	if err := s.db.Get(&votes, s.db.Rebind(`SELECT COUNT(*) FROM voters WHERE request_id = ? AND kind = 'author'`), c.r.ID); err != nil {
		t.Fatal(err)
	}
	if want := c.r.Demand; votes != want {
		t.Fatalf("%s: %d author votes, want %d", c.m.MessageID, votes, want)
	}
}

// One batch: fresh messages are written, a message already on the board and
// the second copy of a message within the batch are ECONFLICT, and keys
// are handed out without gaps in batch order.
func TestCreateRequests_Batch(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		s := openForTest(t, dsn)
		ctx := context.Background()
		old := capture("old", "u0")
		if err := s.CreateRequest(ctx, old.r, old.m); err != nil {
			t.Fatal(err)
		}
		a, b, again, dup, anon := capture("a", "u1"), capture("b", "u2"), capture("old", "u3"), capture("a", "u4"), capture("c", "")
		batch := batchOf(a, again, b, dup, anon)
		s.createRequests(ctx, batch)
		for i, want := range []string{"", bot.ECONFLICT, "", bot.ECONFLICT, ""} {
			if got := bot.ErrorCode(batch[i].err); got != want {
				t.Fatalf("item %d (%s): %v, want code %q", i, batch[i].in.m.MessageID, batch[i].err, want)
			}
		}
		for _, c := range []newCapture{a, b, anon} {
			checkCreated(t, s, c)
		}
		if a.r.ID != old.r.ID+1 || b.r.ID != a.r.ID+1 || anon.r.ID != b.r.ID+1 {
			t.Fatalf("ids %d %d %d after %d: want consecutive in batch order", a.r.ID, b.r.ID, anon.r.ID, old.r.ID)
		}
		if n := countRows(t, s, "requests"); n != 4 {
			t.Fatalf("%d requests, want 4", n)
		}
		if n := countRows(t, s, "mentions"); n != 4 {
			t.Fatalf("%d mentions, want 4", n)
		}
	})
}

// A capture that fails for a reason of its own fails alone: the others in
// its batch are written, and it leaves nothing behind.
func TestCreateRequests_BadItemFailsAlone(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		s := openForTest(t, dsn)
		ctx := context.Background()
		bad := capture("bad", "u2")
		if s.Dialect() == DialectPostgres {
			// A message id too long for the unique index of mentions.
			b := make([]byte, 10000)
			rand.Read(b)
			bad.m.MessageID = hex.EncodeToString(b)
		} else {
			if _, err := s.db.Exec(`CREATE TRIGGER refuse_bad BEFORE INSERT ON mentions WHEN NEW.message_id = 'bad'
				BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
				t.Fatal(err)
			}
		}
		a, b := capture("a", "u1"), capture("b", "u3")
		batch := batchOf(a, bad, b)
		s.createRequests(ctx, batch)
		if batch[0].err != nil || batch[2].err != nil || batch[1].err == nil {
			t.Fatalf("errors %v / %v / %v: want only the bad capture to fail", batch[0].err, batch[1].err, batch[2].err)
		}
		checkCreated(t, s, a)
		checkCreated(t, s, b)
		if n := countRows(t, s, "requests"); n != 2 {
			t.Fatalf("%d requests, want 2 (the bad capture wrote nothing)", n)
		}
	})
}

// A message captured by another transaction while the batch statement runs
// (another replica): the batch statement meets the unique index, and the
// batch is written capture by capture, so only that message is ECONFLICT.
func TestCreateRequests_ConflictWithAnotherTransaction(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	// Another replica captures "race" and has not committed yet: the batch
	// does not see it and waits on the unique index.
	tx := uncommittedMention(t, s, "race")
	a, race, b := capture("a", "u1"), capture("race", "u2"), capture("b", "u3")
	batch := batchOf(a, race, b)
	done := make(chan struct{})
	go func() {
		s.createRequests(ctx, batch)
		close(done)
	}()
	// Wait (generously) until the batch statement waits for the lock.
	storetest.AwaitLockWait(t, s.db.DB, 1, "the batch statement waits for the other transaction", nil, "unnest")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	<-done
	if batch[0].err != nil || batch[2].err != nil || bot.ErrorCode(batch[1].err) != bot.ECONFLICT {
		t.Fatalf("errors %v / %v / %v: want only race to be ECONFLICT", batch[0].err, batch[1].err, batch[2].err)
	}
	checkCreated(t, s, a)
	checkCreated(t, s, b)
	if n := countRows(t, s, "requests"); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}

// Many concurrent CreateRequest calls through the group: each gets its own
// answer after its commit (its rows are readable when it returns), a
// message sent by several callers at once is created once and the others
// are ECONFLICT, and nothing is lost or doubled.
func TestCreateRequest_GroupCommitConcurrent(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		s := openForTest(t, dsn)
		ctx := context.Background()
		const fresh, copies = 120, 6
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created []newCapture
			dupWins int
			dupLost int
			errs    []error
		)
		start := make(chan struct{})
		for i := range fresh + copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := fmt.Sprintf("m%d", i)
				if i >= fresh {
					msg = "same"
				}
				c := capture(msg, fmt.Sprintf("u%d", i))
				<-start
				err := s.CreateRequest(ctx, c.r, c.m)
				var readErr error
				if err == nil {
					// Answered: committed, visible to any reader.
					_, readErr = s.FindMentionByMessage(ctx, c.m.Platform, c.m.Workspace, c.m.Channel, c.m.MessageID)
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && readErr != nil:
					errs = append(errs, fmt.Errorf("%s answered but not readable: %v", msg, readErr))
				case err == nil:
					created = append(created, c)
					if msg == "same" {
						dupWins++
					}
				case msg == "same" && bot.ErrorCode(err) == bot.ECONFLICT:
					dupLost++
				default:
					errs = append(errs, fmt.Errorf("%s: %v", msg, err))
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if dupWins != 1 || dupLost != copies-1 {
			t.Fatalf("message sent %d times: created %d, ECONFLICT %d", copies, dupWins, dupLost)
		}
		ids := map[int64]bool{}
		for _, c := range created {
			if ids[c.r.ID] {
				t.Fatalf("id %d returned twice", c.r.ID)
			}
			ids[c.r.ID] = true
			checkCreated(t, s, c)
		}
		if len(created) != fresh+1 || countRows(t, s, "requests") != fresh+1 || countRows(t, s, "mentions") != fresh+1 {
			t.Fatalf("%d created, %d requests, %d mentions; want %d each", len(created), countRows(t, s, "requests"), countRows(t, s, "mentions"), fresh+1)
		}
	})
}

// A caller whose context has ended before its batch starts is not written.
func TestGroup_CancelledBeforeBatch(t *testing.T) {
	ran := make(chan []string, 4)
	release := make(chan struct{})
	g := &group[string]{parallel: 1, run: func(ctx context.Context, batch []*groupItem[string]) {
		var ins []string
		for _, it := range batch {
			ins = append(ins, it.in)
		}
		ran <- ins
		<-release
	}}
	first := make(chan error, 1)
	go func() { first <- g.do(context.Background(), "first") }()
	if got := <-ran; len(got) != 1 || got[0] != "first" {
		t.Fatalf("first batch %v", got)
	}
	// "first" is being written; these two queue behind it.
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() { gone <- g.do(ctx, "gone") }()
	kept := make(chan error, 1)
	go func() { kept <- g.do(context.Background(), "kept") }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		g.mu.Lock()
		n := len(g.queue)
		g.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the captures never queued")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-gone; err != context.Canceled {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(release)
	if got := <-ran; len(got) != 1 || got[0] != "kept" {
		t.Fatalf("second batch %v, want only kept", got)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-kept; err != nil {
		t.Fatal(err)
	}
}

// The batch statement counts organisations, companies and their value as
// the single-capture statement does: through the author's organisation,
// through the email domain of the author's person, nothing for a home
// organisation or an anonymous author.
func TestCreateRequests_BatchCountsAsSingle(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		s := openForTest(t, dsn)
		ctx := context.Background()
		cents := func(n int64) *int64 { return &n }
		if _, _, err := s.UpsertCompany(ctx, bot.CompanyInput{Name: "Acme", Organisations: []string{"TACME"}, Domains: []string{"acme.com"}, MRRCents: cents(50000)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.UpsertCompany(ctx, bot.CompanyInput{Name: "Big", Organisations: []string{"TBIG"}, Domains: []string{"big.com"}, MRRCents: cents(200000)}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetHomeOrgs(ctx, []string{"THOME"}); err != nil {
			t.Fatal(err)
		}
		for u, email := range map[string]string{"U5": "bob@acme.com", "U6": "eve@acme.com", "U7": "joe@big.com"} {
			if _, err := s.SetIdentityEmail(ctx, bot.Identity{Platform: bot.PlatformSlack, Workspace: "T1", UserID: u}, "", email); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct{ author, org string }{
			{"U1", "TACME"}, {"U2", "TBIG"}, {"U5", "TOTHER"}, {"U6", "TBIG"}, {"U7", "TBIG"},
			{"U9", "THOME"}, {"U5", "THOME"}, {"U10", ""}, {"", "TACME"}, {"U11", "TNONE"},
		}
		make := func(prefix string, i int) newCapture {
			c := capture(fmt.Sprintf("%s-%d", prefix, i), cases[i].author)
			c.m.Org = cases[i].org
			c.r.Orgs = 0
			return c
		}
		var batch []*groupItem[newCapture]
		for i := range cases {
			single := make("single", i)
			if err := s.CreateRequest(ctx, single.r, single.m); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, batchOf(make("batch", i))...)
		}
		s.createRequests(ctx, batch)
		for i, it := range batch {
			if it.err != nil {
				t.Fatalf("batch item %d: %v", i, it.err)
			}
			single, err := s.FindMentionByMessage(ctx, bot.PlatformSlack, "T1", "C1", fmt.Sprintf("single-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.FindRequestByID(ctx, single.RequestID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.FindRequestByID(ctx, it.in.r.ID)
			if err != nil {
				t.Fatal(err)
			}
			w := [4]int64{int64(want.Demand), int64(want.Orgs), int64(want.Companies), want.ValueCents}
			g := [4]int64{int64(got.Demand), int64(got.Orgs), int64(got.Companies), got.ValueCents}
			r := it.in.r
			returned := [4]int64{int64(r.Demand), int64(r.Orgs), int64(r.Companies), r.ValueCents}
			if g != w || returned != w {
				t.Fatalf("case %d %+v: batch stored %v returned %v, single %v", i, cases[i], g, returned, w)
			}
			// And as recount, which counts from the voter rows.
			if rc := recounted(t, s, r.ID); rc != w {
				t.Fatalf("case %d %+v: batch stored %v, recount %v", i, cases[i], g, rc)
			}
		}
		var nonzero int
		for i := range cases {
			m, _ := s.FindMentionByMessage(ctx, bot.PlatformSlack, "T1", "C1", fmt.Sprintf("single-%d", i))
			r, _ := s.FindRequestByID(ctx, m.RequestID)
			if r.Companies > 0 {
				nonzero++
			}
		}
		if nonzero < 4 {
			t.Fatalf("only %d cases count a company: the test does not test", nonzero)
		}
	})
}

// recounted is what recount stores for request id (rolled back): its demand,
// orgs, companies and value.
func recounted(t *testing.T, s *DB, id int64) [4]int64 {
	t.Helper()
	tx, err := s.beginTx(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := recount(context.Background(), tx, id); err != nil {
		t.Fatal(err)
	}
	var c [4]int64
	if err := tx.QueryRowContext(context.Background(), tx.Rebind(`SELECT demand, orgs, companies, value_cents FROM requests WHERE id = ?`), id).Scan(&c[0], &c[1], &c[2], &c[3]); err != nil {
		t.Fatal(err)
	}
	return c
}

// SaveCard batches: each card is saved as alone, a later card for the same
// message replaces an earlier one, and a card of a request that does not
// exist fails alone (ENOTFOUND).
func TestSaveCards_Batch(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		s := openForTest(t, dsn)
		ctx := context.Background()
		r1, r2 := capture("c1", "u1"), capture("c2", "u2")
		for _, c := range []newCapture{r1, r2} {
			if err := s.CreateRequest(ctx, c.r, c.m); err != nil {
				t.Fatal(err)
			}
		}
		ref := func(id string) bot.MessageRef {
			return bot.MessageRef{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ID: id}
		}
		now := time.Now().UTC()
		items := []cardSave{{requestID: r1.r.ID, ref: ref("x"), at: now}, {requestID: r2.r.ID, ref: ref("y"), at: now},
			{requestID: r1.r.ID + 1000, ref: ref("z"), at: now}, {requestID: r2.r.ID, ref: ref("x"), at: now}}
		for _, ordered := range []bool{false, true} {
			var batch []*groupItem[cardSave]
			for _, in := range items {
				if ordered {
					in.ref.ID += "-2"
				}
				batch = append(batch, &groupItem[cardSave]{ctx: ctx, in: in, done: make(chan struct{})})
			}
			if ordered {
				// Without the failing card: one statement for the batch.
				batch = append(batch[:2], batch[3])
			}
			s.saveCards(ctx, batch)
			for i, it := range batch {
				want := ""
				if !ordered && i == 2 {
					want = bot.ENOTFOUND
				}
				if got := bot.ErrorCode(it.err); got != want {
					t.Fatalf("ordered %v item %d: %v, want %q", ordered, i, it.err, want)
				}
			}
			suffix := ""
			if ordered {
				suffix = "-2"
			}
			for id, want := range map[string]int64{"x": r2.r.ID, "y": r2.r.ID} {
				got, err := s.FindCard(ctx, bot.PlatformSlack, "T1", "C1", id+suffix)
				if err != nil || got != want {
					t.Fatalf("card %s%s: %d, %v; want %d", id, suffix, got, err, want)
				}
			}
		}
		if _, err := s.FindCard(ctx, bot.PlatformSlack, "T1", "C1", "z"); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("card of a missing request: %v", err)
		}
		// Through the group, concurrently.
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.SaveCard(ctx, r1.r.ID, ref(fmt.Sprintf("g%d", i)))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := range 50 {
			if got, err := s.FindCard(ctx, bot.PlatformSlack, "T1", "C1", fmt.Sprintf("g%d", i)); err != nil || got != r1.r.ID {
				t.Fatalf("card g%d: %d, %v", i, got, err)
			}
		}
	})
}

// SaveCardShown records what a new card shows in the same write; SaveCard
// leaves what a card shows as it was; both alone and in batches.
func TestSaveCardShown(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		s := openForTest(t, dsn)
		ctx := context.Background()
		c := capture("c1", "u1")
		if err := s.CreateRequest(ctx, c.r, c.m); err != nil {
			t.Fatal(err)
		}
		ref := func(id string) bot.MessageRef {
			return bot.MessageRef{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ID: id}
		}
		shownOf := func(id string) string {
			var v string
			if err := s.db.Get(&v, s.db.Rebind(`SELECT shown FROM cards WHERE message_id = ?`), id); err != nil {
				t.Fatal(err)
			}
			return v
		}
		now := time.Now().UTC()
		// Alone (a batch of one) and in a batch of several.
		for _, n := range []int{1, 3} {
			var first, second []*groupItem[cardSave]
			for i := range n {
				id := fmt.Sprintf("n%d-%d", n, i)
				first = append(first, &groupItem[cardSave]{ctx: ctx, in: cardSave{requestID: c.r.ID, ref: ref(id), at: now, shown: "h1", withShown: true}})
				second = append(second, &groupItem[cardSave]{ctx: ctx, in: cardSave{requestID: c.r.ID, ref: ref(id), at: now}})
			}
			s.saveCards(ctx, first)
			for i := range n {
				if got := shownOf(fmt.Sprintf("n%d-%d", n, i)); got != "h1" || first[i].err != nil {
					t.Fatalf("batch of %d: shown %q after SaveCardShown, %v", n, got, first[i].err)
				}
			}
			s.saveCards(ctx, second)
			for i := range n {
				if got := shownOf(fmt.Sprintf("n%d-%d", n, i)); got != "h1" || second[i].err != nil {
					t.Fatalf("batch of %d: shown %q after SaveCard, want it kept; %v", n, got, second[i].err)
				}
			}
			for _, it := range first {
				it.in.shown = "h2"
			}
			s.saveCards(ctx, first)
			for i := range n {
				if got := shownOf(fmt.Sprintf("n%d-%d", n, i)); got != "h2" {
					t.Fatalf("batch of %d: shown %q after a second SaveCardShown", n, got)
				}
			}
		}
		if err := s.SaveCardShown(ctx, c.r.ID, ref("pub"), "h3"); err != nil || shownOf("pub") != "h3" {
			t.Fatalf("SaveCardShown: %v, shown %q", err, shownOf("pub"))
		}
	})
}

// On PostgreSQL one batch of captures is written at a time: captures that
// arrive while one waits (here on another transaction's uncommitted
// mention) queue for the next batch instead of starting a second
// statement, and are all written once the first is done.
func TestCreateRequest_OneBatchAtATime(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	tx := uncommittedMention(t, s, "block")
	first := make(chan error, 1)
	go func() {
		c := capture("block", "u1")
		first <- s.CreateRequest(ctx, c.r, c.m)
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	storetest.AwaitLockWait(t, s.db.DB, 1, "the first capture waits for the other transaction", nil, "nextval('requests_id_seq'")
	const queued = 5
	later := make(chan error, queued)
	for i := range queued {
		go func() {
			c := capture(fmt.Sprintf("later%d", i), fmt.Sprintf("v%d", i))
			later <- s.CreateRequest(ctx, c.r, c.m)
		}()
	}
	waitFor("the later captures queue behind the batch being written", func() bool {
		select {
		case err := <-later:
			t.Fatalf("a capture was written while another batch was being written (%v)", err)
		default:
		}
		s.creates.mu.Lock()
		defer s.creates.mu.Unlock()
		return len(s.creates.queue) == queued
	})
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-first; bot.ErrorCode(err) != bot.ECONFLICT {
		t.Fatalf("capture of the message the other transaction captured: %v", err)
	}
	for range queued {
		if err := <-later; err != nil {
			t.Fatal(err)
		}
	}
	if n := countRows(t, s, "requests"); n != 1+queued {
		t.Fatalf("%d requests, want %d", n, 1+queued)
	}
}
