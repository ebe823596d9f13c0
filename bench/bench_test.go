package bench

import (
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hytm/hytm/stm"

	"github.com/hytm/hytm/bench/internal/wl"
)

// The benchmarks run the suite's configurations under go test -bench, named
// so that benchstat can compare them, e.g.
//
//	BenchmarkRBTree/stm/update=10/g=2
//	BenchmarkBank/mutex/g=1
//	BenchmarkVacation/stm/contention=high/g=2
//
// b.N operations are split over the goroutines; ns/op is wall time per
// operation, so lower is better and g goroutines that scale perfectly
// divide it by g. TM variants also report aborts/op (re-executed bodies
// per committed transaction).

func BenchmarkList(b *testing.B)     { benchSets(b, "list") }
func BenchmarkSkipList(b *testing.B) { benchSets(b, "skiplist") }
func BenchmarkRBTree(b *testing.B)   { benchSets(b, "rbtree") }
func BenchmarkHashSet(b *testing.B)  { benchSets(b, "hashset") }

func BenchmarkBank(b *testing.B) {
	for _, v := range Variants() {
		b.Run(v.Name, func(b *testing.B) { benchGoroutines(b, Config{Workload: "bank", Variant: v.Name, Update: -1}) })
	}
}

// BenchmarkMap runs the map workloads (90% and 50% Get).
func BenchmarkMap(b *testing.B) {
	for _, v := range Variants() {
		b.Run(v.Name, func(b *testing.B) {
			for _, mix := range []string{"read", "write"} {
				b.Run("mix="+mix, func(b *testing.B) {
					benchGoroutines(b, Config{Workload: "map-" + mix, Variant: v.Name, Update: -1})
				})
			}
		})
	}
}

func BenchmarkVacation(b *testing.B) {
	for _, v := range Variants() {
		b.Run(v.Name, func(b *testing.B) {
			for _, c := range []string{"low", "high"} {
				b.Run("contention="+c, func(b *testing.B) {
					benchGoroutines(b, Config{Workload: "vacation-" + c, Variant: v.Name, Update: -1})
				})
			}
		})
	}
}

func benchSets(b *testing.B, workload string) {
	for _, v := range Variants() {
		b.Run(v.Name, func(b *testing.B) {
			for _, u := range DefaultUpdates {
				b.Run(fmt.Sprintf("update=%d", u), func(b *testing.B) {
					benchGoroutines(b, Config{Workload: workload, Variant: v.Name, Update: u})
				})
			}
		})
	}
}

func benchGoroutines(b *testing.B, c Config) {
	for _, g := range DefaultGoroutines() {
		c.Goroutines = g
		v, err := LookupVariant(c.Variant)
		if err != nil {
			b.Fatal(err)
		}
		w, err := LookupWorkload(c.Workload)
		if err != nil {
			b.Fatal(err)
		}
		if v.MaxGoroutines > 0 && g > v.MaxGoroutines || !v.Runs(w) {
			continue
		}
		b.Run(fmt.Sprintf("g=%d", g), func(b *testing.B) { benchOne(b, c) })
	}
}

