package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// suggestCase is one CreateSuggestionFrom call of the batch tests.
type suggestCase struct {
	name  string
	sg    bot.Suggestion
	found []bot.Candidate
	max   int
}

// suggestResult is what a CreateSuggestionFrom call gave its caller and
// wrote, without the suggestion's id (compared as set or not).
type suggestResult struct {
	code     string
	id       bool
	state    string
	cands    string
	reqs     string
	stored   string
	created  bool
	mergedIn bool
}

func suggestOutcome(t *testing.T, s *DB, sg *bot.Suggestion, reqs []*bot.Request, err error) suggestResult {
	t.Helper()
	r := suggestResult{code: bot.ErrorCode(err), id: sg.ID != 0, state: sg.State, cands: fmt.Sprintf("%+v", sg.Candidates),
		created: !sg.CreatedAt.IsZero(), mergedIn: sg.MergedInto != nil}
	for _, q := range reqs {
		r.reqs += fmt.Sprintf("%+v\n", *q)
	}
	if err == nil && sg.ID != 0 {
		got, err := s.FindSuggestion(context.Background(), sg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(sg.CreatedAt) {
			t.Errorf("suggestion %d stored at %v, returned %v", sg.ID, got.CreatedAt, sg.CreatedAt)
		}
		got.ID, got.CreatedAt = 0, time.Time{}
		r.stored = fmt.Sprintf("%+v", *got)
	}
	return r
}

// suggestBoard makes a board for the batch tests and the calls to make on
// it: merged candidates (one twice, through the request it was merged into
// and itself), missing and unsuggestible ones, the call's own request
// among its candidates, truncation to max, a call that keeps nothing, one
// whose own request is merged away, and one whose own request does not
// exist.
func suggestBoard(t *testing.T, s *DB) []suggestCase {
	t.Helper()
	ctx := context.Background()
	var cs []newCapture
	for i := range 10 {
		cs = append(cs, capture(fmt.Sprintf("sb-%d", i), fmt.Sprintf("u%d", i)))
	}
	b := batchOf(cs...)
	s.createRequests(ctx, b)
	r := make([]int64, len(b))
	for i, it := range b {
		if it.err != nil {
			t.Fatal(it.err)
		}
		r[i] = it.in.r.ID
	}
	if _, err := s.Merge(ctx, r[1], r[0], "lead"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatus(ctx, r[2], bot.StatusDeclined, "lead", "", ""); err != nil {
		t.Fatal(err)
	}
	missing := r[9] + 1000
	sg := func(own int64, thread string) bot.Suggestion {
		return bot.Suggestion{RequestID: own, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ThreadID: thread}
	}
	c := func(id int64, score float64, reason string) bot.Candidate {
		return bot.Candidate{RequestID: id, Score: score, Reason: reason}
	}
	return []suggestCase{
		{"mixed", sg(r[9], "t9"), []bot.Candidate{c(r[1], 0.95, "merged"), c(r[9], 0.9, ""), c(r[2], 0.85, ""), c(r[0], 0.8, "again"),
			c(r[3], 0.75, "words"), c(missing, 0.7, ""), c(r[4], 0.65, ""), c(r[5], 0.6, "")}, 3},
		{"truncated", sg(r[8], "t8"), []bot.Candidate{c(r[3], 0.9, ""), c(r[4], 0.8, "")}, 1},
		{"none kept", sg(r[7], "t7"), []bot.Candidate{c(r[7], 0.9, ""), c(r[2], 0.8, ""), c(missing, 0.7, "")}, 3},
		{"duplicate target", sg(r[6], "t6"), []bot.Candidate{c(r[0], 0.9, ""), c(r[1], 0.85, ""), c(r[3], 0.8, ""), c(r[4], 0.7, ""), c(r[5], 0.6, "")}, 3},
		{"own request missing", sg(missing, "tm"), []bot.Candidate{c(r[3], 0.9, "")}, 3},
		{"own missing, none kept", sg(missing+1, "tn"), []bot.Candidate{c(r[2], 0.9, "")}, 3},
		{"one", sg(r[5], "t5"), []bot.Candidate{c(r[6], 0.5, "")}, 3},
		{"own merged away", sg(r[1], "t1"), []bot.Candidate{c(r[0], 0.9, ""), c(r[1], 0.85, ""), c(r[3], 0.8, "")}, 3},
	}
}

// unbatched runs each call alone, one after another (each is then a batch
// of one: the single statement, or its fallback).
func unbatched(t *testing.T, s *DB, cases []suggestCase) []suggestResult {
	t.Helper()
	var out []suggestResult
	for _, c := range cases {
		sg := c.sg
		reqs, err := s.CreateSuggestionFrom(context.Background(), &sg, c.found, c.max)
		out = append(out, suggestOutcome(t, s, &sg, reqs, err))
	}
	return out
}

// lastSuggestionID is the last suggestion id drawn (0 before any).
func lastSuggestionID(t *testing.T, s *DB) int64 {
	t.Helper()
	var id int64
	if err := s.db.Get(&id, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM suggestions_id_seq`); err != nil {
		t.Fatal(err)
	}
	return id
}

func compareResults(t *testing.T, cases []suggestCase, got, want []suggestResult) {
	t.Helper()
	for i, c := range cases {
		if got[i] != want[i] {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got[i], want[i])
		}
	}
}

// Concurrent CreateSuggestionFrom calls written in one batch statement
// each get what the same call alone gets, and the batch writes what the
// calls alone write: the same candidates (canonical, once, suggestible, not
// the call's own request, at most max, in the index's order), the same
// requests, no suggestion when nothing is kept, and ENOTFOUND (with nothing
// written) for the call alone whose own request does not exist.
func TestCreateSuggestionsBatch(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	cases := suggestBoard(t, s)
	before, seq := countRows(t, s, "suggestions"), lastSuggestionID(t, s)
	want := unbatched(t, s, cases)
	alone := countRows(t, s, "suggestions") - before
	if got := lastSuggestionID(t, s) - seq; got != int64(alone) {
		t.Fatalf("the calls alone drew %d suggestion ids for %d suggestions", got, alone)
	}
	if want[0].code != "" || !want[0].id || want[2].id || want[4].code != bot.ENOTFOUND || want[5].code != "" {
		t.Fatalf("unexpected unbatched results: %+v", want)
	}

	t.Run("Direct", func(t *testing.T) {
		var batch []*groupItem[suggestionFrom]
		outs := make([]*suggestionMade, len(cases))
		for i, c := range cases {
			outs[i] = &suggestionMade{}
			batch = append(batch, &groupItem[suggestionFrom]{ctx: ctx, done: make(chan struct{}),
				in: suggestionFrom{sg: c.sg, found: c.found, max: c.max, at: s.now().Truncate(time.Microsecond), out: outs[i]}})
		}
		n, seq := countRows(t, s, "suggestions"), lastSuggestionID(t, s)
		if err := s.createSuggestionsPostgres(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if got := countRows(t, s, "suggestions") - n; got != alone {
			t.Fatalf("the batch wrote %d suggestions, the calls alone %d", got, alone)
		}
		if got := lastSuggestionID(t, s) - seq; got != int64(alone) {
			t.Fatalf("the batch drew %d suggestion ids for %d suggestions", got, alone)
		}
		for i, c := range cases {
			missing := batch[i].err == errMissingRequest
			if wantMissing := want[i].code == bot.ENOTFOUND; missing != wantMissing {
				t.Errorf("%s: missing %v (err %v), want %v", c.name, missing, batch[i].err, wantMissing)
			}
			if want[i].code == "" && (outs[i].id != 0) != want[i].id {
				t.Errorf("%s: suggestion %d, want one: %v", c.name, outs[i].id, want[i].id)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		// The first call's statement waits for the lock on suggestions,
		// so the others queue behind it and are written in one batch.
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`LOCK TABLE suggestions IN EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		got := make([]suggestResult, len(cases))
		sgs := make([]bot.Suggestion, len(cases))
		reqs := make([][]*bot.Request, len(cases))
		errs := make([]error, len(cases))
		var wg sync.WaitGroup
		start := func(i int) {
			c := cases[i]
			sgs[i] = c.sg
			wg.Go(func() { reqs[i], errs[i] = s.CreateSuggestionFrom(ctx, &sgs[i], c.found, c.max) })
		}
		// The first call alone, until its statement waits for the lock:
		// started together, the leader could take more than one call.
		// Other tests share the database: count only sessions this
		// transaction blocks.
		var holder int
		if err := tx.QueryRow(`SELECT pg_backend_pid()`).Scan(&holder); err != nil {
			t.Fatal(err)
		}
		start(0)
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			var blocked int
			if err := s.db.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, holder).Scan(&blocked); err != nil {
				t.Fatal(err)
			}
			if blocked > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the first suggestion never waited for the lock on suggestions")
			}
		}
		for i := 1; i < len(cases); i++ {
			start(i)
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			s.suggestions.mu.Lock()
			queued := len(s.suggestions.queue)
			s.suggestions.mu.Unlock()
			if queued == len(cases)-1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d calls queued behind the first, want %d", queued, len(cases)-1)
			}
		}
		n, seq := countRows(t, s, "suggestions"), lastSuggestionID(t, s)
		tx.Rollback()
		wg.Wait()
		if got, ids := countRows(t, s, "suggestions")-n, lastSuggestionID(t, s)-seq; got != alone || ids != int64(alone) {
			t.Fatalf("the calls wrote %d suggestions with %d ids, alone %d", got, ids, alone)
		}
		for i := range cases {
			got[i] = suggestOutcome(t, s, &sgs[i], reqs[i], errs[i])
		}
		compareResults(t, cases, got, want)
	})
}

