//go:build !unix

package dedup

import "time"

// processCPU is -1 where the benchmarks do not read the process CPU time.
func processCPU() time.Duration { return -1 }
