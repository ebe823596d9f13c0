package hybrid

import (
	"github.com/hytm/hytm/internal/hwlink"
	"github.com/hytm/hytm/stm"
)

// HardwareAborts counts aborted hardware attempts by cause.
type HardwareAborts struct {
	Capacity uint64 // the read or write set did not fit
	Conflict uint64 // a data conflict, or a failed version check
	Explicit uint64 // explicit aborts: a lock busy, or the body needed software
	Other    uint64 // anything else: interrupts, faults, spurious aborts
}

// Total returns the number of aborted attempts.
func (a HardwareAborts) Total() uint64 { return a.Capacity + a.Conflict + a.Explicit + a.Other }

// Stats are cumulative counters of the hybrid TM. Software counters include
// transactions run directly by package stm.
type Stats struct {
	HardwareAttempts uint64         // hardware attempts started
	HardwareCommits  uint64         // hardware attempts that committed (or returned the body's error)
	HardwareAborts   HardwareAborts // hardware attempts that aborted, by cause
	LockBusyWaits    uint64         // of HardwareAborts.Explicit, waits for a software lock or the irrevocable token
	SiteSkips        uint64         // transactions sent straight to software by their call site's capacity history

	// Of HardwareCommits, the writing ones by what they did to the global
	// clock.
	// HardwareClockTicks ticked it, because a software transaction was live
	// at the commit; HardwareClockSkips stamped their versions with its
	// current value instead, because none was (the RH-NOrec avoidance: the
	// clock's cache line is then not written, so hardware commits do not
	// conflict on it). Read-only commits stamp nothing and are in neither.
	HardwareClockTicks uint64
	HardwareClockSkips uint64

	SoftwareCommits    uint64 // software commits, irrevocable ones excluded
	IrrevocableCommits uint64 // commits in serial-irrevocable mode

	Software stm.Stats // the software TM's own counters
}

// ReadStats returns the counters, summed over workers. Counters are read one
// by one while transactions run, so they are not a consistent snapshot.
func ReadStats() Stats {
	h := hwlink.ReadHWStats()
	s := stm.ReadStats()
	return Stats{
		HardwareAttempts: h.Attempts,
		HardwareCommits:  h.Commits,
		HardwareAborts: HardwareAborts{
			Capacity: h.Capacity, Conflict: h.Conflict, Explicit: h.Explicit, Other: h.Other,
		},
		LockBusyWaits:      h.LockBusy,
		HardwareClockTicks: h.ClockTicks,
		HardwareClockSkips: h.ClockSkips,
		SiteSkips:          sites.Skips(),
		SoftwareCommits:    s.ReadOnlyCommits + s.SingleVarCommits + s.MultiVarCommits,
		IrrevocableCommits: s.IrrevocableCommits,
		Software:           s,
	}
}
