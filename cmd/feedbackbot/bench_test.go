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
