package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestConfigErrorsAreUsageErrors: bad flags and bad environment values stop
// the program with a usage error (exit status 2) and say what was wrong.
func TestConfigErrorsAreUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		says string
	}{
		{"UnknownFlag", []string{"--nope"}, nil, "flag provided but not defined: -nope"},
		{"BadEnvNumber", nil, map[string]string{"FEEDBACKBOT_SUGGEST_THRESHOLD": "abc"}, "FEEDBACKBOT_SUGGEST_THRESHOLD"},
		{"BadPrefix", []string{"--key-prefix", "F-1"}, nil, "FEEDBACKBOT_KEY_PREFIX must be letters only"},
		{"ExtraArgument", []string{"console", "extra"}, nil, `unexpected argument "extra"`},
		{"UnknownCommand", []string{"launch"}, nil, `unknown command "launch"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			m := &Main{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &stderr,
				Getenv: func(k string) string { return tt.env[k] }}
			err := m.Execute(context.Background(), tt.args)
			if !errors.Is(err, errUsage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if got := stderr.String() + err.Error(); !strings.Contains(got, tt.says) {
				t.Errorf("output %q does not say %q", got, tt.says)
			}
		})
	}
}
