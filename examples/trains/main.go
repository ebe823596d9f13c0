// Command trains computes a train schedule in which each train's departure
// depends on an earlier train on the same line, once as a plain serial loop
// and once as an ordered task pool (package tasks, Ordered), checks that
// both schedules are identical, and prints both times.
//
//	go run ./examples/trains [-trains n] [-lines n] [-workers n]
//
// It is PyPy-STM's second example, "for train in all_trains:
// add_task(compute_time, train); run_all_tasks()". Each compute_time does
// about 2 µs of arithmetic; in ordered mode the tasks commit in the order
// they were added, so the schedule equals the serial loop's exactly while
// the arithmetic of different lines runs in parallel.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

func main() {
	n := flag.Int("trains", 20_000, "number of trains")
	lines := flag.Int("lines", 16, "number of lines (trains on one line depend on each other)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "pool workers")
	flag.Parse()

	// The schedules: an array for the serial loop, a Var per train for the
	// tasks, both made before the clocks start.
	serial := make([]int64, *n)
	sched := make([]*hybrid.Var[int64], *n)
	for i := range sched {
		sched[i] = hybrid.NewVar(int64(0))
	}

	// The serial loop: plain Go, no transaction.
	t0 := time.Now()
	for i := range serial {
		prev := int64(0)
		if i >= *lines {
			prev = serial[i-*lines]
		}
		serial[i] = computeTime(i, prev)
	}
	ts := time.Since(t0)

	// The ordered pool: one task per train (consecutive tasks share a
	// transaction in blocks), adding and running timed together.
	t0 = time.Now()
	p := tasks.New(tasks.Workers(*workers), tasks.Ordered())
	for i := range sched {
		p.Add(func(tx *hybrid.Tx) error {
			prev := int64(0)
			if i >= *lines {
				prev = sched[i-*lines].Load(tx)
			}
			sched[i].Store(tx, computeTime(i, prev))
			return nil
		})
	}
	if err := p.Run(context.Background()); err != nil {
		fail(err)
	}
	tp := time.Since(t0)

	for i := range serial {
		if got := sched[i].Peek(); got != serial[i] {
			fail(fmt.Errorf("train %d: serial %d, tasks %d", i, serial[i], got))
		}
	}
	fmt.Printf("%d trains on %d lines: serial loop %v, ordered task pool (%d workers) %v; schedules equal\n",
		*n, *lines, ts.Round(time.Microsecond), *workers, tp.Round(time.Microsecond))
}

// computeTime is about 2 µs of arithmetic: the departure of train i, given
// the departure of the train before it on its line. Not inlined, so that
// the serial loop and the tasks run the same machine code.
//
//go:noinline
func computeTime(i int, prev int64) int64 {
	x := uint64(i)*0x9E3779B97F4A7C15 + uint64(prev)
	for range 1200 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return prev + 60 + int64(x%30)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "trains:", err)
	os.Exit(1)
}
