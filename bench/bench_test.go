package bench

import (
	"fmt"
	"testing"
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
