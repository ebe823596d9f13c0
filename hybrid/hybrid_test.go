package hybrid

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/hytm/hytm/htm"
	"github.com/hytm/hytm/internal/hwlink"
	"github.com/hytm/hytm/internal/hwtypes"
	"github.com/hytm/hytm/internal/policy"
	"github.com/hytm/hytm/internal/tmtest"
	"github.com/hytm/hytm/stm"
)

// withEmulator runs f with hardware attempts on e, then restores the mode
// the package started with.
func withEmulator(t *testing.T, e *htm.Emulator, f func()) {
	t.Helper()
	on, mode := hwOn, hwMode
	setEmulator(e)
	defer func() {
		if htm.Emulated() {
			setEmulator(htm.DefaultEmulator())
		} else {
			hwlink.SetEmulator(nil)
			setHW(on, mode)
			sites.Reset()
		}
	}()
	f()
}

func TestBehaviour(t *testing.T) {
	tmtest.Run(t, tmtest.Impl{Name: "hybrid", Atomically: Atomically, OrElse: OrElse})
}

// TestBehaviourEmulated runs the shared suite with hardware attempts on an
// emulator. Read-only bodies stay in software (the policy learns which sites
// write), so ReadOnlyOnce holds here too.
func TestBehaviourEmulated(t *testing.T) {
	e := htm.NewEmulator(htm.EmuConfig{Seed: 7, SpuriousRate: 0.02})
	withEmulator(t, e, func() {
		tmtest.Run(t, tmtest.Impl{Name: "hybrid/emulate", Atomically: Atomically, OrElse: OrElse})
	})
	if s := e.Stats(); s.Commits == 0 {
		t.Errorf("no emulated hardware commits: %+v", s)
	}
}

