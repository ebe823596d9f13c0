package stm

import "context"

// AtomicallyValue runs fn as one transaction, like [Atomically], and returns
// the value fn returned in the attempt that committed. If fn returns an
// error, the transaction rolls back and AtomicallyValue returns the zero T
// and the error.
//
// It saves the captured result variable that a body would otherwise have to
// reset on every attempt: a body may run several times, and only the value
// of the committed attempt is returned.
func AtomicallyValue[T any](fn func(tx *Tx) (T, error)) (T, error) {
	if fn == nil {
		panic("stm: AtomicallyValue with a nil function")
	}
	var out T
	err := atomicallyAt(bodySite(fn), func(tx *Tx) error {
		v, err := fn(tx)
		out = v
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// AtomicallyContext is [Atomically] with a context that ends its Retry
// waits: when ctx is done while the transaction waits in [Tx.Retry] (or in
// an [OrElse] whose every branch retried), the attempt is rolled back,
// nothing is committed and nothing is left behind, and AtomicallyContext
// returns ctx.Err(). If ctx is already done, fn does not run. For a wait
// with a deadline, pass a context from [context.WithTimeout] or
// [context.WithDeadline].
//
// The context only ends waits: a body that is running is not interrupted,
// and a transaction that can commit commits even if ctx is done meanwhile.
// Called inside a running transaction, AtomicallyContext joins it (flat
// nesting) after checking ctx once; the outermost call's context governs
// the waits.
func AtomicallyContext(ctx context.Context, fn func(tx *Tx) error) error {
	if fn == nil {
		panic("stm: AtomicallyContext with a nil function")
	}
	if ctx == nil {
		panic("stm: AtomicallyContext with a nil context")
	}
	_, err := atomicallyWroteContext(ctx, 0, fn)
	return err
}
