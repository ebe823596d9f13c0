package bench

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hytm/hytm/bench/internal/wl"
	"github.com/hytm/hytm/stm"
)

// Config selects one measurement.
type Config struct {
	Workload   string
	Variant    string
	Goroutines int
	// Update is the set workloads' update percentage; -1 for the others.
	Update int
	// Duration is how long the goroutines run. Ops, if positive, stops
	// each goroutine after that many operations instead (go test -bench).
	Duration time.Duration
	Ops      int
	Seed     uint64
	// NoLatency turns off latency sampling (for A/B runs of its cost).
	NoLatency bool
}

// Label names the configuration like a benchmark: workload/variant[/update=U]/g=G.
func (c Config) Label() string {
	s := c.Workload + "/" + c.Variant
	if c.Update >= 0 {
		s += fmt.Sprintf("/update=%d", c.Update)
	}
	return s + fmt.Sprintf("/g=%d", c.Goroutines)
}

// Result is one measurement.
type Result struct {
	Workload   string `json:"workload"`
	Update     int    `json:"update"` // -1 when not applicable
	Variant    string `json:"variant"`
	Goroutines int    `json:"goroutines"`

	Seconds  float64 `json:"seconds"`  // wall time until every goroutine stopped
	Ops      uint64  `json:"ops"`      // committed operations
	TxPerSec float64 `json:"tx_per_s"` // Ops / Seconds
	// Runs is the number of runs of this configuration; TxPerSec is the
	// median run's, and TxPerSecMin and TxPerSecMax bound all of them.
	Runs        int     `json:"runs"`
	TxPerSecMin float64 `json:"tx_per_s_min"`
	TxPerSecMax float64 `json:"tx_per_s_max"`
	// SpeedupSeq is TxPerSec over seq's at one goroutine (0 if unknown).
	SpeedupSeq float64 `json:"speedup_vs_seq"`

	// Attempts counts executions of transaction bodies (TM variants).
	Attempts uint64 `json:"attempts,omitempty"`
	// AbortsPerCommit is (Attempts-Ops)/Ops for TM variants, -1 otherwise.
	AbortsPerCommit float64 `json:"aborts_per_commit"`
	// Aborts are the TM's own abort counters by cause during the run.
	Aborts map[string]uint64 `json:"aborts_by_cause,omitempty"`
	// Commits is the TM's own commit count during the run (0 if unknown).
	Commits uint64 `json:"tm_commits,omitempty"`
	// HWShare is the share of commits done by hardware transactions, -1
	// when the variant has no hardware path.
	HWShare    float64 `json:"hw_commit_share"`
	HWCommits  uint64  `json:"hw_commits,omitempty"`
	HWAttempts uint64  `json:"hw_attempts,omitempty"`

	// ROOps and ROAborts count the long read-only operations (bank audits)
	// and their aborted attempts.
	ROOps    uint64 `json:"audit_ops,omitempty"`
	ROAborts uint64 `json:"audit_aborts,omitempty"`

	// CPUSeconds is the CPU time this process spent during the measured
	// phase (Linux; 0 if unknown): the workers' time plus the runtime's.
	CPUSeconds float64 `json:"cpu_s,omitempty"`

	// OtherLoad is the average number of cores that other processes kept
	// busy during the run (Linux; -1 if unknown). Above about 0.2 the run
	// shared the machine and its numbers are suspect.
	OtherLoad float64 `json:"other_load"`

	// Latency holds the percentiles of the sampled operation latencies
	// (nil when not sampled). With several runs it covers the runs the
	// median was chosen from.
	Latency *Latency `json:"latency,omitempty"`
	// hist is the histogram behind Latency.
	hist *Histogram

	// Check is "ok" or the first invariant violation.
	Check string `json:"check"`
}

// CauseString formats the aborts per commit by cause, most frequent first,
// like "validate 0.012, locked 0.003"; "-" if there are none.
func (r *Result) CauseString() string {
	if len(r.Aborts) == 0 || r.Ops == 0 {
		return "-"
	}
	type kv struct {
		k string
		v uint64
	}
	var kvs []kv
	for k, v := range r.Aborts {
		kvs = append(kvs, kv{k, v})
	}
	sort.Slice(kvs, func(i, j int) bool {
		if kvs[i].v != kvs[j].v {
			return kvs[i].v > kvs[j].v
		}
		return kvs[i].k < kvs[j].k
	})
	var parts []string
	for _, e := range kvs {
		parts = append(parts, fmt.Sprintf("%s %.3g", e.k, float64(e.v)/float64(r.Ops)))
	}
	return strings.Join(parts, ", ")
}

