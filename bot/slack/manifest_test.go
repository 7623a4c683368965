package slack

import (
	"os"
	"strings"
	"testing"
)

// TestManifest checks that manifest.yaml declares what the adapter uses.
func TestManifest(t *testing.T) {
	b, err := os.ReadFile("manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := string(b)
	for _, want := range []string{
		"callback_id: " + ShortcutCallbackID, "command: /feedback", "socket_mode_enabled:",
		"/slack/events", "/slack/interactions", "/slack/commands",
		"- app_mention\n", "- message.channels\n", "- message.groups\n", "- reaction_added\n", "- reaction_removed\n",
		"- app_mentions:read", "- channels:history", "- groups:history", "- chat:write", "- commands",
		"- reactions:read", "- reactions:write", "- users:read", "- users:read.email", "- channels:read", "- groups:read", "- usergroups:read",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest.yaml lacks %q", want)
		}
	}
}
