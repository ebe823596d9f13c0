package stm_test

import (
	"sync"
	"testing"

	"github.com/hytm/hytm/stm"
)

// BenchmarkContended2 is the fallback issue's extreme contention case: two
// goroutines increment one Var, against two goroutines incrementing an int
// under a sync.Mutex, in one run. The stm case reports aborts and
// escalations to the irrevocable mode per 1,000 transactions.
func BenchmarkContended2(b *testing.B) {
	const g = 2
	// split runs b.N operations on g goroutines.
	split := func(b *testing.B, op func()) {
		var wg sync.WaitGroup
		per := b.N / g
		b.ResetTimer()
		for i := range g {
			n := per
			if i == 0 {
				n += b.N % g
			}
			wg.Go(func() {
				for range n {
					op()
				}
			})
		}
		wg.Wait()
	}
	b.Run("mutex", func(b *testing.B) {
		var mu sync.Mutex
		x := 0
		b.ReportAllocs()
		split(b, func() {
			mu.Lock()
			x++
			mu.Unlock()
		})
		if x != b.N {
			b.Fatalf("x = %d, want %d", x, b.N)
		}
	})
	b.Run("stm", func(b *testing.B) {
		v := stm.NewVar(0)
		incr := func(tx *stm.Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
		before := stm.ReadStats()
		b.ReportAllocs()
		split(b, func() { _ = stm.Atomically(incr) })
		b.StopTimer()
		after := stm.ReadStats()
		if v.Peek() != b.N {
			b.Fatalf("v = %d, want %d", v.Peek(), b.N)
		}
		per1k := func(n uint64) float64 { return float64(n) * 1000 / float64(b.N) }
		b.ReportMetric(per1k(after.TotalAborts()-before.TotalAborts()), "aborts/1000tx")
		b.ReportMetric(per1k(after.Irrevocable-before.Irrevocable), "escalations/1000tx")
	})
}
