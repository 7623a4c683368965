package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu sync.Mutex
	builds  = map[string]string{} // ldflags -> binary
	buildTo string
)

// buildBot builds the binary (once per ldflags for the whole test run).
func buildBot(t *testing.T, ldflags string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := builds[ldflags]; ok {
		return bin
	}
	if buildTo == "" {
		dir, err := os.MkdirTemp("", "feedbackbot-cli-test-")
		if err != nil {
			t.Fatal(err)
		}
		buildTo = dir
	}
	bin := filepath.Join(buildTo, "feedbackbot"+string(rune('a'+len(builds))))
	args := []string{"build", "-o", bin}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	builds[ldflags] = bin
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildTo != "" {
		os.RemoveAll(buildTo)
	}
	os.Exit(code)
}

// botEnv is the test process's environment without any feedbackbot,
// Slack, Discord or database setting, plus extra.
func botEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FEEDBACKBOT_") || strings.HasPrefix(k, "SLACK_") || strings.HasPrefix(k, "DISCORD_") || k == "DATABASE_URL" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// runBot runs the binary to completion (bounded) and returns its output
// and exit status.
func runBot(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return out.String(), errOut.String(), code
}

// TestCLIHelp: -h lists the subcommands and the flags, and every
// subcommand's -h prints its usage and exits 0; mistakes exit 2.
func TestCLIHelp(t *testing.T) {
	bin := buildBot(t, "")
	env := botEnv()
	for _, tt := range []struct {
		args []string
		code int
		says []string
	}{
		{[]string{"-h"}, 0, []string{"feedbackbot serve", "feedbackbot console", "feedbackbot migrate up|down|status", "feedbackbot dedup eval", "feedbackbot bench", "feedbackbot healthcheck", "feedbackbot version", "-database-url", "DATABASE_URL"}},
		{[]string{"--help"}, 0, []string{"feedbackbot migrate up|down|status", "-http-addr"}},
		{[]string{"help"}, 0, []string{"feedbackbot healthcheck", "-api-token"}},
		{[]string{"migrate", "-h"}, 0, []string{"usage: feedbackbot migrate up|down|status", "-database-url"}},
		{[]string{"migrate", "status", "-h"}, 0, []string{"-database-url"}},
		{[]string{"dedup", "eval", "-h"}, 0, []string{"usage: feedbackbot dedup eval", "-corpus"}},
		{[]string{"console", "-h"}, 0, []string{"usage: feedbackbot console", "-no-http"}},
		{[]string{"serve", "-h"}, 0, []string{"usage: feedbackbot serve"}},
		{[]string{"bench", "-h"}, 0, []string{"feedbackbot bench capture"}},
		{[]string{"bench", "capture", "-h"}, 0, []string{"-concurrency"}},
		{[]string{"healthcheck", "-h"}, 0, []string{"usage: feedbackbot healthcheck", "-live"}},
		{[]string{"--nope"}, 2, []string{"flag provided but not defined: -nope"}},
		{[]string{"migrate"}, 2, []string{"usage: feedbackbot migrate up|down|status"}},
		{[]string{"migrate", "sideways"}, 2, []string{`unknown migrate command "sideways"`}},
		{[]string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`, "feedbackbot migrate up|down|status"}},
	} {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			stdout, stderr, code := runBot(t, bin, env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.says {
				if !strings.Contains(stdout+stderr, s) {
					t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", s, stdout, stderr)
				}
			}
		})
	}
}

// TestVersion: `feedbackbot version` and `--version` print the version
// set at build time (the Docker image's -ldflags -X main.Version=…), and
// otherwise the module version Go recorded in the binary, which is what
// `go install …@v1.2.3` sets.
func TestVersion(t *testing.T) {
	env := botEnv()
	stamped := buildBot(t, "-X main.Version=v9.8.7-test")
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		stdout, stderr, code := runBot(t, stamped, env, args...)
		if code != 0 || stdout != "feedbackbot v9.8.7-test\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	plain := buildBot(t, "")
	out, err := exec.Command("go", "version", "-m", plain).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	m := regexp.MustCompile(`(?m)^\tmod\tgithub.com/feedbackbot/feedbackbot\t(\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no module version in the binary:\n%s", out)
	}
	stdout, _, code := runBot(t, plain, env, "version")
	if code != 0 || !strings.HasPrefix(stdout, "feedbackbot "+string(m[1])) {
		t.Errorf("version printed %q, want the recorded module version %q", stdout, m[1])
	}
}

// freeAddr returns a 127.0.0.1 address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestNoTerminalServes: `feedbackbot` with no chat token and no terminal on
// stdin (what `docker run -p 8080:8080 IMAGE` gets: /dev/null) serves the
// board and the API until it is stopped, instead of a console that ends at
// once on the closed input; `feedbackbot healthcheck` reports it healthy
// while it runs and unhealthy once it has stopped.
func TestNoTerminalServes(t *testing.T) {
	bin := buildBot(t, "")
	dir := t.TempDir()
	addr := freeAddr(t)
	const token = "test-api-token"
	env := botEnv("DATABASE_URL=sqlite:"+filepath.Join(dir, "fb.db"), "FEEDBACKBOT_HTTP_ADDR="+addr, "FEEDBACKBOT_API_TOKEN="+token)
	cmd := exec.Command(bin) // Stdin nil: /dev/null
	cmd.Env = env
	cmd.Dir = dir
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			<-exited
		}
	})
	running := func() {
		t.Helper()
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("feedbackbot exited (%v) while it should serve; output:\n%s", err, logs.String())
		default:
		}
	}

	hcEnv := botEnv("FEEDBACKBOT_HTTP_ADDR=" + addr)
	deadline := time.Now().Add(60 * time.Second)
	for {
		running()
		stdout, stderr, code := runBot(t, bin, hcEnv, "healthcheck")
		if code == 0 {
			if !strings.Contains(stdout, "/readyz") {
				t.Fatalf("healthcheck said %q", stdout)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy within 60 s: %s\noutput:\n%s", stderr, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, stderr, code := runBot(t, bin, hcEnv, "healthcheck", "--live"); code != 0 {
		t.Fatalf("healthcheck --live: exit %d: %s", code, stderr)
	}

	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do(http.MethodPost, "/api/v1/feedback", `{"source":"email","author":"jane@example.com","text":"Dark mode for the board"}`); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/feedback: %d %s", code, body)
	}
	if code, body := do(http.MethodGet, "/", ""); code != http.StatusOK || !strings.Contains(body, "Dark mode for the board") {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	running()
	if out := logs.String(); strings.Contains(out, token) {
		t.Errorf("the API token is in the output:\n%s", out)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop within 30 s of SIGTERM")
	}
	stdout, stderr, code := runBot(t, bin, hcEnv, "healthcheck", "--timeout", "5s")
	if code != 1 || !strings.Contains(stderr, "unhealthy") {
		t.Fatalf("healthcheck of a stopped bot: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