// A batch whose statement fails is written call by call: only the call at
// fault fails (here its thread is not valid UTF-8, which PostgreSQL
// refuses), and the others get what they get alone.
func TestCreateSuggestionsBatchFailure(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	cases := suggestBoard(t, s)
	want := unbatched(t, s, cases)
	bad := cases[0]
	bad.name, bad.sg.ThreadID = "bad thread", "t\xff"
	cases = append(cases, bad)
	var batch []*groupItem[suggestionFrom]
	outs := make([]*suggestionMade, len(cases))
	for i, c := range cases {
		outs[i] = &suggestionMade{}
		batch = append(batch, &groupItem[suggestionFrom]{ctx: ctx, done: make(chan struct{}),
			in: suggestionFrom{sg: c.sg, found: c.found, max: c.max, at: s.now().Truncate(time.Microsecond), out: outs[i]}})
	}
	if err := s.createSuggestionsPostgres(ctx, batch); err == nil {
		t.Fatal("the batch statement took a thread that is not UTF-8")
	}
	n := countRows(t, s, "suggestions")
	s.createSuggestions(ctx, batch)
	last := len(cases) - 1
	if batch[last].err == nil || batch[last].err == errMissingRequest {
		t.Fatalf("bad call: %v", batch[last].err)
	}
	written := 0
	for i, c := range cases[:last] {
		if (batch[i].err == errMissingRequest) != (want[i].code == bot.ENOTFOUND) || batch[i].err != nil && batch[i].err != errMissingRequest {
			t.Errorf("%s: %v, alone %q", c.name, batch[i].err, want[i].code)
		}
		if batch[i].err == nil {
			sg := c.sg
			reqs := outs[i].apply(&sg)
			if sg.ID != 0 {
				written++
			}
			if got := suggestOutcome(t, s, &sg, reqs, nil); got != want[i] {
				t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, want[i])
			}
		}
	}
	if got := countRows(t, s, "suggestions") - n; got != written {
		t.Fatalf("%d suggestions written, want %d", got, written)
	}
}
