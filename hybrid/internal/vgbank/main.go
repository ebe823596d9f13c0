// Command vgbank runs a bank hammer through package hybrid and checks the
// totals. ci/valgrind-hybrid.sh runs it under valgrind with HYTM_HTM=force,
// where every XBEGIN aborts with capacity: every transaction must fall back to
// software, and the stats must show the hardware attempts and their capacity
// aborts. It prints "vgbank: ok: ..." on success and exits 1 otherwise.
package main

import (
	"fmt"
	"os"
	"sync"

	"github.com/hytm/hytm/htm"
	"github.com/hytm/hytm/hybrid"
)

func main() {
	const nAcct, initial, workers, iters = 16, 100, 2, 300
	accts := make([]*hybrid.Var[int], nAcct)
	for i := range accts {
		accts[i] = hybrid.NewVar(initial)
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				a, b := accts[(w*7+i)%nAcct], accts[(w*3+i*5+1)%nAcct]
				_ = hybrid.Atomically(func(tx *hybrid.Tx) error {
					a.Store(tx, a.Load(tx)-1)
					b.Store(tx, b.Load(tx)+1)
					return nil
				})
			}
		}(w)
	}
	wg.Wait()
	sum := 0
	_ = hybrid.Atomically(func(tx *hybrid.Tx) error {
		sum = 0
		for _, a := range accts {
			sum += a.Load(tx)
		}
		return nil
	})
	s := hybrid.ReadStats()
	fmt.Printf("vgbank: mode=%s hardware=%v attempts=%d hwcommits=%d capacity=%d conflict=%d explicit=%d other=%d swcommits=%d skips=%d sum=%d\n",
		htm.CurrentMode(), hybrid.HardwareEnabled(), s.HardwareAttempts, s.HardwareCommits,
		s.HardwareAborts.Capacity, s.HardwareAborts.Conflict, s.HardwareAborts.Explicit,
		s.HardwareAborts.Other, s.SoftwareCommits, s.SiteSkips, sum)
	fail := func(msg string) { fmt.Println("vgbank: FAIL:", msg); os.Exit(1) }
	if sum != nAcct*initial {
		fail(fmt.Sprintf("sum %d, want %d", sum, nAcct*initial))
	}
	if s.SoftwareCommits+s.HardwareCommits+s.IrrevocableCommits < workers*iters {
		fail("fewer commits than transactions")
	}
	if os.Getenv("VGBANK_EXPECT_CAPACITY") == "1" {
		if !hybrid.HardwareEnabled() || s.HardwareAttempts == 0 || s.HardwareAborts.Capacity != s.HardwareAttempts || s.HardwareCommits != 0 {
			fail("want every hardware attempt to abort with capacity")
		}
	}
	fmt.Println("vgbank: ok: totals hold")
}
