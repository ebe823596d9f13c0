package policy

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/cpu"
)

// Adaptive transaction scheduling.
//
// Design note. Backoff spreads two conflicting transactions in time, but
// under extreme contention (every transaction writes the same Var) the
// optimistic protocol still loses a third of its attempts, and every lost
// attempt moves the Var's cache line between cores twice. A lock does better
// there because it serializes: the holder runs a streak of critical sections
// on a line that stays in its cache. Yoo and Lee's adaptive transaction
// scheduling (SPAA 2008) gives transactions the same behaviour only when it
// pays: each worker keeps a contention intensity, an exponential moving
// average of its attempts' outcomes (1 for an abort, 0 for a commit), and
// while it is high the worker's transactions first pass a process-wide gate,
// so that the contending transactions run one after another instead of
// aborting each other. Transactions of workers with low intensity ignore the
// gate, so disjoint and read-mostly work keeps its parallelism.
//
// The gate is only a scheduling hint, never needed for correctness: gated
// transactions run the full optimistic protocol and still conflict with
// ungated ones. Its wait is therefore bounded: a gated body that blocks (on a
// channel, say) holds the gate, and a waiter that sees no transaction leave
// the gate for [GateStuckRounds] rounds runs ungated rather than deadlock
// behind it. The TM layer releases the gate before its own blocking waits
// (Retry, the irrevocable token).
//
// The gate is unfair on purpose, like sync.Mutex: a holder that leaves and
// comes back takes it again at once, so it runs a streak of transactions on
// lines that stay in its cache. Waiters spin briefly, then sleep between
// polls (a polling waiter would pull the gate's line away from the holder at
// every poll). A waiter that has waited [GateFairRounds] rounds becomes
// hungry, and holders step aside until it gets in, which bounds the wait.
//
// While a worker passes the gate, its attempts rarely abort, so the outcome
// signal would decay and the worker would leave the gate at once, only to
// come back after a burst of aborts. A gated transaction therefore reports
// whether it found the gate busy or left it with waiters: that counts as
// contention, a free gate as none. A worker leaves when its intensity falls
// below [ContentionLow], that is after about 40 consecutive transactions that
// met nobody at the gate, and enters when it rises above [ContentionHigh],
// about 11 consecutive aborts from zero.

// Contention intensity is a fixed-point fraction of contentionOne.
const (
	contentionShift = 4 // moving-average weight: each outcome moves the average by 1/16 of the way
	contentionOne   = 1 << 16

	// ContentionHigh is the intensity, as a fraction of 1<<16, above which a
	// worker's transactions pass the gate: half of the recent attempts
	// aborted.
	ContentionHigh = contentionOne / 2
	// ContentionLow is the intensity below which a gated worker stops
	// passing the gate (hysteresis, so that it does not flip at every
	// outcome).
	ContentionLow = contentionOne / 16
)

// Gate waiting. A waiter spins, then yields, one round at a time.
const (
	// GateFairRounds is the number of rounds after which a waiter asks
	// holders to step aside: until it gets the gate, a transaction leaving
	// the gate does not take it again at once. Before that the gate is
	// unfair on purpose, like sync.Mutex: a worker that leaves the gate and
	// comes back finds the Vars it writes still in its cache.
	GateFairRounds = 64
	// GateStuckRounds is the number of rounds without any transaction
	// leaving the gate after which a waiter stops waiting and runs ungated:
	// the holder is blocked or runs a long body.
	GateStuckRounds = 256

	gateSpinRounds = 8                     // rounds that spin (about 8k iterations in all) before sleeping
	gateSleep      = 10 * time.Microsecond // a sleeping round
)

// Contention is one worker's contention intensity. The zero value is a
// worker without contention. A Contention is owned by one goroutine.
type Contention struct {
	ci    uint32 // fixed point, 0..contentionOne
	gated bool
	waits uint64 // the process-wide lock-wait count last seen (LockWaitsMoved)
}

// LockWaitsMoved reports whether n, a process-wide count of rounds spent
// waiting for a descheduled lock holder, differs from the count the worker
// saw last, and remembers n. A worker that sees it move yields, so that the
// lock holder gets a P back.
func (c *Contention) LockWaitsMoved(n uint64) bool {
	if n == c.waits {
		return false
	}
	c.waits = n
	return true
}

// LockWaitsSeen reports the process-wide lock-wait count last seen by
// [Contention.LockWaitsMoved], so that a caller can compare it with the
// current count before calling it.
func (c *Contention) LockWaitsSeen() uint64 { return c.waits }

// Gated reports whether the worker's next transaction should pass the gate.
func (c *Contention) Gated() bool { return c.gated }

// Intensity reports the current contention intensity in [0, 1].
func (c *Contention) Intensity() float64 { return float64(c.ci) / contentionOne }

// Aborted records an aborted attempt.
func (c *Contention) Aborted() {
	c.ci += (contentionOne - c.ci) >> contentionShift
	if c.ci > ContentionHigh {
		c.gated = true
	}
}