// TestEnvEmulate checks that HYTM_HTM=emulate turns hardware attempts on, by
// running this test binary again with it set.
func TestEnvEmulate(t *testing.T) {
	if os.Getenv("HYBRID_TEST_CHILD") == "1" {
		if !HardwareEnabled() || hwMode != hwtypes.Emulated {
			t.Fatalf("HYTM_HTM=%s: hardware enabled %v, mode %v", os.Getenv(htm.EnvMode), hwOn, hwMode)
		}
		v := NewVar(0)
		for i := 0; i < 100; i++ {
			if err := Atomically(func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if s := ReadStats(); s.HardwareCommits == 0 || v.Peek() != 100 {
			t.Fatalf("v = %d, stats %+v", v.Peek(), s)
		}
		return
	}
	if testing.Short() && raceEnabled {
		t.Skip("re-exec skipped in -short -race")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEnvEmulate$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HYBRID_TEST_CHILD=1", htm.EnvMode+"=emulate")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// bank runs transfers on accts and returns the sum seen by a hybrid
// read-only transaction.
func sum(t *testing.T, accts []*Var[int]) int {
	t.Helper()
	var s int
	if err := Atomically(func(tx *Tx) error {
		s = 0
		for _, a := range accts {
			s += a.Load(tx)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMixedHammer mixes small transactions (which fit the emulator), large
// ones (which overflow its 4-line write capacity and fall back) and plain stm
// transactions on the same Vars.
func TestMixedHammer(t *testing.T) {
	const nAcct, initial = 32, 1000
	e := htm.NewEmulator(htm.EmuConfig{Seed: 3, MaxWriteLines: 4, SpuriousRate: 0.01})
	withEmulator(t, e, func() {
		accts := make([]*Var[int], nAcct)
		for i := range accts {
			accts[i] = NewVar(initial)
		}
		before := ReadStats()
		iters := 3000
		if testing.Short() {
			iters = 500
		}
		var wg sync.WaitGroup
		var bad sync.Once
		var badSum int
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				r := uint64(g)*0x9E3779B97F4A7C15 + 1
				next := func() int { r ^= r << 13; r ^= r >> 7; r ^= r << 17; return int(r % nAcct) }
				for i := 0; i < iters; i++ {
					switch {
					case g == 0 && i%2 == 0: // reader checking the invariant
						s := 0
						_ = Atomically(func(tx *Tx) error {
							s = 0
							for _, a := range accts {
								s += a.Load(tx)
							}
							return nil
						})
						if s != nAcct*initial {
							bad.Do(func() { badSum = s })
						}
					case g == 1: // large: overflows the write capacity
						_ = Atomically(func(tx *Tx) error {
							for k := 0; k < 8; k++ {
								a, b := accts[(i+k)%nAcct], accts[(i+k+8)%nAcct]
								a.Store(tx, a.Load(tx)-1)
								b.Store(tx, b.Load(tx)+1)
							}
							return nil
						})
					case g == 2: // software only, same Vars
						a, b := accts[next()], accts[next()]
						_ = stm.Atomically(func(tx *Tx) error {
							a.Store(tx, a.Load(tx)-3)
							b.Store(tx, b.Load(tx)+3)
							return nil
						})
					default: // small transfer
						a, b := accts[next()], accts[next()]
						_ = Atomically(func(tx *Tx) error {
							x := a.Load(tx)
							if x < 0 {
								return errors.New("never: no invariant on sign")
							}
							a.Store(tx, x-1)
							b.Store(tx, b.Load(tx)+1)
							return nil
						})
					}
				}
			}(g)
		}
		wg.Wait()
		if badSum != 0 {
			t.Errorf("a transaction saw sum %d, want %d", badSum, nAcct*initial)
		}
		if s := sum(t, accts); s != nAcct*initial {
			t.Errorf("final sum %d, want %d", s, nAcct*initial)
		}
		after := ReadStats()
		d := diff(after, before)
		t.Logf("stats: %+v; emulator %+v", d, e.Stats())
		if d.HardwareCommits == 0 || d.HardwareAborts.Capacity == 0 || d.SiteSkips == 0 {
			t.Errorf("want hardware commits, capacity aborts and site skips: %+v", d)
		}
	})
}

// diff returns a-b for the hybrid counters (Software is a's).
func diff(a, b Stats) Stats {
	return Stats{
		HardwareAttempts: a.HardwareAttempts - b.HardwareAttempts,
		HardwareCommits:  a.HardwareCommits - b.HardwareCommits,
		HardwareAborts: HardwareAborts{
			Capacity: a.HardwareAborts.Capacity - b.HardwareAborts.Capacity,
			Conflict: a.HardwareAborts.Conflict - b.HardwareAborts.Conflict,
			Explicit: a.HardwareAborts.Explicit - b.HardwareAborts.Explicit,
			Other:    a.HardwareAborts.Other - b.HardwareAborts.Other,
		},
		LockBusyWaits:      a.LockBusyWaits - b.LockBusyWaits,
		SiteSkips:          a.SiteSkips - b.SiteSkips,
		HardwareClockTicks: a.HardwareClockTicks - b.HardwareClockTicks,
		HardwareClockSkips: a.HardwareClockSkips - b.HardwareClockSkips,
		SoftwareCommits:    a.SoftwareCommits - b.SoftwareCommits,
		IrrevocableCommits: a.IrrevocableCommits - b.IrrevocableCommits,
	}
}

// TestFaultInjection runs with a high spurious-abort rate: every
// transaction must commit exactly once.
func TestFaultInjection(t *testing.T) {
	e := htm.NewEmulator(htm.EmuConfig{Seed: 11, SpuriousRate: 0.7, SpuriousRetry: true})
	withEmulator(t, e, func() {
		const G = 4
		n := 2000
		if testing.Short() {
			n = 300
		}
		ctr := NewVar(0)
		others := []*Var[int]{NewVar(0), NewVar(0), NewVar(0)}
		before := ReadStats()
		var wg sync.WaitGroup
		for g := 0; g < G; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < n; i++ {
					o := others[(g+i)%len(others)]
					if err := Atomically(func(tx *Tx) error {
						ctr.Store(tx, ctr.Load(tx)+1)
						o.Store(tx, o.Load(tx)+1)
						return nil
					}); err != nil {
						t.Error(err)
						return
					}
				}
			}(g)
		}
		wg.Wait()
		d := diff(ReadStats(), before)
		total := G * n
		if got := ctr.Peek(); got != total {
			t.Errorf("counter %d, want %d", got, total)
		}
		s := 0
		for _, o := range others {
			s += o.Peek()
		}
		if s != total {
			t.Errorf("others sum %d, want %d", s, total)
		}
		if c := d.HardwareCommits + d.SoftwareCommits + d.IrrevocableCommits; c != uint64(total) {
			t.Errorf("commits %d (hw %d, sw %d, irrevocable %d), want %d", c,
				d.HardwareCommits, d.SoftwareCommits, d.IrrevocableCommits, total)
		}
		if d.HardwareAborts.Other == 0 {
			t.Errorf("no spurious aborts seen: %+v", d)
		}
		t.Logf("stats: %+v", d)
	})
}

// TestDeterminism runs the same single-goroutine workload twice on equally
// seeded emulators: the policy must make the same decisions.
func TestDeterminism(t *testing.T) {
	run := func() (string, htm.EmuStats) {
		e := htm.NewEmulator(htm.EmuConfig{Seed: 42, MaxWriteLines: 3, SpuriousRate: 0.3})
		var log []string
		withEmulator(t, e, func() {
			trace = func(st htm.Status, a policy.Action) { log = append(log, st.String()+">"+a.String()) }
			defer func() { trace = nil }()
			// One Var per cache line (a 64-byte cell each): Vars are 48
			// bytes, and neighbours sharing a line would make the
			// emulator's line counts depend on where the allocator put
			// them.
			type cell struct {
				v Var[int]
				_ [64 - 48]byte
			}
			cells := make([]cell, 8)
			vs := make([]*Var[int], len(cells))
			for i := range vs {
				vs[i] = &cells[i].v
			}
			for i := 0; i < 400; i++ {
				k := 1 + i%5 // writes 1..5 Vars: 4 and 5 overflow
				if err := Atomically(func(tx *Tx) error {
					for j := 0; j < k; j++ {
						v := vs[(i+j)%len(vs)]
						v.Store(tx, v.Load(tx)+1)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				log = append(log, fmt.Sprint("skip", sites.Skips()))
			}
		})
		return fmt.Sprint(log), e.Stats()
	}
	l1, s1 := run()
	l2, s2 := run()
	if l1 != l2 || s1 != s2 {
		t.Errorf("runs differ:\n%v\n%v\nstats %+v\n%+v", l1, l2, s1, s2)
	}
	if s1.Capacity == 0 || s1.Spurious == 0 || s1.Commits == 0 {
		t.Errorf("workload did not exercise capacity, spurious and commits: %+v", s1)
	}
}

// TestNeedsSoftware checks that Retry, OrElse, Inevitable and nested
// Atomically leave hardware with an explicit abort and complete in software.
func TestNeedsSoftware(t *testing.T) {
	e := htm.NewEmulator(htm.EmuConfig{Seed: 5})
	withEmulator(t, e, func() {
		v := NewVar(1)
		before := ReadStats()
		nested := func(tx *Tx) error {
			return Atomically(func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil })
		}
		inevitable := func(tx *Tx) error { tx.Inevitable(); v.Store(tx, v.Load(tx)+1); return nil }
		orElse := OrElse(func(tx *Tx) error { tx.Retry(); return nil },
			func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil })
		// Each body runs twice: a site's first transaction runs in software
		// (the policy learns that it writes), the second tries hardware.
		for range 2 {
			for _, body := range []func(*Tx) error{nested, inevitable, orElse} {
				if err := Atomically(body); err != nil {
					t.Fatal(err)
				}
			}
		}
		d := diff(ReadStats(), before)
		if v.Peek() != 7 || d.HardwareAborts.Explicit < 3 || d.HardwareCommits != 0 {
			t.Errorf("v=%d, stats %+v", v.Peek(), d)
		}
	})
}

// TestHardwareError checks that a body's error from a hardware attempt
// discards its Stores and is returned.
func TestHardwareError(t *testing.T) {
	withEmulator(t, htm.NewEmulator(htm.EmuConfig{Seed: 9}), func() {
		v := NewVar(1)
		want := errors.New("boom")
		if err := Atomically(func(tx *Tx) error { v.Store(tx, 5); return want }); err != want {
			t.Fatalf("err = %v", err)
		}
		if v.Peek() != 1 {
			t.Fatalf("v = %d after an error", v.Peek())
		}
	})
}

// TestPolicy checks the decisions of policy.HWAttempts.
func TestPolicy(t *testing.T) {
	var a policy.HWAttempts
	conflict := htm.StatusConflict | htm.StatusRetry
	for i := 0; i < policy.HWConflictRetries; i++ {
		if got := a.Next(conflict); got != policy.Hardware {
			t.Fatalf("conflict %d: %v", i, got)
		}
	}
	if got := a.Next(conflict); got != policy.Software {
		t.Fatalf("conflict after retries: %v", got)
	}
	for st, want := range map[htm.Status]policy.Action{
		htm.StatusCapacity:                   policy.SoftwareCapacity,
		htm.ExplicitStatus(htm.CodeLockBusy): policy.HardwareNoCharge,
		htm.ExplicitStatus(htm.CodeSoftware): policy.Software,
		0:                                    policy.Software,
		htm.ExplicitStatus(0x12):             policy.Software,
		htm.StatusDebug:                      policy.Software,
	} {
		var b policy.HWAttempts
		if got := b.Next(st); got != want {
			t.Errorf("%v: %v, want %v", st, got, want)
		}
	}
}
