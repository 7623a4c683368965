package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// emailCall is one SetIdentityEmail call.
type emailCall struct {
	ref         bot.Identity
	name, email string
}

func apiAuthor(ws, addr string) bot.Identity {
	return bot.Identity{Platform: bot.PlatformAPI, Workspace: ws, UserID: addr}
}

// fullSetIdentityEmail is SetIdentityEmail as it was before the batch:
// the cheap check, then the transaction.
func fullSetIdentityEmail(ctx context.Context, s *DB, ref bot.Identity, name, email string) (bool, error) {
	e, ok := bot.NormalizeEmail(email)
	if !ok {
		return false, bot.Errorf(bot.EINVALID, "not an address")
	}
	if cur, err := findIdentity(ctx, s.db, ref); err == nil && cur != nil && cur.Email == e && (name == "" || cur.Name == name) {
		return false, nil
	}
	return s.setIdentityEmailTx(ctx, ref, name, e)
}

// peopleBoard is what the people tables hold, without the person ids
// themselves (sequence values): each identity's row with the identities
// of its person, the persons without an identity, the link log and every
// request's counters.
type peopleBoard struct {
	Identities []string
	Persons    int
	Orphans    int
	Links      []string
	Requests   []string
}

func snapshotPeople(t *testing.T, s *DB) peopleBoard {
	t.Helper()
	var rows []struct {
		Ident       string    `db:"ident"`
		Platform    string    `db:"platform"`
		Workspace   string    `db:"workspace"`
		UserID      string    `db:"user_id"`
		Name        string    `db:"name"`
		PersonID    int64     `db:"person_id"`
		Email       string    `db:"email"`
		EmailDomain string    `db:"email_domain"`
		EmailLink   bool      `db:"email_link"`
		CreatedAt   time.Time `db:"created_at"`
		UpdatedAt   time.Time `db:"updated_at"`
	}
	if err := s.db.Select(&rows, `SELECT ident, platform, workspace, user_id, name, person_id, email, email_domain, email_link, created_at, updated_at
		FROM identities ORDER BY ident`); err != nil {
		t.Fatal(err)
	}
	members := map[int64][]string{}
	for _, r := range rows {
		members[r.PersonID] = append(members[r.PersonID], r.Ident)
	}
	var b peopleBoard
	for _, r := range rows {
		b.Identities = append(b.Identities, fmt.Sprintf("%s|%s|%s|%s|%q|%s|%s|%v|%s|%s|person of %s", r.Ident, r.Platform, r.Workspace, r.UserID, r.Name,
			r.Email, r.EmailDomain, r.EmailLink, r.CreatedAt.UTC().Format(time.RFC3339Nano), r.UpdatedAt.UTC().Format(time.RFC3339Nano),
			strings.Join(members[r.PersonID], ",")))
	}
	if err := s.db.Get(&b.Persons, `SELECT COUNT(*) FROM persons`); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Get(&b.Orphans, `SELECT COUNT(*) FROM persons p WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.person_id = p.id)`); err != nil {
		t.Fatal(err)
	}
	var links []struct {
		Action string    `db:"action"`
		Ident  string    `db:"ident"`
		Other  string    `db:"other"`
		Actor  string    `db:"actor"`
		At     time.Time `db:"created_at"`
	}
	if err := s.db.Select(&links, `SELECT action, ident, other, actor, created_at FROM person_links ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		b.Links = append(b.Links, fmt.Sprintf("%s %s %s %s %s", l.Action, l.Ident, l.Other, l.Actor, l.At.UTC().Format(time.RFC3339Nano)))
	}
	var reqs []struct {
		ID         int64 `db:"id"`
		Demand     int   `db:"demand"`
		Orgs       int   `db:"orgs"`
		Companies  int   `db:"companies"`
		ValueCents int64 `db:"value_cents"`
	}
	if err := s.db.Select(&reqs, `SELECT id, demand, orgs, companies, value_cents FROM requests ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		b.Requests = append(b.Requests, fmt.Sprintf("%d: demand %d orgs %d companies %d value %d", r.ID, r.Demand, r.Orgs, r.Companies, r.ValueCents))
	}
	return b
}

func samePeople(t *testing.T, got, want peopleBoard) {
	t.Helper()
	if !slices.Equal(got.Identities, want.Identities) {
		t.Errorf("identities:\n%s\nwant (one by one through the transaction):\n%s", strings.Join(got.Identities, "\n"), strings.Join(want.Identities, "\n"))
	}
	if got.Persons != want.Persons || got.Orphans != want.Orphans || got.Orphans != 0 {
		t.Errorf("%d persons (%d without an identity), want %d (%d)", got.Persons, got.Orphans, want.Persons, want.Orphans)
	}
	if !slices.Equal(got.Links, want.Links) {
		t.Errorf("links %q, want %q", got.Links, want.Links)
	}
	if !slices.Equal(got.Requests, want.Requests) {
		t.Errorf("requests %q, want %q", got.Requests, want.Requests)
	}
}

