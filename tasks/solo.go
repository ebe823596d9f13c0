package tasks

import (
	"github.com/hytm/hytm/hybrid"
)

// Solo blocks (without Ordered). Tasks that mostly conflict (every task
// updating one Var) gain nothing from a second worker: each commit moves
// the Vars' lines to the committing core, and a block that read them
// before the other worker's commit runs again. Two workers then ran such
// tasks at 0.2-0.8x the serial loop, while one worker, whose blocks never
// conflict, ran them at about 1.5x.
//
// So the pool gates blocks while they conflict, as adaptive transaction
// scheduling does for transactions (Yoo and Lee, SPAA 2008; the TM's own
// contention gate, internal/policy, does it per worker for plain
// transactions, whose aborts a block's maxBlockRuns and splits keep
// low): doubt, the ordered mode's counter (ordered.go), rises by doubtFail
// for every block that ran again or was split for conflicts and falls by
// one for every block that committed at its first run. While it is above
// doubtMax, a worker runs its next block only once it has passed the
// pool's gate, a policy.Gate, so blocks run one at a time, mostly on the
// worker that holds the gate (the gate is unfair on purpose: a holder
// that leaves and comes back takes it again at once, and the Vars stay in
// its core's cache; a waiter that has waited long asks holders to step
// aside). Blocks that run alone do not conflict, so doubt falls, and once
// it is back at doubtMax the workers run side by side again: a workload
// whose conflicts have passed returns to parallel blocks after doubtFail
// blocks at most.
//
// The gate is a hint, never a lock that correctness rests on: the TM
// serializes the blocks whether or not they pass it. So a waiter that sees
// no block leave the gate for a while runs its block without it
// (policy.GateStuckRounds); no block waits for anything while it holds
// the gate (a task that calls Retry or Tx.Inevitable yields its block,
// which leaves the gate before the task runs alone, as in ublocks.go); and
// a block leaves it on every exit (one deferred call).

// soloDue reports whether the next block runs behind the solo gate.
func (p *Pool) soloDue() bool {
	return p.doubt.Load() > doubtMax || p.soloForced
}

// trySolo runs the block that starts at task i as tryUBlock does, behind
// the solo gate unless its wait gave up.
func (p *Pool) trySolo(ws *bodySlot, i int, fns []func(*hybrid.Tx) error) (err error, runs, bad int) {
	if _, held := p.solo.Enter(); held {
		defer p.solo.Leave()
		ws.soloBlocks++
	}
	return p.tryUBlock(ws, i, fns)
}
