package tasks_test

import (
	"context"
	"testing"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

// Benchmarks: each op is one batch of tasks (Add loop and Run timed
// together); ns/task divides by the batch. "serial" is the same
// transactions in a loop on one goroutine (or, for trains, the plain loop
// with no transaction at all).

const batch = 10_000

func runPool(b *testing.B, opts []tasks.Option, add func(p *tasks.Pool)) {
	p := tasks.New(opts...)
	for b.Loop() {
		add(p)
		if err := p.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/task")
}

type poolCase struct {
	name string
	opts []tasks.Option
}

var poolCases = []poolCase{
	{"pool/workers=1", []tasks.Option{tasks.Workers(1)}},
	{"pool/workers=2", []tasks.Option{tasks.Workers(2)}},
	{"ordered/workers=2", []tasks.Option{tasks.Workers(2), tasks.Ordered()}},
}

// BenchmarkApplyInterest: one Var per task (the talk's first example).
func BenchmarkApplyInterest(b *testing.B) {
	accts := make([]*hybrid.Var[int], batch)
	for i := range accts {
		accts[i] = hybrid.NewVar(1000)
	}
	bodies := make([]func(*hybrid.Tx) error, batch)
	for i, a := range accts {
		bodies[i] = func(tx *hybrid.Tx) error { a.Store(tx, a.Load(tx)*101/100+1); return nil }
	}
	b.Run("serial-tx", func(b *testing.B) {
		for b.Loop() {
			for _, f := range bodies {
				_ = hybrid.Atomically(f)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/task")
	})
	for _, c := range poolCases {
		b.Run(c.name, func(b *testing.B) {
			runPool(b, c.opts, func(p *tasks.Pool) {
				for _, f := range bodies {
					p.Add(f)
				}
			})
		})
	}
}

// computeTime is about 2 µs of arithmetic on this machine.
func computeTime(seed, dep int) int {
	x := uint64(seed*7919 + dep)
	for range 700 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return int(x % 1000)
}

// BenchmarkTrains: compute_time per train, reading the previous schedule of
// the train it depends on (the talk's second example); each task writes
// its own train's Var.
func BenchmarkTrains(b *testing.B) {
	const n = batch / 10 // trains per batch (each costs ~2 µs)
	prev := make([]int, n)
	trains := make([]*hybrid.Var[int], n)
	for i := range trains {
		trains[i] = hybrid.NewVar(0)
		prev[i] = i
	}
	bodies := make([]func(*hybrid.Tx) error, n)
	for i, tr := range trains {
		bodies[i] = func(tx *hybrid.Tx) error {
			tr.Store(tx, computeTime(i, prev[(i*31)%n]))
			return nil
		}
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
	}
	b.Run("serial-plain", func(b *testing.B) {
		out := make([]int, n)
		for b.Loop() {
			for i := range out {
				out[i] = computeTime(i, prev[(i*31)%n])
			}
		}
		report(b)
	})
	for _, c := range poolCases {
		b.Run(c.name, func(b *testing.B) {
			p := tasks.New(c.opts...)
			for b.Loop() {
				for _, f := range bodies {
					p.Add(f)
				}
				if err := p.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
	}
}

// BenchmarkConflict: every task increments one shared Var.
func BenchmarkConflict(b *testing.B) {
	x := hybrid.NewVar(0)
	incr := func(tx *hybrid.Tx) error { x.Store(tx, x.Load(tx)+1); return nil }
	b.Run("serial-tx", func(b *testing.B) {
		for b.Loop() {
			for range batch {
				_ = hybrid.Atomically(incr)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/task")
	})
	for _, c := range poolCases {
		b.Run(c.name, func(b *testing.B) {
			runPool(b, c.opts, func(p *tasks.Pool) {
				for range batch {
					p.Add(incr)
				}
			})
		})
	}
}

// BenchmarkPoolOverhead: empty tasks that touch no Var, on one worker:
// the pool's own cost per task (Add plus dispatch) next to a bare
// transaction.
func BenchmarkPoolOverhead(b *testing.B) {
	empty := func(tx *hybrid.Tx) error { return nil }
	b.Run("serial-tx", func(b *testing.B) {
		for b.Loop() {
			for range batch {
				_ = hybrid.Atomically(empty)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/task")
	})
	b.Run("pool/workers=1", func(b *testing.B) {
		runPool(b, []tasks.Option{tasks.Workers(1)}, func(p *tasks.Pool) {
			for range batch {
				p.Add(empty)
			}
		})
	})
}
