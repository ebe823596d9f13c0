package tasks_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

// Benchmarks. Each op is one batch of tasks, the Add loop and Run timed
// together. On a shared machine, timings drift from one second to the
// next, so every pool sub-benchmark runs its baseline in the same loop,
// alternating with the pool, and reports the ratio of the two times:
//
//	x-serial     serial baseline time / pool time (above 1: the pool is faster)
//	x-unordered  unordered pool (same workers) time / ordered pool time
//	ns/task      the pool's time per task
//	tasks/block  without Ordered, the mean size of the blocks of more than
//	             one task that committed (over every batch of the benchmark)
//	reruns/block without Ordered, their runs beyond the first, per block
//	solo/block   without Ordered, the blocks that ran behind the solo gate
//	             (solo.go: while blocks conflict, they run one at a time),
//	             per block of more than one task
//
// The serial baselines: for interest, conflict and overhead, the same
// transactions one after another on one goroutine (hybrid.Atomically per
// task); for trains, the plain loop with no transaction at all.

const batch = 10_000

// workload is one benchmark's tasks: serial runs the baseline loop once,
// add adds one batch of tasks to a pool, and split, if set, runs the
// baseline's work by hand on two goroutines (no pool): the most that two
// workers can gain on this machine at this moment, measured the same way.
type workload struct {
	n      int // tasks per batch
	serial func()
	add    func(p *tasks.Pool)
	split  func()
}

// onTwo runs f(0) and f(1) on two goroutines and waits for both.
func onTwo(f func(half int)) {
	var wg sync.WaitGroup
	wg.Add(2)
	for h := range 2 {
		go func() { defer wg.Done(); f(h) }()
	}
	wg.Wait()
}

// runBatch adds one batch to p and runs it.
func (w workload) runBatch(b *testing.B, p *tasks.Pool) {
	w.add(p)
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// bench runs w's sub-benchmarks: serial, pool-1, pool-2, ordered-1 and
// ordered-2.
func bench(b *testing.B, w workload) {
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			w.serial()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*w.n), "ns/task")
	})
	if w.split != nil {
		b.Run("split-2", func(b *testing.B) {
			var tSerial, tSplit time.Duration
			for b.Loop() {
				t0 := time.Now()
				w.serial()
				t1 := time.Now()
				w.split()
				tSerial += t1.Sub(t0)
				tSplit += time.Since(t1)
			}
			b.ReportMetric(float64(tSplit.Nanoseconds())/float64(b.N*w.n), "ns/task")
			b.ReportMetric(tSerial.Seconds()/tSplit.Seconds(), "x-serial")
		})
	}
	for _, c := range []struct {
		name    string
		workers int
		ordered bool
	}{{"pool-1", 1, false}, {"pool-2", 2, false}, {"ordered-1", 1, true}, {"ordered-2", 2, true}} {
		b.Run(c.name, func(b *testing.B) {
			opts := []tasks.Option{tasks.Workers(c.workers)}
			if c.ordered {
				opts = append(opts, tasks.Ordered())
			}
			p := tasks.New(opts...)
			unordered := tasks.New(tasks.Workers(c.workers))
			var tSerial, tPool, tUnordered time.Duration
			timed := func(p *tasks.Pool, d *time.Duration) {
				t := time.Now()
				w.runBatch(b, p)
				*d += time.Since(t)
			}
			odd := false
			for b.Loop() {
				t0 := time.Now()
				w.serial()
				tSerial += time.Since(t0)
				switch {
				case !c.ordered:
					timed(p, &tPool)
				case !odd:
					timed(p, &tPool)
					timed(unordered, &tUnordered)
				default:
					// The two modes take turns at running first, so that
					// each starts as often from the cache state the serial
					// loop leaves (every Var in one core's cache) as from
					// the state the other mode leaves (Vars split between
					// the cores); ordered mode suffers more from the first.
					timed(unordered, &tUnordered)
					timed(p, &tPool)
				}
				odd = !odd
			}
			b.ReportMetric(float64(tPool.Nanoseconds())/float64(b.N*w.n), "ns/task")
			b.ReportMetric(tSerial.Seconds()/tPool.Seconds(), "x-serial")
			if !c.ordered {
				blocks, inBlocks, reruns := tasks.BlockStats(p)
				b.ReportMetric(float64(inBlocks)/float64(max(blocks, 1)), "tasks/block")
				b.ReportMetric(float64(reruns)/float64(max(blocks, 1)), "reruns/block")
				b.ReportMetric(float64(tasks.SoloBlocks(p))/float64(max(blocks, 1)), "solo/block")
			}
			if c.ordered {
				b.ReportMetric(tUnordered.Seconds()/tPool.Seconds(), "x-unordered")
			}
		})
	}
}

