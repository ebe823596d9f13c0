package stm

import (
	"testing"
	"time"

	"github.com/hytm/hytm/htm"

	"github.com/hytm/hytm/internal/hwtypes"
)

// Tests of the software-live indicator (swlive.go): multi-Var hardware
// commits, run here on an emulator through runHardware, tick the clock only
// while a software transaction is live. They read the global clock and
// counters, so none of them is parallel.

// withHW runs f with emulated hardware attempts on a fresh emulator (no
// spurious aborts) and the indicator on, then turns both off again.
func withHW(t *testing.T, f func()) {
	t.Helper()
	setEmulator(htm.NewEmulator(htm.EmuConfig{Seed: 1}))
	setHardwareActive(true)
	defer func() {
		setHardwareActive(false)
		setEmulator(nil)
	}()
	f()
}

// runHW runs fn as one emulated hardware attempt, which must commit: the
// tests run it alone, on an emulator without spurious aborts.
func runHW(t *testing.T, fn func(tx *Tx) error) {
	t.Helper()
	st, _, err := runHardware(fn, hwtypes.Emulated)
	if st != htm.Started || err != nil {
		t.Fatalf("hardware attempt: status %v, err %v", st, err)
	}
}

// transfer moves amt from a to b: a multi-Var commit.
func transfer(a, b *Var[int], amt int) func(tx *Tx) error {
	return func(tx *Tx) error {
		a.Store(tx, a.Load(tx)-amt)
		b.Store(tx, b.Load(tx)+amt)
		return nil
	}
}

func clockDeltas(h0 hwtypes.Stats) (ticks, skips uint64) {
	h := readHWStats()
	return h.ClockTicks - h0.ClockTicks, h.ClockSkips - h0.ClockSkips
}

