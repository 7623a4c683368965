package store_test

import (
	"testing"
	"time"
)

// within runs fn and fails the test when it has not returned after limit
// (fn is then left running: it hangs, which is the failure).
func within(t *testing.T, limit time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s: still waiting after %v", what, limit)
	}
}
