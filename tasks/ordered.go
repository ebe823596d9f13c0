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
// speculative commit also writes a Var of its worker's, so that a body that
// stored nothing validates too). If an earlier task wrote something the body read, the
// commit fails and the attempt runs again, now at its turn; otherwise the
// body's one run counts, as it would have computed the same at its turn.
// The wait in the transaction is bounded (turnSpin): past it, or if the
// body returned an error or panicked, the attempt rolls back and the task
// waits for its turn outside the transaction and runs again there, so that
// errors and panics are always those of a run at the task's turn.

// turnSpin bounds how long a task waits for its turn by polling, inside
// its speculative transaction or outside any, yielding the processor
// between looks; past it, the task blocks outside any transaction.
const turnSpin = 50 * time.Microsecond

// turnStuck is how many looks in a row a speculative attempt waits inside
// its transaction while the task whose turn it is runs no body. That task
// may be blocked by the waiting transaction itself (the contention gate
// that the waiting attempt holds, or the irrevocable token), so the
// waiting attempt steps aside: it rolls back and waits outside.
const turnStuck = 32

// errNotTurn rolls back a speculative attempt whose result must be decided
// at the task's turn.
var errNotTurn = errors.New("tasks: not the task's turn")

// Speculation adapts: doubt rises by doubtFail for every speculative run
// that does not count (its commit failed validation, or it stepped aside)
// and falls by one for every one that does and for every task that did not
// speculate. While doubt is above doubtMax, tasks wait for their turn
// before running their body, as the serial loop would, instead of running
// it twice; a workload whose tasks mostly conflict (every task updating
// one Var) thus runs at about serial speed instead of aborting at every
// commit, and speculation resumes after doubtFail quiet tasks.
const (
	doubtFail = 8
	doubtMax  = 4 * doubtFail
)

// runOrdered runs task i in ordered mode, on the worker whose state is ws,
// and passes the turn on.
func (p *Pool) runOrdered(ws *bodySlot, i int, fn func(*hybrid.Tx) error) error {
	slot := &ws.task
	defer slot.Store(-1)
	if p.turn.Load() == int64(i) {
		p.blockCommitted() // a block would not have waited either
	} else {
		if p.doubt.Load() > doubtMax {
			p.lessDoubt()
		} else {
			runs := 0
			err := stm.Atomically(func(tx *stm.Tx) error {
				runs++
				slot.Store(int64(i))
				if p.speculate(tx, fn) != nil || !p.awaitTurn(i, turnSpin) {
					return errNotTurn
				}
				ws.seq.Store(tx, i)
				return nil
			})
			switch {
			case err == nil && runs == 1:
				p.lessDoubt()
				p.blockCommitted()
			case err == errNotTurn && runs == 1:
				p.stepAside() // or the body's error or panic, decided at the turn
			default:
				p.doubt.Add(doubtFail)
				p.blockFailed(1)
			}
			if err == nil {
				p.advance(i)
				return nil
			}
			slot.Store(-1)
		}
		if !p.waitTurn(i) {
			return errHalted
		}
	}
	// Its turn: no task after it can commit until it passes the turn on.
	var err error
	if hybrid.HardwareEnabled() {
		// A hardware attempt must not write the slot: waiters that read it
		// would abort the attempt.
		slot.Store(int64(i))
		err = hybrid.Atomically(fn)
	} else {
		err = hybrid.Atomically(func(tx *hybrid.Tx) error {
			slot.Store(int64(i))
			return fn(tx)
		})
	}
	if err == nil || !p.cfg.stopOnError {
		p.advance(i)
	}
	return err
}

// stepAside counts a speculative run that stepped aside without a
// conflict: it waited too long for its turn (awaitTurn), or its body
// returned an error or panicked, which is decided at the task's turn. Its
// run is lost, so doubt rises, but by one, not doubtFail, and the block
// size stays: a worker that starts late in a Run (the others wait for the
// first turn with nobody running its body) made the tasks of a train
// schedule run without speculation for about a tenth of each Run, once
// every step-aside counted as a failed speculation.
func (p *Pool) stepAside() {
	p.doubt.Add(1)
}

// lessDoubt lowers doubt by one, writing the shared word only when it is
// not already zero.
func (p *Pool) lessDoubt() {
	if p.doubt.Load() > 0 {
		p.doubt.Add(-1)
	}
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

// awaitTurn waits for task i's turn inside a speculative transaction,
// for at most limit, and only while the block whose turn it is runs its
// bodies (see turnStuck). It reports whether the turn came.
func (p *Pool) awaitTurn(i int, limit time.Duration) bool {
	if p.turn.Load() == int64(i) {
		return true
	}
	var start time.Duration // taken at the first time check: most turns come sooner
	stuck := 0
	for k := 1; ; k++ {
		if p.stopped.Load() {
			return false
		}
		p.pause(k)
		t := p.turn.Load()
		if t == int64(i) {
			return true
		}
		if p.runsBody(t) {
			stuck = 0
		} else if stuck++; stuck > turnStuck {
			return false
		}
		if k&15 == 0 {
			if now := mono(); start == 0 {
				start = now
			} else if now-start > limit {
				return false
			}
		}
	}
}

// epoch is mono's origin.
var epoch = time.Now()

// mono reads the monotonic clock alone (time.Now also reads the wall clock:
// 55 ns against 29 on the development VM), for the waits' time limits; it is
// above zero, which the waits use for "not taken yet".
func mono() time.Duration { return time.Since(epoch) + 1 }

// pause waits a little between looks number k and k+1 at the turn: a
// short spin that touches no shared memory, and now and then a yield, so
// that the task whose turn it is runs even when the workers outnumber the
// processors. With a processor per worker the yield is rare (every 64th
// look): the worker whose turn it is runs already, and a yield locks the
// scheduler's global queue, which the two workers of an ordered pool on
// two processors, each waiting for the other's turn about every block,
// took turns at (an eighth of all time, with tiny tasks) when they
// yielded every eighth look.
func (p *Pool) pause(k int) {
	if k&p.yieldMask == 0 {
		runtime.Gosched()
		return
	}
	spin(50)
}

// spin burns about n loop iterations.
//
//go:noinline
func spin(n int) int {
	s := 0
	for i := range n {
		s += i
	}
	return s
}

// runsBody reports whether a worker runs the bodies of the block (or the
// body of the task) that starts at task t.
func (p *Pool) runsBody(t int64) bool {
	for w := range p.inBody {
		if p.inBody[w].task.Load() == t {
			return true
		}
	}
	return false
}

// waitTurn waits, outside any transaction, until task i's turn: it polls
// for up to turnSpin, then blocks. It reports false if the pool stopped
// first.
func (p *Pool) waitTurn(i int) bool {
	if p.turn.Load() == int64(i) {
		return true
	}
	var start time.Duration // as in awaitTurn
	for k := 1; ; k++ {
		if p.stopped.Load() {
			return false
		}
		p.pause(k)
		if p.turn.Load() == int64(i) {
			return true
		}
		if k&15 == 0 {
			if now := mono(); start == 0 {
				start = now
			} else if now-start > turnSpin {
				break
			}
		}
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
