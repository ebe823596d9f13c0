package bench

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Plan is a list of configurations to measure, in order.
type Plan []Config

// PlanOptions select a plan. Empty lists mean the defaults.
type PlanOptions struct {
	Workloads  []string      // default: every workload
	Variants   []string      // default: every available variant
	Goroutines []int         // default: DefaultGoroutines()
	Updates    []int         // default: 0, 10, 50
	Duration   time.Duration // default: DefaultDuration
	Seed       uint64
	// Count is how many times each configuration runs (default 1). The
	// plan runs all configurations once per round, so that a transient
	// load on a shared machine hits different configurations in different
	// rounds; RunSuite keeps each configuration's median.
	Count int
	// NoLatency turns latency sampling off (Config.NoLatency).
	NoLatency bool
}

// DefaultUpdates are Synchrobench's update ratios used by default.
var DefaultUpdates = []int{0, 10, 50}

// DefaultDuration is the default run length of one configuration.
const DefaultDuration = 150 * time.Millisecond

// DefaultGoroutines returns 1, 2, 4, ... below GOMAXPROCS, then GOMAXPROCS.
func DefaultGoroutines() []int {
	maxp := runtime.GOMAXPROCS(0)
	var gs []int
	for g := 1; g < maxp; g *= 2 {
		gs = append(gs, g)
	}
	return append(gs, maxp)
}

// NewPlan validates o and returns its plan: for each workload (and update
// ratio, for the sets), each variant at each goroutine count it supports.
func NewPlan(o PlanOptions) (Plan, error) {
	if len(o.Workloads) == 0 {
		for _, w := range workloads {
			o.Workloads = append(o.Workloads, w.Name)
		}
	}
	if len(o.Variants) == 0 {
		for _, v := range Variants() {
			o.Variants = append(o.Variants, v.Name)
		}
	}
	if len(o.Goroutines) == 0 {
		o.Goroutines = DefaultGoroutines()
	}
	if len(o.Updates) == 0 {
		o.Updates = DefaultUpdates
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Duration < 0 {
		return nil, fmt.Errorf("negative duration %v", o.Duration)
	}
	if o.Count == 0 {
		o.Count = 1
	}
	if o.Count < 0 {
		return nil, fmt.Errorf("negative count %d", o.Count)
	}
	for _, g := range o.Goroutines {
		if g < 1 {
			return nil, fmt.Errorf("goroutine count %d < 1", g)
		}
	}
	for _, u := range o.Updates {
		if u < 0 || u > 100 {
			return nil, fmt.Errorf("update ratio %d outside 0..100", u)
		}
	}
	o.Workloads, o.Variants = dedupe(o.Workloads), dedupe(o.Variants)
	o.Goroutines, o.Updates = dedupe(o.Goroutines), dedupe(o.Updates)
	var vs []*Variant
	for _, name := range o.Variants {
		v, err := LookupVariant(name)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	var p Plan
	for _, name := range o.Workloads {
		w, err := LookupWorkload(name)
		if err != nil {
			return nil, err
		}
		updates := []int{-1}
		if w.Updates {
			updates = o.Updates
		}
		for _, u := range updates {
			for _, v := range vs {
				if !v.Runs(w) {
					continue
				}
				for _, g := range o.Goroutines {
					if v.MaxGoroutines > 0 && g > v.MaxGoroutines {
						continue
					}
					p = append(p, Config{Workload: w.Name, Variant: v.Name, Goroutines: g,
						Update: u, Duration: o.Duration, Seed: o.Seed, NoLatency: o.NoLatency})
				}
			}
		}
	}
	if len(p) == 0 {
		return nil, errors.New("empty plan: no variant runs the chosen workloads at the chosen goroutine counts")
	}
	one := p
	for range o.Count - 1 {
		p = append(p, one...)
	}
	return p, nil
}

// Duration returns the plan's total measuring time (without setup).
func (p Plan) Duration() time.Duration {
	var d time.Duration
	for _, c := range p {
		d += c.Duration
	}
	return d
}

// setupCost is the wall time a run of a workload takes besides its
// warm-up and measuring time (building the data structure, two garbage
// collections, the invariant check), for the lock variants and for the TM
// variants, measured with hytm-bench on a 2-core machine at 300ms per run
// (vacation's 65,536-row tables dominate).
var setupCost = map[string][2]time.Duration{
	"list":          {20 * time.Millisecond, 20 * time.Millisecond},
	"skiplist":      {30 * time.Millisecond, 110 * time.Millisecond},
	"rbtree":        {50 * time.Millisecond, 160 * time.Millisecond},
	"hashset":       {80 * time.Millisecond, 80 * time.Millisecond},
	"bank":          {80 * time.Millisecond, 80 * time.Millisecond},
	"vacation-low":  {480 * time.Millisecond, 700 * time.Millisecond},
	"vacation-high": {350 * time.Millisecond, 620 * time.Millisecond},
	"map-read":      {20 * time.Millisecond, 20 * time.Millisecond},
	"map-write":     {20 * time.Millisecond, 20 * time.Millisecond},
	"interest":      {20 * time.Millisecond, 40 * time.Millisecond},
}

// runGrowth is how much dearer each run gets than the one before it,
// fitted to whole suites timed on a 2-core machine: the documented
// RESULTS.md command (495 runs of 300ms) took 6m48s, about 220s more than
// the sum of the configurations' costs, while a 33-run plan took what its
// costs said. Later runs pay for what earlier ones left on the heap (the
// two collections before each measurement).
const runGrowth = 1200 * time.Microsecond

// Cost estimates the wall time of running c on its own: warm-up,
// measuring time, and the workload's setup and check.
func (c Config) Cost() time.Duration {
	d := c.Duration + warmup(c.Duration)
	sc, ok := setupCost[c.Workload]
	if !ok {
		return d + 100*time.Millisecond
	}
	if v, err := LookupVariant(c.Variant); err == nil && v.TM {
		return d + sc[1]
	}
	return d + sc[0]
}

// CostAt estimates the wall time of the plan's i-th run: its
// configuration's cost and runGrowth for each run before it.
func (p Plan) CostAt(i int) time.Duration {
	return p[i].Cost() + time.Duration(i)*runGrowth
}

// Estimate returns the plan's estimated wall time, the sum of its runs'
// costs.
func (p Plan) Estimate() time.Duration {
	var d time.Duration
	for i := range p {
		d += p.CostAt(i)
	}
	return d
}

// RunSuite runs every configuration of p in order. before, if not nil, is
// called before each run with its index. A configuration that appears
// several times (PlanOptions.Count) yields one result: the run with the
// median throughput, with Runs and the throughput range of all its runs.
// Speed-ups over seq are filled in at the end.
func RunSuite(p Plan, before func(i int)) ([]*Result, error) {
	var all []*Result
	for i, c := range p {
		if before != nil {
			before(i)
		}
		r, err := Run(c)
		if errors.Is(err, ErrSkipped) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Label(), err)
		}
		all = append(all, r)
	}
	rs := medians(all)
	FillSpeedups(rs)
	return rs, nil
}

