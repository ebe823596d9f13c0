package bench

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hytm/hytm/bench/internal/ds/plainds"
	"github.com/hytm/hytm/bench/internal/wl"
	"github.com/hytm/hytm/stm"
)

// ---- interest ----

// The interest workload is the task pool's first example, apply_interest
// over every account: one operation applies interest to a batch of
// interestBatch accounts, one atomic operation (a transaction) per account,
// however the variant schedules them. Each goroutine takes the next batch
// in turn. With the seq, stm and hybrid variants the batch is a loop on the
// goroutine; with tasks it is added to a tasks.Pool and run on the pool's
// workers. Its throughput is in batches per second; the per-account rate is
// interestBatch times that.
const (
	interestAccounts = 16384
	interestBatch    = 1024
)

func newInterest(v *Variant, p Params) (Instance, error) {
	return &interestInst{accts: v.NewAccounts(interestAccounts)}, nil
}

type interestInst struct {
	accts wl.Accounts
	next  atomic.Uint64

	mu     sync.Mutex
	counts [][]int // per worker: applications by batch
}

func (in *interestInst) Worker(w *wl.Worker) func() {
	nb := interestAccounts / interestBatch
	c := make([]int, nb)
	in.mu.Lock()
	in.counts = append(in.counts, c)
	in.mu.Unlock()
	return func() {
		b := int(in.next.Add(1) % uint64(nb))
		in.accts.Interest(w, b*interestBatch, (b+1)*interestBatch)
		c[b]++
	}
}

// Check replays the applications of every batch on the initial balances.
func (in *interestInst) Check(w *wl.Worker) error {
	got := in.accts.Balances(w)
	for i, bal := range got {
		k := 0
		for _, c := range in.counts {
			k += c[i/interestBatch]
		}
		want := interestInitial(i)
		for range k {
			want = wl.Step(want)
		}
		if bal != want {
			return fmt.Errorf("account %d: balance %d after %d applications, want %d", i, bal, k, want)
		}
	}
	return nil
}

func interestInitial(i int) int { return 1000 + i%9000 }

// plainAccounts are plain ints, behind a mutex unless lock is None.
type plainAccounts struct {
	mu     sync.Mutex
	locked bool
	b      []int
}

func newPlainAccounts(n int, lock plainds.Lock) wl.Accounts {
	a := &plainAccounts{locked: lock != plainds.None, b: make([]int, n)}
	for i := range a.b {
		a.b[i] = interestInitial(i)
	}
	return a
}

func (a *plainAccounts) Interest(w *wl.Worker, lo, hi int) {
	for i := lo; i < hi; i++ {
		if a.locked {
			a.mu.Lock()
			a.b[i] = wl.Step(a.b[i])
			a.mu.Unlock()
		} else {
			a.b[i] = wl.Step(a.b[i])
		}
	}
}

func (a *plainAccounts) Balances(*wl.Worker) []int { return append([]int(nil), a.b...) }

// txAccounts are Vars, each account's interest one transaction run by
// atomically (stm.Atomically or hybrid.Atomically) in a loop.
type txAccounts struct {
	vars       []*stm.Var[int]
	apply      []func(*stm.Tx) error // one body per account, made once
	atomically func(func(*stm.Tx) error) error
}

func newTxAccounts(n int, atomically func(func(*stm.Tx) error) error) *txAccounts {
	a := &txAccounts{vars: make([]*stm.Var[int], n), apply: make([]func(*stm.Tx) error, n), atomically: atomically}
	for i := range a.vars {
		v := stm.NewVar(interestInitial(i))
		a.vars[i] = v
		a.apply[i] = func(tx *stm.Tx) error {
			v.Store(tx, wl.Step(v.Load(tx)))
			return nil
		}
	}
	return a
}

func (a *txAccounts) Interest(w *wl.Worker, lo, hi int) {
	for _, f := range a.apply[lo:hi] {
		_ = a.atomically(f)
	}
}

func (a *txAccounts) Balances(*wl.Worker) []int {
	out := make([]int, len(a.vars))
	for i, v := range a.vars {
		out[i] = v.Peek()
	}
	return out
}
