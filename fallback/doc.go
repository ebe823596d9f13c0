// Package fallback documents what hytm does when optimism fails: when a
// transaction that keeps aborting stops being optimistic, what progress that
// guarantees, and how contended transactions are scheduled. It exports the
// one figure a user reads, [EscalateAfter]; nothing here is called or tuned.
//
//	err := stm.Atomically(func(tx *stm.Tx) error {
//		// aborted at most fallback.EscalateAfter times; attempt
//		// EscalateAfter+1 runs serial-irrevocable and cannot abort
//		return nil
//	})
//
// # Escalation
//
// A software transaction counts the attempts of its Atomically call. After
// an aborted attempt it backs off for a random, exponentially growing number
// of spins (16 after the first abort, doubling up to 16<<10), and from the
// fifth attempt it also yields the P, so that a descheduled goroutine that
// holds a commit lock can run. Attempt EscalateAfter+1 (and any later one)
// runs in serial-irrevocable mode: before its body starts it takes the
// irrevocable token, of which there is one per process. A transaction that
// calls stm.Tx.Inevitable takes the same token in the middle of its body;
// if a Var it read before has changed, that attempt ends and the next one
// runs irrevocable from the start. stm.Retry (outside an inevitable
// transaction) blocks until a read Var changes and then starts the count
// again: a transaction waiting for a condition is blocked by design, not
// starved.
//
// # Progress: starvation-freedom
//
// Given that every body terminates, every Atomically call commits (or returns
// its body's error, or panics) within EscalateAfter+1 attempts, Retry aside
// (the contention gate, below, adds a bounded wait before the first attempt
// and changes nothing else):
//
//   - attempts 1..EscalateAfter are optimistic and may abort;
//   - the irrevocable attempt cannot abort. While it holds the token no other
//     software writer commits, so every Var it reads stays unchanged until it
//     commits and there is nothing to validate; its commit waits only for
//     write locks taken by commits that were already past their check of the
//     token, and those install and unlock in a bounded number of steps
//     without waiting for anything;
//   - the wait for the token is bounded: the token is a sync.Mutex, whose
//     starvation mode hands it over in FIFO order once a waiter has waited
//     a millisecond, so a waiter gets it after the holders ahead of it, each
//     of which runs one terminating body.
//
// A writer that yields to the token holder releases all its locks before it
// waits, so the holder never waits for a waiter: there is no deadlock, as
// long as an irrevocable body does not itself wait for another goroutine's
// transaction to commit (that goroutine waits for the token: a deadlock the
// runtime cannot break).
//
// Escalation serializes every writer in the process behind one transaction,
// so it must be rare under ordinary contention, yet it is the bound on
// wasted work. With the randomized backoff two transactions conflicting on
// one Var lose again with probability well under one half per round, so
// eight consecutive losses are rare; a transaction that loses eight times is
// either long among short ones (the starvation case, which only escalation
// fixes) or in a livelock, and waiting longer only wastes more attempts.
// stm.Stats.Irrevocable counts escalations, and stm.IrrevocableSites
// reports, per call site of Atomically, how many times a transaction held
// the token, for how long, and how long other transactions waited for it.
//
// # Scheduling under contention
//
// Backoff and escalation bound the wasted work; they do not make a hot Var
// fast. Each goroutine's transactions also keep a contention intensity, a
// moving average of their attempts' outcomes. When more than half of the
// recent attempts aborted, its Atomically calls first pass a process-wide
// gate, so that the contending transactions take turns, in streaks like a
// sync.Mutex's, instead of aborting each other (Yoo and Lee's adaptive
// transaction scheduling). The gate is a hint: gated transactions still run
// the full protocol, the wait for it is bounded, it is released before
// Retry waits and before the irrevocable token is taken, and a goroutine
// whose transactions meet nobody at the gate for about 40 calls stops using
// it. Disjoint and read-mostly workloads never abort, so they never pass it.
// stm.Stats.Gated counts gated calls and stm.Stats.GateGaveUp the waits
// that gave up on a holder blocked in its body. In memory-model terms the
// gate adds nothing: correctness rests on the TM protocol alone.
//
// # The irrevocable mode in memory-model terms
//
// The token holder sets a flag with a sequentially consistent atomic store
// after locking the token. Every software writer, after taking its write
// locks with atomic compare-and-swaps, loads the flag atomically. Go's
// atomics behave as if executed in one sequentially consistent order, so
// for each writer one of two things happens:
//
//   - its load follows the store in that order: it sees the flag, restores its
//     locks, counts an abort (stm.CauseIrrevocable) and waits by locking and
//     unlocking the token. The holder's Unlock is synchronized before that
//     Lock returns, so the writer's next attempt happens after the
//     irrevocable commit and sees its versions;
//   - its load precedes the store: its locks were taken before the store, so
//     the holder, reading or committing that Var, observes the lock bit and
//     waits for the writer's release store of the unlocked meta word; the
//     holder's later acquire loads see the writer's versions.
//
// Either way every software commit is ordered entirely before or entirely
// after the irrevocable transaction, which therefore never aborts: other
// writers that conflict with it wait or abort instead. Writers that do not
// conflict also wait at commit (the flag is global), but run their bodies
// meanwhile. Read-only transactions never load the flag: they read their
// snapshot and commit as usual, and the irrevocable commit appears to them as
// one more atomic commit. Hardware attempts of package hybrid read the flag
// inside the hardware transaction, so the holder's store aborts them; they
// fall back to software and meet the rule above.
//
// Everything an inevitable body does before its commit, including I/O and
// writes outside the TM, is sequenced before the release stores that publish
// its versions, and so happens before any transaction that reads those
// versions. Code after Tx.Inevitable runs once per commit; code before it may
// run again. If an inevitable body returns an error or panics, its Stores are
// discarded (before and after the Inevitable call alike) but its side effects
// stay done: the TM cannot undo I/O.
//
// # Hardware attempts
//
// Package hybrid's transactions first try hardware; its package doc says
// when they retry there and when they go to software. The mechanisms of this
// package's rules (the backoff, the contention gate, the hardware policy and
// the reasons for their defaults) are in internal/policy.
package fallback
