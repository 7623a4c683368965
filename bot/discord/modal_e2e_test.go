package discord

import (
	"strings"

	"github.com/feedbackbot/feedbackbot/internal/discordtest"
	"testing"
	"time"
)

// TestEngineEditModal is the Discord modal round trip with the real engine,
// against the fake validated with Discord's spec: the card's Edit button →
// a modal (interaction response type 9) for team members only → the modal
// submit interaction → the request and its card edited. It also runs the
// /feedback request group.
func TestEngineEditModal(t *testing.T) {
	// The modal must be the first answer to the click: give a loaded test
	// machine time before the click is deferred (Discord's 3 s is the
	// product's bound, checked by the fake's default elsewhere).
	e := newEngineEnvWith(t, nil, nil, func(c *Config, o *discordtest.Options) {
		c.FormAckAfter = 30 * time.Second
		o.InteractionDeadline = 60 * time.Second
	})
	f := e.fake
	if r := e.command(t, generalID, tina, "watch"); !strings.Contains(r.Content, "Watching") {
		t.Fatalf("watch: %+v", r)
	}
	m, _ := f.UserMessage(generalID, alice, "hey team, quick question: dark mode?")
	eventually(t, 60*time.Second, func() bool { return len(botPosts(f, generalID, "FB-1")) == 1 }, "card")
	card := botPosts(f, generalID, "FB-1")[0]
	if card.MessageReference == nil || card.MessageReference.MessageID != m.ID {
		t.Fatalf("card %+v", card)
	}

	// Everyone sees Edit; a customer's click is refused, ephemerally, with no modal.
	id, err := f.ClickButton(generalID, card.ID, "edit:1", alice)
	if err != nil {
		t.Fatal(err)
	}
	if r := finalResponse(t, f, id); r.Content != "Only team members can edit requests." || !r.Ephemeral() {
		t.Fatalf("customer click: %+v", r)
	}
	if n := len(f.Modals()); n != 0 {
		t.Fatalf("%d modals for a customer", n)
	}

	// A team member gets the modal, prefilled.
	id, err = f.ClickButton(generalID, card.ID, "edit:1", tina)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() bool { return len(f.Modals()) == 1 }, "modal")
	md := f.Modals()[0]
	if md.InteractionID != id || md.CustomID != "edit:1" || len(md.Inputs) != 3 || md.Inputs[0].Value != "hey team, quick question: dark mode?" {
		t.Fatalf("modal %+v", md)
	}

	// Refused values: nothing is saved and the submitter is told why.
	sub, err := f.SubmitModal(id, map[string]string{"tags": "ok, not_ok"})
	if err != nil {
		t.Fatal(err)
	}
	if r := finalResponse(t, f, sub); !strings.Contains(r.Content, "Nothing was saved") || !strings.Contains(r.Content, "not_ok") || !r.Ephemeral() {
		t.Fatalf("refused submit: %+v", r)
	}
	if r := e.request(t, 1); len(r.Tags) != 0 {
		t.Fatalf("refused submit tagged %v", r.Tags)
	}

	sub, err = f.SubmitModal(id, map[string]string{"title": "Dark mode for the dashboard", "tags": "ui mobile"})
	if err != nil {
		t.Fatal(err)
	}
	if r := finalResponse(t, f, sub); !strings.Contains(r.Content, "Saved FB-1 (title, tags)") || !r.Ephemeral() {
		t.Fatalf("submit: %+v", r)
	}
	if r := e.request(t, 1); r.Title != "Dark mode for the dashboard" || r.Tags.String() != "mobile ui" {
		t.Fatalf("FB-1 = %+v", r)
	}
	eventually(t, 60*time.Second, func() bool {
		got, ok := f.Message(card.ID)
		return ok && got.EditedTimestamp != nil && strings.Contains(got.Content, "FB-1: Dark mode for the dashboard") && strings.Contains(got.Content, "#mobile #ui")
	}, "card edited")

	// The request group turns into the same text commands.
	if r := e.command(t, generalID, alice, "request rename", o("key", "FB-1"), o("text", "Mine")); r.Content != "Only team members can rename requests." {
		t.Fatalf("customer rename: %+v", r)
	}
	if r := e.command(t, generalID, tina, "request untag", o("key", "FB-1"), o("tags", "mobile")); !strings.Contains(r.Content, "FB-1 tags: #ui") {
		t.Fatalf("untag: %+v", r)
	}
	if r := e.command(t, generalID, tina, "request remove", o("key", "FB-1"), o("reason", "noise")); !strings.Contains(r.Content, "Removed FB-1") {
		t.Fatalf("remove: %+v", r)
	}
	if r := e.command(t, generalID, tina, "list", o("tag", "ui")); r.Content != "No requests tagged #ui. /feedback list shows every request." {
		t.Fatalf("list after remove: %+v", r)
	}
	if r := e.command(t, generalID, tina, "request restore", o("key", "FB-1")); !strings.Contains(r.Content, "Restored FB-1") {
		t.Fatalf("restore: %+v", r)
	}
	if r := e.command(t, generalID, tina, "list", o("tag", "ui")); !strings.Contains(r.Content, "FB-1 Dark mode for the dashboard") {
		t.Fatalf("list tag: %+v", r)
	}
}
