package bot_test

import (
	"context"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// Text made only of zero-width and other invisible characters is refused
// like empty text, and captures nothing; text with visible characters
// around them is captured.
func TestCapture_InvisibleTextRefused(t *testing.T) {
	db := openDB(t, storetest.SQLiteDSN(t))
	e := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), bot.DefaultConfig(), nil)
	ctx := context.Background()
	a := bot.Actor{Kind: bot.ActorAPI, Identity: bot.Identity{Platform: bot.PlatformAPI, Workspace: "email", UserID: "ann"}, Name: "ann"}
	capture := func(text string) error {
		_, err := e.CaptureText(ctx, a, bot.CaptureTextInput{Where: bot.Message{Platform: bot.PlatformAPI, Workspace: "email"}, Text: text})
		return err
	}
	_, empty := e.CaptureText(ctx, a, bot.CaptureTextInput{Where: bot.Message{Platform: bot.PlatformAPI, Workspace: "email"}, Text: "   "})
	for _, text := range []string{
		"\u200b", "\u200b\u200c\u200d", "\ufeff \u2060", "\u200e\u200f\u202e\u2066", " \u00ad\ufe0f\n\u200b ",
	} {
		err := capture(text)
		if bot.ErrorCode(err) != bot.EINVALID || bot.ErrorMessage(err) != bot.ErrorMessage(empty) {
			t.Errorf("capture %q: %v, want the empty-text error %v", text, err, empty)
		}
	}
	if _, total, err := db.FindRequests(ctx, bot.RequestFilter{}); err != nil || total != 0 {
		t.Fatalf("%d requests after invisible captures (%v)", total, err)
	}
	if err := capture("\u200bDark mode\u200b"); err != nil {
		t.Fatalf("visible text with zero-width characters: %v", err)
	}
}
