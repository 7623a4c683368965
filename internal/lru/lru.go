// Package lru is the one bounded cache of the chat adapters: a
// concurrency-safe map that forgets its least recently used entries and,
// when it has a TTL, entries older than the TTL. It wraps
// github.com/hashicorp/golang-lru/v2's simplelru under one mutex, so that
// "seen before?" checks are atomic and expiry can follow an injected clock.
package lru

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Cache is a bounded LRU map. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	mu  sync.Mutex
	c   *simplelru.LRU[K, entry[V]]
	ttl time.Duration
}

type entry[V any] struct {
	val     V
	expires time.Time // zero: never
}

// New returns a cache of at most size entries (at least 1). With ttl > 0 an
// entry expires ttl after it was last stored; with ttl 0 entries only leave
// when the cache is full.
func New[K comparable, V any](size int, ttl time.Duration) *Cache[K, V] {
	if size <= 0 {
		size = 1
	}
	c, err := simplelru.NewLRU[K, entry[V]](size, nil)
	if err != nil { // only for size <= 0, excluded above
		panic(err)
	}
	return &Cache[K, V]{c: c, ttl: ttl}
}

// Get returns the live value stored under k and marks it recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) { return c.GetAt(k, time.Now()) }

// GetAt is Get with the clock read by the caller.
func (c *Cache[K, V]) GetAt(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.c.Get(k)
	if ok && c.expired(e, now) {
		c.c.Remove(k)
		ok = false
	}
	if !ok {
		var zero V
		return zero, false
	}
	return e.val, true
}

// Put stores v under k, evicting the least recently used entry when full.
func (c *Cache[K, V]) Put(k K, v V) { c.PutAt(k, v, time.Now()) }

// PutAt is Put with the clock read by the caller.
func (c *Cache[K, V]) PutAt(k K, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(k, v, now)
}

func (c *Cache[K, V]) put(k K, v V, now time.Time) {
	e := entry[V]{val: v}
	if c.ttl > 0 {
		e.expires = now.Add(c.ttl)
	}
	c.c.Add(k, e)
}

func (c *Cache[K, V]) expired(e entry[V], now time.Time) bool {
	return !e.expires.IsZero() && now.After(e.expires)
}

// Seen records k and reports whether it was already present (and live). It
// is the de-duplication primitive: the first caller for a key gets false.
func (c *Cache[K, V]) Seen(k K) bool { return c.SeenAt(k, time.Now()) }

// SeenAt is Seen with the clock read by the caller.
func (c *Cache[K, V]) SeenAt(k K, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.c.Get(k); ok && !c.expired(e, now) {
		return true
	}
	var zero V
	c.put(k, zero, now)
	return false
}

// Delete forgets k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.Remove(k)
}

// Len returns the number of entries, expired ones included until they are
// looked up or evicted.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c.Len()
}
