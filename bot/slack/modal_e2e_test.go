package slack_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestEditModal is the Slack modal round trip with the real engine: the
// card's Edit button (block action) → views.open with the click's
// trigger_id → view_submission (field errors answered with
// response_action: errors) → the card edited, in both modes.
func TestEditModal(t *testing.T) {
	for _, mode := range []struct {
		name   string
		socket bool
	}{{"SocketMode", true}, {"HTTPMode", false}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, mode.socket)
			f := h.f
			if got := h.respond(t, "U1", "C1", "watch"); !strings.Contains(got, "Watching") {
				t.Fatalf("watch: %q", got)
			}
			m := f.NewMessage("C1", "U4", "hey team, quick question: dark mode?", "")
			h.tr.event(t, f.MessageEvent(m))
			eventually(t, "card", func() bool { return len(h.postsContaining("C1", m.TS, "FB-1")) == 1 })
			card := h.postsContaining("C1", m.TS, "FB-1")[0]
			var ids []string
			for _, b := range card.Buttons {
				ids = append(ids, b.ActionID)
			}
			if strings.Join(ids, ",") != "vote:1,edit:1" {
				t.Fatalf("card buttons %v", ids)
			}

			// A guest sees the button but gets a refusal, and no form.
			h.tr.interaction(t, f.BlockAction("U2", "C1", card.TS, "edit:1"))
			eventually(t, "guest refusal", func() bool {
				for _, r := range f.Responses() {
					if strings.Contains(r.Text, "Only team members can edit requests.") {
						return true
					}
				}
				return false
			})
			if n := len(f.Views()); n != 0 {
				t.Fatalf("%d views opened for a guest", n)
			}

			// A team member gets the form, prefilled.
			h.tr.interaction(t, f.BlockAction("U1", "C1", card.TS, "edit:1"))
			eventually(t, "modal", func() bool { return len(f.Views()) == 1 })
			v := f.Views()[0]
			if v.User != "U1" || v.CallbackID != "edit:1" || len(v.Inputs) != 3 || v.Inputs[0].Initial != "hey team, quick question: dark mode?" {
				t.Fatalf("view %+v", v)
			}
			t.Logf("views.open came %v after the click", v.Opened)

			// Bad values: field errors, the modal stays open, nothing changes.
			p, err := f.ViewSubmission(v.ID, map[string]string{"title": strings.Repeat("x", 121), "tags": "ok, not_ok"})
			if err != nil {
				t.Fatal(err)
			}
			var ans struct {
				ResponseAction string            `json:"response_action"`
				Errors         map[string]string `json:"errors"`
			}
			if err := json.Unmarshal(h.tr.submit(t, p), &ans); err != nil {
				t.Fatalf("answer to bad values: %v", err)
			}
			if ans.ResponseAction != "errors" || !strings.Contains(ans.Errors["title"], "at most 120") || !strings.Contains(ans.Errors["tags"], "not_ok") {
				t.Fatalf("answer %+v", ans)
			}
			if d, _ := h.eng.Detail(context.Background(), 1); d.Request.Title != "hey team, quick question: dark mode?" {
				t.Fatalf("refused submit changed the title: %q", d.Request.Title)
			}

			// Good values: the modal closes (empty answer) and the card is edited.
			p, err = f.ViewSubmission(v.ID, map[string]string{"title": "Dark mode for the dashboard", "tags": "ui, mobile", "description": "Night shifts."})
			if err != nil {
				t.Fatal(err)
			}
			if b := h.tr.submit(t, p); len(strings.TrimSpace(string(b))) != 0 {
				t.Fatalf("answer to good values: %s", b)
			}
			d, err := h.eng.Detail(context.Background(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if d.Request.Title != "Dark mode for the dashboard" || d.Request.Tags.String() != "mobile ui" || d.Request.Description != "Night shifts." || len(d.Edits) != 3 {
				t.Fatalf("after submit %+v, edits %d", d.Request, len(d.Edits))
			}
			eventually(t, "card edited", func() bool {
				got, ok := f.Message("C1", card.TS)
				return ok && got.Updates > 0 && strings.Contains(got.Text, "FB-1: Dark mode for the dashboard") && strings.Contains(got.Text, "#mobile #ui")
			})
		})
	}
}
