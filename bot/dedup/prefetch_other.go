//go:build !amd64

package dedup

// prefetch does nothing on this architecture.
func prefetch(addr uintptr) {}

// prefetchRange does nothing on this architecture.
func prefetchRange(addr, n uintptr) {}
