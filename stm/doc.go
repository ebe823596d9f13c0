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
// commits (the seed's "the most recent version can belong to one thread").
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
// writer's body; the only wait is for a multi-Var commit that is installing
// versions inside their snapshot, a window of a few dozen instructions.
//
// Writers validate at commit. A conflict rolls the attempt back and runs it
// again after a randomized exponential backoff. Every abort is counted by
// cause with the conflicting Var ([ReadStats], [SetAbortHook]).
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
// before every transaction that starts after T's Atomically returns. An
// aborted attempt synchronizes with nothing. Equivalently, a program whose
// shared state is only touched inside Atomically behaves as if every call
// ran under one global mutex, except that bodies may run more than once.
//
// # Restrictions
//
// A body may run several times, and concurrently with other bodies:
//   - keep it free of side effects other than Loads and Stores, or call
//     [Tx.Inevitable] before the side effect;
//   - do not retain the *Tx or use it from another goroutine;
//   - do not mutate memory reachable from a loaded value; store a new value.
//
// # Design notes
//
// Clock. Multi-Var commits lock their write set, then tick the clock
// (wv = clock+1), validate the read set and install. Readers take
// rv = clock at begin and see versions with ts <= rv. Because a writer
// locks before it ticks, any version stamped <= rv is installed or locked
// (multi) by the time a reader looks, and readers wait for such locks.
//
// Single-Var commits (write one Var, read no other) do not tick: they stamp
// with the current clock value and mark the version single. Such a commit
// depends on no other Var and no other commit depends on it before the next
// tick, so any snapshot may include it or not, Var by Var: a snapshot that
// meets it may use it. This keeps disjoint single-Var transactions from
// writing any shared cache line. Two rules keep it opaque: a reader repeats
// its earlier read of a Var whose visible version is single (repeatable
// reads), and trimming keeps every version stamped at or above the horizon
// (strictly-below rule, package gc). A third keeps reclamation safe: a
// single commit reads its stamp before it installs, so a reader that pinned
// in between, above that stamp, may hold the version just below it; when the
// newest version below the horizon is single, trimming keeps the one below
// it too (trimN; at most one version can be held this way, because the next
// commit on the Var stamps at or above that reader's pin). When single commits (or hardware
// commits that did not tick, below) have made a chain long, the writer
// ticks the clock (at most once per trimDepth/2 of its commits) so that old
// versions sharing a stamp fall below the next horizon.
//
// Hardware commits (package hybrid, hwaccess.go) follow the same rules,
// with one refinement, RH-NOrec's: a multi-Var hardware commit that finds no
// software transaction live stamps its versions with the current clock value
// and does not tick. Software transactions announce themselves in a striped
// counter (swlive.go) before their first read, and withdraw at their end;
// the hardware commit reads it inside the hardware transaction, so that an
// announcement before it commits aborts it, or, emulated, after taking its
// write locks, so that a transaction announced later reads behind those locks
// (Dekker). Either way no snapshot sees part of the commit: one announced
// before the counter was read makes the commit tick, and one announced later
// reads after the commit took effect, or behind its locks. Such versions
// carry no flag (they are seen all or none), and the maintenance tick above
// covers them too. The counter costs one predictable branch at begin and
// end while hardware is off ([SetHardwareActive]).
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
//  3. stamp: tick (multi) or read (single) the clock;
//  4. validate: every Var read still has the meta seen when read;
//  5. install: link the new version at the head, trim, unlock with seq+1,
//     wake Retry waiters.
//
// A transaction that read and wrote one Var (the common read-modify-write)
// fuses steps 1 and 4: one CAS from the meta word its read recorded both
// validates the read and takes the lock.
//
// The linearization point of a multi-Var commit is its tick; of a single-Var
// commit, its head store.
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
