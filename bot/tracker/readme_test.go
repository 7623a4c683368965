package tracker_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/tracker"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestREADMEExample replays the README's worked example: its signature is the
// HMAC of its body with its secret (and what its openssl line prints, when
// openssl is installed), and the bot answers what the README shows.
func TestREADMEExample(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	begin, end := strings.Index(doc, "<!-- tracker-example:begin -->"), strings.Index(doc, "<!-- tracker-example:end -->")
	if begin < 0 || end < begin {
		t.Fatal("README has no tracker example")
	}
	ex := doc[begin:end]
	find := func(re string) string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(ex)
		if m == nil {
			t.Fatalf("README example: no match for %s", re)
		}
		return m[1]
	}
	secret := find(`(?m)^SECRET='([^']*)'$`)
	body := find(`(?m)^BODY='([^']*)'$`)
	wantSig := find(`(?m)^# (sha256=[0-9a-f]{64})$`)
	delivery := find(`X-GitHub-Delivery: ([0-9a-f-]+)'`)
	wantAnswer := find(`(?m)^# (\{"delivery".*\})$`)
	sigLine := find(`(?m)^(SIG=.*)$`)
	url := find(`/feedback track FB-1 (\S+)`)
	if !strings.Contains(ex, "FEEDBACKBOT_GITHUB_WEBHOOK_SECRET="+secret+" ") {
		t.Fatalf("the console line does not use the secret %q", secret)
	}

	if got := ghSign(secret, []byte(body)); got != wantSig {
		t.Fatalf("README signature %s, HMAC of the body is %s", wantSig, got)
	}
	if _, err := exec.LookPath("openssl"); err == nil {
		cmd := exec.Command("bash", "-c", sigLine+`; printf '%s' "$SIG"`)
		cmd.Env = append(os.Environ(), "SECRET="+secret, "BODY="+body)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl line: %v", err)
		}
		if string(out) != wantSig {
			t.Fatalf("openssl line prints %q, README says %q", out, wantSig)
		}
	} else {
		t.Log("openssl not installed: the openssl line is not run")
	}

	e := newEnv(t, storetest.SQLiteDSN(t), tracker.Config{GitHubSecret: secret})
	r := e.request("Dark mode for the dashboard")
	e.track(r.ID, url)
	if _, err := e.db.SetStatus(e.ctx, r.ID, bot.StatusPlanned, "github", "", ""); err != nil { // what tracking an open issue does
		t.Fatal(err)
	}
	send := func() answer {
		return e.post("/webhooks/github", []byte(body), map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": wantSig})
	}
	a := send()
	var got, want any
	json.Unmarshal([]byte(a.Body), &got)
	if err := json.Unmarshal([]byte(wantAnswer), &want); err != nil {
		t.Fatalf("README answer is not JSON: %v", err)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if a.Code != 200 || !bytes.Equal(gb, wb) {
		t.Fatalf("answer %d %s, README shows %s", a.Code, a.Body, wantAnswer)
	}
	e.wantStatus(r.ID, bot.StatusShipped)
	hs := e.history(r.ID)
	if last := hs[len(hs)-1]; last.Version != "v2.4" || last.Actor != "github" {
		t.Fatalf("history %+v", last)
	}
	if a := send(); !a.Out.Replayed {
		t.Fatalf("again: %s", a.Body)
	}
	tampered := strings.Replace(body, "v2.4", "v2.5", 1)
	if a := e.post("/webhooks/github", []byte(tampered), map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": "x", "X-Hub-Signature-256": wantSig}); a.Code != 401 {
		t.Fatalf("tampered body: %d", a.Code)
	}
}