// BenchmarkInterest: apply_interest, one task per account, each task a
// read-modify-write of its own Var.
func BenchmarkInterest(b *testing.B) {
	accts := make([]*hybrid.Var[int], batch)
	for i := range accts {
		accts[i] = hybrid.NewVar(1000 + i)
	}
	apply := make([]func(*hybrid.Tx) error, batch)
	for i, a := range accts {
		apply[i] = func(tx *hybrid.Tx) error { a.Store(tx, a.Load(tx)*101/100+1); return nil }
	}
	bench(b, workload{
		n: batch,
		serial: func() {
			for _, f := range apply {
				_ = hybrid.Atomically(f)
			}
		},
		add: func(p *tasks.Pool) {
			for _, f := range apply {
				p.Add(f)
			}
		},
		split: func() {
			onTwo(func(h int) {
				for _, f := range apply[h*batch/2 : (h+1)*batch/2] {
					_ = hybrid.Atomically(f)
				}
			})
		},
	})
}

// computeTime is about 2 µs of arithmetic: the departure of train i given
// the departure of the train it follows. It is not inlined, so that the
// baseline and the tasks run the same machine code: inlined into each
// caller, the same loop ran up to a fifth slower in one than in the other
// (code placement), which the comparison would have charged to the pool.
//
//go:noinline
func computeTime(i, prev int) int {
	x := uint64(i)*0x9E3779B97F4A7C15 + uint64(prev)
	for range 1200 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return prev + 60 + int(x%30)
}

// BenchmarkTrains: compute_time per train, each train following the one
// 16 places before it (a line of 16 trains apart); each task reads that
// train's Var and writes its own. The baseline is the plain loop over an
// array.
func BenchmarkTrains(b *testing.B) {
	const n, lines = batch, 16
	sched := make([]*hybrid.Var[int], n)
	for i := range sched {
		sched[i] = hybrid.NewVar(0)
	}
	plain := make([]int, n)
	compute := make([]func(*hybrid.Tx) error, n)
	for i := range compute {
		compute[i] = func(tx *hybrid.Tx) error {
			prev := 0
			if i >= lines {
				prev = sched[i-lines].Load(tx)
			}
			sched[i].Store(tx, computeTime(i, prev))
			return nil
		}
	}
	bench(b, workload{
		n: n,
		serial: func() {
			for i := range plain {
				prev := 0
				if i >= lines {
					prev = plain[i-lines]
				}
				plain[i] = computeTime(i, prev)
			}
		},
		add: func(p *tasks.Pool) {
			for _, f := range compute {
				p.Add(f)
			}
		},
		split: func() {
			// Trains on lines 0-7 on one goroutine, 8-15 on the other:
			// each line stays on one goroutine, in order.
			onTwo(func(h int) {
				for i := range plain {
					if (i%lines)/(lines/2) != h {
						continue
					}
					prev := 0
					if i >= lines {
						prev = plain[i-lines]
					}
					plain[i] = computeTime(i, prev)
				}
			})
		},
	})
}

// BenchmarkConflict: the conflict-heavy variant, every task incrementing
// one shared Var.
func BenchmarkConflict(b *testing.B) {
	x := hybrid.NewVar(0)
	incr := func(tx *hybrid.Tx) error { x.Store(tx, x.Load(tx)+1); return nil }
	bench(b, workload{
		n: batch,
		serial: func() {
			for range batch {
				_ = hybrid.Atomically(incr)
			}
		},
		add: func(p *tasks.Pool) {
			for range batch {
				p.Add(incr)
			}
		},
		split: func() {
			onTwo(func(int) {
				for range batch / 2 {
					_ = hybrid.Atomically(incr)
				}
			})
		},
	})
}

// BenchmarkOverhead: empty tasks that touch no Var. On one worker, the
// pool's own cost per task (Add plus dispatch) is the pool's time per task
// minus that of the serial loop of the same empty transactions, measured in
// the same loop: pool-ns/task. In ordered mode on two workers, every task
// waits for the one before it to commit, on the other worker: ns/task is
// then the cost of passing the turn from one core to the other, the floor
// of ordered mode for tasks that do next to nothing.
func BenchmarkOverhead(b *testing.B) {
	empty := func(tx *hybrid.Tx) error { return nil }
	serial := func() {
		for range batch {
			_ = hybrid.Atomically(empty)
		}
	}
	for _, c := range []struct {
		name string
		opts []tasks.Option
	}{
		{"pool-1", []tasks.Option{tasks.Workers(1)}},
		{"ordered-1", []tasks.Option{tasks.Workers(1), tasks.Ordered()}},
		{"ordered-2", []tasks.Option{tasks.Workers(2), tasks.Ordered()}},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := tasks.New(c.opts...)
			var tSerial, tPool time.Duration
			for b.Loop() {
				t0 := time.Now()
				serial()
				t1 := time.Now()
				for range batch {
					p.Add(empty)
				}
				if err := p.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				tSerial += t1.Sub(t0)
				tPool += time.Since(t1)
			}
			n := float64(b.N * batch)
			b.ReportMetric(float64(tPool.Nanoseconds())/n, "ns/task")
			b.ReportMetric(float64((tPool-tSerial).Nanoseconds())/n, "pool-ns/task")
		})
	}
}
