package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

type progress struct {
	platform string
	ref      MessageRef
	msg      OutMessage
	outcome  ReleaseOutcome
	last     time.Time
	done     bool
}

func (e *Engine) startProgress(ctx context.Context, platform string, where OutMessage, out *ReleaseOutcome) {
	p := e.platform(platform)
	if p == nil {
		return
	}
	where.Text = fmt.Sprintf("%s %s Notifying %s…", releaseEmoji(out.Action), out.headline(), threadCount(out.Threads))
	ref, err := p.Post(ctx, where)
	if err != nil {
		e.log.Warn("post progress", "err", err)
		return
	}
	e.mu.Lock()
	e.progress[out.EventID] = &progress{platform: platform, ref: ref, msg: where, outcome: *out, last: time.Now()}
	e.mu.Unlock()
}

func releaseEmoji(action string) string {
	if action == ActionRolledBack {
		return "↩️"
	}
	return "🚀"
}

// updateProgress edits the progress messages of the given events: when
// their deliveries are finished, or at most every two seconds meanwhile.
func (e *Engine) updateProgress(ctx context.Context, events map[int64]bool) {
	for id := range events {
		e.mu.Lock()
		pr := e.progress[id]
		e.mu.Unlock()
		if pr == nil || pr.done {
			continue
		}
		st, err := e.store.EventDeliveryStats(ctx, id)
		if err != nil {
			continue
		}
		finished := st.Pending+st.Running == 0
		if !finished && time.Since(pr.last) < 2*time.Second {
			continue
		}
		total := st.Pending + st.Running + st.Done + st.Failed
		var text string
		if finished {
			text = fmt.Sprintf("%s %s Notified %s: %d delivered, %d failed.", releaseEmoji(pr.outcome.Action), pr.outcome.headline(), threadCount(total), st.Done, st.Failed)
		} else {
			text = fmt.Sprintf("%s %s Notifying %s… %d delivered, %d failed so far.", releaseEmoji(pr.outcome.Action), pr.outcome.headline(), threadCount(total), st.Done, st.Failed)
		}
		msg := pr.msg
		msg.Text = text
		if p := e.platform(pr.platform); p != nil {
			if err := p.Update(ctx, pr.ref, msg); err != nil {
				e.log.Warn("update progress", "err", err)
			}
		}
		e.mu.Lock()
		pr.last = time.Now()
		if finished {
			pr.done = true
			delete(e.progress, id)
		}
		e.mu.Unlock()
	}
}

func (e *Engine) runDeliveries(ctx context.Context) {
	for {
		n, err := e.deliverBatch(ctx, 200)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("deliveries", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(e.cfg.DeliveryPoll):
		}
	}
}

// Flush delivers every delivery that is due now, then returns. The console
// calls it after each input line so its transcript is deterministic.
func (e *Engine) Flush(ctx context.Context) error {
	for {
		n, err := e.deliverBatch(ctx, 200)
		if err != nil || n == 0 {
			return err
		}
	}
}

// deliverBatch claims due deliveries and posts them, one goroutine per
// channel so that a slow channel does not hold up the others. It returns the
// number of deliveries claimed.
func (e *Engine) deliverBatch(ctx context.Context, limit int) (int, error) {
	ds, err := e.store.ClaimDeliveries(ctx, e.cfg.Worker, limit, e.cfg.DeliveryLease)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	groups := map[string][]*Delivery{}
	var order []string
	events := map[int64]bool{}
	for _, d := range ds {
		k := d.Platform + "\x00" + d.Workspace + "\x00" + d.Channel
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], d)
		events[d.EventID] = true
	}
	var wg sync.WaitGroup
	for _, k := range order {
		wg.Add(1)
		go func(k string, ds []*Delivery) {
			defer wg.Done()
			for _, d := range ds {
				e.deliverOne(ctx, k, d)
			}
		}(k, groups[k])
	}
	wg.Wait()
	e.updateProgress(ctx, events)
	return len(ds), nil
}

func (e *Engine) deliverOne(ctx context.Context, channelKey string, d *Delivery) {
	p := e.platform(d.Platform)
	if p == nil {
		e.retryOrFail(ctx, d, fmt.Errorf("platform %s is not connected", d.Platform), 30*time.Second)
		return
	}
	if pc, ok := p.(Pacer); ok {
		if iv := pc.ChannelInterval(); iv > 0 {
			e.mu.Lock()
			at := e.channelAt[channelKey]
			now := time.Now()
			if at.Before(now) {
				at = now
			}
			e.channelAt[channelKey] = at.Add(iv)
			e.mu.Unlock()
			if wait := time.Until(at); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
	}
	ref, err := p.Post(ctx, OutMessage{Workspace: d.Workspace, Channel: d.Channel, ThreadID: d.ThreadID, Text: d.Text})
	if err == nil {
		if err := e.store.FinishDelivery(ctx, d.ID, e.cfg.Worker, ref.ID); err != nil {
			e.log.Warn("finish delivery", "id", d.ID, "err", err)
		}
		e.metrics.Delivered(d.Platform, "delivered")
		return
	}
	var ra *RetryAfterError
	var perm *PermanentError
	switch {
	case errors.As(err, &ra):
		e.mu.Lock()
		if next := time.Now().Add(ra.After); e.channelAt[channelKey].Before(next) {
			e.channelAt[channelKey] = next
		}
		e.mu.Unlock()
		e.metrics.Delivered(d.Platform, "rate_limited")
		e.retryOrFail(ctx, d, err, ra.After)
	case errors.As(err, &perm):
		e.metrics.Delivered(d.Platform, "failed")
		if err := e.store.FailDelivery(ctx, d.ID, e.cfg.Worker, err.Error()); err != nil {
			e.log.Warn("fail delivery", "id", d.ID, "err", err)
		}
	default:
		e.retryOrFail(ctx, d, err, backoff(d.Attempts))
	}
}

// backoff is exponential with jitter: about 1s, 2s, 4s … capped at 5 minutes.
func backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 9 {
		attempt = 9
	}
	d := time.Second << (attempt - 1)
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

func (e *Engine) retryOrFail(ctx context.Context, d *Delivery, cause error, after time.Duration) {
	if time.Since(d.CreatedAt) > e.cfg.DeliveryGiveUp {
		e.metrics.Delivered(d.Platform, "failed")
		if err := e.store.FailDelivery(ctx, d.ID, e.cfg.Worker, cause.Error()); err != nil {
			e.log.Warn("fail delivery", "id", d.ID, "err", err)
		}
		return
	}
	if err := e.store.RetryDelivery(ctx, d.ID, e.cfg.Worker, cause.Error(), time.Now().Add(after).UTC()); err != nil {
		e.log.Warn("retry delivery", "id", d.ID, "err", err)
	}
}
