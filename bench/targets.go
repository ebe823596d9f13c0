package bench

import (
	"fmt"
	"math"
	"slices"
)

// TargetCheck is one of the suite's performance targets, evaluated on one
// suite's results.
type TargetCheck struct {
	Workload string  // workload and update ratio, e.g. "rbtree update=10%"
	Target   string  // what is required
	Measured string  // what was measured
	Ratio    float64 // measured ratio (NaN when not a ratio)
	Want     float64 // required minimum ratio (NaN when not a ratio)
	Met      bool
	// Missing is set when the results lack a configuration the target
	// needs; Met is then false.
	Missing bool
}

// EvaluateTargets checks the targets that rs has data for:
//
//   - red-black tree and skip list at 10% updates: stm at 1 goroutine at
//     least 0.5x seq; stm at 2 goroutines at least rwmutex at 2;
//   - bank: no audit (read-only transaction) aborted under stm; stm's
//     transfer throughput at 2 goroutines at least mutex's;
//   - every workload: stm at least 10x anacrolix at every goroutine count.
func EvaluateTargets(rs []*Result) []TargetCheck {
	var out []TargetCheck
	ratioCheck := func(k groupKey, target string, num, den *Result, want float64, tput func(*Result) float64) {
		c := TargetCheck{Workload: k.String(), Target: target, Want: want, Ratio: math.NaN()}
		if num == nil || den == nil || tput(den) <= 0 {
			c.Missing = true
			c.Measured = "not measured"
		} else {
			c.Ratio = tput(num) / tput(den)
			c.Met = c.Ratio >= want
			c.Measured = fmt.Sprintf("%s vs %s tx/s: %.2fx", SI(tput(num)), SI(tput(den)), c.Ratio)
		}
		out = append(out, c)
	}
	all := func(r *Result) float64 { return r.TxPerSec }
	transfers := func(r *Result) float64 {
		if r.Seconds <= 0 {
			return 0
		}
		return float64(r.Ops-r.ROOps) / r.Seconds
	}
	for _, w := range []string{"rbtree", "skiplist"} {
		k := groupKey{w, 10}
		if !slices.Contains(groups(rs), k) {
			continue
		}
		ratioCheck(k, "stm at 1 goroutine >= 0.5x seq", find(rs, k, "stm", 1), find(rs, k, "seq", 1), 0.5, all)
		ratioCheck(k, "stm at 2 goroutines >= rwmutex at 2", find(rs, k, "stm", 2), find(rs, k, "rwmutex", 2), 1, all)
	}
	if k := (groupKey{"bank", -1}); slices.Contains(groups(rs), k) {
		c := TargetCheck{Workload: k.String(), Target: "audits never abort (stm)", Ratio: math.NaN(), Want: math.NaN()}
		var audits, aborts uint64
		n := 0
		for _, r := range rs {
			if r.Workload == "bank" && r.Variant == "stm" {
				audits += r.ROOps
				aborts += r.ROAborts
				n++
			}
		}
		if n == 0 {
			c.Missing, c.Measured = true, "not measured"
		} else {
			c.Met = aborts == 0
			c.Measured = fmt.Sprintf("%d aborted attempts over %d audits", aborts, audits)
		}
		out = append(out, c)
		ratioCheck(k, "stm transfers at 2 goroutines >= mutex at 2", find(rs, k, "stm", 2), find(rs, k, "mutex", 2), 1, transfers)
	}
	for _, k := range groups(rs) {
		if w, err := LookupWorkload(k.Workload); err == nil && !variants["anacrolix"].Runs(w) {
			continue // the map workloads: anacrolix has no map here
		}
		c := TargetCheck{Workload: k.String(), Target: "stm >= 10x anacrolix (lowest over goroutine counts)", Want: 10, Ratio: math.Inf(1)}
		var at int
		for _, r := range rs {
			if r.Workload != k.Workload || r.Update != k.Update || r.Variant != "stm" {
				continue
			}
			if a := find(rs, k, "anacrolix", r.Goroutines); a != nil && a.TxPerSec > 0 {
				if x := r.TxPerSec / a.TxPerSec; x < c.Ratio {
					c.Ratio, at = x, r.Goroutines
				}
			}
		}
		if at == 0 {
			c.Missing, c.Measured, c.Ratio = true, "not measured", math.NaN()
		} else {
			c.Met = c.Ratio >= c.Want
			c.Measured = fmt.Sprintf("%.1fx at %d goroutines", c.Ratio, at)
		}
		out = append(out, c)
	}
	return out
}
