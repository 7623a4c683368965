package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// mustEnqueue ships a new request captured in n threads and returns the event id.
func mustEnqueue(tb testing.TB, db *store.DB, name string, n int) int64 {
	tb.Helper()
	r := mustCreate(tb, db, name, name+"-0", "u0")
	for i := 1; i < n; i++ {
		mustAddMention(tb, db, r.ID, newMention(fmt.Sprintf("%s-%d", name, i), fmt.Sprintf("u%d", i)))
	}
	res, err := db.Release(context.Background(), ship(r.ID))
	if err != nil {
		tb.Fatal(err)
	}
	if res.Threads != n {
		tb.Fatalf("threads %d, want %d", res.Threads, n)
	}
	return res.Event.ID
}

func TestDeliveries(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ev := mustEnqueue(t, db, "a", 3)

		ds, err := db.ClaimDeliveries(ctx, "w1", 2, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2 {
			t.Fatalf("claimed %d, want 2", len(ds))
		}
		for _, d := range ds {
			if d.State != bot.DeliveryRunning || d.LockedBy != "w1" || d.Attempts != 1 || d.LockedUntil == nil || d.EventID != ev {
				t.Fatalf("claimed %+v", d)
			}
		}
		if ds[0].ID > ds[1].ID {
			t.Fatalf("claim order %d, %d", ds[0].ID, ds[1].ID)
		}
		rest, err := db.ClaimDeliveries(ctx, "w2", 10, time.Minute)
		if err != nil || len(rest) != 1 {
			t.Fatalf("w2 claimed %d, %v", len(rest), err)
		}
		none, err := db.ClaimDeliveries(ctx, "w3", 10, time.Minute)
		if err != nil || len(none) != 0 {
			t.Fatalf("w3 claimed %d, %v", len(none), err)
		}

		t.Run("Finish", func(t *testing.T) {
			if err := db.FinishDelivery(ctx, ds[0].ID, "w1", "msg-1"); err != nil {
				t.Fatal(err)
			}
			wantCode(t, db.FinishDelivery(ctx, ds[0].ID, "w1", "msg-1"), bot.ECONFLICT)
			wantCode(t, db.FinishDelivery(ctx, 999, "w1", "x"), bot.ENOTFOUND)
		})
		t.Run("ErrLeaseNotHeld", func(t *testing.T) {
			wantCode(t, db.FinishDelivery(ctx, ds[1].ID, "w2", "x"), bot.ECONFLICT)
			wantCode(t, db.RetryDelivery(ctx, ds[1].ID, "w2", "x", time.Now()), bot.ECONFLICT)
			wantCode(t, db.FailDelivery(ctx, ds[1].ID, "w2", "x"), bot.ECONFLICT)
		})
		t.Run("Retry", func(t *testing.T) {
			next := time.Now().Add(time.Hour)
			if err := db.RetryDelivery(ctx, ds[1].ID, "w1", "429", next); err != nil {
				t.Fatal(err)
			}
			// Not due yet.
			got, err := db.ClaimDeliveries(ctx, "w3", 10, time.Minute)
			if err != nil || len(got) != 0 {
				t.Fatalf("claimed %d, %v", len(got), err)
			}
		})
		t.Run("Fail", func(t *testing.T) {
			if err := db.FailDelivery(ctx, rest[0].ID, "w2", "channel_not_found"); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("Stats", func(t *testing.T) {
			st, err := db.EventDeliveryStats(ctx, ev)
			if err != nil || st != (bot.DeliveryStats{Pending: 1, Done: 1, Failed: 1}) {
				t.Fatalf("stats %+v, %v", st, err)
			}
			n, err := db.DeliveryQueueDepth(ctx)
			if err != nil || n != 1 {
				t.Fatalf("depth %d, %v", n, err)
			}
			all, err := db.FindDeliveries(ctx, ev)
			if err != nil || len(all) != 3 {
				t.Fatalf("deliveries %d, %v", len(all), err)
			}
			byID := map[int64]*bot.Delivery{}
			for _, d := range all {
				byID[d.ID] = d
			}
			if d := byID[ds[0].ID]; d.State != bot.DeliveryDone || d.MessageID != "msg-1" || d.DoneAt == nil {
				t.Fatalf("done %+v", d)
			}
			if d := byID[ds[1].ID]; d.State != bot.DeliveryPending || d.LastError != "429" || d.LockedBy != "" || d.NextAt.Before(time.Now()) {
				t.Fatalf("retried %+v", d)
			}
			if d := byID[rest[0].ID]; d.State != bot.DeliveryFailed || d.LastError != "channel_not_found" || d.DoneAt == nil {
				t.Fatalf("failed %+v", d)
			}
		})
	})
}

func TestClaimDeliveries_LeaseExpiry(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustEnqueue(t, db, "a", 1)
		// The store's clock is moved by hand, so a slow machine cannot make
		// the lease expire early or late.
		now := time.Now().UTC()
		db.SetClock(func() time.Time { return now })
		ds, err := db.ClaimDeliveries(ctx, "w1", 10, time.Minute)
		if err != nil || len(ds) != 1 {
			t.Fatalf("claimed %d, %v", len(ds), err)
		}
		// While the lease holds, nobody else gets it.
		now = now.Add(59 * time.Second)
		if got, err := db.ClaimDeliveries(ctx, "w2", 10, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("w2 claimed %d during lease, %v", len(got), err)
		}
		now = now.Add(2 * time.Second)
		got, err := db.ClaimDeliveries(ctx, "w2", 10, time.Minute)
		if err != nil || len(got) != 1 || got[0].ID != ds[0].ID || got[0].Attempts != 2 || got[0].LockedBy != "w2" {
			t.Fatalf("re-claim %+v, %v", got, err)
		}
		// w1 lost its lease: its result must not overwrite w2's.
		wantCode(t, db.FinishDelivery(ctx, ds[0].ID, "w1", "late"), bot.ECONFLICT)
		if err := db.FinishDelivery(ctx, ds[0].ID, "w2", "ok"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestClaimDeliveries_Concurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		const n = 60
		ev := mustEnqueue(t, db, "a", n)
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			worker := fmt.Sprintf("w%d", w)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ds, err := db.ClaimDeliveries(context.Background(), worker, 5, time.Minute)
					if err != nil {
						errs <- err
						return
					}
					if len(ds) == 0 {
						return
					}
					for _, d := range ds {
						mu.Lock()
						if prev, ok := seen[d.ID]; ok {
							mu.Unlock()
							errs <- fmt.Errorf("delivery %d claimed by %s and %s", d.ID, prev, worker)
							return
						}
						seen[d.ID] = worker
						mu.Unlock()
						if err := db.FinishDelivery(context.Background(), d.ID, worker, "m"); err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != n {
			t.Fatalf("claimed %d deliveries, want %d", len(seen), n)
		}
		st, err := db.EventDeliveryStats(t.Context(), ev)
		if err != nil || st.Done != n {
			t.Fatalf("stats %+v, %v", st, err)
		}
	})
}

func TestExtendAndReleaseDeliveries(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ev := mustEnqueue(t, db, "a", 3)
		now := time.Now().UTC()
		db.SetClock(func() time.Time { return now }) // moved by hand, not by the machine's speed
		ds, err := db.ClaimDeliveries(ctx, "w1", 3, 30*time.Second)
		if err != nil || len(ds) != 3 {
			t.Fatalf("claimed %d, %v", len(ds), err)
		}
		ids := []int64{ds[0].ID, ds[1].ID, ds[2].ID}
		if err := db.FinishDelivery(ctx, ds[2].ID, "w1", "m"); err != nil {
			t.Fatal(err)
		}
		t.Run("Extend", func(t *testing.T) {
			held, err := db.ExtendDeliveries(ctx, "w1", ids, time.Minute)
			if err != nil || len(held) != 2 {
				t.Fatalf("held %v, %v; want the two unfinished", held, err)
			}
			now = now.Add(50 * time.Second) // past the first lease, not the renewed one
			if got, err := db.ClaimDeliveries(ctx, "w2", 10, time.Minute); err != nil || len(got) != 0 {
				t.Fatalf("w2 claimed %d renewed deliveries, %v", len(got), err)
			}
			if held, err := db.ExtendDeliveries(ctx, "w2", ids, time.Minute); err != nil || len(held) != 0 {
				t.Fatalf("w2 extended %v, %v", held, err)
			}
		})
		t.Run("Release", func(t *testing.T) {
			if err := db.ReleaseDeliveries(ctx, "w2", ids); err != nil { // not w2's: no-op
				t.Fatal(err)
			}
			if st, _ := db.EventDeliveryStats(ctx, ev); st.Running != 2 {
				t.Fatalf("stats after foreign release %+v", st)
			}
			if err := db.ReleaseDeliveries(ctx, "w1", ids); err != nil {
				t.Fatal(err)
			}
			got, err := db.ClaimDeliveries(ctx, "w2", 10, time.Minute)
			if err != nil || len(got) != 2 {
				t.Fatalf("w2 claimed %d released deliveries, %v", len(got), err)
			}
			for _, d := range got {
				if d.Attempts != 1 { // the released attempt does not count
					t.Fatalf("attempts %d, want 1", d.Attempts)
				}
			}
			if held, err := db.ExtendDeliveries(ctx, "w1", ids, time.Minute); err != nil || len(held) != 0 {
				t.Fatalf("w1 still holds %v, %v", held, err)
			}
		})
	})
}

