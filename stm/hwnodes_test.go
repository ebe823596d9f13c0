package stm

import (
	"errors"
	"testing"

	"github.com/hytm/hytm/htm"

	"github.com/hytm/hytm/internal/hwtypes"
)

// TestHWErrorReturnsNodes: a hardware body that stores and then returns an
// error gives the version nodes it took back to the worker's nursery (the
// attempt's closing rollback, shared by the emulated and the real path),
// so that a call site whose bodies often fail does not allocate: after
// warm-up a failing emulated attempt that stores allocates no more than one
// that only loads (the emulator's own per-attempt record), and the nursery
// holds as many nodes after each failed attempt as before it.
func TestHWErrorReturnsNodes(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector's instrumentation allocates")
	}
	errNo := errors.New("no")
	withHW(t, func() {
		a, b := NewVar(0), NewVar(0)
		body := func(tx *Tx) error {
			a.Store(tx, a.Load(tx)+1)
			b.Store(tx, b.Load(tx)+1)
			return errNo
		}
		loadOnly := func(tx *Tx) error {
			_ = a.Load(tx) + b.Load(tx)
			return errNo
		}
		run := func(body func(*Tx) error) {
			st, _, err := runHardware(body, hwtypes.Emulated)
			if st != htm.Started || err != errNo {
				t.Fatalf("hardware attempt: status %v, err %v; want it to end with the body's error", st, err)
			}
		}
		attempt := func() { run(body) }
		for range 100 {
			attempt()
		}
		w := enterTx(getg())
		leaveTx(w)
		before, ok := nurseryLen(w, a.h.tkey.Load())
		if !ok {
			t.Fatal("the worker's slot is pinned while idle")
		}
		if before < 2 {
			t.Fatalf("nursery holds %d nodes after warm-up; the test needs the failed attempts to have returned theirs", before)
		}
		base := testing.AllocsPerRun(1000, func() { run(loadOnly) })
		if allocs := testing.AllocsPerRun(1000, attempt); allocs > base {
			t.Errorf("a hardware body that returns an error after two Stores: %v allocs per attempt, one that only loads %v", allocs, base)
		}
		after, _ := nurseryLen(w, a.h.tkey.Load())
		if after != before {
			t.Errorf("nursery went from %d to %d nodes over failed attempts: nodes were lost", before, after)
		}
		if a.Peek() != 0 || b.Peek() != 0 {
			t.Errorf("a failed hardware body committed: a=%d b=%d", a.Peek(), b.Peek())
		}
	})
}