// TestHWCommitSkipsTick: with no software transaction live, multi-Var
// hardware commits (two Vars written; one written and another read) leave
// the clock alone, stamp their versions with its value,
// and are counted as skips; software snapshots taken afterwards see them.
// With the indicator off, the same commit ticks.
func TestHWCommitSkipsTick(t *testing.T) {
	withHW(t, func() {
		const n = 200
		as, bs := make([]*Var[int], n), make([]*Var[int], n)
		for i := range as {
			as[i], bs[i] = NewVar(100), NewVar(0)
		}
		c0, h0 := clock.v.Load(), readHWStats()
		for i := range as {
			if i%2 == 0 {
				runHW(t, transfer(as[i], bs[i], i))
			} else {
				a, b := as[i], bs[i]
				runHW(t, func(tx *Tx) error { b.Store(tx, a.Load(tx)-100+i); return nil })
			}
		}
		if c := clock.v.Load(); c != c0 {
			t.Errorf("clock moved from %d to %d with no software transaction live", c0, c)
		}
		if ticks, skips := clockDeltas(h0); ticks != 0 || skips != n {
			t.Errorf("clock ticks %d, skips %d; want 0, %d", ticks, skips, n)
		}
		for i := range bs {
			if hd := bs[i].h.head.Load(); hd.ts != c0 {
				t.Fatalf("Var %d: head stamped %d, want %d", i, hd.ts, c0)
			}
		}
		sum := 0
		if err := Atomically(func(tx *Tx) error {
			sum = 0
			for i := range as {
				sum += as[i].Load(tx) + bs[i].Load(tx)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if want := 100*n + (n/2)*(n/2); sum != want { // odd i add b = i
			t.Errorf("software snapshot after the commits: sum %d, want %d", sum, want)
		}

		setHardwareActive(false)
		c0, h0 = clock.v.Load(), readHWStats()
		runHW(t, transfer(as[0], bs[0], 1))
		if c := clock.v.Load(); c != c0+1 {
			t.Errorf("indicator off: clock %d -> %d, want a tick", c0, c)
		}
		if ticks, skips := clockDeltas(h0); ticks != 1 || skips != 0 {
			t.Errorf("indicator off: clock ticks %d, skips %d; want 1, 0", ticks, skips)
		}
	})
}

// TestHWCommitTicksForLiveReader: a multi-Var hardware commit that runs
// while a software read-only transaction is live (blocked in its body,
// after one Load or before any) ticks the clock, and the reader then still
// sees its snapshot: the old values of both Vars. Once the reader has ended,
// the next commit skips the tick again.
func TestHWCommitTicksForLiveReader(t *testing.T) {
	for _, readFirst := range []bool{true, false} {
		name := "before-any-read"
		if readFirst {
			name = "after-one-read"
		}
		t.Run(name, func(t *testing.T) {
			withHW(t, func() {
				a, b := NewVar(100), NewVar(0)
				entered, release := make(chan struct{}), make(chan struct{})
				done := make(chan [3]int)
				go func() {
					var got [3]int
					_ = Atomically(func(tx *Tx) error {
						if readFirst {
							got[0] = a.Load(tx)
						}
						entered <- struct{}{}
						<-release
						got[1] = b.Load(tx)
						got[2] = a.Load(tx)
						return nil
					})
					done <- got
				}()
				<-entered
				c0, h0 := clock.v.Load(), readHWStats()
				runHW(t, transfer(a, b, 10))
				if c := clock.v.Load(); c != c0+1 {
					t.Errorf("clock %d -> %d with a software reader live, want one tick", c0, c)
				}
				if ticks, skips := clockDeltas(h0); ticks != 1 || skips != 0 {
					t.Errorf("clock ticks %d, skips %d; want 1, 0", ticks, skips)
				}
				close(release)
				got := <-done
				want := [3]int{100, 0, 100}
				if !readFirst {
					want[0] = 0
				}
				if got != want {
					t.Errorf("reader saw a=%d, b=%d, a=%d; want its snapshot %v", got[0], got[1], got[2], want)
				}
				h1 := readHWStats()
				runHW(t, transfer(a, b, 10))
				if ticks, skips := clockDeltas(h1); ticks != 0 || skips != 1 {
					t.Errorf("after the reader ended: clock ticks %d, skips %d; want 0, 1", ticks, skips)
				}
				if a.Peek() != 80 || b.Peek() != 20 {
					t.Errorf("a=%d b=%d, want 80 20", a.Peek(), b.Peek())
				}
			})
		})
	}
}

// TestHWCommitSkipsWhileRetryWaits: a software transaction blocked in Retry
// holds no snapshot, so it does not make hardware commits tick.
func TestHWCommitSkipsWhileRetryWaits(t *testing.T) {
	withHW(t, func() {
		flag := NewVar(0)
		a, b := NewVar(100), NewVar(0)
		// Read before the waiter starts: it may count its wait before
		// this goroutine runs again.
		waits := ReadStats().RetryWaits
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = Atomically(func(tx *Tx) error {
				if flag.Load(tx) == 0 {
					tx.Retry()
				}
				return nil
			})
		}()
		// The waiter withdraws its announcement just after it counts its
		// wait; commit until one skips.
		deadline := time.Now().Add(10 * time.Second)
		skipped := false
		for !skipped && time.Now().Before(deadline) {
			h0 := readHWStats()
			runHW(t, transfer(a, b, 1))
			_, skips := clockDeltas(h0)
			skipped = skips == 1 && ReadStats().RetryWaits > waits
			time.Sleep(time.Millisecond)
		}
		select {
		case <-done:
			t.Fatal("the Retry waiter finished before it was woken")
		default:
		}
		if !skipped {
			t.Error("no hardware commit skipped the tick while the only software transaction waited in Retry")
		}
		if err := Atomically(func(tx *Tx) error { flag.Store(tx, 1); return nil }); err != nil {
			t.Fatal(err)
		}
		<-done
	})
}

// TestHWSkipsStillTrim: a hot pair of Vars written only by skipping
// hardware commits has its chains trimmed (the worker's maintenance ticks
// the clock now and then so that versions sharing a stamp fall below the
// horizon), and the clock moves far less often than once per commit; so
// has a hot Var written only by single-Var hardware commits.
func TestHWSkipsStillTrim(t *testing.T) {
	drainTrimQueue(t)
	withHW(t, func() {
		n := 20000
		if testing.Short() {
			n = 4000
		}
		a, b := NewVar(0), NewVar(0)
		c0, h0 := clock.v.Load(), readHWStats()
		maxLen := 0
		for range n {
			runHW(t, transfer(a, b, 1))
			maxLen = max(maxLen, chainLen(&a.h), chainLen(&b.h))
		}
		ticks, skips := clockDeltas(h0)
		moved := clock.v.Load() - c0
		t.Logf("%d commits: clock ticks %d, skips %d; clock moved %d; longest chain %d", n, ticks, skips, moved, maxLen)
		if ticks != 0 || skips != uint64(n) {
			t.Errorf("clock ticks %d, skips %d; want 0, %d", ticks, skips, n)
		}
		if moved == 0 || moved > uint64(n/(trimDepth/4)) {
			t.Errorf("clock moved %d in %d commits: want maintenance ticks, at most one per %d commits", moved, n, trimDepth/4)
		}
		// Steady state stays within 2*trimDepth; the first cycles reach
		// 4*trimDepth, as with software single-Var commits (the tick comes
		// with a maintenance that follows a long walk).
		if maxLen > 8*trimDepth {
			t.Errorf("chains grew to %d versions: skipping commits are not trimmed", maxLen)
		}
		if a.Peek() != -n || b.Peek() != n {
			t.Errorf("a=%d b=%d, want %d %d", a.Peek(), b.Peek(), -n, n)
		}

		// Single-Var hardware commits skip the tick the same way: they too
		// must reach the maintenance tick (before it they grew chains without
		// bound when nothing else moved the clock).
		v := NewVar(0)
		maxLen = 0
		for range n {
			runHW(t, func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil })
			maxLen = max(maxLen, chainLen(&v.h))
		}
		if maxLen > 8*trimDepth || v.Peek() != n {
			t.Errorf("single-Var hardware commits: longest chain %d, v=%d; want <= %d, %d", maxLen, v.Peek(), 8*trimDepth, n)
		}
	})
}
