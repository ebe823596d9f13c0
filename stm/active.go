package stm

import (
	"sync"
	"sync/atomic"
)

// The active table maps a running goroutine to its transaction, so that
// Atomically called inside a body can join the outer transaction (flat
// nesting). Go has no goroutine-local storage; getg gives the goroutine's
// identity and this table gives the lookup.
//
// Each goroutine hashes to one entry. The fast path is one load (is this my
// entry?), one CAS to claim it and one store to clear it, all on a line that
// only goroutines hashing nearby touch. When the entry is held by another
// goroutine, the transaction is recorded in a mutex-protected overflow map,
// which is consulted only while it is non-empty.
//
// A goroutine only finds its own entry (the key is its g), so the tx field is
// written and read by that goroutine while the key holds; the key's CAS and
// store order those accesses for the next owner.
const (
	activeBits = 12
	activeSize = 1 << activeBits
)

type activeEntry struct {
	g  atomic.Uintptr
	tx *Tx
}

var active [activeSize]activeEntry

var overflow struct {
	n  atomic.Int32 // entries in m; read on every lookup miss
	mu sync.Mutex
	m  map[uintptr]*Tx
}

func activeIndex(g uintptr) uintptr {
	// Fibonacci hashing: g addresses share their low bits.
	return uintptr((uint64(g) * 0x9E3779B97F4A7C15) >> (64 - activeBits))
}

// lookupActive returns the transaction running on goroutine g, or nil.
func lookupActive(g uintptr) *Tx {
	e := &active[activeIndex(g)]
	// acquire: pairs with the CAS in enterActive by this same goroutine.
	if e.g.Load() == g {
		return e.tx
	}
	if overflow.n.Load() == 0 {
		return nil
	}
	return lookupOverflow(g)
}

func lookupOverflow(g uintptr) *Tx {
	overflow.mu.Lock()
	defer overflow.mu.Unlock()
	return overflow.m[g]
}

// enterActive records tx as running on goroutine g.
func enterActive(g uintptr, tx *Tx) {
	e := &active[activeIndex(g)]
	if e.g.Load() == 0 && e.g.CompareAndSwap(0, g) {
		e.tx = tx
		tx.activeSlot = e
		return
	}
	overflow.mu.Lock()
	if overflow.m == nil {
		overflow.m = make(map[uintptr]*Tx)
	}
	overflow.m[g] = tx
	overflow.n.Add(1)
	overflow.mu.Unlock()
	tx.activeSlot = nil
	tx.activeG = g
}

// exitActive removes tx from the table.
func exitActive(tx *Tx) {
	if e := tx.activeSlot; e != nil {
		e.tx = nil
		// release: the next owner's CAS sees tx cleared.
		e.g.Store(0)
		tx.activeSlot = nil
		return
	}
	overflow.mu.Lock()
	delete(overflow.m, tx.activeG)
	overflow.n.Add(-1)
	overflow.mu.Unlock()
}