// prepareEmailBoard gives s what the batch must not overlook: an identity
// with an address, a vote of an identity that has no row yet (whose
// address's domain belongs to a company: giving it the address recounts
// the request), all at a fixed time.
func prepareEmailBoard(t *testing.T, s *DB, at time.Time) {
	t.Helper()
	ctx := context.Background()
	s.SetNow(func() time.Time { return at })
	mrr := int64(5000)
	if _, _, err := s.UpsertCompany(ctx, bot.CompanyInput{Name: "Y Corp", Domains: []string{"y.com"}, MRRCents: &mrr}); err != nil {
		t.Fatal(err)
	}
	if _, err := fullSetIdentityEmail(ctx, s, apiAuthor("s", "old@x.com"), "", "old@x.com"); err != nil {
		t.Fatal(err)
	}
	r := &bot.Request{Title: "voted", Description: "voted"}
	m := &bot.Mention{Platform: bot.PlatformAPI, Workspace: "s", Channel: "api", MessageID: "v1", ThreadID: "v1",
		AuthorID: "voter@y.com", Text: "voted", CapturedBy: "voter@y.com", Via: bot.ViaChannel}
	if err := s.CreateRequest(ctx, r, m); err != nil {
		t.Fatal(err)
	}
}

func emailBatch(s *DB, calls []emailCall) []*groupItem[*newEmailIdentity] {
	var b []*groupItem[*newEmailIdentity]
	for _, c := range calls {
		e, _ := bot.NormalizeEmail(c.email)
		b = append(b, &groupItem[*newEmailIdentity]{ctx: context.Background(), done: make(chan struct{}),
			in: &newEmailIdentity{ref: c.ref, name: c.name, email: e, at: s.now()}})
	}
	return b
}

// One batch of new identities: those that need nothing but their rows are
// written by the statement; the second call for an identity or an address,
// an address another identity has, an identity with a vote are left to the
// transaction, and the board ends as when the calls run one by one through
// the transaction (the same rows, persons, links and counters).
func TestNewEmailIdentities_Batch(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.UTC)
	calls := []emailCall{
		{apiAuthor("s", "a1@ex.com"), "", "a1@ex.com"},
		{bot.Identity{Platform: bot.PlatformSlack, Workspace: "T1", UserID: "U2"}, "Ann Two", "A2@Ex.com"},
		{apiAuthor("s", "a1@ex.com"), "", "a1@ex.com"},                                                  // the same call again
		{apiAuthor("s2", "a1@ex.com"), "", "a1@ex.com"},                                                 // a1's address: linked
		{bot.Identity{Platform: bot.PlatformSlack, Workspace: "T1", UserID: "U9"}, "Nine", "old@x.com"}, // an existing identity's address
		{apiAuthor("s", "voter@y.com"), "", "voter@y.com"},                                              // voted: recounted
		{bot.Identity{Platform: bot.PlatformEmail, UserID: "e1@ex.com"}, "", "e1@ex.com"},
		{apiAuthor("s", "b1@ex.com"), "", "b1@ex.com"},
		{apiAuthor("s", "b1@ex.com"), "Bee", "b2@ex.com"}, // b1's identity again, another address
	}
	wantWritten := []bool{true, true, false, false, false, false, true, true, false}
	wantLinked := []bool{false, false, false, true, true, false, false, false, false}

	ref := openForTest(t, storetest.PostgresDSN(t))
	prepareEmailBoard(t, ref, at)
	for i, c := range calls {
		linked, err := fullSetIdentityEmail(context.Background(), ref, c.ref, c.name, c.email)
		if err != nil || linked != wantLinked[i] {
			t.Fatalf("one by one, call %d: linked %v, %v; want %v", i, linked, err, wantLinked[i])
		}
	}

	s := openForTest(t, storetest.PostgresDSN(t))
	prepareEmailBoard(t, s, at)
	batch := emailBatch(s, calls)
	s.newEmailIdentities(context.Background(), batch)
	for i, it := range batch {
		if it.err != nil || it.in.written != wantWritten[i] {
			t.Fatalf("call %d (%v %s): written %v, %v; want written %v", i, it.in.ref, it.in.email, it.in.written, it.err, wantWritten[i])
		}
	}
	// What SetIdentityEmail does with the calls the batch left, in order.
	for i, it := range batch {
		if it.in.written {
			continue
		}
		linked, err := s.SetIdentityEmail(context.Background(), calls[i].ref, calls[i].name, calls[i].email)
		if err != nil || linked != wantLinked[i] {
			t.Fatalf("call %d after the batch: linked %v, %v; want %v", i, linked, err, wantLinked[i])
		}
	}
	got, want := snapshotPeople(t, s), snapshotPeople(t, ref)
	samePeople(t, got, want)
	if !strings.Contains(strings.Join(want.Requests, "\n"), "companies 1 value 5000") {
		t.Fatalf("the voter's request was not recounted: %q", want.Requests)
	}
	if len(want.Links) != 2 {
		t.Fatalf("links %q, want two by email", want.Links)
	}
}

