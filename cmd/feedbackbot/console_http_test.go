package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestConsoleServesBoard: the console also serves the board, readable
// without a token, so a newcomer watches it fill up while typing.
func TestConsoleServesBoard(t *testing.T) {
	pr, pw := io.Pipe()
	addrc := make(chan string, 1)
	out := &syncBuffer{}
	m := &Main{Stdin: pr, Stdout: out, Stderr: out, Getenv: func(string) string { return "" },
		Listening: func(a string) { addrc <- a }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- m.Execute(ctx, []string{"console", "--database-url", storetest.SQLiteDSN(t), "--http-addr", "127.0.0.1:0"})
	}()
	base := "http://" + <-addrc
	if _, err := io.WriteString(pw, "alice: /feedback new Offline mode for the mobile app\n"); err != nil {
		t.Fatal(err)
	}
	var body string
	waitUntil(t, "the board lists FB-1", func() bool {
		resp, err := http.Get(base + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK && strings.Contains(body, "Offline mode for the mobile app")
	})
	pw.Close() // end of input: the console exits
	if err := <-done; err != nil {
		t.Fatalf("console: %v\n%s", err, out.String())
	}
}

// TestConsoleHomeOrg: people typed without @org are the team's own
// organisation (issue: alice counted as a customer organisation "local");
// bob@acme counts, and FEEDBACKBOT_HOME_ORGS adds organisations of the team.
func TestConsoleHomeOrg(t *testing.T) {
	pr, pw := io.Pipe()
	addrc := make(chan string, 1)
	out := &syncBuffer{}
	env := map[string]string{"FEEDBACKBOT_HOME_ORGS": "ourco, "}
	m := &Main{Stdin: pr, Stdout: out, Stderr: out, Getenv: func(k string) string { return env[k] },
		Listening: func(a string) { addrc <- a }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- m.Execute(ctx, []string{"console", "--database-url", storetest.SQLiteDSN(t), "--http-addr", "127.0.0.1:0"})
	}()
	base := "http://" + <-addrc
	for _, line := range []string{
		"alice: /feedback new Offline mode for the mobile app",
		"carol@ourco: /feedback vote FB-1",
		"bob@acme: /feedback vote FB-1",
	} {
		if _, err := io.WriteString(pw, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	var body string
	waitUntil(t, "FB-1 has three people", func() bool {
		resp, err := http.Get(base + "/api/v1/requests/FB-1")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `"demand": 3`) || strings.Contains(body, `"demand":3`)
	})
	if !strings.Contains(strings.ReplaceAll(body, " ", ""), `"organisations":1,`) {
		t.Fatalf("want one customer organisation (acme): %s", body)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("console: %v\n%s", err, out.String())
	}
}
