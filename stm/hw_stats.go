package stm

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/hytm/hytm/htm"
)

// Hardware-attempt counters, striped by worker address so that workers
// rarely share a line; ReadHWStats sums the stripes.
const hwStripes = 64

const (
	hwAttempts = iota
	hwCommits
	hwCapacity
	hwConflict
	hwExplicit
	hwOther
	hwLockBusy
	hwClockTicks
	hwClockSkips
	nHW
)

var hwCounters [hwStripes]struct {
	c [nHW]atomic.Uint64
	_ cpu.CacheLinePad
}

func countHW(w *worker, st htm.Status, clk hwClock) {
	s := &hwCounters[(uintptr(unsafe.Pointer(w))>>6)%hwStripes]
	s.c[hwAttempts].Add(1)
	switch {
	case st == htm.Started:
		s.c[hwCommits].Add(1)
		switch clk {
		case hwClockTicked:
			s.c[hwClockTicks].Add(1)
		case hwClockSkipped:
			s.c[hwClockSkips].Add(1)
		}
	case st.Capacity():
		s.c[hwCapacity].Add(1)
	case st.Conflict() || st.Code() == htm.CodeNotHead:
		s.c[hwConflict].Add(1)
	case st.Explicit():
		s.c[hwExplicit].Add(1)
		if st.Code() == htm.CodeLockBusy {
			s.c[hwLockBusy].Add(1)
		}
	default:
		s.c[hwOther].Add(1)
	}
}

// HWStats are cumulative counters of hardware attempts run by [RunHardware].
// Every attempt ends as exactly one of Commits, Capacity, Conflict, Explicit
// or Other.
type HWStats struct {
	Attempts uint64 // attempts started (including those that aborted at once)
	Commits  uint64 // attempts that committed, or returned an error of the body
	Capacity uint64 // aborts with the capacity bit
	Conflict uint64 // aborts with the conflict bit, and failed version checks (CodeNotHead)
	Explicit uint64 // other explicit aborts: CodeLockBusy and CodeSoftware
	Other    uint64 // everything else: spurious aborts, interrupts, faults
	LockBusy uint64 // of Explicit, those with CodeLockBusy (waited for)

	// Of Commits, the writing commits by what they did to the global clock:
	// ClockTicks ticked it, because a software transaction was live (or
	// [SetHardwareActive] was off); ClockSkips stamped their versions with
	// its current value, because none was (the RH-NOrec avoidance).
	// Read-only commits stamp nothing and are in neither.
	ClockTicks uint64
	ClockSkips uint64
}

// ReadHWStats returns the hardware-attempt counters summed over stripes.
func ReadHWStats() HWStats {
	var c [nHW]uint64
	for i := range hwCounters {
		for j := range c {
			c[j] += hwCounters[i].c[j].Load()
		}
	}
	return HWStats{
		Attempts: c[hwAttempts], Commits: c[hwCommits], Capacity: c[hwCapacity],
		Conflict: c[hwConflict], Explicit: c[hwExplicit], Other: c[hwOther],
		LockBusy: c[hwLockBusy], ClockTicks: c[hwClockTicks], ClockSkips: c[hwClockSkips],
	}
}
