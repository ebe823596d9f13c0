package hybrid

import (
	"expvar"
	"sync"

	"github.com/hytm/hytm/stm"
)

// The expvar variable "hytm" holds [ReadStats] as JSON, with aborts by cause
// and commits by path spelled out:
//
//	{"commits": {"hardware": 10, "software": 5, "irrevocable": 0,
//	             "software_read_only": 2, "software_single_var": 1, "software_multi_var": 2},
//	 "aborts": {"hardware": {"capacity": 0, "conflict": 3, "explicit": 1, "other": 0},
//	            "software": {"locked": 0, "validate": 4, "stale": 0, "irrevocable": 0}},
//	 "hardware_attempts": 14, "lock_busy_waits": 1, "site_skips": 0,
//	 "hardware_clock_ticks": 2, "hardware_clock_skips": 5,
//	 "errors": 0, "irrevocable": 0, "retry_waits": 0, "trimmed": 7,
//	 "conflict_reports": false}
//
// It is published when the package is initialized (importing expvar
// registers /debug/vars on http.DefaultServeMux, as expvar always does). If
// something else already published "hytm", the package leaves it alone.
func init() { publishExpvar() }

var publishOnce sync.Once

func publishExpvar() {
	publishOnce.Do(func() {
		if expvar.Get("hytm") == nil {
			expvar.Publish("hytm", expvar.Func(func() any { return statsVar(ReadStats()) }))
		}
	})
}

func statsVar(s Stats) map[string]any {
	sw := map[string]uint64{}
	for c := stm.CauseLocked; c <= stm.CauseIrrevocable; c++ {
		sw[c.String()] = s.Software.Aborts[c]
	}
	return map[string]any{
		"commits": map[string]uint64{
			"hardware":            s.HardwareCommits,
			"software":            s.SoftwareCommits,
			"irrevocable":         s.IrrevocableCommits,
			"software_read_only":  s.Software.ReadOnlyCommits,
			"software_single_var": s.Software.SingleVarCommits,
			"software_multi_var":  s.Software.MultiVarCommits,
		},
		"aborts": map[string]any{
			"hardware": map[string]uint64{
				"capacity": s.HardwareAborts.Capacity,
				"conflict": s.HardwareAborts.Conflict,
				"explicit": s.HardwareAborts.Explicit,
				"other":    s.HardwareAborts.Other,
			},
			"software": sw,
		},
		"hardware_attempts":    s.HardwareAttempts,
		"lock_busy_waits":      s.LockBusyWaits,
		"site_skips":           s.SiteSkips,
		"hardware_clock_ticks": s.HardwareClockTicks,
		"hardware_clock_skips": s.HardwareClockSkips,
		"errors":               s.Software.Errors,
		"irrevocable":          s.Software.Irrevocable,
		"retry_waits":          s.Software.RetryWaits,
		"trimmed":              s.Software.Trimmed,
		"conflict_reports":     stm.ConflictReportsEnabled(),
	}
}