// QuietLoad is the other-process load (cores, see Result.OtherLoad) below
// which a run counts as undisturbed.
const QuietLoad = 0.2

// medians merges the results of repeated configurations, in order of first
// appearance, keeping the median run of each (the lower middle one for an
// even count) among the runs that had the machine to themselves (other load
// below QuietLoad), or among all runs if none did; its latency percentiles
// cover the samples of all those runs. A failed invariant in any run is
// kept.
func medians(all []*Result) []*Result {
	type key struct {
		groupKey
		variant string
		g       int
	}
	byKey := map[key][]*Result{}
	var order []key
	for _, r := range all {
		k := key{groupKey{r.Workload, r.Update}, r.Variant, r.Goroutines}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	var rs []*Result
	for _, k := range order {
		runs := byKey[k]
		// Prefer the runs that had the machine to themselves.
		var quiet []*Result
		for _, r := range runs {
			if r.OtherLoad >= 0 && r.OtherLoad < QuietLoad {
				quiet = append(quiet, r)
			}
		}
		if len(quiet) == 0 {
			quiet = runs
		}
		sorted := slices.Clone(quiet)
		slices.SortFunc(sorted, func(a, b *Result) int { return cmp.Compare(a.TxPerSec, b.TxPerSec) })
		m := *sorted[(len(sorted)-1)/2]
		m.Runs = len(runs)
		m.TxPerSecMin, m.TxPerSecMax = sorted[0].TxPerSec, sorted[len(sorted)-1].TxPerSec
		// Latency percentiles over the samples of all the runs the median
		// was chosen from: more samples for the tail.
		if len(quiet) > 1 && m.Latency != nil {
			h, every := new(Histogram), 0
			for _, r := range quiet {
				if r.hist != nil {
					h.Merge(r.hist)
					every = max(every, r.Latency.Every)
				}
			}
			m.hist, m.Latency = h, h.summarize(every)
		}
		for _, r := range runs {
			if r.Check != "ok" {
				m.Check = r.Check
			}
		}
		rs = append(rs, &m)
	}
	return rs
}

// groupKey identifies a chart or table: a workload at one update ratio.
type groupKey struct {
	Workload string
	Update   int
}

func (k groupKey) String() string {
	if k.Update < 0 {
		return k.Workload
	}
	return fmt.Sprintf("%s update=%d%%", k.Workload, k.Update)
}

// fileName is the group's chart file name without extension.
func (k groupKey) fileName() string {
	if k.Update < 0 {
		return k.Workload
	}
	return fmt.Sprintf("%s-u%d", k.Workload, k.Update)
}

// groups returns the distinct groups of rs in order of first appearance.
func groups(rs []*Result) []groupKey {
	var ks []groupKey
	for _, r := range rs {
		k := groupKey{r.Workload, r.Update}
		if !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	return ks
}

// find returns the result for the group, variant and goroutine count, or nil.
func find(rs []*Result, k groupKey, variant string, g int) *Result {
	for _, r := range rs {
		if r.Workload == k.Workload && r.Update == k.Update && r.Variant == variant && r.Goroutines == g {
			return r
		}
	}
	return nil
}

// FillSpeedups sets each result's SpeedupSeq from the seq result of its
// group at one goroutine, if there is one.
func FillSpeedups(rs []*Result) {
	for _, r := range rs {
		if s := find(rs, groupKey{r.Workload, r.Update}, "seq", 1); s != nil && s.TxPerSec > 0 {
			r.SpeedupSeq = r.TxPerSec / s.TxPerSec
		}
	}
}

// ParseInts parses a comma-separated list of integers.
func ParseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// ParseNames parses a comma-separated list of names; "all" or "" is nil.
func ParseNames(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" && f != "all" {
			out = append(out, f)
		}
	}
	return out
}

// dedupe returns xs without repeats, in first-appearance order.
func dedupe[T comparable](xs []T) []T {
	var out []T
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
