package stm_test

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/cpu"

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

// BenchmarkTransfer is the bank workload's transfer without its audits:
// two Vars read and written, picked at random among 1,024 Vars of one
// slice (zero Vars, ready to use), against 1,024 ints under a sync.Mutex.
// The accounts share spans, which is what made re-queueing a Var for
// trimming expensive when each entry made its weak pointer anew (varSide).
func BenchmarkTransfer(b *testing.B) {
	const n = 1024
	pairs := make([][2]int, 1<<16)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range pairs {
		from, to := r.IntN(n), r.IntN(n-1)
		if to >= from {
			to++
		}
		pairs[i] = [2]int{from, to}
	}
	b.Run("mutex", func(b *testing.B) {
		var mu sync.Mutex
		bal := make([]int, n)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := pairs[i%len(pairs)]
			i++
			mu.Lock()
			bal[p[0]]--
			bal[p[1]]++
			mu.Unlock()
		}
	})
	b.Run("stm", func(b *testing.B) {
		bal := make([]stm.Var[int], n)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := pairs[i%len(pairs)]
			i++
			from, to := &bal[p[0]], &bal[p[1]]
			_ = stm.Atomically(func(tx *stm.Tx) error {
				from.Store(tx, from.Load(tx)-1)
				to.Store(tx, to.Load(tx)+1)
				return nil
			})
		}
		sum := 0
		for i := range bal {
			sum += bal[i].Peek()
		}
		if sum != 0 {
			b.Fatalf("money not conserved: %d", sum)
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
	// clockfloor runs only what every writing transaction does to the one
	// line all goroutines share, the global clock: a load at begin (the
	// snapshot) and an atomic add at commit (the tick that orders the commit
	// for every later snapshot, docs/design.md "Clock"), with about as much private
	// work in between as one stm transaction does (private). Its scaling
	// from 1 to 2 goroutines bounds stm's: when moving a cache line between
	// cores costs more than a transaction, neither scales.
	b.Run("clockfloor", func(b *testing.B) {
		var clk struct {
			_ cpu.CacheLinePad
			v atomic.Uint64
			_ cpu.CacheLinePad
		}
		b.RunParallel(func(pb *testing.PB) {
			x := uint64(1)
			for pb.Next() {
				x += clk.v.Load()
				x = private(x)
				x += clk.v.Add(1)
			}
			sink.Add(x)
		})
	})
	// private is clockfloor's private work alone: the 1-goroutine baseline
	// of the floor.
	b.Run("private", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			x := uint64(1)
			for pb.Next() {
				x = private(x)
			}
			sink.Add(x)
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

var sink atomic.Uint64

// private is about 60 ns of work on registers only (a xorshift chain the
// compiler cannot fold), standing for a transaction's private part.
//
//go:noinline
func private(x uint64) uint64 {
	for range 35 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
