package stm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestAtomicallyValue: the value of the committed attempt is returned, not
// that of an earlier attempt that aborted; an error returns the zero value
// and rolls back.
func TestAtomicallyValue(t *testing.T) {
	x := NewVar(1)
	runs := 0
	got, err := AtomicallyValue(func(tx *Tx) (int, error) {
		runs++
		v := x.Load(tx)
		if runs == 1 {
			// A conflicting commit: this attempt fails validation.
			done := make(chan struct{})
			go func() {
				_ = Atomically(func(tx *Tx) error { x.Store(tx, 10); return nil })
				close(done)
			}()
			<-done
		}
		x.Store(tx, v+1)
		return v * 100, nil
	})
	require.NoError(t, err)
	require.Equal(t, 2, runs)
	require.Equal(t, 1000, got, "the value of the attempt that committed")
	require.Equal(t, 11, x.Peek())

	errNo := errors.New("no")
	got, err = AtomicallyValue(func(tx *Tx) (int, error) {
		x.Store(tx, 0)
		return 7, errNo
	})
	require.ErrorIs(t, err, errNo)
	require.Zero(t, got)
	require.Equal(t, 11, x.Peek(), "an error rolls back")
}

// TestAtomicallyContext: a Retry wait ends when the context is done, with
// nothing committed and no goroutine left; a change still wakes it first;
// a context that is already done keeps the body from running.
func TestAtomicallyContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ready, out := NewVar(false), NewVar(0)
	waitReady := func(tx *Tx) error {
		out.Store(tx, 1) // discarded unless the transaction commits
		Check(tx, ready.Load(tx))
		out.Store(tx, 2)
		return nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- AtomicallyContext(ctx, waitReady) }()
	select {
	case err := <-done:
		t.Fatalf("returned %v before the context was cancelled or ready set", err)
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled Retry wait did not end")
	}
	require.Equal(t, 0, out.Peek(), "a cancelled transaction committed")

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer dcancel()
	require.ErrorIs(t, AtomicallyContext(dctx, waitReady), context.DeadlineExceeded)
	require.Equal(t, 0, out.Peek())

	ran := false
	require.ErrorIs(t, AtomicallyContext(ctx, func(tx *Tx) error { ran = true; return nil }), context.Canceled)
	require.False(t, ran, "the body ran with a done context")

	// A change wakes the wait before the deadline.
	lctx, lcancel := context.WithTimeout(context.Background(), time.Minute)
	defer lcancel()
	go func() { done <- AtomicallyContext(lctx, waitReady) }()
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, Atomically(func(tx *Tx) error { ready.Store(tx, true); return nil }))
	require.NoError(t, <-done)
	require.Equal(t, 2, out.Peek())
}

// TestHelpers: Swap, Modify, CompareAndSwap and Check inside transactions.
func TestHelpers(t *testing.T) {
	x := NewVar(5)
	require.NoError(t, Atomically(func(tx *Tx) error {
		require.Equal(t, 5, x.Swap(tx, 6))
		x.Modify(tx, func(v int) int { return v * 2 })
		require.False(t, CompareAndSwap(tx, x, 5, 0))
		require.True(t, CompareAndSwap(tx, x, 12, 13))
		return nil
	}))
	require.Equal(t, 13, x.Peek())
	// Check with a false condition and nothing read that could change it
	// is a Retry with an empty read set: it panics instead of blocking.
	r := func() (r any) {
		defer func() { r = recover() }()
		_ = Atomically(func(tx *Tx) error { Check(tx, false); return nil })
		return nil
	}()
	require.Contains(t, r, "stm: Retry in a transaction that has read no Var")
}

// TestAtomicallyValueAllocs: a capturing body through AtomicallyValue
// allocates nothing.
func TestAtomicallyValueAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	x := NewVar(0)
	next := func(d int) (int, error) {
		return AtomicallyValue(func(tx *Tx) (int, error) {
			v := x.Load(tx) + d
			x.Store(tx, v)
			return v, nil
		})
	}
	for range 100 {
		_, _ = next(1)
	}
	if a := testing.AllocsPerRun(1000, func() { _, _ = next(1) }); a != 0 {
		t.Errorf("AtomicallyValue with a capturing body: %v allocs per call", a)
	}
}
