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
