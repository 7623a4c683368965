package slack_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/slacktest"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// outageHarness is the end-to-end harness on PostgreSQL through a proxy
// that can cut it off.
func outageHarness(t *testing.T, socket bool, window time.Duration) (*harness, *storetest.FreezeProxy) {
	t.Helper()
	dsn, proxy := storetest.ViaFreezeProxy(t, storetest.PostgresDSN(t))
	h := newHarnessOn(t, socket, nil, io.Discard, dsn, func(c *bot.Config) {
		c.CaptureRetryBackoff = 20 * time.Millisecond
		if window > 0 {
			c.CaptureRetryWindow = window
		}
	})
	// #C1 is watched, and the bot has read so (it reads a channel's
	// settings for each of its messages).
	if got := h.respond(t, "U1", "C1", "watch"); !strings.Contains(strings.ToLower(got), "watch") {
		t.Fatalf("watch: %q", got)
	}
	warm := h.f.NewMessage("C1", "U1", "A calendar view of the roadmap", "")
	h.tr.event(t, h.f.MessageEvent(warm))
	eventually(t, "the first card", func() bool { return len(h.postsContaining("C1", warm.TS, "FB-1")) == 1 })
	return h, proxy
}

func (h *harness) total(t *testing.T) int {
	t.Helper()
	_, n, err := h.eng.Store().FindRequests(context.Background(), bot.RequestFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (h *harness) stored(channel, ts string) bool {
	_, err := h.eng.Store().FindMentionByMessage(context.Background(), bot.PlatformSlack, "T0FAKE", channel, ts)
	return err == nil
}

// cardsIn counts the request cards in a thread.
func (h *harness) cardsIn(channel, thread string) int {
	return len(h.postsContaining(channel, thread, "📌"))
}

// Slack delivers a message in a watched channel, a mention, a capture
// reaction and a /feedback command while PostgreSQL is cut off; each was
// acknowledged to Slack before it was handled. When the database is back
// each is stored once, with one card, and nobody is told anything (no
// ephemeral message, no answer to the command's response_url). Before the
// pending queue each got "try again in a moment" and was lost.
func TestOutage_CapturesKept(t *testing.T) {
	for _, mode := range []struct {
		name   string
		socket bool
	}{{"SocketMode", true}, {"HTTPMode", false}} {
		t.Run(mode.name, func(t *testing.T) {
			h, proxy := outageHarness(t, mode.socket, 0)
			f := h.f
			proxy.Cut()
			m1 := f.NewMessage("C1", "U1", "Please add a dark mode to the dashboard", "")
			h.tr.event(t, f.MessageEvent(m1))
			m2 := f.NewMessage("C2", "U1", "<@UBOT> offline mode for the mobile app", "")
			h.tr.event(t, f.AppMentionEvent(m2))
			m3 := f.NewMessage("C2", "U4", "Single sign-on with Okta is what we need", "")
			h.tr.event(t, f.ReactionEvent(true, "U5", "bulb", "C2", m3.TS))
			cmd := f.SlashCommand("U1", "C1", "Export every report as a CSV file")
			h.tr.command(t, cmd)
			eventually(t, "four captures kept", func() bool { return h.eng.PendingCaptures() == 4 })

			proxy.Restore()
			eventually(t, "the kept captures stored", func() bool { return h.eng.PendingCaptures() == 0 })
			for _, m := range []slacktest.Message{m1, m2, m3} {
				if !h.stored(m.Channel, m.TS) {
					t.Errorf("message %s in %s not stored", m.TS, m.Channel)
				}
				if n := h.cardsIn(m.Channel, m.TS); n != 1 {
					t.Errorf("%d cards for %s in %s, want 1", n, m.TS, m.Channel)
				}
			}
			// The command's capture hangs on the card the bot posted for
			// it at the top of #C1.
			var roots []slacktest.Message
			for _, p := range f.Posts() {
				if p.Channel == "C1" && p.ThreadTS == "" && strings.Contains(p.Text, "Export every report") {
					roots = append(roots, p)
				}
			}
			if len(roots) != 1 {
				t.Fatalf("%d top-level posts for the command, want 1: %+v", len(roots), roots)
			}
			if !h.stored("C1", roots[0].TS) || h.cardsIn("C1", roots[0].TS) != 1 {
				t.Errorf("command capture: stored %v, %d cards", h.stored("C1", roots[0].TS), h.cardsIn("C1", roots[0].TS))
			}
			if got := h.total(t); got != 5 {
				t.Errorf("%d requests, want 5", got)
			}
			if e := f.Ephemerals(); len(e) > 0 {
				t.Errorf("people were told %+v, want nothing", e)
			}
			for _, r := range f.Responses() {
				if r.URL == cmd.ResponseURL {
					t.Errorf("the command was answered %q, want nothing", r.Text)
				}
			}
		})
	}
}

// An outage longer than the retry window: the author of the watched
// message and the person who reacted are each told once, ephemerally in
// the conversation, and nothing is stored for them.
func TestOutage_OutlastsWindow(t *testing.T) {
	h, proxy := outageHarness(t, true, time.Second)
	f := h.f
	proxy.Cut()
	m1 := f.NewMessage("C1", "U1", "Please add a dark mode to the dashboard", "")
	h.tr.event(t, f.MessageEvent(m1))
	m3 := f.NewMessage("C2", "U4", "Single sign-on with Okta is what we need", "")
	h.tr.event(t, f.ReactionEvent(true, "U5", "bulb", "C2", m3.TS))
	eventually(t, "two people told", func() bool { return len(f.Ephemerals()) >= 2 })
	eventually(t, "nothing kept", func() bool { return h.eng.PendingCaptures() == 0 })
	proxy.Restore()
	eventually(t, "the database back", func() bool { return h.eng.Store().Ping(context.Background()) == nil })
	after := f.NewMessage("C1", "U1", "Keyboard shortcuts for the board view", "")
	h.tr.event(t, f.MessageEvent(after))
	eventually(t, "the capture after the outage", func() bool { return h.stored("C1", after.TS) })

	told := map[string]int{}
	for _, e := range f.Ephemerals() {
		told[e.User+" "+e.Channel+" "+e.ThreadTS]++
		if !strings.Contains(e.Text, "Not saved") || !strings.Contains(e.Text, "try again") {
			t.Errorf("told %q", e.Text)
		}
	}
	if told["U1 C1 "+m1.TS] != 1 || told["U5 C2 "+m3.TS] != 1 || len(told) != 2 {
		t.Errorf("told %v, want U1 once in m1's thread and U5 once in m3's", told)
	}
	if h.stored("C1", m1.TS) || h.stored("C2", m3.TS) {
		t.Error("a capture given up was stored")
	}
	if got := h.total(t); got != 2 {
		t.Errorf("%d requests, want 2 (before and after the outage)", got)
	}
}
