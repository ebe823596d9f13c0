package stm

import "github.com/hytm/hytm/internal/hwtypes"

// Commit hooks.
//
// A transaction keeps the functions that AfterCommit registers in tx.hooks,
// in registration order. Every path that ends an attempt without a commit
// drops them: begin (the next attempt after an abort or a Retry), the error
// return of run, abandon (a panic), and the rollback of a savepoint (a nested
// Atomically or an OrElse branch left by an error, Retry or panic), which
// truncates the list to the length recorded when the savepoint opened.
// After a commit, run (or runHardware) takes the list out of the transaction,
// leaves the worker, and only then calls the hooks, so that a hook runs
// outside any transaction and may call Atomically itself.
//
// The list is cleared as the hooks run, so it keeps no closure alive. A
// goroutine's own worker (not a pooled one, and not under the race detector,
// where workers change hands between transactions) gets the emptied array
// back for its next transaction, so a goroutine that registers hooks in
// every transaction allocates the array once. A transaction that registers
// none pays one length check at begin and one in run.

// AfterCommit registers f to run once the transaction commits.
//
// f runs exactly once per commit: after the transaction's Stores became
// visible, outside any transaction (it may call [Atomically], which starts a
// new transaction), on the goroutine that called Atomically, before
// Atomically returns. Hooks run in the order they were registered. Nothing
// runs for an attempt that aborts or calls [Tx.Retry], nor when the body
// returns an error or panics. A nested Atomically or an [OrElse] branch that
// is rolled back (an error, Retry, a panic) drops the hooks it registered;
// one that returns normally keeps them for the outer transaction's commit.
//
// This is how a transaction performs I/O without becoming inevitable: the
// body decides, the hook acts on the committed decision.
//
// If f panics, the transaction stays committed, the hooks registered after
// f do not run, and the panic continues from Atomically (the worker has
// already left the transaction, so nothing is left locked).
//
// In a hardware attempt (package hybrid) the hook is queued and runs after
// the hardware commit. A real RTM attempt must not allocate, so it queues f
// only if the goroutine's hook array has room (it keeps the array of an
// earlier software transaction that registered hooks); otherwise it moves
// the transaction to software, as Retry and Inevitable do.
//
// f must not be nil.
func (tx *Tx) AfterCommit(f func()) {
	if f == nil {
		panic("stm: AfterCommit with a nil function")
	}
	tx.check()
	if tx.hw != nil && tx.hw.mode == hwtypes.Real && len(tx.hooks) == cap(tx.hooks) {
		hwNeedsSoftware(tx) // appending would allocate inside RTM
	}
	tx.hooks = append(tx.hooks, f)
}

// Current returns the transaction whose body is running on the calling
// goroutine, or nil if there is none (outside Atomically, or in a commit
// hook). Like the *Tx a body receives, it is valid only until that body
// returns; it lets code called from a body without the *Tx, such as a task
// pool's Add, register commit hooks.
func Current() *Tx { return lookupActive(getg()) }

// dropHooks discards the hooks registered after the first n, clearing them
// so that the array keeps no closure alive.
func (tx *Tx) dropHooks(n int) {
	clear(tx.hooks[n:])
	tx.hooks = tx.hooks[:n]
}

// takeHooks ends the hook list of a finished transaction: if it committed,
// the list is returned to be run (after leaveTx) and owned says whether the
// worker stays the goroutine's so that runHooks may give the array back;
// otherwise the hooks are dropped and nil is returned.
func (tx *Tx) takeHooks(committed bool) (hooks []func(), owned bool) {
	if !committed {
		tx.dropHooks(0)
		return nil, false
	}
	hooks, tx.hooks = tx.hooks, nil
	return hooks, tx.w.entry != nil && !raceBuild
}

// runHooks runs the hooks of a committed transaction, outside it. Each is
// cleared before it is called; if one panics, the rest are not run and the
// array is not reused.
func runHooks(w *worker, hooks []func(), owned bool) {
	for i, f := range hooks {
		hooks[i] = nil
		f()
	}
	if owned && w.tx.hooks == nil {
		// The worker is still this goroutine's (owned), and no hook's own
		// transaction left an array there.
		w.tx.hooks = hooks[:0]
	}
}
