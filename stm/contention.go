package stm

import "github.com/hytm/hytm/internal/policy"

// The contention gate (package internal/policy, "Adaptive transaction scheduling"):
// a worker whose recent attempts mostly aborted runs its next Atomically
// calls behind one process-wide gate, so that contending transactions take
// turns instead of aborting each other. Holding the gate changes no rule of
// the protocol; it is released before anything that may block for another
// transaction (Retry's wait, the irrevocable token), so it never takes part
// in a deadlock.
var gate policy.Gate

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
// whether other transactions were waiting for it.
func (tx *Tx) leaveGate() (contended bool) {
	if tx.gated {
		tx.gated = false
		return gate.Leave()
	}
	return false
}