// TestReleaseSpacing: with a channel interval, the k-th delivery of a
// channel is due k intervals later, so claims interleave channels and only
// what is due soon is claimed.
func TestReleaseSpacing(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		r := mustCreate(t, db, "A", "m0", "u0")
		for i := 1; i < 6; i++ {
			mustAddMention(t, db, r.ID, newMention(fmt.Sprintf("m%d", i), fmt.Sprintf("u%d", i), inChannel(fmt.Sprintf("C%d", i%2))))
		}
		in := ship(r.ID)
		in.Schedule = bot.SpacedSchedule(func(string) time.Duration { return time.Hour })
		if _, err := db.Release(ctx, in); err != nil {
			t.Fatal(err)
		}
		ds, err := db.ClaimDeliveriesAhead(ctx, "w1", 10, time.Minute, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		channels := map[string]int{}
		for _, d := range ds {
			channels[d.Channel]++
		}
		for c, n := range channels {
			if n != 1 {
				t.Fatalf("claimed %d deliveries of %s now, want the first of each channel: %v", n, c, channels)
			}
		}
		later, err := db.ClaimDeliveriesAhead(ctx, "w1", 10, time.Minute, 90*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(later) != len(channels) {
			t.Fatalf("claimed %d one interval ahead, want %d (the second of each channel)", len(later), len(channels))
		}
	})
}

