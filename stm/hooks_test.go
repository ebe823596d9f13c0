package stm

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/htm"

	"github.com/hytm/hytm/internal/hwtypes"
)

// White-box tests of AfterCommit (hooks.go); the behaviour suite
// (internal/tmtest, AfterCommit) covers the contract for stm and hybrid.

// TestAfterCommitHardwareAttempt: in an emulated hardware attempt the hooks
// are queued and run after the commit, outside the attempt; an attempt that
// aborts (a software commit dooms it) or returns an error runs none.
func TestAfterCommitHardwareAttempt(t *testing.T) {
	withHW(t, func() {
		x := NewVar(0)
		var hooks int
		var inTx bool
		runHW(t, func(tx *Tx) error {
			x.Store(tx, x.Load(tx)+1)
			tx.AfterCommit(func() { hooks++; inTx = InTransaction() })
			return nil
		})
		require.Equal(t, 1, hooks, "the hook of a committed hardware attempt")
		require.False(t, inTx, "the hook ran inside the attempt")

		st, _, err := runHardware(func(tx *Tx) error {
			x.Store(tx, 5)
			tx.AfterCommit(func() { hooks++ })
			return errTest
		}, hwtypes.Emulated)
		require.Equal(t, htm.Started, st)
		require.ErrorIs(t, err, errTest)
		require.Equal(t, 1, hooks, "a hook ran for a hardware attempt that returned an error")

		st, _, _ = runHardware(func(tx *Tx) error {
			v := x.Load(tx)
			tx.AfterCommit(func() { hooks++ })
			conflict(x) // a software commit of x dooms the attempt
			x.Store(tx, v+1)
			return nil
		}, hwtypes.Emulated)
		require.NotEqual(t, htm.Started, st, "the doomed attempt committed")
		require.Equal(t, 1, hooks, "a hook ran for an aborted hardware attempt")
		requireLeftNothing(t, "an aborted hardware attempt with hooks", x)
	})
}

// TestAfterCommitKeepsNothingAlive: a hook's closure, and what it captures,
// is garbage once the hook ran, although the goroutine keeps the hook array
// for its next transaction; so is a hook that a panicking hook skipped, and
// one dropped with a rolled-back nested call.
func TestAfterCommitKeepsNothingAlive(t *testing.T) {
	x := NewVar(0)
	var freed atomic.Int32
	track := func() *[1 << 10]byte {
		p := new([1 << 10]byte)
		runtime.SetFinalizer(p, func(*[1 << 10]byte) { freed.Add(1) })
		return p
	}
	// Skipped after a panicking hook.
	_ = catchPanic(func() {
		_ = Atomically(func(tx *Tx) error {
			x.Store(tx, 2)
			p := track()
			tx.AfterCommit(func() { panic("hook") })
			tx.AfterCommit(func() { p[0]++ })
			return nil
		})
	})
	// Dropped with a nested call that returned an error.
	require.NoError(t, Atomically(func(tx *Tx) error {
		x.Store(tx, 3)
		p := track()
		_ = Atomically(func(tx *Tx) error {
			tx.AfterCommit(func() { p[0]++ })
			return errTest
		})
		return nil
	}))
	// Ran, last: its array is the one the worker keeps.
	require.NoError(t, Atomically(func(tx *Tx) error {
		x.Store(tx, 1)
		p := track()
		tx.AfterCommit(func() { p[0]++ })
		return nil
	}))
	deadline := time.Now().Add(5 * time.Second)
	for freed.Load() < 3 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	require.Equal(t, int32(3), freed.Load(), "values captured by run, skipped or dropped hooks are still reachable")
	w := enterTx(getg())
	hooks := w.tx.hooks
	leaveTx(w)
	require.Zero(t, len(hooks))
	for _, f := range hooks[:cap(hooks)] {
		require.Nil(t, f, "the kept hook array holds a closure")
	}
}

// hookNoop is a hook that captures nothing, so registering it allocates
// nothing by itself.
func hookNoop() {}

// TestAfterCommitAllocs: a goroutine that registers hooks in every
// transaction allocates the hook array once (its worker keeps it); one that
// registers none pays nothing (TestGCZeroAllocs).
func TestAfterCommitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("race mode: workers change hands between transactions, so the array is not kept")
	}
	if !nurseryEnabled {
		t.Skip("built with hytm_nonursery")
	}
	v := NewVar(0)
	body := func(tx *Tx) error {
		v.Store(tx, v.Load(tx)+1)
		tx.AfterCommit(hookNoop)
		tx.AfterCommit(hookNoop)
		return nil
	}
	for range 1000 {
		_ = Atomically(body)
	}
	if a := testing.AllocsPerRun(10000, func() { _ = Atomically(body) }); a != 0 {
		t.Errorf("a transaction with two hooks: %v allocs", a)
	}
}

var errTest = errors.New("stm test: body error")
