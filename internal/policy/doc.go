// Package policy holds the mechanisms behind package fallback's rules, in
// one place so that they can be tuned and tested together: the randomized
// exponential backoff between software attempts ([Backoff]), the contention
// intensity and the process-wide gate of adaptive transaction scheduling
// ([Contention], [Gate], design note in contention.go), and the hybrid's
// hardware policy ([HWAttempts], [SiteTable], design note in hwpolicy.go).
// The guarantees they give (escalation, starvation-freedom, the irrevocable
// mode in memory-model terms) are stated in package fallback, whose
// EscalateAfter is the escalation bound stm applies.
//
// Mechanisms live where their data lives (the irrevocable token in stm, the
// instructions in htm); this package holds only numbers, the functions that
// turn abort histories into decisions, and the contention gate, which has no
// data of its own.
//
// # Backoff
//
// After attempt a aborts, a software transaction waits [Backoff.Wait](a): a
// uniformly random spin count in [0, BackoffMinSpins<<min(a-1,
// BackoffMaxShift)), yielding the P first from a = BackoffYieldShift+1 on.
//
// The backoff starts at 16 spins (a few nanoseconds: two short transactions
// that collided usually just need to be out of phase) and doubles up to
// 16<<10 spins (a few microseconds, about a long transaction's length); from
// the fifth attempt it also yields the P, so that a descheduled goroutine
// holding a commit lock, or the irrevocable token, can run.
//
// # Escalation defaults
//
// fallback.EscalateAfter = 8. With the randomized backoff, two transactions
// conflicting on one Var lose again with probability well under one half per
// round, so eight consecutive losses are rare (0.002 to 0.02 escalations per
// thousand transactions in stm's BenchmarkContended2, two goroutines on one
// Var, on a 2-core machine, with the contention gate; 0.2 to 40 without it).
// Larger values did not improve the two-goroutine benchmark beyond its
// noise; smaller ones escalate under ordinary contention.
//
// # The contention gate
//
// Each worker keeps a contention intensity ([Contention]), a moving average
// of its attempts' outcomes. When more than half of its recent attempts
// aborted, its Atomically calls first pass a process-wide [Gate], so that
// the contending transactions run one after another instead of aborting each
// other. The gate is a hint: gated transactions still run the full protocol,
// the wait for it is bounded ([GateStuckRounds]), and a worker whose
// transactions meet nobody at the gate for about 40 calls stops using it
// ([ContentionLow]). A holder's Leave is synchronized before the next
// holder's Enter, but correctness rests on the TM protocol alone.
package policy