// ErrSkipped is returned by Run for a configuration the variant cannot run
// (seq with more than one goroutine, a workload the variant has no
// structure for).
var ErrSkipped = errors.New("skipped")

// Run sets up c's workload under c's variant, runs it and checks its
// invariants. A failed invariant is reported in Result.Check, not as an
// error; errors are for configurations that cannot run.
func Run(c Config) (*Result, error) {
	w, err := LookupWorkload(c.Workload)
	if err != nil {
		return nil, err
	}
	v, err := LookupVariant(c.Variant)
	if err != nil {
		return nil, err
	}
	if c.Goroutines < 1 {
		return nil, fmt.Errorf("goroutine count %d < 1", c.Goroutines)
	}
	if v.MaxGoroutines > 0 && c.Goroutines > v.MaxGoroutines || !v.Runs(w) {
		return nil, ErrSkipped
	}
	if !w.Updates {
		c.Update = -1
	} else if c.Update < 0 {
		return nil, fmt.Errorf("workload %s needs an update ratio", w.Name)
	}
	inst, err := w.New(v, Params{Update: c.Update, Seed: c.Seed})
	if err != nil {
		return nil, err
	}
	return measure(c, v, inst), nil
}

// collectBeforeRuns makes measure collect garbage before timing; the
// invariant tests turn it off (they time nothing, and a full collection per
// run is most of their cost).
var collectBeforeRuns = true

// measure runs inst with c.Goroutines workers.
func measure(c Config, v *Variant, inst Instance) *Result {
	workers := make([]*wl.Worker, c.Goroutines)
	ops := make([]func(), c.Goroutines)
	for i := range workers {
		workers[i] = wl.NewWorker(c.Seed + uint64(i+1)*1_000_003)
		ops[i] = inst.Worker(workers[i])
	}
	stride := 0 // no sampling
	if c.Ops <= 0 {
		// Warm up (caches, heap size, GC pacing, CPU clock), then measure
		// from zeroed counters. The workload's own state (set deltas) keeps
		// the warm-up operations, so the invariant check covers them.
		wd := phase(workers, ops, warmup(c.Duration), nil, nil)
		if !c.NoLatency {
			stride = samplingStride(sampleCost(), opTime(workers, wd), SamplingBudget)
		}
		for _, w := range workers {
			w.Ops, w.Attempts, w.ROOps, w.ROAttempts = 0, 0, 0, 0
		}
	}
	// Two collections empty sync.Pools (the second clears the victim
	// cache), so nothing pooled by an earlier run (anacrolix's Txs with
	// their grown maps, for one) leaks into this one.
	if collectBeforeRuns {
		runtime.GC()
		runtime.GC()
	}
	var before TMStats
	if v.Stats != nil {
		before = v.Stats()
	}
	var limits []uint64
	if c.Ops > 0 {
		// Split c.Ops over the workers; the first ones take the remainder.
		limits = make([]uint64, len(workers))
		for i := range limits {
			limits[i] = uint64(c.Ops / len(workers))
			if i < c.Ops%len(workers) {
				limits[i]++
			}
		}
	}
	var samplers []*sampler
	var hist *Histogram
	if stride > 0 {
		hist = new(Histogram)
		samplers = make([]*sampler, len(workers))
		for i := range samplers {
			samplers[i] = newSampler(stride, c.Seed+uint64(i)*0x9E3779B9, new(Histogram))
		}
	}
	cpu0 := sampleCPU()
	elapsed := phase(workers, ops, c.Duration, limits, samplers)
	cpu1 := sampleCPU()

	r := &Result{
		Workload:        c.Workload,
		Update:          c.Update,
		Variant:         c.Variant,
		Goroutines:      c.Goroutines,
		Seconds:         elapsed.Seconds(),
		Runs:            1,
		OtherLoad:       otherLoad(cpu0, cpu1, elapsed),
		CPUSeconds:      (cpu1.self - cpu0.self).Seconds(),
		AbortsPerCommit: -1,
		HWShare:         -1,
		Check:           "ok",
	}
	var roAttempts uint64
	var werr error
	for _, w := range workers {
		r.Ops += w.Ops
		r.Attempts += w.Attempts
		r.ROOps += w.ROOps
		roAttempts += w.ROAttempts
		if werr == nil {
			werr = w.Err
		}
	}
	for _, s := range samplers {
		hist.Merge(s.hist)
	}
	if hist != nil {
		r.hist = hist
		r.Latency = hist.summarize(stride)
	}
	if r.Seconds > 0 {
		r.TxPerSec = float64(r.Ops) / r.Seconds
	}
	r.TxPerSecMin, r.TxPerSecMax = r.TxPerSec, r.TxPerSec
	if v.TM && r.Ops > 0 && r.Attempts >= r.Ops {
		r.AbortsPerCommit = float64(r.Attempts-r.Ops) / float64(r.Ops)
	}
	if roAttempts > r.ROOps {
		r.ROAborts = roAttempts - r.ROOps
	}
	if v.Stats != nil {
		d := v.Stats().Sub(before)
		r.Aborts, r.Commits = d.Aborts, d.Commits
		r.HWCommits, r.HWAttempts = d.HWCommits, d.HWAttempts
		if d.HWAttempts > 0 || d.HWCommits > 0 {
			r.HWShare = float64(d.HWCommits) / float64(max(d.Commits, 1))
		}
	}
	if werr == nil {
		werr = inst.Check(wl.NewWorker(c.Seed + 7))
	}
	if werr != nil {
		r.Check = werr.Error()
	}
	// Let stm drop the versions its trim queue still holds for this run's
	// Vars; otherwise the queue keeps the dead instance reachable and later
	// runs pay for a larger heap.
	stm.TrimAll()
	return r
}