// TestFinishBatch_OutOfOrder: a batch of finishes that arrive out of id
// order, one of them no longer leased, gives each its own answer.
func TestFinishBatch_OutOfOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ev := mustEnqueue(t, db, "a", 3)
		ds, err := db.ClaimDeliveries(ctx, "w1", 3, time.Minute)
		if err != nil || len(ds) != 3 {
			t.Fatalf("claimed %d, %v", len(ds), err)
		}
		if err := db.ReleaseDeliveries(ctx, "w1", []int64{ds[1].ID}); err != nil {
			t.Fatal(err)
		}
		answers, err := store.FinishBatch(db, ctx, "w1", ds[2].ID, ds[1].ID, ds[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if answers[0] != nil || bot.ErrorCode(answers[1]) != bot.ECONFLICT || answers[2] != nil {
			t.Fatalf("answers %v, want nil, ECONFLICT, nil", answers)
		}
		if st, _ := db.EventDeliveryStats(ctx, ev); st.Done != 2 || st.Pending != 1 {
			t.Fatalf("stats %+v, want 2 done, 1 pending", st)
		}
	})
}

// TestFinishBatch_NoDeadlockWithRenewal (PostgreSQL): a batch of finishes
// and a lease renewal over the same deliveries lock them in the same (id)
// order, so they never wait for each other in a cycle, whatever order the
// finishes arrived in. Staged with a third transaction holding the first
// row: the renewal queues for it, then the batch (finishes of the second
// and the first delivery, in that order). Locking in arrival order, the
// batch would hold the second row while waiting for the first, which the
// renewal gets next and holds while waiting for the second: 40P01.
func TestFinishBatch_NoDeadlockWithRenewal(t *testing.T) {
	db := MustOpenDB(t, storetest.PostgresDSN(t))
	ctx := t.Context()
	mustEnqueue(t, db, "a", 2)
	ds, err := db.ClaimDeliveries(ctx, "w1", 2, time.Minute)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claimed %d, %v", len(ds), err)
	}
	first, second := min(ds[0].ID, ds[1].ID), max(ds[0].ID, ds[1].ID)
	hold, err := db.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, `SELECT id FROM deliveries WHERE id = $1 FOR UPDATE`, first); err != nil {
		t.Fatal(err)
	}
	waiting := func(n int) {
		t.Helper()
		storetest.AwaitLockWait(t, db.DB().DB, n, "delivery statements waiting for the held row", nil, "deliveries")
	}
	var renewErr, finishErr error
	var answers []error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, renewErr = db.ExtendDeliveries(ctx, "w1", []int64{first, second}, time.Minute)
	}()
	waiting(1)
	go func() {
		defer wg.Done()
		answers, finishErr = store.FinishBatch(db, ctx, "w1", second, first)
	}()
	waiting(2)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if renewErr != nil || finishErr != nil {
		t.Fatalf("renewal: %v; finishes: %v", renewErr, finishErr)
	}
	if answers[0] != nil || answers[1] != nil {
		t.Fatalf("finish answers %v", answers)
	}
}

// TestDeliveriesEnqueued (PostgreSQL): a worker's store handle hears that
// another handle (another process) enqueued deliveries, so it can claim
// them before its next poll; SQLite has no notifications (nil).
func TestDeliveriesEnqueued(t *testing.T) {
	if ch := MustOpenDB(t, storetest.SQLiteDSN(t)).DeliveriesEnqueued(t.Context()); ch != nil {
		t.Fatal("SQLite store returned a notification channel")
	}
	dsn := storetest.PostgresDSN(t)
	worker, shipper := MustOpenDB(t, dsn), MustOpenDB(t, dsn)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := worker.DeliveriesEnqueued(ctx)
	if ch == nil {
		t.Fatal("no notification channel on PostgreSQL")
	}
	// The listener may connect after the first release: release until one
	// is heard (each ships a new request).
	deadline := time.Now().Add(time.Minute)
	for i := 0; ; i++ {
		mustEnqueue(t, shipper, fmt.Sprintf("r%d", i), 1)
		select {
		case <-ch:
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification after releases")
		}
	}
}
