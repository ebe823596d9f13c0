package hybrid

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hytm/hytm/htm"
	"github.com/hytm/hytm/stm"
)

// Tests of the RH-NOrec clock avoidance: multi-Var hardware commits tick the
// clock only while a software transaction is live (stm/swlive.go).

// TestClockSkips: with only hardware transactions running, multi-Var
// hardware commits are counted as skips; with a software reader blocked
// inside its body, the next one ticks and the reader keeps its snapshot.
func TestClockSkips(t *testing.T) {
	withEmulator(t, htm.NewEmulator(htm.EmuConfig{Seed: 21}), func() {
		a, b := NewVar(1000), NewVar(0)
		move := func(tx *Tx) error {
			a.Store(tx, a.Load(tx)-1)
			b.Store(tx, b.Load(tx)+1)
			return nil
		}
		const n = 100
		before := ReadStats()
		for range n {
			if err := Atomically(move); err != nil {
				t.Fatal(err)
			}
		}
		d := diff(ReadStats(), before)
		// The site's first transaction runs in software: the policy learns
		// that it writes.
		if d.HardwareCommits < n-1 || d.HardwareClockSkips != d.HardwareCommits || d.HardwareClockTicks != 0 {
			t.Errorf("hardware only: commits %d, clock skips %d, ticks %d; want >= %d, all skips",
				d.HardwareCommits, d.HardwareClockSkips, d.HardwareClockTicks, n-1)
		}

		entered, release := make(chan struct{}), make(chan struct{})
		got := make(chan [2]int)
		go func() {
			var x, y int
			_ = stm.Atomically(func(tx *Tx) error {
				x = a.Load(tx)
				entered <- struct{}{}
				<-release
				y = b.Load(tx)
				return nil
			})
			got <- [2]int{x, y}
		}()
		<-entered
		before = ReadStats()
		if err := Atomically(move); err != nil {
			t.Fatal(err)
		}
		d = diff(ReadStats(), before)
		if d.HardwareCommits != 1 || d.HardwareClockTicks != 1 || d.HardwareClockSkips != 0 {
			t.Errorf("software reader live: commits %d, clock ticks %d, skips %d; want 1, 1, 0",
				d.HardwareCommits, d.HardwareClockTicks, d.HardwareClockSkips)
		}
		close(release)
		if xy := <-got; xy != [2]int{1000 - n, n} {
			t.Errorf("blocked reader saw a=%d b=%d, want its snapshot %d %d", xy[0], xy[1], 1000-n, n)
		}
	})
}

// TestClockAvoidanceHammer mixes emulated hardware multi-Var transfers
// (which skip the clock tick whenever no software transaction is live) with
// software read-only audits, and hardware audits that read every account
// and write a counter. The total must never change inside any body.
//
// The first half of the transfers runs with no auditor (hardware commits
// skip the tick). The second half starts only once a software audit is
// live, and that audit stays live, half read, until 50 more transactions
// have run (hardware commits tick, and the audit's snapshot must survive
// them); then audits repeat, sleeping in between, so that commits of both
// kinds meet live audits whatever GOMAXPROCS is.
func TestClockAvoidanceHammer(t *testing.T) {
	const nAcct, initial = 16, 1000
	e := htm.NewEmulator(htm.EmuConfig{Seed: 17, SpuriousRate: 0.01})
	withEmulator(t, e, func() {
		accts := make([]*Var[int], nAcct)
		for i := range accts {
			accts[i] = NewVar(initial)
		}
		audits := NewVar(0)
		iters := 20000
		if testing.Short() {
			iters = 3000
		}
		var bad atomic.Int64
		var badSum atomic.Int64
		check := func(s int) {
			if s != nAcct*initial {
				bad.Add(1)
				badSum.Store(int64(s))
			}
		}
		sumOf := func(tx *Tx, pauseAt int, pause func()) int {
			s := 0
			for i, a := range accts {
				if i == pauseAt {
					pause() // let commits in between
				}
				s += a.Load(tx)
			}
			return s
		}
		before := ReadStats()
		var stop atomic.Bool
		var progress atomic.Int64 // transactions run by the transfer goroutines
		var half, wg, auditors sync.WaitGroup
		phase2 := make(chan struct{})   // closed when every transfer goroutine is half done
		auditing := make(chan struct{}) // closed by the first audit, while it is live
		var auditingOnce sync.Once
		for g := range 3 { // hardware transfers
			wg.Add(1)
			half.Add(1)
			go func(g int) {
				defer wg.Done()
				r := uint64(g)*0x9E3779B97F4A7C15 + 1
				next := func() int { r ^= r << 13; r ^= r >> 7; r ^= r << 17; return int(r % nAcct) }
				for i := range iters {
					if i == iters/2 {
						half.Done()
						<-auditing
					}
					progress.Add(1)
					from, to, via := next(), next(), next()
					if i%7 == 0 { // hardware audit that writes
						_ = Atomically(func(tx *Tx) error {
							check(sumOf(tx, -1, nil))
							audits.Store(tx, audits.Load(tx)+1)
							return nil
						})
						continue
					}
					_ = Atomically(func(tx *Tx) error {
						x := accts[from].Load(tx)
						accts[from].Store(tx, x-3)
						accts[via].Store(tx, accts[via].Load(tx)+1)
						accts[to].Store(tx, accts[to].Load(tx)+2)
						return nil
					})
				}
			}(g)
		}
		for g := range 2 { // software read-only audits
			auditors.Add(1)
			go func(g int) {
				defer auditors.Done()
				<-phase2
				for i := 0; !stop.Load(); i++ {
					pause := runtime.Gosched
					if g == 0 && i == 0 {
						// Stay live, half read, across 50 transactions.
						pause = func() {
							p0 := progress.Load()
							auditingOnce.Do(func() { close(auditing) })
							for progress.Load() < p0+50 && !stop.Load() {
								runtime.Gosched()
							}
						}
					}
					audit := func(tx *Tx) error { check(sumOf(tx, (i*5+g)%nAcct|1, pause)); return nil }
					if g == 0 {
						_ = stm.Atomically(audit)
					} else {
						_ = Atomically(audit) // a read-only site: stays in software
					}
					check(softwareTotal(accts))
					time.Sleep(20 * time.Microsecond)
				}
			}(g)
		}
		half.Wait()
		close(phase2)
		wg.Wait()
		stop.Store(true)
		auditors.Wait()
		if n := bad.Load(); n != 0 {
			t.Errorf("%d bodies saw a torn total (last %d, want %d)", n, badSum.Load(), nAcct*initial)
		}
		if s := sum(t, accts); s != nAcct*initial {
			t.Errorf("final total %d, want %d", s, nAcct*initial)
		}
		d := diff(ReadStats(), before)
		t.Logf("stats: %+v; emulator %+v", d, e.Stats())
		if d.HardwareClockSkips == 0 || d.HardwareClockTicks == 0 {
			t.Errorf("want hardware commits that ticked and ones that skipped: ticks %d, skips %d",
				d.HardwareClockTicks, d.HardwareClockSkips)
		}
		if d.HardwareClockTicks+d.HardwareClockSkips > d.HardwareCommits {
			t.Errorf("clock ticks %d + skips %d > hardware commits %d",
				d.HardwareClockTicks, d.HardwareClockSkips, d.HardwareCommits)
		}
	})
}

// softwareTotal is the total seen by a software read-only transaction,
// checked after its body returned.
func softwareTotal(accts []*Var[int]) int {
	s := 0
	_ = stm.Atomically(func(tx *Tx) error {
		s = 0
		for _, a := range accts {
			s += a.Load(tx)
		}
		return nil
	})
	return s
}
