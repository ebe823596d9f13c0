package tasks

import (
	"github.com/hytm/hytm/hybrid"
)

// Ordered mode (see the package documentation): task i commits only when
// turn == i, and its commit passes the turn to i+1.

// runOrdered runs task i in ordered mode. The body runs first, on whatever
// snapshot the transaction has (speculatively, in parallel with earlier
// tasks); then it reads the turn. Before its turn it calls Retry, which
// discards the attempt and waits for the turn (or halt) to change; the
// attempt that finds turn == i saw every earlier task's commit and no later
// one, so it computes exactly what the serial loop would, and its commit
// (which validates everything it read) passes the turn on in the same
// transaction. A task that added tasks passes the turn on after its commit
// hooks have appended them instead, so that tasks added by task i are placed
// before those of task i+1. A task that fails (its error decided at its
// turn, too) passes the turn on in a transaction of its own, unless the
// pool stops.
func (p *Pool) runOrdered(i int, fn func(*hybrid.Tx) error, ws *workerState) error {
	err := hybrid.Atomically(func(tx *hybrid.Tx) error {
		ws.tx.Store(tx)
		ws.adds.Store(0)
		ferr := p.speculate(tx, i, fn)
		if p.halt.Load(tx) {
			return errHalted
		}
		if p.turn.Load(tx) != i {
			tx.Retry()
		}
		if ferr != nil {
			return ferr
		}
		if ws.adds.Load() == 0 {
			p.turn.Store(tx, i+1)
		} else {
			tx.AfterCommit(func() { p.advance(i + 1) }) // after the Adds' hooks
		}
		return nil
	})
	ws.tx.Store(nil)
	if err != nil && err != errHalted && !p.cfg.stopOnError {
		p.advance(i + 1)
	}
	return err
}

// speculate runs task i's body fn in tx. A panic before the task's turn is
// not the serial loop's to raise: the body ran on a snapshot that may
// predate earlier tasks' commits, and at its turn it may not panic at all.
// So the attempt waits for the turn instead (Retry, with the turn in the
// read set) and runs again; at its turn, or once the pool halted, the panic
// goes on as the serial loop would raise it. Panics that the TM itself uses
// to end an attempt (a conflict, Retry, a hardware attempt that must move
// to software) are recovered here too: before the turn they become the same
// Retry, which ends the attempt all the same, and otherwise they go on
// unchanged, so no attempt is ever left running after one.
func (p *Pool) speculate(tx *hybrid.Tx, i int, fn func(*hybrid.Tx) error) error {
	defer func() {
		r := recover()
		if r == nil {
			return // a return, or runtime.Goexit, which goes on by itself
		}
		if !p.halt.Load(tx) && p.turn.Load(tx) != i {
			tx.Retry()
		}
		panic(r)
	}()
	return fn(tx)
}

// advance passes the turn to task k.
func (p *Pool) advance(k int) {
	_ = hybrid.Atomically(func(tx *hybrid.Tx) error {
		p.turn.Store(tx, k)
		return nil
	})
}
