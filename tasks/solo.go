package tasks

import (
	"runtime"
	"time"

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
// scheduling does for transactions (Yoo and Lee, SPAA 2008): doubt, the
// ordered mode's counter (ordered.go), rises by doubtFail for every block
// that ran again or was split for conflicts and falls by one for every
// block that committed at its first run. While it is above doubtMax, a
// worker runs its next block only while it holds the solo gate, so blocks
// run one at a time, mostly on the worker that holds the gate (it takes
// the gate again at once, and the Vars stay in its core's cache); the
// others wait. Blocks that run alone do not conflict, so doubt falls, and
// once it is back at doubtMax the workers run side by side again: a
// workload whose conflicts have passed returns to parallel blocks after
// doubtFail blocks at most.
//
// The gate is a hint, never a lock that correctness rests on: the TM
// serializes the blocks whether or not they hold it. So a worker waits for
// it at most soloWait, and then runs its block without it; no block waits
// for anything while it holds the gate (a task that calls Retry or
// Tx.Inevitable yields its block, which releases the gate before the task
// runs alone, as in ublocks.go); and a block releases it on every exit
// (one deferred call).

// soloWait bounds a worker's wait for the solo gate: a few hundred blocks
// of small tasks.
const soloWait = time.Millisecond

// soloNap is a waiting worker's sleep between its looks at the gate once
// it has yielded a few times, so that it leaves its processor to the
// worker that holds the gate.
const soloNap = 20 * time.Microsecond

// soloDue reports whether the next block runs behind the solo gate.
func (p *Pool) soloDue() bool {
	return p.doubt.Load() > doubtMax
}

// trySolo runs the block that starts at task i as tryUBlock does, holding
// the solo gate if it gets it within soloWait.
func (p *Pool) trySolo(ws *bodySlot, i int, fns []func(*hybrid.Tx) error) (err error, runs, bad int) {
	if p.enterSolo() {
		defer p.solo.Unlock()
		ws.soloBlocks++
	}
	return p.tryUBlock(ws, i, fns)
}

// enterSolo takes the solo gate and reports true, or reports false after
// soloWait, or once the pool stopped, without it.
func (p *Pool) enterSolo() bool {
	if p.solo.TryLock() {
		return true
	}
	deadline := mono() + soloWait
	for k := 0; ; k++ {
		if k < 8 {
			runtime.Gosched()
		} else {
			time.Sleep(soloNap)
		}
		if p.solo.TryLock() {
			return true
		}
		if !p.soloDue() || p.stopped.Load() || mono() > deadline {
			return false
		}
	}
}
