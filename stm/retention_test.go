package stm_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/hytm/hytm/stm"
)

// TestNoRetentionAfterGoroutinesExit is a regression test: goroutines that
// ran transactions and exited, over Vars the program then dropped, must not
// keep those Vars alive (through a worker's grown logs, or the trim queue).
// Heap growth over rounds must stay flat.
func TestNoRetentionAfterGoroutinesExit(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	nv, txs := 100_000, 100_000
	if testing.Short() {
		nv, txs = 20_000, 20_000
	}
	for _, mode := range []string{"bigread", "smallrw"} {
		var first uint64
		for round := 0; round < 4; round++ {
			vs := make([]*stm.Var[int], nv)
			for i := range vs {
				vs[i] = stm.NewVar(i)
			}
			var wg sync.WaitGroup
			for g := 0; g < 2; g++ {
				wg.Go(func() {
					if mode == "bigread" {
						_ = stm.Atomically(func(tx *stm.Tx) error {
							for _, v := range vs {
								v.Load(tx)
							}
							return nil
						})
						return
					}
					for i := range txs {
						a, b := vs[(i*7919+g)%len(vs)], vs[(i*104729+g*3)%len(vs)]
						_ = stm.Atomically(func(tx *stm.Tx) error { a.Store(tx, b.Load(tx)+1); return nil })
					}
				})
			}
			wg.Wait()
			vs = nil
			h := heap()
			t.Logf("%s round %d: heap %.1f MB", mode, round, float64(h)/(1<<20))
			if round == 0 {
				first = h
			} else if h > first+(4<<20) {
				t.Fatalf("%s: heap grew from %d to %d bytes over %d rounds: dropped Vars are retained", mode, first, h, round)
			}
		}
	}
}
