package txds

import (
	"sync"
	"testing"
	"unsafe"

	"github.com/hytm/hytm/stm"
)

// TestCounterAddNoConflict: Adds from 2 goroutines abort at most once per
// 1,000 commits, and none is lost.
func TestCounterAddNoConflict(t *testing.T) {
	c := NewCounter()
	n := scale(100000)
	aborts, commits := abortRate(t, 2, func(int) {
		for range n {
			c.AddAtomically(1)
		}
	})
	checkAbortRate(t, "Counter.Add from 2 goroutines", aborts, commits)
	if got := c.Value(); got != int64(2*n) {
		t.Errorf("Value = %d, want %d", got, 2*n)
	}
}

// TestCounterReadThenAdd: "add if below the limit" from 4 goroutines never
// overshoots: a transaction that Loads and then Adds serialises with the
// other Adds although they write other stripes.
func TestCounterReadThenAdd(t *testing.T) {
	c := NewCounter()
	limit := int64(scale(20000))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for done := false; !done; {
				atomically(t, func(tx *stm.Tx) error {
					done = c.Load(tx) >= limit
					if !done {
						c.Add(tx, 1)
					}
					return nil
				})
			}
		})
	}
	wg.Wait()
	if got := c.Value(); got != limit {
		t.Errorf("Value = %d, want %d", got, limit)
	}
}

// TestCounterSnapshot: two Counters change together; a read-only
// transaction always sees a+b == 0.
func TestCounterSnapshot(t *testing.T) {
	a, b := NewCounter(), NewCounter()
	var wg sync.WaitGroup
	n := scale(20000)
	for range 2 {
		wg.Go(func() {
			for i := range n {
				atomically(t, func(tx *stm.Tx) error {
					a.Add(tx, int64(i))
					b.Add(tx, -int64(i))
					return nil
				})
			}
		})
	}
	for range n {
		var sum int64
		atomically(t, func(tx *stm.Tx) error { sum = a.Load(tx) + b.Load(tx); return nil })
		if sum != 0 {
			t.Fatalf("a+b = %d, want 0", sum)
		}
	}
	wg.Wait()
}

func TestCounterMisuse(t *testing.T) {
	var c *Counter
	mustPanic(t, "txds: nil Counter", func() { c.AddAtomically(1) })
	mustPanic(t, "txds: Counter not made with NewCounter", func() { new(Counter).Value() })
}

// TestCounterLayout: the fields every Add reads sit between two cache-line
// pads, so no other heap object shares their line, and each stripe fills
// whole lines of its own.
func TestCounterLayout(t *testing.T) {
	var c Counter
	lo := unsafe.Offsetof(c.stripes)
	hi := unsafe.Offsetof(c.mask) + unsafe.Sizeof(c.mask)
	if lo < cacheLine || unsafe.Sizeof(c)-hi < cacheLine {
		t.Fatalf("Counter fields at [%d, %d) of %d bytes: want a full line of padding on each side", lo, hi, unsafe.Sizeof(c))
	}
	if s := unsafe.Sizeof(counterStripe{}); s%cacheLine != 0 {
		t.Fatalf("counterStripe is %d bytes, want a multiple of %d", s, cacheLine)
	}
}
