package stm

import (
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/cpu"

	"github.com/hytm/hytm/internal/policy"
)

// The contention gate (package internal/policy, "Adaptive transaction scheduling"):
// a worker whose recent attempts mostly aborted runs its next Atomically
// calls behind one process-wide gate, so that contending transactions take
// turns instead of aborting each other. Holding the gate changes no rule of
// the protocol; it is released before anything that may block for another
// transaction (Retry's wait, the irrevocable token), so it never takes part
// in a deadlock.
var gate policy.Gate

// lockWaits counts the rounds that transactions spent waiting for a commit
// that holds its locks (spinWait). It moves only while a committer was
// descheduled with its locks held: Go's scheduler gives a goroutine a P for
// up to 10ms before it preempts it, so with more runnable goroutines than Ps
// such a committer waits behind goroutines that never block, and every
// transaction that touches one of its Vars waits with it (about a millisecond
// at p99.9 for bank transfers from 8 goroutines on 2 Ps). While it moves,
// every transaction yields as it ends (yieldForLockHolder), which puts the
// runnable goroutines, the committer among them, through the scheduler
// within a few transactions' time.
var lockWaits struct {
	_ cpu.CacheLinePad
	v atomic.Uint64
	_ cpu.CacheLinePad
}

// yieldForLockHolder yields the P if a transaction waited for a descheduled
// committer since the worker last looked. It costs one load of a line that
// is written only during such waits.
func (w *worker) yieldForLockHolder() {
	if w.cm.LockWaitsMoved(lockWaits.v.Load()) {
		runtime.Gosched()
	}
}

// enterGate passes the gate for the transaction's Atomically call. It
// reports whether the gate was busy.
func (tx *Tx) enterGate() (waited bool) {
	waited, tx.gated = gate.Enter()
	if tx.gated {
		tx.w.stats.add(statGated)
	}
	return waited
}

// leaveGate releases the gate if the transaction holds it, and reports
// whether other transactions were waiting for it. Every exit of an
// Atomically call passes here, after its attempt released its locks: it
// also yields for a descheduled committer (yieldForLockHolder).
//
// The common case (no gate held, no new lock waits) is an inlinable test:
// one load of the wait count's line, which only waits write.
func (tx *Tx) leaveGate() (contended bool) {
	if !tx.gated && tx.w.cm.LockWaitsSeen() == lockWaits.v.Load() {
		return false
	}
	return tx.leaveGateSlow()
}

func (tx *Tx) leaveGateSlow() (contended bool) {
	tx.w.yieldForLockHolder()
	if tx.gated {
		tx.gated = false
		return gate.Leave()
	}
	return false
}
