// Package stm is hytm's software transactional memory: multi-version,
// opaque, serializable, with read-only transactions that never abort.
//
//	acct := stm.NewVar(100)
//	err := stm.Atomically(func(tx *stm.Tx) error {
//		b := acct.Load(tx)
//		if b < 10 {
//			return ErrInsufficient // rolls back, returned by Atomically
//		}
//		acct.Store(tx, b-10)
//		return nil // commits
//	})
//
// A Var is made with [NewVar], or is a field of a struct: the zero Var holds
// the zero value and is ready to use, and [Var.Init] gives a fresh one
// another first value, so a tree node and its Vars can be one allocation.
// A Var is a 40-byte header followed by a copy of its newest value (a
// Var[int] is 48 bytes), which read-only transactions read without
// touching the version chain for values of up to 16 bytes; Vars that
// different goroutines write in a tight loop are best kept on separate
// cache lines (padding a struct to 64 bytes).
//
// # Guarantees
//
// Multi-version. Each [Var] keeps a chain of immutable committed versions,
// newest first, each stamped with a commit timestamp from a global clock. A
// transaction's Stores create tentative versions that only it sees until it
// commits (PyPy-STM: "the most recent version can belong to one thread").
//
// Opacity. Every execution of a body, including one that will later abort,
// sees one consistent snapshot: the values it reads are the state after some
// serial prefix of the committed transactions. A body never observes a torn
// state, so it cannot divide by zero or loop on an invariant that committed
// transactions maintain.
//
// Serializability. Committed transactions behave as if they ran one at a time
// in an order consistent with real time: a transaction that starts after
// another's Atomically returned sees its effects. Write skew is impossible:
// writers validate their whole read set at commit, not just their write set
// (this is not snapshot isolation).
//
// Read-only transactions (bodies that never Store) run their body exactly
// once. They never abort, never block a writer, and never wait for a
// writer's body; the only wait is for a commit that is installing
// versions inside their snapshot, a window of a few dozen instructions.
//
// Writers validate at commit. A conflict rolls the attempt back and runs it
// again after a randomized exponential backoff. Every abort is counted by
// cause with the conflicting Var ([ReadStats], [SetAbortHook]).
//
// Every exit leaves nothing behind. If fn returns an error, its Stores are
// discarded and the error returned; if it panics (or calls runtime.Goexit),
// its Stores are discarded, every lock, the snapshot, the irrevocable token
// and the contention gate are released, and the panic continues in the
// caller. A nested Atomically or an OrElse branch that is left by a panic,
// an error or Retry discards its own Stores even when an enclosing body
// recovers the panic and goes on. The same exits drop the commit hooks
// ([Tx.AfterCommit]) that the attempt, nested call or branch registered: a
// hook runs only after a commit, once, outside the transaction.
//
// Progress. There are no deadlocks: commits take their locks without
// waiting and release them on any failure. A transaction that aborts
// [fallback.EscalateAfter] times runs its next attempt in serial-irrevocable
// mode, in which it cannot abort (see [Tx.Inevitable]); so every transaction
// whose body terminates commits within a bounded number of attempts.
//
// Memory. Versions that no live snapshot can see are cut from their chains
// and recycled (package gc), so chains stay short and a steady-state
// transaction allocates nothing. A recycled version keeps no value alive
// (its value is cleared when a nursery keeps it), what is kept for reuse is
// bounded by bytes process-wide, and it is given back to the Go GC when
// goroutines stop running transactions (see [TrimAll]).
//
// # Memory model
//
// In the terms of the Go memory model: the commit of a transaction T
// synchronizes before every transaction that reads a version T wrote, and
// before every transaction that starts after T's Atomically returns (every
// writing commit ticks the global clock before Atomically returns, and a
// transaction's snapshot is the clock value it loads at its start; see
// "Clock" below). A Store is visible to no other transaction before its
// commit's tick, and to every transaction whose snapshot includes that tick. An
// aborted attempt synchronizes with nothing. Equivalently, a program whose
// shared state is only touched inside Atomically behaves as if every call
// ran under one global mutex, except that bodies may run more than once.
//
// # Restrictions
//
// A body may run several times, and concurrently with other bodies:
//   - keep it free of side effects other than Loads and Stores, or call
//     [Tx.Inevitable] before the side effect;
//   - do not retain the *Tx or use it from another goroutine (a Store from
//     another goroutine that adds a write panics; Loads do not check, for
//     speed);
//   - do not mutate memory reachable from a loaded value; store a new value.
//     Values are immutable once stored: append to a loaded slice can write
//     into the array of a committed version that other transactions read,
//     so copy first (append(slices.Clip(s), x), slices.Clone, maps.Clone).
//
// # Design
//
// The design notes (the clock, and why every writing commit ticks it; the
// commit protocol; hardware commits; trimming; the contention gate; Retry;
// the goroutine-to-worker table; a map of the files) are in docs/design.md
// in the repository, where the code comments that cite "Clock", "Commit"
// and the other sections point.
package stm
