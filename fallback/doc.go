// Package fallback holds hytm's execution decisions: how long to back off
// after an abort, when a transaction that keeps losing escalates to the
// serial-irrevocable mode, and (for the hybrid) when a call site tries
// hardware and when it goes straight to software.
//
// Mechanisms live where their data lives (the irrevocable token in stm, the
// instructions in htm); this package holds only numbers, the functions that
// turn abort histories into decisions, and the contention gate, which has no
// data of its own, so that they can be tuned and tested in one place.
//
// # Escalation rule
//
// A software transaction counts the attempts of its Atomically call. After
// attempt a aborts, it waits [Backoff.Wait](a): a uniformly random spin count
// in [0, BackoffMinSpins<<min(a-1, BackoffMaxShift)), yielding the P first
// from a = BackoffYieldShift+1 on. Attempt EscalateAfter+1 (and any later
// one) runs in serial-irrevocable mode: before its body starts it takes the
// irrevocable token, of which there is one per process. A transaction that
// calls Tx.Inevitable takes the same token in the middle of its body; if a
// Var it read before has changed, that attempt ends and the next one runs
// irrevocable from the start. Retry (outside an inevitable transaction)
// blocks until a read Var changes and then starts the count again: a
// transaction waiting for a condition is blocked by design, not starved.
//
// # Progress: starvation-freedom
//
// (The contention gate, see "Adaptive scheduling under contention", adds a
// bounded wait before the first attempt and changes nothing below.)
//
// Given that every body terminates, every Atomically call commits (or returns
// its body's error, or panics) within EscalateAfter+1 attempts, Retry aside:
//
//   - attempts 1..EscalateAfter are optimistic and may abort;
//   - the irrevocable attempt cannot abort. While it holds the token no other
//     software writer commits (see below), so every Var it reads stays
//     unchanged until it commits and there is nothing to validate; its
//     commit waits only for write locks taken by commits that were already
//     past their check of the token, and those install and unlock in a
//     bounded number of steps without waiting for anything;
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
// # Defaults
//
// EscalateAfter = 8. Escalation serializes every writer in the process behind
// one transaction, so it must be rare under ordinary contention, yet it is
// the bound on wasted work. With the randomized backoff, two transactions
// conflicting on one Var lose again with probability well under one half per
// round, so eight consecutive losses are rare (0.002 to 0.02 escalations per
// thousand transactions in BenchmarkContended2, two goroutines on one Var,
// on a 2-core machine, with the contention gate; 0.2 to 40 without it); a
// transaction that
// loses eight times is either long among short ones (the starvation case,
// which only escalation fixes) or in a livelock, and waiting longer only
// wastes more attempts. Larger values did not improve the two-goroutine
// benchmark beyond its noise; smaller ones escalate under ordinary
// contention.
//
// The backoff starts at 16 spins (a few nanoseconds: two short transactions
// that collided usually just need to be out of phase) and doubles up to
// 16<<10 spins (a few microseconds, about a long transaction's length); from
// the fifth attempt it also yields the P, so that a descheduled goroutine
// holding a commit lock, or the irrevocable token, can run.
//
// # Adaptive scheduling under contention
//
// Backoff and escalation bound the wasted work; they do not make a hot Var
// fast. Each worker also keeps a contention intensity ([Contention]), a moving
// average of its attempts' outcomes. When more than half of its recent
// attempts aborted, its Atomically calls first pass a process-wide [Gate], so
// that the contending transactions run one after another instead of
// aborting each other (Yoo and Lee's adaptive transaction scheduling). The
// gate is a hint: gated transactions still run the full protocol, the wait
// for it is bounded, and a worker whose transactions meet nobody at the gate
// for about 40 calls stops using it. Disjoint and read-mostly workloads never
// abort, so they never pass it. The design note in contention.go gives the
// details; stm.Stats.Gated counts gated calls. In memory-model terms the gate
// adds nothing: a holder's Leave is synchronized before the next holder's
// Enter, but correctness rests on the TM protocol alone.
//
// # The irrevocable mode in memory-model terms
//
// The token holder sets a flag (irrev.active in stm) with a sequentially
// consistent atomic store after locking the token. Every software writer,
// after taking its write locks with atomic compare-and-swaps, loads the flag
// atomically. Go's atomics behave as if executed in one sequentially
// consistent order, so for each writer one of two things happens:
//
//   - its load follows the store in that order: it sees the flag, restores its
//     locks, counts an abort (CauseIrrevocable) and waits by locking and
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
// one more atomic commit (its versions carry a timestamp taken with a
// sequentially consistent clock tick after its locks, and are published with
// release stores). Hardware attempts of the hybrid read the flag inside the
// hardware transaction, so the holder's store aborts them; they fall back to
// software and meet the rule above.
//
// Everything an inevitable body does before its commit, including I/O and
// writes outside the TM, is sequenced before the release stores that publish
// its versions, and so happens before any transaction that reads those
// versions. Code after Tx.Inevitable runs once per commit; code before it may
// run again. If an inevitable body returns an error or panics, its Stores are
// discarded (before and after the Inevitable call alike) but its side effects
// stay done: the TM cannot undo I/O.
//
// # Measuring the cost
//
// stm.IrrevocableSites reports, per call site of Atomically, how many times a
// transaction held the token, for how long, and how long other transactions
// waited for it (writers parked at commit and transactions waiting to become
// irrevocable themselves). Only the irrevocable path collects it.
package fallback
