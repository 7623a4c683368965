package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/feedbackbot/feedbackbot/internal/slacktest"
)

func testModal(title string) slack.ModalViewRequest {
	in := func(id, label, initial string, multiline bool) *slack.InputBlock {
		e := slack.NewPlainTextInputBlockElement(nil, id)
		e.InitialValue, e.Multiline = initial, multiline
		return slack.NewInputBlock(id, slack.NewTextBlockObject(slack.PlainTextType, label, false, false), nil, e)
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Save", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		CallbackID:      "edit",
		PrivateMetadata: "12",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			in("title", "Title", "Dark mode", false),
			in("description", "Description", "", true),
		}},
	}
}

// TestFakeViews checks the fake's views.open / views.update / view_submission
// with slack-go's own client and payload types, validated against the spec.
func TestFakeViews(t *testing.T) {
	f := newFake(t)
	api := slack.New(f.Options().BotToken, slack.OptionAPIURL(f.APIURL()))
	ctx := t.Context()

	trigger := f.NewTrigger("U1")
	resp, err := api.OpenViewContext(ctx, trigger, testModal("Edit FB-12"))
	if err != nil {
		t.Fatal(err)
	}
	vs := f.Views()
	if len(vs) != 1 || vs[0].ID != resp.ID || vs[0].User != "U1" || vs[0].CallbackID != "edit" || len(vs[0].Inputs) != 2 || vs[0].Inputs[0].Initial != "Dark mode" {
		t.Fatalf("views %+v (response %+v)", vs, resp)
	}
	// A trigger opens one view.
	if _, err := api.OpenViewContext(ctx, trigger, testModal("Again")); err == nil || !strings.Contains(err.Error(), "expired_trigger_id") {
		t.Fatalf("reused trigger: %v", err)
	}
	if _, err := api.OpenViewContext(ctx, "nope", testModal("Unknown")); err == nil || !strings.Contains(err.Error(), "invalid_trigger_id") {
		t.Fatalf("unknown trigger: %v", err)
	}
	// Titles are at most 24 characters.
	if _, err := api.OpenViewContext(ctx, f.NewTrigger("U1"), testModal(strings.Repeat("x", 25))); err == nil {
		t.Fatal("a 25-character title was accepted")
	}
	if _, err := api.UpdateViewContext(ctx, testModal("Saved"), "", "", resp.ID); err != nil {
		t.Fatal(err)
	}
	if v := f.Views()[0]; v.Title != "Saved" || v.Updates != 1 {
		t.Fatalf("updated view %+v", v)
	}

	payload, err := f.ViewSubmission(resp.ID, map[string]string{"description": "At night"})
	if err != nil {
		t.Fatal(err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		t.Fatal(err)
	}
	if cb.Type != slack.InteractionTypeViewSubmission || cb.User.ID != "U1" || cb.View.CallbackID != "edit" || cb.View.PrivateMetadata != "12" {
		t.Fatalf("callback %+v", cb)
	}
	vals := cb.View.State.Values
	if vals["title"]["title"].Value != "Dark mode" || vals["description"]["description"].Value != "At night" {
		t.Fatalf("values %+v", vals)
	}
	if _, err := f.ViewSubmission(resp.ID, map[string]string{"nope": "x"}); err == nil {
		t.Fatal("a value for an unknown block was accepted")
	}
	// The refused calls above were violations on purpose.
	f.ForgetViolations("views.open", "invalid view")
}

func TestFakeTriggerExpires(t *testing.T) {
	f := slacktest.New(slacktest.Options{Methods: specMethods(t), TriggerTTL: time.Nanosecond})
	defer f.Close()
	api := slack.New(f.Options().BotToken, slack.OptionAPIURL(f.APIURL()))
	trigger := f.NewTrigger("U1")
	time.Sleep(time.Millisecond)
	if _, err := api.OpenViewContext(t.Context(), trigger, testModal("Late")); err == nil || !strings.Contains(err.Error(), "expired_trigger_id") {
		t.Fatalf("late trigger: %v", err)
	}
}
