package stm_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hytm/hytm/stm"
)

// The sync.Mutex baselines sit next to the STM benchmarks so that one run
// measures both (compare with benchstat or by ratio).

func BenchmarkIncr1(b *testing.B) {
	b.Run("mutex", func(b *testing.B) {
		var mu sync.Mutex
		x := 0
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			x++
			mu.Unlock()
		}
		_ = x
	})
	b.Run("stm", func(b *testing.B) {
		v := stm.NewVar(0)
		incr := func(tx *stm.Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
		b.ReportAllocs()
		for b.Loop() {
			_ = stm.Atomically(incr)
		}
		if v.Peek() == 0 {
			b.Fatal("no increments")
		}
	})
}

func BenchmarkRead16(b *testing.B) {
	b.Run("mutex", func(b *testing.B) {
		var mu sync.Mutex
		var xs [16]int
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			s := 0
			for i := range xs {
				s += xs[i]
			}
			mu.Unlock()
			_ = s
		}
	})
	b.Run("stm", func(b *testing.B) {
		vs := make([]*stm.Var[int], 16)
		for i := range vs {
			vs[i] = stm.NewVar(i)
		}
		var sum int
		read := func(tx *stm.Tx) error {
			s := 0
			for _, v := range vs {
				s += v.Load(tx)
			}
			sum = s
			return nil
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = stm.Atomically(read)
		}
		if sum != 120 {
			b.Fatal("bad sum", sum)
		}
	})
}

func BenchmarkDisjointIncr(b *testing.B) {
	b.Run("mutex", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var mu sync.Mutex
			x := 0
			for pb.Next() {
				mu.Lock()
				x++
				mu.Unlock()
			}
			_ = x
		})
	})
	b.Run("stm", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			v := stm.NewVar(0)
			incr := func(tx *stm.Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
			for pb.Next() {
				_ = stm.Atomically(incr)
			}
		})
	})
}

func BenchmarkSharedIncr(b *testing.B) {
	b.Run("mutex", func(b *testing.B) {
		var mu sync.Mutex
		x := 0
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				x++
				mu.Unlock()
			}
		})
	})
	b.Run("stm", func(b *testing.B) {
		v := stm.NewVar(0)
		var aborts atomic.Uint64
		before := stm.ReadStats()
		incr := func(tx *stm.Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = stm.Atomically(incr)
			}
		})
		after := stm.ReadStats()
		aborts.Store(after.TotalAborts() - before.TotalAborts())
		b.ReportMetric(float64(aborts.Load())/float64(b.N), "aborts/op")
	})
}
