//go:build !unix

package fanout

import "os"

var interruptSignal = os.Interrupt
