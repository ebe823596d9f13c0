package bench

import (
	"github.com/hytm/hytm/bench/internal/ds/hybridds"
	"github.com/hytm/hytm/hybrid"
)

func init() {
	variants["hybrid"] = txdsVariant("hybrid",
		"hytm's hybrid TM: RTM hardware attempts first, stm behind (maps: txds.Map)",
		hybrid.Atomically, hybridds.NewSet, hybridds.NewBank, hybridds.NewTravel, hybridStats)
}

// hybridStats reads the hybrid TM's counters: hardware aborts appear as
// "hw-capacity", "hw-conflict", "hw-explicit" and "hw-other", software
// aborts under stm's cause names.
func hybridStats() TMStats {
	st := hybrid.ReadStats()
	s := TMStats{
		Commits:    st.HardwareCommits + st.SoftwareCommits + st.IrrevocableCommits,
		HWCommits:  st.HardwareCommits,
		HWAttempts: st.HardwareAttempts,
		Aborts: map[string]uint64{
			"hw-capacity": st.HardwareAborts.Capacity,
			"hw-conflict": st.HardwareAborts.Conflict,
			"hw-explicit": st.HardwareAborts.Explicit,
			"hw-other":    st.HardwareAborts.Other,
		},
	}
	for c, n := range st.Software.Aborts {
		s.Aborts[c.String()] += n
	}
	return s
}
