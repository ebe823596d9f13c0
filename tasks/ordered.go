package tasks

import (
	"errors"
	"runtime"
	"time"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/stm"
)

// Ordered mode (see the package documentation): task i commits only once
// p.turn == i, and p.turn moves to i+1 once task i has committed (or
// failed) and its commit hooks, which append the tasks it added, have run.
//
// A task whose turn has come runs as a plain transaction: its snapshot
// holds every earlier task's commit and no later one (no later task can
// commit before it), so it computes what the serial loop computes.
//
// A task whose turn has not come runs speculatively, in a software
// transaction, on whatever snapshot it gets. When its body returns, it
// waits for its turn inside the transaction, then commits: the commit
// validates every Var the body read against the latest commits (each
// speculative commit also writes p.seq, so that a body that stored nothing
// validates too). If an earlier task wrote something the body read, the
// commit fails and the attempt runs again, now at its turn; otherwise the
// body's one run counts, as it would have computed the same at its turn.
// The wait in the transaction is bounded (turnSpin): past it, or if the
// body returned an error or panicked, the attempt rolls back and the task
// waits for its turn outside the transaction and runs again there, so that
// errors and panics are always those of a run at the task's turn.

// turnSpin bounds how long a speculative attempt waits for its turn inside
// its transaction, yielding the processor meanwhile. A longer wait rolls the
// attempt back and waits outside (the earlier task may be long, or blocked
// on something that the waiting transaction holds, such as the irrevocable
// token or the contention gate).
const turnSpin = 50 * time.Microsecond

// errNotTurn rolls back a speculative attempt whose result must be decided
// at the task's turn.
var errNotTurn = errors.New("tasks: not the task's turn")

// runOrdered runs task i in ordered mode and passes the turn on.
func (p *Pool) runOrdered(i int, fn func(*hybrid.Tx) error) error {
	if p.turn.Load() != int64(i) {
		err := stm.Atomically(func(tx *stm.Tx) error {
			if p.speculate(tx, fn) != nil || !p.awaitTurn(i) {
				return errNotTurn
			}
			p.seq.Store(tx, i)
			return nil
		})
		if err == nil {
			p.advance(i)
			return nil
		}
		if !p.waitTurn(i) {
			return errHalted
		}
	}
	// Its turn: no task after it can commit until it passes the turn on.
	err := hybrid.Atomically(fn)
	if err == nil || !p.cfg.stopOnError {
		p.advance(i)
	}
	return err
}

// speculate runs fn in tx before the task's turn, and returns fn's error,
// or errNotTurn if fn panicked. Whatever fn returned or panicked with is
// decided again at the task's turn: the snapshot may predate earlier
// tasks' commits. Panics that the TM itself uses to end an attempt (a
// conflict, Retry) are turned into errNotTurn as well: the attempt ends
// either way, and the task runs again at its turn (where Retry waits as
// usual). A speculative attempt runs in software only, so it never meets a
// hardware attempt's end.
func (p *Pool) speculate(tx *stm.Tx, fn func(*hybrid.Tx) error) (err error) {
	returned := false
	defer func() {
		if !returned && recover() != nil {
			err = errNotTurn
		}
		// runtime.Goexit (recover returns nil) goes on by itself.
	}()
	err = fn(tx)
	returned = true
	return err
}

// awaitTurn waits, for at most turnSpin, for task i's turn, yielding the
// processor between looks. It reports whether the turn came.
func (p *Pool) awaitTurn(i int) bool {
	if p.turn.Load() == int64(i) {
		return true
	}
	var start time.Time
	for k := 0; ; k++ {
		if p.stopped.Load() {
			return false
		}
		if k&15 == 0 {
			if k == 0 {
				start = time.Now()
			} else if time.Since(start) > turnSpin {
				return false
			}
		}
		runtime.Gosched()
		if p.turn.Load() == int64(i) {
			return true
		}
	}
}

// waitTurn blocks, outside any transaction, until task i's turn; it
// reports false if the pool stopped first.
func (p *Pool) waitTurn(i int) bool {
	if p.turn.Load() == int64(i) {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// seq-cst add before the turn load: pairs with advance (Dekker), so
	// that either this load sees the new turn or advance sees the waiter.
	p.turnWait.Add(1)
	defer p.turnWait.Add(-1)
	for p.turn.Load() != int64(i) {
		if p.stopped.Load() {
			return false
		}
		p.turnCond.Wait()
	}
	return true
}

// advance passes the turn from task i to task i+1, waking the tasks that
// wait for their turn outside a transaction.
func (p *Pool) advance(i int) {
	p.turn.Store(int64(i + 1))
	if p.turnWait.Load() != 0 {
		p.mu.Lock()
		p.turnCond.Broadcast()
		p.mu.Unlock()
	}
}
