package stm

import (
	"testing"
	"unsafe"
)

// TestOwnWritesChangesNothing: ownWrites (package tasks' ordered blocks,
// before they wait for their turn) must leave every meta word as it was: a
// sequence number it changed would fail the attempt's own validation, or
// that of a reader, and a lock bit it set or cleared would break the lock.
func TestOwnWritesChangesNothing(t *testing.T) {
	a, b, c := NewVar(1), NewVar(2), NewVar(3)
	_ = Atomically(func(tx *Tx) error { c.Store(tx, 4); return nil }) // a sequence above zero
	var before, after [3]uint64
	metas := func() [3]uint64 { return [3]uint64{a.h.meta.Load(), b.h.meta.Load(), c.h.meta.Load()} }
	err := Atomically(func(tx *Tx) error {
		a.Store(tx, a.Load(tx)+10)
		c.Store(tx, c.Load(tx)+10)
		_ = b.Load(tx)
		before = metas()
		ownWrites(tx)
		after = metas()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatalf("meta words changed: %x before, %x after", before, after)
	}
	if a.Peek() != 11 || c.Peek() != 14 || b.Peek() != 2 {
		t.Fatalf("after commit: a=%d b=%d c=%d, want 11 2 14", a.Peek(), b.Peek(), c.Peek())
	}
}

// TestPrefetchHarmless: the prefetches ownWrites issues are hints that
// never fault and change nothing, whatever the address: nil (a Var's head
// is never nil once written, but the instructions must not care), and a
// live word, which keeps its value. A wrong hand encoding of PREFETCHW
// (prefetch_amd64.s) would fault here or write the word.
func TestPrefetchHarmless(t *testing.T) {
	prefetchw(nil)
	prefetch(nil)
	x := []uint64{0x0123456789abcdef, 42}
	prefetchw(unsafe.Pointer(&x[0]))
	prefetch(unsafe.Pointer(&x[1]))
	if x[0] != 0x0123456789abcdef || x[1] != 42 {
		t.Fatalf("a prefetch changed memory: %#x %d", x[0], x[1])
	}
}
