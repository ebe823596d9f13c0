package stm

// Helpers for common Var updates. Each is a Load and a Store inside the
// caller's transaction, written once so that bodies read as intent.

// Swap stores x in v and returns the value it replaced, in tx.
func (v *Var[T]) Swap(tx *Tx, x T) (old T) {
	old = v.Load(tx)
	v.Store(tx, x)
	return old
}

// Modify replaces v's value with f of it, in tx. f may run once per
// attempt, like the body around it.
func (v *Var[T]) Modify(tx *Tx, f func(T) T) {
	v.Store(tx, f(v.Load(tx)))
}

// CompareAndSwap stores new in v if v holds old, in tx, and reports whether
// it did. Unlike sync/atomic's, it never races: the comparison and the
// Store are part of the transaction.
func CompareAndSwap[T comparable](tx *Tx, v *Var[T], old, new T) bool {
	if v.Load(tx) != old {
		return false
	}
	v.Store(tx, new)
	return true
}

// Check retries the transaction unless cond holds (GHC's check): the
// transaction blocks until a Var it read changes, then runs again. It is
// tx.Retry() behind a condition, for bodies that wait for a state:
//
//	stm.Check(tx, queue.Load(tx) > 0)
func Check(tx *Tx, cond bool) {
	if !cond {
		tx.Retry()
	}
}
