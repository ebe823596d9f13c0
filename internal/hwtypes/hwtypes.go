// Package hwtypes holds the types that package stm and package hybrid share
// for hardware attempts: plumbing between the two, kept out of both
// packages' documentation. Package hwlink carries the functions.
package hwtypes

// Mode selects how a hardware attempt runs.
type Mode uint8

const (
	// Emulated runs the attempt on the emulator that stm was given.
	Emulated Mode = iota + 1
	// Real runs the attempt as an RTM transaction (XBEGIN/XEND). It is
	// available only in builds with the real path and must be used only
	// when htm.Enabled() reports true.
	Real
)

// Stats are cumulative counters of hardware attempts. Every attempt ends as
// exactly one of Commits, Capacity, Conflict, Explicit or Other.
type Stats struct {
	Attempts uint64 // attempts started (including those that aborted at once)
	Commits  uint64 // attempts that committed, or returned an error of the body
	Capacity uint64 // aborts with the capacity bit
	Conflict uint64 // aborts with the conflict bit, and failed version checks (CodeNotHead)
	Explicit uint64 // other explicit aborts: CodeLockBusy and CodeSoftware
	Other    uint64 // everything else: spurious aborts, interrupts, faults
	LockBusy uint64 // of Explicit, those with CodeLockBusy (waited for)

	// Of Commits, the writing commits by what they did to the global clock:
	// ClockTicks ticked it, because a software transaction was live (or
	// hardware was not marked active); ClockSkips stamped their versions
	// with its current value, because none was (the RH-NOrec avoidance).
	// Read-only commits stamp nothing and are in neither.
	ClockTicks uint64
	ClockSkips uint64
}
