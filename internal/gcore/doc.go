// Package gcore is the mechanism behind package gc: it decides which
// committed versions no snapshot can see, and recycles their nodes so that a
// steady-state transaction allocates nothing. Package gc states what a user
// sees of it and exports its process-wide bound ([MaxKeptBytes]) and gauge
// ([KeptBytes]).
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
// [Nursery]. (Strictly below, not <=, because hardware commits that skip the
// clock tick stamp their versions with the current clock value, which later
// snapshots share; see package stm.)
//
// Trimming is O(1) work per commit, amortized. stm walks a chain lazily: a
// commit that makes it trimDepth+1 deep walks it (and again every trimDepth
// commits up to 4*trimDepth); while a snapshot keeps it longer, only when the
// depth doubles, because walking the versions a long reader holds at every
// commit would be quadratic in the reader's life, or when the cut point
// known without a walk (below) is below the cached horizon, which is the
// case at the Var's first commit after a rescan once the reader ended. Every
// Var left with more than two versions is in stm's trim queue, and stays
// there (it is requeued, not dropped) while its newest version is not yet
// below the horizon. Every horizonEvery commits a worker rescans the horizon
// and trims two queued Vars.
// So after a long reader ends, every chain is back to at most 2 versions
// within a bounded number of commits, not a time: about
// horizonEvery*(Q/2+2) commits of one worker for Q queued Vars (the stm tests
// check twice that, see below). stm.TrimAll does it at once; it ticks the
// clock first, because versions that unticked hardware commits stamped with
// the current clock value are not strictly below any horizon until it moves.
//
// # Nursery
//
// A worker is a transaction descriptor owned by one goroutine: stm keeps it
// in a table keyed by the goroutine (see stm/active.go), so that a
// goroutine's transactions find their worker with one load and no atomic
// write, and goroutines whose entry is taken fall back to a sync.Pool. Go
// offers no cheap, safe per-P storage outside the runtime, and a descriptor
// held for a whole transaction must survive preemption and migration between
// Ps, so per-goroutine is the natural cut. Each descriptor keeps a [Nursery]
// of free version nodes per element type: tentative versions come from it, an
// abort returns them, a commit publishes them (they become shared and
// immutable), and trimmed nodes return to it. A node is reused only after it
// was cut from its chain below the horizon, so recycling never hands out a
// node that a live snapshot can read.
//
// A free node keeps nothing of the user's alive: a [TypeKey] made by
// [NewTypeKeyOf] carries a function that clears the value of the nodes a
// nursery keeps (stm passes one for every value type that holds pointers),
// and nodes left to the Go GC are unreachable anyway.
//
// A nursery list keeps at most [MaxFree] nodes, and at most [ListBytes] of
// them for a key of known node size. When a trim brings it more, its full
// list goes to the type's depot (held by the TypeKey) in exchange for an
// empty one, and a worker whose nursery runs dry takes a full list from the
// depot before it allocates. This balances workers that trim more versions
// than they create (they commit after other workers' versions) against
// workers that create more than they trim, without a shared write per node:
// one mutex-protected exchange moves a full list. The depot keeps at most
// [DepotMags] lists per type. Process-wide, what nurseries and depots keep
// is bounded by bytes: a list reserves room against [MaxKeptBytes] (a
// quarter list at a time, on one shared counter) before it keeps nodes, a
// full list takes its reservation to the depot, and a nursery gives its room
// back when it flushes or finds nothing to reuse. Beyond the bound, nodes go
// to the Go GC.
//
// Kept nodes are given back: [TypeKey.Drain] (stm.TrimAll) empties a depot,
// [TypeKey.Age] (stm, once per GC cycle) empties one no worker took from
// since the previous cycle, and [Nursery.Flush] empties a nursery. stm
// flushes the nurseries of workers that ran no transaction for a whole GC
// cycle (those of exited goroutines among them), of every idle worker in
// stm.TrimAll, and of a pooled worker as it returns to its pool. Another
// goroutine may flush a worker's nursery because a worker touches it only
// while its [Slot] is pinned, and [Slot.Hold] keeps the slot's Pin waiting
// while it works (a Dekker pairing of Pin's store and load with Hold's CAS
// and load).
//
// A trim hands the whole tail it cut to the nursery (and through it to the
// depot or the Go GC); nothing stays linked below the cut point.
//
// A trim finds its cut point without walking the chain in the common case:
// stm keeps, per Var, the newest version stamped before the head's stamp
// (all versions above it share the head's stamp), which is the cut point
// whenever it is below the horizon.
//
// # What the tests prove
//
// gcore: [Slot.Pin], [Slot.Repin], [Slot.Unpin] and [Horizon] give the oldest
// announced snapshot, never more than now; the cached horizon never moves
// back; a concurrent hammer (pinners against scanners and a moving clock)
// never sees a computed or cached horizon above a snapshot pinned at the time;
// [NewSlotFor] frees the slot (idle, then reused by [NewSlot]) after its owner
// is collected; [Nursery] is LIFO per type, keeps at most MaxFree, trades a
// full list with the depot (which another nursery then takes), drops only
// beyond DepotMags lists, counts every Put as Recycled or Dropped, and
// Get/Put allocate nothing; a key with a clear function has every node kept
// by Put and PutAll cleared; a key of known size keeps ListBytes per list,
// reserves exactly a chunk per list and a full list per depot list against
// MaxKeptBytes, and Flush, Drain and an empty Get give the room back; beyond
// MaxKeptBytes Put drops; Age drains only a depot unused since the previous
// Age; [Slot.Hold] succeeds on idle slots only (with aged, on those idle for
// a whole period), a Pin waits for Unhold, and a -race hammer of an owner
// against holders sees no overlap.
//
// stm (gc_test.go): over a concurrent run with a long reader, versions created
// (one per NewVar, one per Var written by each committed transaction) equal
// Stats.Trimmed plus the versions still on chains, exactly. A read-only
// transaction blocked in its body keeps every version written after it began
// (each chain is exactly 1 + writes long, and it still reads its snapshot);
// after it ends every chain is <= 2 within horizonEvery*(nv+4) commits of
// one goroutine on another Var (nv = 32 Vars; not run under -race, where
// sync.Pool drops workers at random), or after one TrimAll. A Var that a
// reader made 600 versions deep is back under trimDepth within 2*horizonEvery
// of its own commits after the reader ends. A Var written by
// a burst of single-Var commits and then never again gets back to <= 2. A
// -race hammer (writers churning checksummed values, readers verifying each
// value and a conserved total inside their bodies, one reader sleeping while
// pinned) sees no mismatch and no race. 1e6 commits (1e5 with -short) over
// 1,000 Vars with a reader pinned for a fifth of the run leave, after TrimAll,
// a heap within 2x that of the same Vars with one version each (measured
// about 1.1x). Incr1 and a 16-Var read-only transaction allocate 0 times.
// The nursery of an exited goroutine's worker is empty after two GC-cycle
// sweeps, or after TrimAll.
//
// stm (retention_test.go): 2,000 Stores of 256 KiB buffers to one Var, by
// one goroutine or 16, then Store nil and TrimAll, leave the live heap less
// than 2 MiB above where it was (no free node keeps a buffer); a reader
// pinned through 300,000 commits (100,000 with -short) over 1,000 Vars of
// 512-byte values, then commits elsewhere by 32 goroutines that exit, two
// more commits per held Var and TrimAll, leave at most 2x the heap of one
// version each (measured about 1.1x).
package gcore
