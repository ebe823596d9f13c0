// Package gc documents how hytm reclaims old versions, and exports the
// figures a user reads about it. There is nothing to call: reclamation is
// automatic, and a steady-state transaction allocates nothing.
//
//	before := gc.KeptBytes()          // bytes of free version nodes kept for reuse
//	stm.TrimAll()                     // after a long read-only transaction: give memory back now
//	fmt.Println(gc.KeptBytes() <= before, gc.KeptBytes() <= gc.MaxKeptBytes)
//
// # What happens to old versions
//
// Every stm.Var keeps a chain of versions, newest first, so that a
// transaction reads the snapshot it began with. A version is reclaimed once
// no running transaction can read it: older than the snapshot of the oldest
// running transaction (the horizon) and not the newest such version. The
// commits that write a Var trim its chain as they go, and Vars no longer
// written are trimmed a few at a time by later commits of any Var, so that
// chains are back to at most two versions within a bounded number of
// commits after a long transaction ends. stm.TrimAll does it at once.
// stm.Stats.Trimmed counts the versions cut.
//
// A long read-only transaction therefore keeps every version written after
// it began, for as long as it runs: memory grows with the writes made during
// it, as with any multi-version store.
//
// # Reuse, and its bounds
//
// Trimmed versions are recycled: each goroutine that runs transactions keeps
// small free lists per value type, and full lists are traded between
// goroutines through a shared list per type, so that a goroutine that trims
// more than it writes feeds one that writes more than it trims. What is kept
// is bounded: [MaxKeptBytes] process-wide, counted by [KeptBytes]; beyond it,
// trimmed versions go to the Go garbage collector. A kept version keeps no
// value of the user's alive (its value is cleared when it is kept, for value
// types that hold pointers).
//
// Kept memory is given back: the free lists of goroutines that ran no
// transaction for a whole Go GC cycle (exited goroutines among them) are
// dropped, and so are the shared lists no goroutine took from during a
// cycle; stm.TrimAll drops those of every idle goroutine and every shared
// list at once.
//
// The design of the horizon, trimming and the free lists, with what the
// tests prove about them, is in docs/design.md and the notes of the
// internal packages (internal/gcore).
package gc