// warmup returns the warm-up time before a measurement of duration d.
func warmup(d time.Duration) time.Duration {
	return min(max(d/5, 5*time.Millisecond), 200*time.Millisecond)
}

// opTime returns the average wall time of one operation of one worker over
// a phase that took elapsed.
func opTime(workers []*wl.Worker, elapsed time.Duration) time.Duration {
	var n uint64
	for _, w := range workers {
		n += w.Ops
	}
	if n == 0 {
		return elapsed
	}
	return elapsed * time.Duration(len(workers)) / time.Duration(n)
}

// phase runs ops[i] on workers[i] concurrently until d has passed (limits
// == nil) or each worker i has done limits[i] operations, and returns the
// time until every worker stopped. With samplers (one per worker, or nil),
// worker i times the operations samplers[i] picks.
func phase(workers []*wl.Worker, ops []func(), d time.Duration, limits []uint64, samplers []*sampler) time.Duration {
	var stop atomic.Bool
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		ready.Add(1)
		done.Add(1)
		limit := uint64(0)
		if limits != nil {
			limit = limits[i]
		}
		var smp *sampler
		if samplers != nil {
			smp = samplers[i]
		}
		go func(w *wl.Worker, op func(), smp *sampler) {
			defer done.Done()
			ready.Done()
			<-start
			loop(w, op, limits != nil, limit, &stop, smp)
		}(workers[i], ops[i], smp)
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	if limits == nil {
		time.Sleep(d)
		stop.Store(true)
	}
	done.Wait()
	return time.Since(t0)
}

// loop calls op and counts it in w.Ops: limit times (counted), or until
// stop is set, at least once however late the goroutine starts. With a
// sampler it times the operations the sampler picks.
//
// The sampling loops keep the plain loop as their inner loop, bounded by a
// target count of w.Ops, so that an operation that is not timed costs one
// compare more than in the plain loop: every variable live across the
// call of op is reloaded after it, and each one costs about 1% of the
// fastest operations.
func loop(w *wl.Worker, op func(), counted bool, limit uint64, stop *atomic.Bool, smp *sampler) {
	switch {
	case smp == nil && counted:
		for range limit {
			op()
			w.Ops++
		}
	case smp == nil:
		for {
			op()
			w.Ops++
			if stop.Load() {
				return
			}
		}
	case counted:
		end := w.Ops + limit
		for w.Ops < end {
			at := min(w.Ops+uint64(smp.gap()), end) // w.Ops when the timed operation starts, plus one
			for w.Ops+1 < at {
				op()
				w.Ops++
			}
			if w.Ops < end {
				smp.timed(w, op)
			}
		}
	default:
		for {
			at := w.Ops + uint64(smp.gap())
			for w.Ops+1 < at {
				op()
				w.Ops++
				if stop.Load() {
					return
				}
			}
			smp.timed(w, op)
			if stop.Load() {
				return
			}
		}
	}
}
