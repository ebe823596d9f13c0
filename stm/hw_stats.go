package stm

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/hytm/hytm/htm"

	"github.com/hytm/hytm/internal/hwtypes"
)

// Hardware-attempt counters, striped by worker address so that workers
// rarely share a line; readHWStats sums the stripes.
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

// readHWStats returns the hardware-attempt counters summed over stripes
// (package hybrid reads them through internal/hwlink).
//
//go:linkname readHWStats
func readHWStats() hwtypes.Stats {
	var c [nHW]uint64
	for i := range hwCounters {
		for j := range c {
			c[j] += hwCounters[i].c[j].Load()
		}
	}
	return hwtypes.Stats{
		Attempts: c[hwAttempts], Commits: c[hwCommits], Capacity: c[hwCapacity],
		Conflict: c[hwConflict], Explicit: c[hwExplicit], Other: c[hwOther],
		LockBusy: c[hwLockBusy], ClockTicks: c[hwClockTicks], ClockSkips: c[hwClockSkips],
	}
}
