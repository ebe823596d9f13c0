package hybrid

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/htm"
	"github.com/hytm/hytm/stm"
)

// firstProbe is a type that only TestFirstStoreInHardware uses: no
// transaction has given it a type key before the test's first run in the
// process (a key lasts as long as the process: with -count above 1, later
// runs find it).
type firstProbe struct{ a int }

// firstProbeRuns counts TestFirstStoreInHardware's runs in this process.
var firstProbeRuns int

// TestFirstStoreInHardware: a hardware attempt gives a zero Var its first
// version itself (its type's shared zero node) once the type has a key,
// and commits in hardware; while the type has none (making one allocates)
// it moves to software. One call site throughout: its first call runs in
// software, where the site learns that it writes.
func TestFirstStoreInHardware(t *testing.T) {
	e := htm.NewEmulator(htm.EmuConfig{Seed: 3})
	withEmulator(t, e, func() {
		var zs [3]stm.Var[firstProbe]
		n := stm.NewVar(0)
		i := -1
		call := func() (hw, sw uint64) {
			s0 := ReadStats()
			require.NoError(t, Atomically(func(tx *Tx) error {
				n.Store(tx, n.Load(tx)+1)
				if i >= 0 {
					zs[i].Store(tx, firstProbe{i + 1})
				}
				return nil
			}))
			s1 := ReadStats()
			return s1.HardwareCommits - s0.HardwareCommits, s1.SoftwareCommits - s0.SoftwareCommits
		}
		call() // the site learns that it writes
		hw, sw := call()
		require.Equal(t, [2]uint64{1, 0}, [2]uint64{hw, sw}, "a warm site: hardware, software commits")
		i = 0
		hw, sw = call()
		if firstProbeRuns == 0 {
			require.Equal(t, [2]uint64{0, 1}, [2]uint64{hw, sw}, "firstProbe had no key: the first Store moves to software")
		} else {
			require.Equal(t, [2]uint64{1, 0}, [2]uint64{hw, sw}, "firstProbe has a key from an earlier run: hardware")
		}
		firstProbeRuns++
		for i = 1; i < len(zs); i++ {
			hw, sw = call()
			require.Equal(t, [2]uint64{1, 0}, [2]uint64{hw, sw}, "firstProbe has a key: the first Store of zs[%d] in hardware", i)
		}
		for i := range zs {
			require.Equal(t, firstProbe{i + 1}, zs[i].Peek())
		}
	})
}

// TestFirstStoreHardwareHammer: pairs of zero Vars get their first Stores
// in (emulated) hardware attempts while software readers with open
// snapshots read pairs; every read sees both Vars of a pair equal.
func TestFirstStoreHardwareHammer(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 2_000
	}
	e := htm.NewEmulator(htm.EmuConfig{Seed: 5, SpuriousRate: 0.01})
	withEmulator(t, e, func() {
		_ = stm.NewVar(0) // the type has a key
		pairs := make([][2]stm.Var[int], n)
		var written atomic.Int64
		var bad atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for r := range 2 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(r), 11))
				for {
					select {
					case <-stop:
						return
					default:
					}
					j := rng.IntN(int(min(written.Load()+8, int64(n))))
					_ = stm.Atomically(func(tx *stm.Tx) error { // software, read-only
						if pairs[j][0].Load(tx) != pairs[j][1].Load(tx) {
							bad.Add(1)
						}
						return nil
					})
				}
			})
		}
		before := ReadStats()
		for i := range n {
			p := &pairs[i]
			require.NoError(t, Atomically(func(tx *Tx) error { p[0].Store(tx, i+1); p[1].Store(tx, i+1); return nil }))
			written.Store(int64(i + 1))
		}
		close(stop)
		wg.Wait()
		after := ReadStats()
		require.Zero(t, bad.Load(), "reads saw the two Vars of a pair differ")
		for i := range pairs {
			require.Equal(t, i+1, pairs[i][0].Peek(), "pair %d", i)
			require.Equal(t, i+1, pairs[i][1].Peek(), "pair %d", i)
		}
		require.Greater(t, after.HardwareCommits-before.HardwareCommits, uint64(n/2), "most first Stores should commit in hardware")
	})
}

// TestHardwareReadsOwnWrites: an (emulated) hardware attempt reads back
// what it stored, through its write filter and its write log, for Vars
// it wrote once, twice, and among many others.
func TestHardwareReadsOwnWrites(t *testing.T) {
	e := htm.NewEmulator(htm.EmuConfig{Seed: 9})
	withEmulator(t, e, func() {
		vs := make([]stm.Var[int], 24)
		round := 0
		body := func(tx *Tx) error {
			for i := range vs {
				vs[i].Store(tx, round*100+i)
			}
			vs[5].Store(tx, -round) // a second write to one Var
			for i := range vs {
				want := round*100 + i
				if i == 5 {
					want = -round
				}
				if got := vs[i].Load(tx); got != want {
					return fmt.Errorf("round %d: Var %d reads %d, want %d", round, i, got, want)
				}
			}
			return nil
		}
		var hw uint64
		for round = 1; round <= 5; round++ {
			s0 := ReadStats()
			require.NoError(t, Atomically(body))
			hw += ReadStats().HardwareCommits - s0.HardwareCommits
		}
		require.Positive(t, hw, "no round committed in hardware")
	})
}
