package policy

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestContentionHysteresis(t *testing.T) {
	var c Contention
	require.False(t, c.Gated())
	aborts := 0
	for !c.Gated() {
		c.Aborted()
		aborts++
		require.Less(t, aborts, 100, "never gated")
	}
	// From zero, half of the last attempts aborting takes about 11 aborts.
	require.InDelta(t, 11, aborts, 2)
	require.Greater(t, c.Intensity(), 0.5)

	// Uncontended commits bring it back, but only below ContentionLow.
	commits := 0
	for c.Gated() {
		c.Committed(false)
		commits++
		require.Less(t, commits, 1000, "never ungated")
	}
	require.Greater(t, commits, 20, "left the gate too soon: no hysteresis")
	require.Less(t, c.Intensity(), 1.0/16)

	// A contended commit (the gate was busy) counts as an abort.
	var d Contention
	for range aborts {
		d.Committed(true)
	}
	require.True(t, d.Gated())

	// Commits alone never gate, and decay to exactly zero.
	var e Contention
	e.Aborted()
	for range 1000 {
		e.Committed(false)
	}
	require.Zero(t, e.Intensity())
	require.False(t, e.Gated())
}

func TestGateExcludes(t *testing.T) {
	var g Gate
	n := 20000
	if testing.Short() {
		n = 2000
	}
	inside := 0 // guarded by g alone: the race detector checks the exclusion
	var wg sync.WaitGroup
	var mu sync.Mutex
	gaveUp := 0
	for range 4 {
		wg.Go(func() {
			for range n {
				_, held := g.Enter()
				if !held {
					mu.Lock()
					gaveUp++
					mu.Unlock()
					continue
				}
				inside++
				if inside != 1 {
					panic("two holders")
				}
				inside--
				g.Leave()
			}
		})
	}
	wg.Wait()
	// Short holders look stuck only when the OS deschedules one for
	// milliseconds; that must stay rare.
	require.Less(t, gaveUp, 4*n/100, "waiters gave up on a moving gate")
}

func TestGateFastPathAndContended(t *testing.T) {
	var g Gate
	waited, held := g.Enter()
	require.False(t, waited)
	require.True(t, held)
	require.False(t, g.Leave(), "nobody waited")

	_, held = g.Enter()
	require.True(t, held)
	got := make(chan [2]bool)
	go func() {
		w, h := g.Enter()
		got <- [2]bool{w, h}
	}()
	// The waiter registers before the holder leaves.
	require.Eventually(t, func() bool { return g.wait.Load() == 1 }, 5*time.Second, time.Millisecond)
	require.True(t, g.Leave(), "a waiter was there")
	r := <-got
	require.Equal(t, [2]bool{true, true}, r)
	g.Leave()
}

func TestGateStuckHolderIsBypassed(t *testing.T) {
	var g Gate
	_, held := g.Enter()
	require.True(t, held)
	require.False(t, g.Stuck())
	// The holder never leaves (a blocked body): a waiter gives up after
	// GateStuckRounds rounds without progress instead of waiting forever.
	done := make(chan bool)
	go func() {
		_, h := g.Enter()
		done <- h
	}()
	select {
	case h := <-done:
		require.False(t, h, "got a held gate")
	case <-time.After(30 * time.Second):
		t.Fatal("waiter never gave up")
	}
	require.True(t, g.Stuck())
	require.Equal(t, uint64(1), g.GaveUp())
	// Later entrants do not wait again for the same stuck holder.
	for range 3 {
		waited, h := g.Enter()
		require.False(t, h)
		require.False(t, waited, "a stuck holder is no sign of contention")
	}
	require.Equal(t, uint64(1), g.GaveUp(), "one wait in all for one stuck holder")
	g.Leave()
	require.False(t, g.Stuck(), "the holder left")
	// Open again.
	_, held = g.Enter()
	require.True(t, held)
	g.Leave()
}

func TestGateHungryWaiterGetsIn(t *testing.T) {
	// One goroutine re-enters in a tight loop; a second one must still get
	// the gate (the holder steps aside once the waiter is hungry).
	var g Gate
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, held := g.Enter(); held {
				g.Leave()
			}
		}
	})
	in := make(chan bool)
	go func() {
		for range 5 {
			_, held := g.Enter()
			if held {
				g.Leave()
			}
			in <- held
		}
	}()
	for range 5 {
		select {
		case held := <-in:
			require.True(t, held, "a waiter behind a busy but moving gate must get it")
		case <-time.After(30 * time.Second):
			t.Fatal("a waiter behind a moving gate never got in")
		}
	}
	close(stop)
	wg.Wait()
}
