package dedup_test

import (
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
)

// The engine's default suggestion threshold is the index's calibrated one
// (bot cannot import dedup, so the value is written twice).
func TestEngineDefaultSuggestThreshold(t *testing.T) {
	if got := bot.DefaultConfig().SuggestThreshold; got != dedup.DefaultSuggestThreshold {
		t.Fatalf("bot.DefaultConfig().SuggestThreshold = %v, dedup.DefaultSuggestThreshold = %v", got, dedup.DefaultSuggestThreshold)
	}
}
