// Command interest applies interest to 100,000 accounts, once as a serial
// loop of transactions and once as a task pool (package tasks), checks that
// both give the same balances, and prints both times.
//
//	go run ./examples/interest [-accounts n] [-workers n]
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
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "pool workers")
	flag.Parse()

	serial, parallel := open(*n), open(*n)

	t0 := time.Now()
	for _, a := range serial {
		if err := hybrid.Atomically(applyInterest(a)); err != nil {
			fail(err)
		}
	}
	ts := time.Since(t0)

	t0 = time.Now()
	p := tasks.New(tasks.Workers(*workers))
	for _, a := range parallel {
		p.Add(applyInterest(a))
	}
	if err := p.Run(context.Background()); err != nil {
		fail(err)
	}
	tp := time.Since(t0)

	for i := range serial {
		if s, q := serial[i].Peek(), parallel[i].Peek(); s != q {
			fail(fmt.Errorf("account %d: serial %d, tasks %d", i, s, q))
		}
	}
	fmt.Printf("%d accounts: serial loop %v, task pool (%d workers) %v; balances equal\n",
		*n, ts.Round(time.Microsecond), *workers, tp.Round(time.Microsecond))
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
