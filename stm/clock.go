package stm

import (
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

// clock is the global version clock. Every writing software commit ticks it
// (docs/design.md, "Clock"); hardware commits only read it while no software
// transaction is live (swlive.go). It sits on a
// line of its own so that ticking it does not disturb anything else.
var clock struct {
	_ cpu.CacheLinePad
	v atomic.Uint64
	_ cpu.CacheLinePad
}

// spinWait waits a little before re-reading a Var that a multi-Var commit is
// installing. Installs are a few dozen instructions without calls, so a short
// spin usually suffices. A longer wait means that the committer was
// descheduled while it held its locks: from the second round on the waiter
// yields, and asks every other transaction to yield as it ends
// (yieldForLockHolder), so that the committer gets a P back.
func spinWait(round int) {
	if round > 0 {
		lockWaits.v.Add(1)
		runtime.Gosched()
		return
	}
	spinLocal(64)
}

// spinLocal burns about n iterations without touching shared memory.
//
//go:noinline
func spinLocal(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i
	}
	return s
}
