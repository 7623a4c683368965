package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFakesLiveUnderInternal keeps the fake platforms out of the production
// tree: they are internal/slacktest and internal/discordtest (named like
// net/http/httptest), no package elsewhere is a fake, and the binary does
// not link them.
func TestFakesLiveUnderInternal(t *testing.T) {
	const mod = "github.com/feedbackbot/feedbackbot/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Name}}", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	names := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, name, _ := strings.Cut(line, " ")
		names[strings.TrimPrefix(path, mod)] = name
	}
	for _, want := range []string{"internal/slacktest", "internal/discordtest"} {
		if names[want] == "" {
			t.Errorf("package %s is missing", want)
		}
	}
	for path, name := range names {
		if strings.Contains(name, "fake") {
			t.Errorf("package %s (%s) is a fake outside internal/<platform>test", path, name)
		}
	}
	deps, err := exec.Command("go", "list", "-deps", mod+"cmd/feedbackbot").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, d := range strings.Fields(string(deps)) {
		if strings.HasPrefix(d, mod+"internal/") && strings.HasSuffix(d, "test") {
			t.Errorf("the binary links the test fake %s", d)
		}
	}
}

// imports maps each package of the module (path relative to the module) to
// its non-test imports.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	const mod = "github.com/feedbackbot/feedbackbot/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[strings.TrimPrefix(f[0], mod)] = f[1:]
	}
	return m
}

// TestOneLRU: the adapters share internal/lru (over hashicorp/golang-lru)
// instead of each keeping a hand-written list-based LRU.
func TestOneLRU(t *testing.T) {
	for pkg, imps := range imports(t) {
		for _, imp := range imps {
			if imp == "container/list" {
				t.Errorf("%s imports container/list: use internal/lru", pkg)
			}
		}
	}
}

// TestSlackSignaturesBySDK: bot/slack verifies request signatures with
// slack-go's SecretsVerifier, not an HMAC of its own.
func TestSlackSignaturesBySDK(t *testing.T) {
	for _, imp := range imports(t)["bot/slack"] {
		if imp == "crypto/hmac" {
			t.Error("bot/slack computes HMACs itself: use slack.NewSecretsVerifier")
		}
	}
}

// TestOneTextGenerator: the load harness and the duplicate index
// benchmarks draw their synthetic feedback from internal/textgen.
func TestOneTextGenerator(t *testing.T) {
	const mod = "github.com/feedbackbot/feedbackbot/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}}`, mod+"bench/capture", mod+"bot/dedup").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.Contains(line, mod+"internal/textgen") {
			t.Errorf("%s does not use internal/textgen", strings.Fields(line)[0])
		}
	}
}