func benchOne(b *testing.B, c Config) {
	w, err := LookupWorkload(c.Workload)
	if err != nil {
		b.Fatal(err)
	}
	v, err := LookupVariant(c.Variant)
	if err != nil {
		b.Fatal(err)
	}
	inst, err := w.New(v, Params{Update: c.Update, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	c.Ops = b.N
	b.ResetTimer()
	r := measure(c, v, inst)
	b.StopTimer()
	if r.Check != "ok" {
		b.Fatalf("invariant: %s", r.Check)
	}
	if r.AbortsPerCommit >= 0 {
		b.ReportMetric(r.AbortsPerCommit, "aborts/op")
	}
	if r.ROAborts > 0 {
		b.ReportMetric(float64(r.ROAborts)/float64(r.Ops), "audit-aborts/op")
	}
}

// BenchmarkLatencyOverhead measures what latency sampling costs on the
// suite's fastest operations, where the clock reads weigh most. One
// goroutine runs one workload instance in alternating blocks of about 2ms,
// one with the plain loop and one with the sampling loop at the stride
// measure would choose, and the benchmark reports the median over the
// block pairs of the sampling block's extra time (overhead-%, negative:
// noise in sampling's favour). Alternating short blocks keeps a shared
// machine's varying load out of the comparison. Run it with a fixed count
// of pairs, for example
//
//	go test -run XXX -bench LatencyOverhead -benchtime 400x
func BenchmarkLatencyOverhead(b *testing.B) {
	for _, c := range []Config{
		{Workload: "bank", Variant: "seq", Update: -1},
		{Workload: "bank", Variant: "mutex", Update: -1},
		{Workload: "hashset", Variant: "mutex", Update: 10},
		{Workload: "hashset", Variant: "stm", Update: 10},
		{Workload: "bank", Variant: "stm", Update: -1},
	} {
		c.Goroutines = 1
		b.Run(c.Label(), func(b *testing.B) {
			w, err := LookupWorkload(c.Workload)
			if err != nil {
				b.Fatal(err)
			}
			v, err := LookupVariant(c.Variant)
			if err != nil {
				b.Fatal(err)
			}
			inst, err := w.New(v, Params{Update: c.Update, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			wk := wl.NewWorker(1)
			op := inst.Worker(wk)
			var stop atomic.Bool
			t0 := time.Now()
			loop(wk, op, true, 100_000, &stop, nil) // warm-up and the operation's time
			opTime := time.Since(t0) / 100_000
			stride := samplingStride(sampleCost(), opTime, SamplingBudget)
			block := uint64(max(2*time.Millisecond/max(opTime, 1), 100))
			smp := newSampler(stride, 1, new(Histogram))
			timed := func(s *sampler) time.Duration {
				t := time.Now()
				loop(wk, op, true, block, &stop, s)
				return time.Since(t)
			}
			var extra []float64
			b.ResetTimer()
			for i := range b.N {
				var on, off time.Duration
				if i%2 == 0 {
					off, on = timed(nil), timed(smp)
				} else {
					on, off = timed(smp), timed(nil)
				}
				extra = append(extra, 100*(float64(on)/float64(off)-1))
			}
			b.StopTimer()
			b.ReportMetric(medianOf(extra), "overhead-%")
			b.ReportMetric(float64(stride), "stride")
			b.ReportMetric(float64(opTime.Nanoseconds()), "ns/op-measured")
		})
	}
}

func medianOf(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// BenchmarkBankLatency is the latency target under contention: bank
// transfers (with the workload's 1% audits) over 1,024 accounts from 8
// goroutines, sync.Mutex and stm measured alternately in the same run, each
// iteration a 300ms run of each. It reports p99.9 of each over all
// iterations (ns), their ratio (the target is stm <= 10x mutex), and each
// variant's throughput. Run it with a fixed count, for example
//
//	go test -run XXX -bench BankLatency -benchtime 5x
func BenchmarkBankLatency(b *testing.B) {
	const g = 8
	hists := map[string]*Histogram{"mutex": new(Histogram), "stm": new(Histogram)}
	ops := map[string]float64{}
	secs := map[string]float64{}
	for range b.N {
		for _, v := range []string{"mutex", "stm"} {
			r, err := Run(Config{Workload: "bank", Variant: v, Goroutines: g, Update: -1, Duration: 300 * time.Millisecond, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			if r.Check != "ok" {
				b.Fatalf("%s: invariant: %s", v, r.Check)
			}
			if r.hist == nil {
				b.Fatalf("%s: no latency samples", v)
			}
			hists[v].Merge(r.hist)
			ops[v] += float64(r.Ops)
			secs[v] += r.Seconds
		}
	}
	m, s := hists["mutex"].Quantile(0.999), hists["stm"].Quantile(0.999)
	b.ReportMetric(m, "mutex-p99.9-ns")
	b.ReportMetric(s, "stm-p99.9-ns")
	b.ReportMetric(s/m, "stm/mutex-p99.9")
	b.ReportMetric(ops["mutex"]/secs["mutex"], "mutex-tx/s")
	b.ReportMetric(ops["stm"]/secs["stm"], "stm-tx/s")
}

// settle lets go of what the last structure left behind before a heap
// measurement: a goroutine's last transaction's logs keep its Vars
// reachable until its next transaction (one on a Var of its own here), and
// free version nodes stay in nurseries and depots until TrimAll.
func settle() {
	v := stm.NewVar(0)
	_ = stm.Atomically(func(tx *stm.Tx) error { v.Store(tx, v.Load(tx)+1); return nil })
	stm.TrimAll()
	runtime.GC()
}

// BenchmarkBytesPerKey reports the heap bytes per key of the set workloads'
// structures (4,096 keys inserted in random order), for the plain Go and
// stm variants: what a key costs in memory, versions included.
func BenchmarkBytesPerKey(b *testing.B) {
	for _, kind := range []string{"rbtree", "skiplist"} {
		for _, name := range []string{"seq", "stm"} {
			b.Run(kind+"/"+name, func(b *testing.B) {
				v, err := LookupVariant(name)
				if err != nil {
					b.Fatal(err)
				}
				const keys = 4096
				var perKey float64
				for b.Loop() {
					var before, after runtime.MemStats
					settle()
					runtime.ReadMemStats(&before)
					s, err := v.NewSet(kind, keys)
					if err != nil {
						b.Fatal(err)
					}
					w := wl.NewWorker(1)
					for n := 0; n < keys; {
						if s.Insert(w, int(w.Uint64()%(4*keys))) {
							n++
						}
					}
					settle()
					runtime.ReadMemStats(&after)
					perKey = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / keys
					runtime.KeepAlive(s)
				}
				b.ReportMetric(perKey, "B/key")
			})
		}
	}
}
