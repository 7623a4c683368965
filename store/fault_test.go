package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
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

// A full SQLite database (here capped with max_page_count, as a full disk
// would) fails captures with EUNAVAILABLE saying it is full, writes
// nothing half-way, and takes captures again once there is room.
func TestFault_SQLiteFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedbackbot.db")
	full := MustOpenDB(t, "sqlite:"+path+"?_pragma=max_page_count(80)")
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
		t.Fatal("1000 captures fitted in 80 pages")
	}
	wantCode(t, err, bot.EUNAVAILABLE)
	if !strings.Contains(bot.ErrorMessage(err), "full") {
		t.Fatalf("message %q does not say the database is full", bot.ErrorMessage(err))
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
