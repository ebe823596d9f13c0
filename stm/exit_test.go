package stm

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/fallback"
	"github.com/hytm/hytm/internal/gcore"
)

// catchPanic runs f and returns what it panicked with (nil if it returned).
func catchPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// requireLeftNothing checks that the calling goroutine's transaction is over
// and holds nothing: not in a transaction, no pinned snapshot, no
// announcement, no token, no gate, no savepoint; and that a writer on
// another goroutine commits.
func requireLeftNothing(t *testing.T, what string, x *Var[int]) {
	t.Helper()
	require.False(t, InTransaction(), "%s: the goroutine is still in the transaction", what)
	w := enterTx(getg())
	tx := &w.tx
	snap, state, irr, gated, sps, live := w.slot.Snapshot(), tx.state, tx.irrevocable, tx.gated, len(tx.sps), w.live
	hooks := len(tx.hooks)
	leaveTx(w)
	require.Zero(t, hooks, "%s: commit hooks left registered", what)
	require.Equal(t, uint64(gcore.Idle), snap, "%s: the snapshot stays pinned (no version is reclaimed again)", what)
	require.Equal(t, txIdle, state, "%s: the Tx is not idle", what)
	require.False(t, irr, "%s: still irrevocable", what)
	require.False(t, gated, "%s: still holding the gate", what)
	require.Zero(t, sps, "%s: savepoints left open", what)
	require.Nil(t, live, "%s: still announced as live", what)
	require.Zero(t, irrev.active.Load(), "%s: the irrevocable token is still held", what)
	done := make(chan error, 1)
	go func() { done <- Atomically(func(tx *Tx) error { x.Store(tx, x.Load(tx)+1); return nil }) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: a writer on another goroutine did not commit", what)
	}
}

// conflict commits x+1 from another goroutine and waits for it, so that the
// running attempt, which read x, fails its commit.
func conflict(x *Var[int]) {
	done := make(chan struct{})
	go func() {
		_ = Atomically(func(tx *Tx) error { x.Store(tx, x.Load(tx)+1); return nil })
		close(done)
	}()
	<-done
}

// TestPanicOutsideBodyLeavesNothing: panics that the library raises outside
// the body — after the attempt was rolled back, while the goroutine still
// holds its snapshot, an announcement or the irrevocable token — go through
// the same deferred cleanup as a body's panic. Before, such a panic left the
// goroutine inside a dead transaction (its next Atomically joined it and
// lost its Stores), the snapshot pinned for good, and, escalated, the
// irrevocable token held, which stopped every writer in the process.
func TestPanicOutsideBodyLeavesNothing(t *testing.T) {
	t.Run("RetryWithNothingRead", func(t *testing.T) {
		x := NewVar(0)
		r := catchPanic(func() { _ = Atomically(func(tx *Tx) error { tx.Retry(); return nil }) })
		require.True(t, strings.HasPrefix(fmt.Sprint(r), "stm: Retry in a transaction that has read no Var"), "panic %v", r)
		requireLeftNothing(t, "Retry with nothing read", x)
		require.NoError(t, Atomically(func(tx *Tx) error { x.Store(tx, 10); return nil }))
		require.Equal(t, 10, x.Peek(), "the next transaction of the goroutine lost its Store")
	})

	t.Run("AbortHookPanics", func(t *testing.T) {
		x := NewVar(0)
		SetAbortHook(func(e AbortEvent) { panic(fmt.Sprintf("hook: %v", e.Cause)) })
		defer SetAbortHook(nil)
		runs := 0
		r := catchPanic(func() {
			_ = Atomically(func(tx *Tx) error {
				runs++
				v := x.Load(tx)
				conflict(x)
				x.Store(tx, v+100)
				return nil
			})
		})
		SetAbortHook(nil)
		require.Equal(t, 1, runs)
		require.True(t, strings.HasPrefix(fmt.Sprint(r), "hook: "), "panic %v", r)
		requireLeftNothing(t, "a panicking abort hook at commit", x)
		require.Equal(t, 2, x.Peek(), "the aborted attempt's Store committed")
	})

	t.Run("EscalatedRetryWithNothingRead", func(t *testing.T) {
		x := NewVar(0)
		runs, irrevRuns := 0, 0
		r := catchPanic(func() {
			_ = Atomically(func(tx *Tx) error {
				runs++
				if tx.irrevocable {
					irrevRuns++
					tx.Retry() // escalated, not inevitable: Retry is allowed, and has nothing to wait on
				}
				v := x.Load(tx)
				conflict(x)
				x.Store(tx, v+100)
				return nil
			})
		})
		require.Equal(t, fallback.EscalateAfter+1, runs, "the transaction should escalate after %d aborts", fallback.EscalateAfter)
		require.Equal(t, 1, irrevRuns)
		require.True(t, strings.HasPrefix(fmt.Sprint(r), "stm: Retry in a transaction that has read no Var"), "panic %v", r)
		requireLeftNothing(t, "Retry with nothing read, escalated", x)
	})
}
