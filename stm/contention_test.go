package stm

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// gateThisGoroutine makes the calling goroutine's worker gated, as if its
// recent attempts had aborted.
func gateThisGoroutine(t *testing.T) {
	w := enterTx(getg())
	for !w.cm.Gated() {
		w.cm.Aborted()
	}
	leaveTx(w)
}

// gateFree reports whether the gate is free, taking and releasing it.
func gateFree() bool {
	waited, held := gate.Enter()
	if held {
		gate.Leave()
	}
	return held && !waited
}

func TestGateReleasedOnEveryExit(t *testing.T) {
	v := NewVar(0)
	before := ReadStats().Gated
	errBody := errors.New("body error")

	gateThisGoroutine(t)
	var insideHeld bool
	require.NoError(t, Atomically(func(tx *Tx) error {
		insideHeld = !gateFree()
		v.Store(tx, v.Load(tx)+1)
		return nil
	}))
	require.True(t, insideHeld, "a gated body runs holding the gate")
	require.True(t, gateFree(), "commit releases the gate")

	gateThisGoroutine(t)
	require.ErrorIs(t, Atomically(func(tx *Tx) error { v.Store(tx, 5); return errBody }), errBody)
	require.True(t, gateFree(), "an error releases the gate")

	gateThisGoroutine(t)
	require.PanicsWithValue(t, "boom", func() {
		_ = Atomically(func(tx *Tx) error { v.Store(tx, 6); panic("boom") })
	})
	require.True(t, gateFree(), "a panic releases the gate")

	gateThisGoroutine(t)
	require.NoError(t, Atomically(func(tx *Tx) error {
		tx.Inevitable()
		insideHeld = !gateFree()
		return nil
	}))
	require.False(t, insideHeld, "an inevitable transaction does not hold the gate")

	require.Equal(t, 1, v.Peek())
	require.GreaterOrEqual(t, ReadStats().Gated-before, uint64(4))
}

func TestGateReleasedWhileRetryWaits(t *testing.T) {
	v := NewVar(0)
	waits := ReadStats().RetryWaits
	done := make(chan int)
	go func() {
		gateThisGoroutine(t)
		var got int
		_ = Atomically(func(tx *Tx) error {
			if got = v.Load(tx); got == 0 {
				tx.Retry()
			}
			return nil
		})
		done <- got
	}()
	require.Eventually(t, func() bool { return ReadStats().RetryWaits > waits }, 10*time.Second, time.Millisecond)
	// The waiter blocks in Retry without the gate: a gated writer passes at
	// once, and its commit wakes the waiter.
	require.True(t, gateFree(), "Retry blocked holding the gate")
	gateThisGoroutine(t)
	require.NoError(t, Atomically(func(tx *Tx) error { v.Store(tx, 7); return nil }))
	require.Equal(t, 7, <-done)
}
