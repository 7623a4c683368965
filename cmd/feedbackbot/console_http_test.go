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
		done <- m.Run(ctx, []string{"console", "--database-url", storetest.SQLiteDSN(t), "--http-addr", "127.0.0.1:0"})
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
