package store

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// BenchmarkCaptureStatements runs the capture hot path's batch statements
// on PostgreSQL as group commit sends them under load (batches of 4): the
// captures, the suggestions of half of them, and their cards. cpu-us/op is
// this process's CPU (user+sys) per batch of 4, the client's share
// whatever PostgreSQL spends.
func BenchmarkCaptureStatements(b *testing.B) {
	s, err := Open(context.Background(), storetest.PostgresDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const n = 4
	seq := 0
	capture := func() []*groupItem[newCapture] {
		batch := make([]*groupItem[newCapture], n)
		for i := range batch {
			seq++
			id := fmt.Sprintf("m%d", seq)
			now := s.now().Truncate(time.Microsecond)
			r := &bot.Request{Title: "Dark mode " + id, Description: "Dark mode \"please\", {soon}\\ " + id, Demand: 1, CreatedAt: now, UpdatedAt: now}
			m := &bot.Mention{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: id, ThreadID: id,
				AuthorID: "U" + id, AuthorName: "Ann " + id, Org: "T1", Text: r.Description, Permalink: "https://x/" + id,
				CapturedBy: "Ann", Via: bot.ViaChannel, CreatedAt: now}
			batch[i] = &groupItem[newCapture]{ctx: ctx, in: newCapture{r, m}}
		}
		s.createRequests(ctx, batch)
		for _, it := range batch {
			if it.err != nil {
				b.Fatal(it.err)
			}
		}
		return batch
	}
	// Past genericFrom, so the statements run with their generic plans.
	for range genericFrom/n + 1 {
		capture()
	}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for range b.N {
		batch := capture()
		cards := make([]*groupItem[cardSave], n)
		for i, it := range batch {
			r, m := it.in.r, it.in.m
			var sugg int64
			if i%2 == 0 {
				sg := &bot.Suggestion{RequestID: r.ID, Platform: m.Platform, Workspace: m.Workspace, Channel: m.Channel, ThreadID: m.ThreadID}
				found := []bot.Candidate{{RequestID: r.ID - 5, Score: 0.9}, {RequestID: r.ID - 9, Score: 0.7}, {RequestID: r.ID - 13, Score: 0.5}}
				if _, err := s.CreateSuggestionFrom(ctx, sg, found, 3); err != nil || sg.ID == 0 {
					b.Fatal(sg.ID, err)
				}
				sugg = sg.ID
			}
			ref := bot.MessageRef{Platform: m.Platform, Workspace: m.Workspace, Channel: m.Channel, ID: "card-" + m.MessageID, ThreadID: m.ThreadID}
			cards[i] = &groupItem[cardSave]{ctx: ctx, in: cardSave{requestID: r.ID, ref: ref, at: s.now(), shown: "h" + m.MessageID, withShown: true,
				suggestion: sugg, out: &newCard{}}}
		}
		s.saveCards(ctx, cards)
		for _, it := range cards {
			if it.err != nil || it.in.out.req == nil || it.in.out.suggested != (it.in.suggestion != 0) {
				b.Fatal(it.err)
			}
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
}
