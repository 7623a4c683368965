package lru

import (
	"sync"
	"testing"
	"time"
)

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[string, int](2, 0)
	c.Put("a", 1)
	c.Put("b", 2)
	c.Get("a") // a is now the most recent
	c.Put("c", 3)
	if _, ok := c.Get("b"); ok {
		t.Fatal("least recently used entry not evicted")
	}
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("a = %v, %v", v, ok)
	}
	c.Delete("a")
	if _, ok := c.Get("a"); ok || c.Len() != 1 {
		t.Fatalf("after Delete: len %d", c.Len())
	}
	if New[int, int](0, 0).Seen(1) {
		t.Fatal("size 0 cache")
	}
}

func TestTTL(t *testing.T) {
	c := New[string, int](10, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.PutAt("a", 1, now)
	if v, ok := c.GetAt("a", now.Add(time.Minute)); !ok || v != 1 {
		t.Fatal("live entry lost")
	}
	if _, ok := c.GetAt("a", now.Add(time.Minute+time.Nanosecond)); ok {
		t.Fatal("expired entry returned")
	}
	if c.SeenAt("x", now) || !c.SeenAt("x", now) || c.SeenAt("x", now.Add(2*time.Minute)) {
		t.Fatal("SeenAt: first false, then true, false again once expired")
	}
}

// TestSeenOnce: of many goroutines asking for the same key, one is first.
func TestSeenOnce(t *testing.T) {
	c := New[int, struct{}](100, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	first := 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !c.Seen(7) {
				mu.Lock()
				first++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != 1 {
		t.Fatalf("%d callers saw the key first, want 1", first)
	}
}
