package bench

import (
	"context"

	"github.com/hytm/hytm/bench/internal/wl"
	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

func init() {
	variants["tasks"] = &Variant{
		Name:          "tasks",
		Desc:          "hytm's tasks.Pool (GOMAXPROCS workers, hybrid transactions) driven by one goroutine (interest only)",
		MaxGoroutines: 1,
		TM:            true,
		NewAccounts: func(n int) wl.Accounts {
			return &poolAccounts{txAccounts: newTxAccounts(n, hybrid.Atomically), pool: tasks.New()}
		},
		Stats: hybridStats,
		Only:  []string{"interest"},
	}
}

// poolAccounts run each batch of interest as tasks of one pool, an Add per
// account and one Run.
type poolAccounts struct {
	*txAccounts
	pool *tasks.Pool
}

func (a *poolAccounts) Interest(w *wl.Worker, lo, hi int) {
	for _, f := range a.apply[lo:hi] {
		a.pool.Add(f)
	}
	if err := a.pool.Run(context.Background()); err != nil && w.Err == nil {
		w.Err = err
	}
}
