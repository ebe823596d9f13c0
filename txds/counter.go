package txds

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/hytm/hytm/stm"
)

// Counter is a transactional int64 whose Adds do not conflict with each
// other. It keeps one Var per stripe (see stripe.go): Add changes the stripe
// of the calling goroutine's P, Load sums every stripe in the transaction's
// snapshot.
//
// Two Adds running at the same time on different Ps write different Vars,
// so neither aborts the other. A transaction that Loads the Counter reads
// every stripe, so it conflicts with any Add that commits while it runs, as
// serializability requires: "if c.Load(tx) < limit { c.Add(tx, 1) }" never
// overshoots the limit. Read-only transactions that Load never abort.
//
// A Counter must be made with [NewCounter]; use it through a pointer.
type Counter struct {
	// Every Add reads these two fields: the padding keeps other objects,
	// which a program may write at any rate, off their cache line (two
	// goroutines adding from two cores spent a tenth of their time
	// loading them while a neighbour's writes kept taking the line).
	_       cpu.CacheLinePad
	stripes []counterStripe
	mask    uint32
	_       cpu.CacheLinePad
}

// counterStripe is one stripe, padded so that stripes written from
// different Ps never share a cache line (a Var[int64] alone is 48 bytes:
// its header and its inline copy of the value). The zero Var holds 0,
// ready to use.
type counterStripe struct {
	v stm.Var[int64]
	_ [cacheLine - unsafe.Sizeof(stm.Var[int64]{})]byte
}

// cacheLine is the padding unit of counterStripe; the slice of stripes is
// allocated in a size class that is a multiple of it.
const cacheLine = 64

// NewCounter returns a Counter holding 0.
func NewCounter() *Counter {
	n := stripeCount()
	return &Counter{stripes: make([]counterStripe, n), mask: uint32(n - 1)}
}

func (c *Counter) check() {
	if c == nil {
		panic("txds: nil Counter")
	}
	if c.stripes == nil {
		panic("txds: Counter not made with NewCounter")
	}
}

// Add adds n to the Counter in tx. It reads and writes one stripe only.
func (c *Counter) Add(tx *stm.Tx, n int64) {
	c.check()
	v := &c.stripes[stripeHint()&c.mask].v
	v.Store(tx, v.Load(tx)+n)
}

// Load returns the Counter's value in tx's snapshot (with tx's own Adds).
func (c *Counter) Load(tx *stm.Tx) int64 {
	c.check()
	var sum int64
	for i := range c.stripes {
		sum += c.stripes[i].v.Load(tx)
	}
	return sum
}

// AddAtomically adds n in a transaction of its own (joining the caller's if
// called inside one). It is the non-transactional form of [Counter.Add].
func (c *Counter) AddAtomically(n int64) {
	c.check()
	_ = stm.Atomically(func(tx *stm.Tx) error {
		c.Add(tx, n)
		return nil
	})
}

// Value returns the Counter's value, read in a transaction of its own
// (joining the caller's if called inside one). It is the non-transactional
// form of [Counter.Load].
func (c *Counter) Value() int64 {
	c.check()
	var sum int64
	_ = stm.Atomically(func(tx *stm.Tx) error {
		sum = c.Load(tx)
		return nil
	})
	return sum
}
