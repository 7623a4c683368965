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
	if after != "on" {
		t.Errorf("synchronous_commit on the connection after the batch = %q, want on (the server's)", after)
	}
	if got, err := s.HasCard(ctx, b[1].in.r.ID, "slack", "T1", "C1"); err != nil || !got {
		t.Errorf("card of the second request saved: %v, %v", got, err)
	}
}