// An identity another transaction creates while the batch statement runs
// (not yet committed when the statement read identities) is not inserted
// by the batch, and the person the statement made for it is deleted: no
// person without an identity.
func TestNewEmailIdentities_LostRace(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	tx, err := s.db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var pid int64
	if err := tx.Get(&pid, `INSERT INTO persons (created_at) VALUES (now()) RETURNING id`); err != nil {
		t.Fatal(err)
	}
	race := apiAuthor("s", "race@ex.com")
	if _, err := tx.Exec(`INSERT INTO identities (ident, platform, workspace, user_id, person_id, email, email_domain, created_at, updated_at)
		VALUES ($1, 'api', 's', 'race@ex.com', $2, 'race@ex.com', 'ex.com', now(), now())`, IdentKey(race), pid); err != nil {
		t.Fatal(err)
	}
	batch := emailBatch(s, []emailCall{{race, "", "race@ex.com"}, {apiAuthor("s", "free@ex.com"), "", "free@ex.com"}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.newEmailIdentities(ctx, batch)
	}()
	storetest.AwaitLockWait(t, s.db.DB, 1, "the batch waits for the identity being created", done, "INSERT INTO identities")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	<-done
	if batch[0].err != nil || batch[0].in.written || batch[1].err != nil || !batch[1].in.written {
		t.Fatalf("race: written %v, %v; free: written %v, %v", batch[0].in.written, batch[0].err, batch[1].in.written, batch[1].err)
	}
	b := snapshotPeople(t, s)
	if b.Persons != 2 || b.Orphans != 0 || len(b.Identities) != 2 {
		t.Fatalf("%d persons (%d without an identity), identities %q", b.Persons, b.Orphans, b.Identities)
	}
	// The caller's fallback then finds the identity.
	if linked, err := s.SetIdentityEmail(ctx, race, "", "race@ex.com"); err != nil || linked {
		t.Fatalf("race after the batch: %v, %v", linked, err)
	}
}

// Many new authors at once (group commit, each distinct or the same call
// twice) leave exactly the rows the same calls leave one by one through
// the transaction; on SQLite every call is the transaction.
func TestSetIdentityEmail_ConcurrentNewAuthors(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
	var calls []emailCall
	for i := range 40 {
		calls = append(calls, emailCall{apiAuthor(fmt.Sprintf("s%d", i%3), fmt.Sprintf("c%d@ex.com", i)), "", fmt.Sprintf("c%d@ex.com", i)})
	}
	for i := range 12 {
		calls = append(calls, emailCall{bot.Identity{Platform: bot.PlatformSlack, Workspace: "T1", UserID: fmt.Sprintf("U%d", i)},
			fmt.Sprintf("User %d", i), fmt.Sprintf("u%d@corp.com", i)})
	}
	calls = append(calls, calls[:10]...)
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		other := storetest.SQLiteDSN(t)
		if strings.HasPrefix(dsn, "postgres") {
			other = storetest.PostgresDSN(t)
		}
		ref := openForTest(t, other)
		prepareEmailBoard(t, ref, at)
		for _, c := range calls {
			if linked, err := fullSetIdentityEmail(context.Background(), ref, c.ref, c.name, c.email); err != nil || linked {
				t.Fatalf("one by one %v: %v, %v", c.ref, linked, err)
			}
		}
		s := openForTest(t, dsn)
		prepareEmailBoard(t, s, at)
		errs := make(chan error, len(calls))
		start := make(chan struct{})
		for _, c := range calls {
			go func() {
				<-start
				linked, err := s.SetIdentityEmail(context.Background(), c.ref, c.name, c.email)
				if err == nil && linked {
					err = fmt.Errorf("%v linked", c.ref)
				}
				errs <- err
			}()
		}
		close(start)
		for range calls {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		got, want := snapshotPeople(t, s), snapshotPeople(t, ref)
		samePeople(t, got, want)
		if len(got.Identities) != 53 {
			t.Fatalf("%d identities, want 53", len(got.Identities))
		}
	})
}