// Committed records a committed attempt. contended reports that the
// attempt passed the gate and found it busy, or left it with transactions
// waiting, which counts as contention.
func (c *Contention) Committed(contended bool) {
	if contended {
		c.Aborted()
		return
	}
	if c.ci == 0 {
		return // the common case: nothing to decay
	}
	c.ci -= (c.ci + 1<<contentionShift - 1) >> contentionShift
	if c.ci < ContentionLow {
		c.gated = false
	}
}

// Gate serializes the transactions of contended workers. The zero value is
// an open gate.
type Gate struct {
	_ cpu.CacheLinePad
	// seq is odd while a transaction holds the gate. Enter and Leave each
	// add one, so one word is both the lock and the progress that waiters
	// watch, and Leave is a single locked instruction.
	seq    atomic.Uint32
	hungry atomic.Int32  // waiters past GateFairRounds: holders step aside
	wait   atomic.Int32  // waiters: read by Leave, so that a holder knows it is contended
	stuck  atomic.Uint32 // the (odd) seq of a holder a waiter gave up on; 0 when none
	gaveUp atomic.Uint64 // waits that ended in giving up, for diagnostics
	_      cpu.CacheLinePad
}

// Enter passes the gate. It reports whether the gate was busy when it came,
// and whether it holds the gate now. A waiter gives up, holding nothing, when
// no transaction has left the gate for GateStuckRounds rounds; the caller
// then runs ungated and must not call Leave. Until that holder leaves, later
// callers do not wait at all: a body blocked while holding the gate costs
// one wait in all, not one per transaction.
func (g *Gate) Enter() (waited, held bool) {
	// acquire CAS: makes the gate a lock (the previous holder's
	// transaction happens before ours). Correctness never depends on it:
	// the TM protocol orders transactions whether or not they are gated.
	if g.hungry.Load() == 0 {
		if s := g.seq.Load(); s&1 == 0 && g.seq.CompareAndSwap(s, s+1) {
			return false, true
		}
	}
	if s := g.stuck.Load(); s != 0 && s == g.seq.Load() {
		// A waiter already gave up on this holder, which has not left
		// since: do not wait for it again. This is no sign of
		// contention either (the holder is blocked, not busy).
		return false, false
	}
	return true, g.enterSlow()
}

func (g *Gate) enterSlow() bool {
	g.wait.Add(1)
	defer g.wait.Add(-1)
	hungry := false
	last, stuck := g.seq.Load(), 0
	for round := 0; ; round++ {
		if hungry || g.hungry.Load() == 0 {
			// acquire CAS, as in Enter.
			if s := g.seq.Load(); s&1 == 0 && g.seq.CompareAndSwap(s, s+1) {
				if hungry {
					g.hungry.Add(-1)
				}
				return true
			}
		}
		if t := g.seq.Load(); t != last {
			last, stuck = t, 0
		} else if stuck++; stuck > GateStuckRounds {
			if hungry {
				g.hungry.Add(-1)
			}
			// Later entrants bypass the gate at once until the holder
			// leaves (seq moves on). last is odd, a holder, unless the
			// gate sat free and reserved for a hungry waiter all along;
			// such a bypass ends at the next Enter.
			g.stuck.Store(last)
			g.gaveUp.Add(1) // a counter: no ordering needed
			return false
		}
		if !hungry && round >= GateFairRounds {
			hungry = true
			// Holders read it in Enter before they take the gate again.
			g.hungry.Add(1)
		}
		if round < gateSpinRounds {
			spinGate(32 << round)
		} else {
			// Sleep rather than poll: a waiter that keeps reading the
			// gate's line takes it away from the holder's cache at every
			// poll, and the holder pays a miss at its next Enter and Leave.
			time.Sleep(gateSleep)
		}
	}
}

// Stuck reports whether a waiter gave up on the transaction that holds the
// gate now, so that Enter lets callers through without waiting until that
// holder leaves. It is a diagnostic: the answer may be stale at once.
func (g *Gate) Stuck() bool {
	s := g.stuck.Load()
	return s != 0 && s == g.seq.Load()
}

// Busy reports whether a transaction holds the gate. It is a diagnostic:
// the answer may be stale at once.
func (g *Gate) Busy() bool { return g.seq.Load()&1 != 0 }

// GaveUp reports how many waits have ended with the waiter giving up on a
// holder that made no progress for GateStuckRounds rounds.
func (g *Gate) GaveUp() uint64 { return g.gaveUp.Load() }

// Leave releases the gate taken by Enter. It reports whether other
// transactions were waiting for it: for a holder, which rarely aborts, that
// is the sign of contention to pass to [Contention.Committed].
func (g *Gate) Leave() (contended bool) {
	// release (a locked add): ends the holder's critical section (see
	// Enter), and moves seq on, which waiters read as progress.
	g.seq.Add(1)
	return g.wait.Load() != 0 // a hint: no ordering needed
}

//go:noinline
func spinGate(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i
	}
	return s
}
