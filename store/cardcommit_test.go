package store

import (
	"context"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestCardBatchCommitsWithoutWaitingForFlush: on PostgreSQL the cards'
// batch statement turns synchronous_commit off for its own transaction
// only. Inside a transaction the setting reads off after the statement;
// run alone on a connection (as the batch runs), the connection's next
// transaction is synchronous again, so no capture's commit is weakened.
func TestCardBatchCommitsWithoutWaitingForFlush(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	b := batchOf(capture("async-card-1", "u"), capture("async-card-2", "u"))
	s.createRequests(ctx, b)
	for _, it := range b {
		if it.err != nil {
			t.Fatal(it.err)
		}
	}
	now := time.Now().UTC()
	cards := []*groupItem[cardSave]{
		{in: cardSave{requestID: b[0].in.r.ID, ref: cardRef("async-c1"), at: now, shown: "h", withShown: true, out: &newCard{}}},
		{in: cardSave{requestID: b[1].in.r.ID, ref: cardRef("async-c2"), at: now}},
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.QueryContext(ctx, saveCardsPostgresSQL, cardArgs(cards)...)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var in string
	if err := tx.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&in); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if in != "off" {
		t.Errorf("synchronous_commit inside the cards' transaction = %q, want off", in)
	}

	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var before string
	if err := conn.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	rows, err = conn.QueryContext(ctx, saveCardsPostgresSQL, cardArgs(cards)...)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if n != 1 {
		t.Errorf("the batch answered %d new cards, want 1", n)
	}
	var after string
	if err := conn.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("synchronous_commit on the connection after the batch = %q, want %q as before it", after, before)
	}
	if got, err := s.HasCard(ctx, b[1].in.r.ID, "slack", "T1", "C1"); err != nil || !got {
		t.Errorf("card of the second request saved: %v, %v", got, err)
	}

	// The batch as captures run it (batch pool, generic plan) saves cards
	// and answers SaveNewCard with the request.
	batch := []*groupItem[cardSave]{
		{in: cardSave{requestID: b[0].in.r.ID, ref: cardRef("async-c3"), at: now, shown: "h", withShown: true, out: &newCard{}}},
		{in: cardSave{requestID: b[1].in.r.ID, ref: cardRef("async-c4"), at: now}},
	}
	s.saveCards(ctx, batch)
	for i, it := range batch {
		if it.err != nil {
			t.Fatalf("card %d: %v", i, it.err)
		}
	}
	if r := batch[0].in.out.req; r == nil || r.ID != b[0].in.r.ID {
		t.Errorf("SaveNewCard in the batch answered request %+v, want %d", r, b[0].in.r.ID)
	}
}
