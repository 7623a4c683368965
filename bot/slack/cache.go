package slack

import (
	"container/list"
	"sync"
	"time"
)

// ttlCache is a bounded LRU whose entries expire after ttl. It is safe for
// concurrent use.
type ttlCache[V any] struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	ll    *list.List
	items map[string]*list.Element
}

type ttlEntry[V any] struct {
	key     string
	val     V
	expires time.Time
}

func newTTLCache[V any](max int, ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{max: max, ttl: ttl, ll: list.New(), items: make(map[string]*list.Element)}
}

// get returns the live value for key.
func (c *ttlCache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*ttlEntry[V])
	if now.After(e.expires) {
		c.ll.Remove(el)
		delete(c.items, key)
		return zero, false
	}
	c.ll.MoveToFront(el)
	return e.val, true
}

// put stores key, evicting the least recently used entry when full.
func (c *ttlCache[V]) put(key string, val V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, val, now)
}

func (c *ttlCache[V]) putLocked(key string, val V, now time.Time) {
	if el, ok := c.items[key]; ok {
		e := el.Value.(*ttlEntry[V])
		e.val, e.expires = val, now.Add(c.ttl)
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&ttlEntry[V]{key: key, val: val, expires: now.Add(c.ttl)})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*ttlEntry[V]).key)
	}
}

// firstSeen records key and reports whether it was not already live: the
// de-duplication of retried deliveries.
func (c *ttlCache[V]) firstSeen(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok && !now.After(el.Value.(*ttlEntry[V]).expires) {
		return false
	}
	var zero V
	c.putLocked(key, zero, now)
	return true
}
