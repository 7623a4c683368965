package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile checks what the image promises (no Docker engine is
// needed; TestNoTerminalServes runs the binary the way the image does):
// the server without a console, the data volume, a health check through
// `feedbackbot healthcheck` (distroless has no curl), the version stamped
// at build time, and a .dockerignore that keeps the repository's history
// and local databases out of the build context.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, re := range []string{
		`(?m)^VOLUME \[?"?/data"?\]?$`,
		`(?m)^HEALTHCHECK .*CMD \["/feedbackbot", "healthcheck"\]$`,
		`(?m)^ENTRYPOINT \["/feedbackbot"\]$`,
		`(?m)^CMD \["serve"\]$`,
		`-X main\.Version=\$\{VERSION\}`,
		`(?m)^ENV .*FEEDBACKBOT_HTTP_ADDR=:8080`,
	} {
		if !regexp.MustCompile(re).MatchString(df) {
			t.Errorf("Dockerfile lacks %s", re)
		}
	}
	ig, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(ig))
	for _, want := range []string{".git", "**/*.db"} {
		found := false
		for _, l := range lines {
			found = found || l == want
		}
		if !found {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}
