// Package gc decides which committed versions no snapshot can see, and
// recycles their nodes so that a steady-state transaction allocates nothing.
//
// # Snapshot tracking
//
// Every worker (a transaction descriptor, see below) owns a [Slot]: a padded
// cache line holding the snapshot timestamp of the transaction it is running,
// or Idle. [Slot.Pin] announces the snapshot with one store to the worker's own
// line; nothing shared is written on the read-only fast path. The horizon is the
// oldest announced snapshot. [Horizon] computes it on demand by scanning the
// slots (O(workers), done by writers every few commits, never by readers), and
// [CachedHorizon] returns the last value computed, which is always safe to use
// because the true horizon only moves forward.
//
// The pin protocol closes the race between a worker that has loaded the clock
// but not yet announced and a concurrent horizon scan:
//
//	pin:     s := clock.Load(); slot.Store(s); rv := clock.Load()
//	horizon: h0 := clock.Load(); h := min(h0, every slot)
//
// If the scan missed the slot store, the scan's clock load came before it, so
// rv >= h0 >= h. If it saw the store, h <= s <= rv. Either way every snapshot
// that is live now or starts later is >= any horizon ever computed.
//
// # Trimming and the reclamation invariant
//
// A chain is newest-first. Let K be the newest version whose timestamp is
// strictly below a horizon h. Every live or future snapshot rv satisfies rv >= h,
// and a reader stops at the first version it may see (timestamp <= rv), which is
// K or a newer one; so no reader reaches a version older than K, and the writer
// that trims (it holds the Var's commit lock) cuts K's prev pointer. The cut-off
// nodes are unreachable from the Var and from every live snapshot at once, which
// is exactly the epoch rule "freed only after every pinned reader has moved
// past it": the horizon is the epoch. They go straight to the trimming worker's
// [Nursery]. (Strictly below, not <=, because stm lets a snapshot see a
// single-Var commit stamped with its own timestamp that was installed after the
// snapshot began; see package stm.)
//
// Trimming is bounded work per commit: one walk down the chain of each Var the
// commit wrote, usually two nodes. Vars that stop being written keep the
// versions a long reader pinned until their next write, or until a later
// commit's amortized pass reaches them (stm keeps a small queue of Vars whose
// chains were left long); after a long reader ends, every chain is back to at
// most 2 versions within a bounded number of commits, not a time.
//
// # Nursery
//
// A worker is a pooled transaction descriptor (per-goroutine for the length of
// one transaction, recycled through a sync.Pool, which is per-P underneath), not
// a per-P structure: Go offers no cheap, safe per-P storage outside the runtime,
// and a descriptor held for a whole transaction must survive preemption and
// migration between Ps. Each descriptor keeps a [Nursery] of free version nodes
// per element type: tentative versions come from it, an abort returns them, a
// commit publishes them (they become shared and immutable), and trimmed nodes
// return to it. A node is reused only after it was cut from its chain below the
// horizon, so recycling never hands out a node that a live snapshot can read.
package gc
