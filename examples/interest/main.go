// Command interest applies interest to 100,000 accounts, month after month
// for a year, once as a serial loop of transactions and once as a task pool
// (package tasks), checks that both give the same balances, and prints both
// times (the first month, which also warms up the memory both use, and the
// year).
//
//	go run ./examples/interest [-accounts n] [-months n] [-workers n]
//
// It is PyPy-STM's first example, "for account in all_accounts:
// add_task(account.apply_interest); run_all_tasks()", in Go: each task is
// a transaction (the pool runs consecutive tasks in blocks, several to a
// transaction), and the result is that of running them one after another.
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
	n := flag.Int("accounts", 100_000, "number of accounts")
	months := flag.Int("months", 12, "how many times interest is applied")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "pool workers")
	flag.Parse()

	serial, parallel := open(*n), open(*n)

	var ts, ts1 time.Duration
	for m := range *months {
		t0 := time.Now()
		for _, a := range serial {
			if err := hybrid.Atomically(applyInterest(a)); err != nil {
				fail(err)
			}
		}
		ts += time.Since(t0)
		if m == 0 {
			ts1 = ts
		}
	}

	var tp, tp1 time.Duration
	// The tasks are made once and added every month: the pool keeps its
	// task list between runs, so a month allocates nothing.
	p := tasks.New(tasks.Workers(*workers))
	fns := make([]func(*hybrid.Tx) error, len(parallel))
	for i, a := range parallel {
		fns[i] = applyInterest(a)
	}
	for m := range *months {
		t0 := time.Now()
		for _, f := range fns {
			p.Add(f)
		}
		if err := p.Run(context.Background()); err != nil {
			fail(err)
		}
		tp += time.Since(t0)
		if m == 0 {
			tp1 = tp
		}
	}

	for i := range serial {
		if s, q := serial[i].Peek(), parallel[i].Peek(); s != q {
			fail(fmt.Errorf("account %d: serial %d, tasks %d", i, s, q))
		}
	}
	fmt.Printf("%d accounts, %d months: serial loop %v (first month %v), task pool (%d workers) %v (first month %v); balances equal\n",
		*n, *months, ts.Round(time.Microsecond), ts1.Round(time.Microsecond),
		*workers, tp.Round(time.Microsecond), tp1.Round(time.Microsecond))
}

// open makes n accounts with distinct balances, in cents.
func open(n int) []*hybrid.Var[int64] {
	as := make([]*hybrid.Var[int64], n)
	for i := range as {
		as[i] = hybrid.NewVar(int64(1000 + i%9000))
	}
	return as
}

// applyInterest is one task: 1.5% on the balance, rounded down.
func applyInterest(a *hybrid.Var[int64]) func(tx *hybrid.Tx) error {
	return func(tx *hybrid.Tx) error {
		b := a.Load(tx)
		a.Store(tx, b+b*15/1000)
		return nil
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "interest:", err)
	os.Exit(1)
}
