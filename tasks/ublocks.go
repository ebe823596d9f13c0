package tasks

import (
	"errors"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/internal/hwlink"
)

// Blocks without Ordered. Every commit of a writing transaction ticks the
// global clock, one cache line that every core's commits write, and every
// transaction pays its begin and commit; for small tasks that costs more
// than the tasks. So a worker runs the tasks it claimed (consecutive
// tasks of the pool) in blocks: the bodies of a block run one after
// another in one transaction (hybrid.Atomically), which commits them all
// at once. A block is the serial composition of its tasks: each task
// reads what the tasks before it in the block stored, and the block
// commits or rolls back as a whole, so the block's effects are those of
// its tasks run one after another, and the pool's result is still that of
// running every task one after another in some order.
//
// A task of the block that returns an error or panics splits the block,
// as in ordered mode (blocks.go): the block rolls back, the tasks before
// it run again as a block, and the task then runs alone, as its own
// transaction, so that its error or panic is that of a run on its own and
// rolls back only that task. A task that calls Retry (outside an OrElse
// branch) or Tx.Inevitable splits the block the same way: the block's
// transaction yields (hwlink.SetYield) instead of waiting or becoming
// inevitable, and the task, run alone, waits or becomes inevitable as its
// own transaction. A Retry therefore never holds the tasks before it in
// the block (a task on another worker may be waiting for them), and the
// side effects after Inevitable happen once, in the task's own commit,
// never in a block that a later task's error rolls back.
//
// The block size adapts, with ordered mode's counters (blocks.go): it
// starts at one task, grows while blocks commit at their first run, and
// halves when a block commits only after running again (it conflicted
// with another worker's commit) or ran maxBlockRuns times and was split
// in two (the TM never makes a block irrevocable on behalf of all its
// tasks). A single task, which the pool runs as a plain transaction,
// counts as a block that committed at its first run. Splits for a task's
// error, panic, Retry or Inevitable do not change the size. The same
// outcomes move doubt, ordered mode's counter of failed speculation, which
// sends blocks that keep conflicting behind the solo gate (solo.go).
//
// With hardware transactions (hybrid), a block runs in hardware first,
// like any transaction: its tasks' reads and writes must then fit the
// core's L1 data cache together, and a block too large for it aborts for
// capacity and runs in software (hybrid's policy learns that blocks, one
// call site for every block of every pool, go to software after capacity
// aborts). maxBlock keeps blocks of small tasks small enough for
// hardware.

// errYield ends the software attempt of a block one of whose tasks called
// Retry or Inevitable (hwlink.SetYield).
var errYield = errors.New("tasks: block yields")

// runUBlock runs tasks i, i+1, ... of fns on worker w, without Ordered,
// and returns how many it ran (at least one): all of them, unless the pool
// stopped after a split.
func (p *Pool) runUBlock(w, i int, fns []func(*hybrid.Tx) error) int {
	ws := &p.inBody[w]
	n := len(fns)
	solo := p.soloDue() // solo.go
	if n == 1 && !solo {
		ws.from, ws.cur = i, i
		p.runTask(w, i, fns[0])
		p.blockCommitted()
		return 1
	}
	var err error
	var runs, bad int
	if solo {
		err, runs, bad = p.trySolo(ws, i, fns)
	} else {
		err, runs, bad = p.tryUBlock(ws, i, fns)
	}
	if n > 1 {
		ws.reruns += runs - 1
		if err == nil {
			ws.blocks++
			ws.blockTasks += n
		}
	}
	switch {
	case err == nil && runs == 1:
		p.lessDoubt()
		p.blockCommitted()
		return n
	case err == nil:
		p.doubt.Add(doubtFail)
		p.blockFailed(n) // it conflicted
		return n
	case err == errHalted:
		return n // a commit hook panicked: recorded, the pool stops
	case bad < 0:
		// Ran maxBlockRuns times: the first half as a block (the caller
		// goes on with the rest).
		p.doubt.Add(doubtFail)
		p.blockFailed(n)
		if n == 1 {
			// A single task behind the solo gate: on its own, as a plain
			// transaction (which escalates as every transaction does).
			ws.from, ws.cur = i, i
			p.runTask(w, i, fns[0])
			return 1
		}
		return p.runUBlock(w, i, fns[:n/2])
	}
	// errSplit: task i+bad returned an error, panicked, retried or asked
	// to be inevitable.
	if bad > 0 {
		if done := p.runUBlock(w, i, fns[:bad]); done < bad || p.stopped.Load() {
			return done
		}
	}
	ws.from, ws.cur = i+bad, i+bad
	p.runTask(w, i+bad, fns[bad])
	return bad + 1
}

// tryUBlock runs the tasks of fns, the block that starts at task i, as one
// transaction. It returns the transaction's error: nil once it committed,
// errSplit if task i+bad returned an error, panicked, called Retry or
// Inevitable (bad < 0: the block ran maxBlockRuns times without
// committing), errHalted if a commit hook panicked (recorded; the pool
// stops); and how many times the bodies ran. ws.from and ws.cur say which
// tasks of the block have run, for a runtime.Goexit (work).
func (p *Pool) tryUBlock(ws *bodySlot, i int, fns []func(*hybrid.Tx) error) (err error, runs, bad int) {
	returned, ran := false, false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			err, bad = p.blockPanicked(ws, i, r, ran)
		}
		// r == nil: runtime.Goexit goes on by itself; work's deferred
		// call finds the task in ws.cur.
	}()
	ws.from = i
	body := func(tx *hybrid.Tx) error {
		runs++
		ran = false
		if runs > maxBlockRuns {
			// Conflicts again and again: split the block rather than let
			// the TM make it irrevocable on behalf of all its tasks.
			bad = -1
			return errSplit
		}
		hwlink.SetYield(tx, errYield)
		for k, fn := range fns {
			ws.cur = i + k
			if fn(tx) != nil {
				bad = k
				return errSplit
			}
		}
		ran = true
		return nil
	}
	err = hybrid.Atomically(body)
	returned = true
	if err == errYield {
		err, bad = errSplit, ws.cur-i
	}
	return err, runs, bad
}
