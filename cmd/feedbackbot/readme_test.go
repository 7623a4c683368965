package main

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the README transcript from the bot's output")

const readmePath = "../../README.md"

var transcriptRe = regexp.MustCompile("(?s)<!-- transcript:start -->\n(.*)<!-- transcript:end -->")

// readmeTranscript returns the input and output blocks of the README's
// console transcript.
func readmeTranscript(t *testing.T) (readme, input, output string) {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme = string(b)
	m := transcriptRe.FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README has no transcript markers")
	}
	blocks := regexp.MustCompile("(?s)```text\n(.*?)```").FindAllStringSubmatch(m[1], -1)
	if len(blocks) != 2 {
		t.Fatalf("transcript has %d text blocks, want 2 (input, output)", len(blocks))
	}
	return readme, blocks[0][1], blocks[1][1]
}

// TestReadmeTranscript replays the README's console session and compares
// the bot's output with the README, on SQLite and PostgreSQL.
func TestReadmeTranscript(t *testing.T) {
	readme, input, want := readmeTranscript(t)
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		got := runConsoleDefault(t, dsn, input)
		if *update && strings.HasSuffix(t.Name(), "sqlite") {
			section := "<!-- transcript:start -->\nInput:\n\n```text\n" + input + "```\n\nOutput:\n\n```text\n" + got + "```\n<!-- transcript:end -->"
			readme = transcriptRe.ReplaceAllLiteralString(readme, section)
			if err := os.WriteFile(readmePath, []byte(readme), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		if got != want {
			t.Errorf("console output differs from the README transcript\n--- got ---\n%s\n--- README ---\n%s", got, want)
		}
	})
}
