// Package txds holds transactional containers built not to conflict: a hash
// [Map], a [Counter], a FIFO [Queue] and an ordered [SortedMap], made of
// stm Vars and used inside stm or hybrid transactions (whose Tx is the same
// type).
//
//	accounts := txds.NewMap[string, int]()
//	transfers := txds.NewCounter()
//	err := stm.Atomically(func(tx *stm.Tx) error {
//		a, _ := accounts.Get(tx, "alice")
//		if a < 30 {
//			return errInsufficient // rolls back, as with any Var
//		}
//		b, _ := accounts.Get(tx, "bob")
//		accounts.Put(tx, "alice", a-30)
//		accounts.Put(tx, "bob", b+30)
//		transfers.Add(tx, 1)
//		return nil
//	})
//
// The obvious containers built from Vars conflict: a map in one Var (copy
// on write) makes every Put conflict with every other, a counter in one Var
// serialises every increment, a linked list conflicts along its path. The
// containers here keep what concurrent writers touch apart.
//
// # Guarantees
//
// Every operation takes the transaction it runs in and has that
// transaction's guarantees: opacity, serializability, rollback on error or
// panic (package stm). Every container also has one-operation forms that run
// a transaction of their own, or join the caller's (flat nesting): Map and
// SortedMap Load, Store, Remove and Size; Counter Value and AddAtomically;
// Queue Enqueue, Dequeue and TryDequeue.
//
// Which writers never conflict with each other (abort counts measured in the
// tests, at most 1 per 1,000 commits, and in the bench module):
//   - Map: Get, Put and Delete of distinct keys, except when two keys share
//     a trie slot at the moment one of them splits it (about one pair in n
//     for n keys);
//   - Counter: Add with Add;
//   - Queue (unbounded): Put with Put, from goroutines on different Ps;
//   - SortedMap: Put and Delete of keys that are not neighbours in the list.
//
// Len, Range and Ascend see the transaction's snapshot: in a read-only
// transaction they never abort and never block a writer, and what they
// see is one consistent state. Len sums per-stripe counts, so it conflicts
// with no Put unless the transaction also writes; a writing transaction
// that calls Len, Range or a Counter's Load conflicts with concurrent
// inserts (or Adds), as serializability requires.
//
// The Queue's order across goroutines is defined by tickets; see [Queue].
//
// Values stored in a container are like values stored in a Var: immutable
// once stored (copy a slice or map before changing it and Put the copy).
//
// Misuse panics with a message that starts with "txds: ": a nil or zero
// container, a Map key whose dynamic type cannot be hashed (an interface
// holding a slice), raised before any state changes.
//
// # Striping
//
// Counters, Map sizes and Queue put lists pick a stripe per P through a
// sync.Pool-cached token (stripe.go explains why not a goroutine id or a
// random stripe). Goroutines running at the same time on different Ps
// write different stripes.
package txds
