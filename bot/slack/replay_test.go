package slack

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/internal/slacktest"
)

// A signed slash command replayed within the 5-minute window (same body,
// same signature) runs once: commands are de-duplicated by trigger_id.
// Another command (another trigger_id) runs.
func TestHTTPCommandReplayRunsOnce(t *testing.T) {
	now := time.Now()
	a, _, rec, srv := httpAdapter(t, "s3cret", now)
	send := func(trigger, text string) int {
		body := url.Values{"command": {"/feedback"}, "team_id": {"T1"}, "user_id": {"U1"}, "channel_id": {"C1"},
			"text": {text}, "trigger_id": {trigger}}.Encode()
		ts := strconv.FormatInt(now.Unix(), 10)
		return post(t, srv.URL+"/slack/commands", "application/x-www-form-urlencoded", body, map[string]string{
			"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slacktest.Sign("s3cret", ts, []byte(body)),
		})
	}
	for i := range 3 {
		if code := send("1337.42.abc", "vote FB-1"); code != http.StatusOK {
			t.Fatalf("send %d: status %d", i, code)
		}
	}
	if code := send("1338.43.def", "vote FB-2"); code != http.StatusOK {
		t.Fatalf("other command: status %d", code)
	}
	waitJobs(t, a)
	evs := rec.all()
	if len(evs) != 2 {
		t.Fatalf("%d commands ran, want 2 (the replays run once)", len(evs))
	}
	texts := map[string]bool{evs[0].Text: true, evs[1].Text: true}
	if !texts["vote FB-1"] || !texts["vote FB-2"] {
		t.Fatalf("ran %v", texts)
	}
}
