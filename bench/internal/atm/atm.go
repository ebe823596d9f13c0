// Package atm gives github.com/anacrolix/stm v0.2.0 the typed API of hytm's
// stm (Var[T] with Load and Store, Atomically with an error result), so the
// benchmark data structures compile against it unchanged.
//
// v0.2.0 is the version of anacrolix/stm that the module proxy serves. Its
// Vars hold interface{} values (a Store of a non-pointer boxes it), every
// Atomically takes a Tx with two maps from a sync.Pool, commit locks every
// Var read or written in address order and re-runs the body at once if a
// read Var changed, and a body can observe an inconsistent state (the STM
// is not opaque). This wrapper adds only a type assertion per Load and the
// zombie guard described at [Atomically].
package atm

import (
	"sync/atomic"

	astm "github.com/anacrolix/stm"
)

// Tx is an anacrolix/stm transaction.
type Tx = astm.Tx

// Var is a typed anacrolix/stm Var. Like hytm's, the zero Var is ready to
// use (it makes its anacrolix Var, holding the zero T, on first use) and
// Init gives a fresh one another first value.
type Var[T any] struct {
	p atomic.Pointer[astm.Var]
}

// NewVar returns a Var holding x.
func NewVar[T any](x T) *Var[T] {
	v := &Var[T]{}
	v.p.Store(astm.NewVar(x))
	return v
}

// Init sets the first value of a Var that has not been used yet.
func (v *Var[T]) Init(x T) {
	if !v.p.CompareAndSwap(nil, astm.NewVar(x)) {
		panic("atm: Init of a Var already in use")
	}
}

// get returns the anacrolix Var, making it for a zero Var.
func (v *Var[T]) get() *astm.Var {
	if x := v.p.Load(); x != nil {
		return x
	}
	var zero T
	v.p.CompareAndSwap(nil, astm.NewVar(zero))
	return v.p.Load()
}

// Load returns the Var's value in tx.
func (v *Var[T]) Load(tx *Tx) T {
	return tx.Get(v.get()).(T)
}

// Store sets the Var's value in tx.
func (v *Var[T]) Store(tx *Tx, x T) {
	tx.Set(v.get(), x)
}

// Peek returns the Var's latest committed value.
func (v *Var[T]) Peek() T {
	return astm.AtomicGet(v.get()).(T)
}

// Atomically runs fn as an anacrolix/stm transaction and returns fn's
// error. anacrolix/stm v0.2.0 cannot abort a transaction with an error, so
// the writes of a body that returns an error are committed anyway; the
// benchmark's bodies never return one.
//
// Because v0.2.0 is not opaque, a body can run on an inconsistent snapshot
// (a zombie) and panic, for example on a nil link that no committed state
// has. Atomically turns such a panic into tx.Retry(), which re-runs the body
// once a Var it read has changed; a panic on a consistent state would block
// forever instead, so tests of this variant need a timeout.
func Atomically(fn func(tx *Tx) error) error {
	var err error
	astm.Atomically(func(tx *Tx) interface{} {
		defer func() {
			if r := recover(); r != nil {
				if r == astm.Retry {
					panic(r)
				}
				tx.Retry()
			}
		}()
		err = fn(tx)
		return nil
	})
	return err
}
