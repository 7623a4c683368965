//go:build unix

package fanout

import "syscall"

var interruptSignal = syscall.SIGTERM
