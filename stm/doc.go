// Package stm is hytm's software transactional memory: multi-version,
// opaque, serializable, with read-only transactions that never abort.
//
//	acct := stm.NewVar(100)
//	err := stm.Atomically(func(tx *stm.Tx) error {
//		b := acct.Load(tx)
//		if b < 10 {
//			return ErrInsufficient // rolls back, returned by Atomically
//		}
//		acct.Store(tx, b-10)
//		return nil // commits
//	})
//
// # Guarantees
//
// Multi-version. Each [Var] keeps a chain of immutable committed versions,
// newest first, each stamped with a commit timestamp from a global clock. A
// transaction's Stores create tentative versions that only it sees until it
// commits (PyPy-STM: "the most recent version can belong to one thread").
//
// Opacity. Every execution of a body, including one that will later abort,
// sees one consistent snapshot: the values it reads are the state after some
// serial prefix of the committed transactions. A body never observes a torn
// state, so it cannot divide by zero or loop on an invariant that committed
// transactions maintain.
//
// Serializability. Committed transactions behave as if they ran one at a time
// in an order consistent with real time: a transaction that starts after
// another's Atomically returned sees its effects. Write skew is impossible:
// writers validate their whole read set at commit, not just their write set
// (this is not snapshot isolation).
//
// Read-only transactions (bodies that never Store) run their body exactly
// once. They never abort, never block a writer, and never wait for a
// writer's body; the only wait is for a commit that is installing
// versions inside their snapshot, a window of a few dozen instructions.
//
// Writers validate at commit. A conflict rolls the attempt back and runs it
// again after a randomized exponential backoff. Every abort is counted by
// cause with the conflicting Var ([ReadStats], [SetAbortHook]).
//
// Every exit leaves nothing behind. If fn returns an error, its Stores are
// discarded and the error returned; if it panics (or calls runtime.Goexit),
// its Stores are discarded, every lock, the snapshot, the irrevocable token
// and the contention gate are released, and the panic continues in the
// caller. A nested Atomically or an OrElse branch that is left by a panic,
// an error or Retry discards its own Stores even when an enclosing body
// recovers the panic and goes on. The same exits drop the commit hooks
// ([Tx.AfterCommit]) that the attempt, nested call or branch registered: a
// hook runs only after a commit, once, outside the transaction.
//
// Progress. There are no deadlocks: commits take their locks without
// waiting and release them on any failure. A transaction that aborts
// [fallback.EscalateAfter] times runs its next attempt in serial-irrevocable
// mode, in which it cannot abort (see [Tx.Inevitable]); so every transaction
// whose body terminates commits within a bounded number of attempts.
//
// Memory. Versions that no live snapshot can see are cut from their chains
// and recycled (package gc), so chains stay short and a steady-state
// transaction allocates nothing. A recycled version keeps no value alive
// (its value is cleared when a nursery keeps it), what is kept for reuse is
// bounded by bytes process-wide, and it is given back to the Go GC when
// goroutines stop running transactions (see [TrimAll]).
//
// # Memory model
//
// In the terms of the Go memory model: the commit of a transaction T
// synchronizes before every transaction that reads a version T wrote, and
// before every transaction that starts after T's Atomically returns (every
// writing commit ticks the global clock before Atomically returns, and a
// transaction's snapshot is the clock value it loads at its start; see
// "Clock" below). A Store is visible to no other transaction before its
// commit's tick, and to every transaction whose snapshot includes that tick. An
// aborted attempt synchronizes with nothing. Equivalently, a program whose
// shared state is only touched inside Atomically behaves as if every call
// ran under one global mutex, except that bodies may run more than once.
//
// # Restrictions
//
// A body may run several times, and concurrently with other bodies:
//   - keep it free of side effects other than Loads and Stores, or call
//     [Tx.Inevitable] before the side effect;
//   - do not retain the *Tx or use it from another goroutine (a Store from
//     another goroutine, and a Load that takes the slow path, panic; Load's
//     fast path does not check, for speed);
//   - do not mutate memory reachable from a loaded value; store a new value.
//     Values are immutable once stored: append to a loaded slice can write
//     into the array of a committed version that other transactions read,
//     so copy first (append(slices.Clip(s), x), slices.Clone, maps.Clone).
//
// # Design notes
//
// Clock. Every writing commit locks its write set (the meta word's locked
// and multi bits), then ticks the clock (wv = clock+1, one atomic add),
// validates its read set and installs. Readers take rv = clock at begin and
// see versions with ts <= rv. Because a writer locks before it ticks, any
// version stamped <= rv is installed or locked by the time a reader looks,
// and readers wait for such locks (a window of a few dozen instructions).
// So a snapshot is exactly the state after the commits stamped <= rv: a
// prefix of the commit order, which is the order of the stamps.
//
// Real time follows: a commit ticks before its Atomically returns, so every
// transaction that begins afterwards, on any goroutine that is ordered
// after the return (by the Go memory model: a channel, a mutex, a later
// statement), loads rv >= wv and sees the commit.
//
// Why every commit ticks, including one that writes a single Var. An
// earlier version let a single-Var commit (one Var written, no other read)
// stamp the current clock value without ticking, on the argument that it
// depends on nothing else, so a snapshot could take it or not, Var by Var.
// That is wrong twice over. (1) A goroutine commits x = i, then y = i, each
// a blind single-Var write. A reader with rv = clock loads x (the old i-1),
// both commits land stamped rv, and it loads y: it sees y = i beside x =
// i-1, a state that never existed, although x's commit finished before y's
// began. (2) Long fork: writers commit a = 1 and b = 1, unticked; one
// reader loads a then b and sees (0, 1), another loads b then a and sees
// (1, 0): no serial order explains both, so it was not even serializable.
// Ticking puts every commit at one point of the clock's order, and the
// tests TestReaderWaitsForTickedCommit and internal/tmtest's
// RealTimeSingleVar, LongFork and HistoryChecker pin it.
//
// The cost is one atomic add on the clock's line per writing commit: writers
// of disjoint Vars on different cores now share that line. A commit whose
// tick lands at rv+1 skips read-set validation (TL2): no commit was stamped
// between its snapshot and its stamp, so every version it read is still
// the newest (a commit that wrote one of them after the read would have
// locked it first and so ticked before us, or would tick after us and be
// ordered after us). TestValidationSkipNeedsUntouchedClock runs the
// interleaving that makes the skip wrong.
//
// Reclamation relies on the same order: trimming keeps every version
// stamped at or above the horizon (the oldest pinned rv) and the newest one
// below it (strictly-below rule, package gc); a reader never walks below
// the newest version stamped <= its rv, because every such version was
// installed before the reader could pass it. Hardware commits that skip the
// tick (below) stamp the current value, so chains of them share one stamp;
// the writer then ticks the clock now and then (at most once per
// trimDepth/2 of its commits) so that old versions sharing a stamp fall
// below the next horizon.
//
// Hardware commits (package hybrid, hwaccess.go) follow the same rules,
// with one refinement, RH-NOrec's: a hardware commit that finds no
// software transaction live stamps its versions with the current clock value
// and does not tick. Software transactions announce themselves in a striped
// counter (swlive.go) before their first read, and withdraw at their end;
// the hardware commit reads it inside the hardware transaction, so that an
// announcement before it commits aborts it, or, emulated, after taking its
// write locks, so that a transaction announced later reads behind those locks
// (Dekker). Either way no snapshot sees part of the commit: one announced
// before the counter was read makes the commit tick, and one announced later
// reads after the commit took effect, or behind its locks. Real time holds
// too: a software transaction that begins after the commit loads a clock
// value >= its stamp. The counter costs one predictable branch at begin and
// end while hardware is off (setHardwareActive).
//
// Trimming is lazy: a commit walks its Var's chain only when the chain has
// grown by trimDepth versions since the last walk (then only as it doubles,
// while a snapshot holds it, or as soon as the hint below is under the
// horizon: cutDue), cuts below the newest version older than the cached
// horizon, and hands the whole tail to its nursery, which clears the values
// of the nodes it keeps and passes full lists to the type's depot; what
// neither has room for (a byte bound, package gc) goes to the Go GC. A
// per-Var hint (the newest version stamped before the head's stamp) makes
// the cut point known without a walk whenever it is below the horizon. Every
// horizonEvery commits, or sooner while chains stay long, the worker rescans
// the horizon after its attempt has ended and trims a few Vars from the trim
// queue (Vars left with more than two versions). Free nodes of idle workers
// go to the Go GC after a GC cycle, or at TrimAll (sweep.go).
//
// Commit (writers):
//  1. lock each written Var by CAS on its meta word (fail: abort);
//  2. check the irrevocable flag (set: unlock, wait, abort);
//  3. stamp: tick the clock;
//  4. validate: every Var read still has the meta seen when read (skipped
//     when the stamp is rv+1);
//  5. install: link the new version at the head, trim, unlock with seq+1,
//     wake Retry waiters.
//
// A transaction that read and wrote one Var (the common read-modify-write)
// fuses steps 1 and 4: one CAS from the meta word its read recorded both
// validates the read and takes the lock.
//
// The linearization point of a commit is its tick.
//
// Contention. A worker whose recent attempts mostly aborted runs its
// Atomically calls behind a process-wide gate (contention.go, package
// fallback), so that contending transactions take turns. The gate changes no
// rule above; it is released before Retry waits and before the irrevocable
// token is taken.
//
// Retry registers the transaction on every Var it read, re-checks them, and
// sleeps; a commit wakes only the waiters of the Vars it wrote.
//
// Workers. Flat nesting needs the running transaction of the calling
// goroutine, and Go has no goroutine-local storage: a tiny assembly leaf reads
// the goroutine's g pointer (goid_amd64.s, goid_arm64.s; runtime.Stack
// parsing elsewhere) and a hashed table maps it to the goroutine's worker
// (active.go). The worker — transaction descriptor, logs, nursery, snapshot
// slot, counters — stays with the goroutine, so a transaction starts with one
// load and no atomic write.
//
// # Files
//
//	doc.go          this overview
//	var.go          Var, versions, Load/Store/Peek fast paths
//	read.go         the read barrier's slow path
//	log.go          read and write logs, savepoints
//	tx.go           Tx, workers, Atomically, the attempt loop
//	commit.go       the commit protocol and trimming
//	trimqueue.go    amortized trimming of Vars no longer written
//	sweep.go        flushing idle workers' nurseries (exited goroutines)
//	retry.go        Retry, OrElse, waiting and waking
//	value.go        AtomicallyValue and AtomicallyContext
//	helpers.go      Swap, Modify, CompareAndSwap, Check
//	hooks.go        AfterCommit: commit hooks, dropped with savepoints
//	irrevocable.go  the irrevocable token and Inevitable
//	clock.go        the global clock
//	active.go       goroutine -> transaction table (flat nesting)
//	stats.go        counters, abort causes and hooks
//	hwaccess.go     the rules for hardware attempts (driven by package hybrid)
//	swlive.go       the software-live indicator read by hardware commits
//	contention.go   the contention gate (adaptive transaction scheduling)
//	hw_rtm.go       the real RTM attempt (hw_rtm_off.go: builds without it)
//	hw_stats.go     hardware counters
//	irrevocable_stats.go  per-call-site figures of the irrevocable token
//	report.go       conflict reports (report_pprof.go: the pprof profile)
//	goid_*.go       the goroutine's g pointer (assembly leaf, or fallback)
//	nursery_*.go    the hytm_nonursery build switch
//	race_*.go       the race-detector build switch
package stm
