package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	botpkg "github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestBenchAPI runs `feedbackbot bench api` against a running bot over
// real HTTP: every post is created, near-duplicates get suggestions, the
// progress that goes to a pipe has no carriage returns, and a wrong token
// is reported as errors with the status, not as a throughput.
func TestBenchAPI(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	addrc := make(chan string, 1)
	botOut := &syncBuffer{}
	bot := &Main{Stdin: pr, Stdout: botOut, Stderr: botOut, Getenv: func(string) string { return "" },
		Listening: func(a string) { addrc <- a }}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- bot.Execute(ctx, []string{"--database-url", storetest.SQLiteDSN(t), "--http-addr", "127.0.0.1:0", "--api-token", "s3cret"})
	}()
	base := "http://" + <-addrc
	waitUntil(t, "the bot is ready", func() bool { return httpStatus(base+"/readyz") == 200 })

	var out, progress syncBuffer
	load := &Main{Stdout: &out, Stderr: &progress, Getenv: func(k string) string {
		if k == "FEEDBACKBOT_API_TOKEN" {
			return "s3cret"
		}
		return ""
	}}
	err := load.Execute(ctx, []string{"bench", "api", "--url", base, "--count", "40", "--concurrency", "1", "--near-duplicates", "0.5", "--seed", "3"})
	if err != nil {
		t.Fatalf("bench api: %v\n%s%s", err, out.String(), progress.String())
	}
	report := out.String()
	t.Log(report)
	m := regexp.MustCompile(`posts: +40 in \S+ \(40 created, (\d+) with possible duplicates, 0 errors; statuses 40×201\)`).FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("report:\n%s", report)
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Fatalf("no possible duplicates among 40 posts, half of them near-duplicates:\n%s", report)
	}
	for _, want := range []string{"captures/s", "p99"} {
		if !strings.Contains(report, want) {
			t.Fatalf("report without %q:\n%s", want, report)
		}
	}
	if strings.Contains(progress.String(), "\r") {
		t.Fatalf("progress to a pipe has carriage returns: %q", progress.String())
	}

	var out2 syncBuffer
	wrong := &Main{Stdout: &out2, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	err = wrong.Execute(ctx, []string{"bench", "api", "--url", base, "--token", "nope", "--count", "5", "--concurrency", "2"})
	if err == nil || !strings.Contains(out2.String(), "5 errors; statuses 5×401") || !strings.Contains(out2.String(), "first error: 401") {
		t.Fatalf("wrong token: err %v\n%s", err, out2.String())
	}
	cancel()
	<-done
}

func httpStatus(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestBenchAPIEmailAuthors: with --email-authors 0.5 every other post's
// author is an email address (l123@example.com, the same users as L123),
// which the bot records as that identity's email; the report says so.
// A share outside 0..1 is a usage error.
func TestBenchAPIEmailAuthors(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	addrc := make(chan string, 1)
	botOut := &syncBuffer{}
	dsn := storetest.SQLiteDSN(t)
	bot := &Main{Stdin: pr, Stdout: botOut, Stderr: botOut, Getenv: func(string) string { return "" },
		Listening: func(a string) { addrc <- a }}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- bot.Execute(ctx, []string{"--database-url", dsn, "--http-addr", "127.0.0.1:0", "--api-token", "s3cret"})
	}()
	base := "http://" + <-addrc
	waitUntil(t, "the bot is ready", func() bool { return httpStatus(base+"/readyz") == 200 })

	var out syncBuffer
	load := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	err := load.Execute(ctx, []string{"bench", "api", "--url", base, "--token", "s3cret", "--count", "20", "--concurrency", "2",
		"--near-duplicates", "0", "--email-authors", "0.5", "--seed", "3"})
	if err != nil {
		t.Fatalf("bench api: %v\n%s", err, out.String())
	}
	report := out.String()
	if !strings.Contains(report, "50% email authors") || !strings.Contains(report, "posts:       20 in") || !strings.Contains(report, "(20 created,") {
		t.Fatalf("report:\n%s", report)
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	emails := 0
	for k := range 20 {
		n := strconv.Itoa((k * 7919) % 50_000)
		addr := "l" + n + "@example.com"
		p, err := db.FindPerson(ctx, botpkg.Identity{Platform: botpkg.PlatformAPI, Workspace: "bench-" + strconv.Itoa(k%10), UserID: addr})
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != 0 {
			if p.Identities[0].Email != addr {
				t.Fatalf("post %d: identity %+v", k, p.Identities[0])
			}
			emails++
		}
	}
	if emails != 10 {
		t.Fatalf("%d of 20 posts by an email author, want 10", emails)
	}

	var out2 syncBuffer
	err = (&Main{Stdout: &out2, Stderr: &out2, Getenv: func(string) string { return "" }}).Execute(ctx,
		[]string{"bench", "api", "--url", base, "--count", "1", "--email-authors", "1.5"})
	if err == nil || !strings.Contains(err.Error(), "email-author share") {
		t.Fatalf("--email-authors 1.5: %v\n%s", err, out2.String())
	}
	cancel()
	<-done
}
