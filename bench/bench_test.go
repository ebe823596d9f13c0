package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"
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
		if v.MaxGoroutines > 0 && g > v.MaxGoroutines {
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

// BenchmarkLatencyOverhead measures what latency sampling costs: each
// iteration runs a configuration twice, sampling on and off in alternating
// order, and the benchmark reports the median loss over the iterations of
// throughput (overhead-%) and of operations per CPU-second of the process
// (cpu-overhead-%, less sensitive to other processes on a shared machine);
// negative values are noise in sampling's favour. The configurations are
// the suite's fastest operations, where the clock reads weigh most. Run it
// with a fixed count, for example
//
//	go test -run XXX -bench LatencyOverhead -benchtime 30x
func BenchmarkLatencyOverhead(b *testing.B) {
	for _, c := range []Config{
		{Workload: "bank", Variant: "seq", Goroutines: 1, Update: -1},
		{Workload: "hashset", Variant: "mutex", Goroutines: 1, Update: 10},
		{Workload: "hashset", Variant: "stm", Goroutines: 1, Update: 10},
		{Workload: "bank", Variant: "stm", Goroutines: 1, Update: -1},
	} {
		c.Duration, c.Seed = 50*time.Millisecond, 1
		b.Run(c.Label(), func(b *testing.B) {
			var wall, cpu []float64
			for i := range b.N {
				var on, off *Result
				for j := range 2 {
					c.NoLatency = (i+j)%2 == 0
					r, err := Run(c)
					if err != nil {
						b.Fatal(err)
					}
					if c.NoLatency {
						off = r
					} else {
						on = r
					}
				}
				wall = append(wall, 100*(1-on.TxPerSec/off.TxPerSec))
				if on.CPUSeconds > 0 && off.CPUSeconds > 0 {
					cpu = append(cpu, 100*(1-(float64(on.Ops)/on.CPUSeconds)/(float64(off.Ops)/off.CPUSeconds)))
				}
			}
			b.ReportMetric(medianOf(wall), "overhead-%")
			if len(cpu) > 0 {
				b.ReportMetric(medianOf(cpu), "cpu-overhead-%")
			}
		})
	}
}

func medianOf(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}
