package dedup

// prefetch asks the CPU to bring the cache line at addr into its caches
// (PREFETCHT0): a hint, which never faults.
//
//go:noescape
func prefetch(addr uintptr)

// prefetchRange is prefetch for each cache line of the n bytes at addr,
// in one call.
//
//go:noescape
func prefetchRange(addr, n uintptr)
