package stm

import "github.com/hytm/hytm/internal/gcore"

// Unwritten Vars. A zero Var has no version until its first Store (init);
// reads do not give it one: its value is the zero T, which a read takes as
// it is, so that the nil children of a tree's leaves and a Map's empty
// slots cost no allocation. The argument is in docs/design.md ("Vars").

// unwritten reads, in a software attempt, h, a zero Var whose head was nil
// when loaded: it reports true if the attempt may take the zero value
// without giving the Var a version. It may when the head is still nil after
// a load of meta: a commit stamped inside the snapshot would have given the
// Var its first version (init, at its first Store, before it locks and
// ticks) before the snapshot's clock load, so the zero value is the Var's
// value in the snapshot; a logged attempt records the meta word, which any
// later commit changes. It sets the Var's type key (once, with a CAS), so
// that Init sees that a transaction has used the Var, and so that the
// read-only fast paths, which check the key, read the Var's inline copy
// (the zero T) from then on without a call. Irrevocable
// attempts, and attempts while reporting is on, take init's way (their
// reads need the version node). key returns the type key (typeKeyFor[T]).
func (tx *Tx) unwritten(h *varHeader, key func() *gcore.TypeKey) bool {
	if tx.irrevocable || reportOn.Load() {
		return false
	}
	if h.tkey.Load() == nil {
		// seq-cst CAS: Init's CAS of the key fails after it.
		h.tkey.CompareAndSwap(nil, key())
	}
	if testHooks {
		unwrittenPause() // testhooks_on.go: a commit may land here
	}
	// The head again, after meta: a commit that meta shows gave the Var
	// its version first, so a logged read never records a commit's meta
	// word with the zero value (TestUnwrittenCommitBetweenLoads).
	m := h.meta.Load()        // acquire; after the snapshot's clock load
	if h.head.Load() != nil { // acquire: pairs with init's CAS
		return false
	}
	if tx.state != txRO && !tx.unlogged {
		// A logged read, validated by its meta word; no version node
		// (readLatest loads the head, which init will have set by then).
		// (An unlogged attempt logs no read: its commit cannot validate,
		// site.go.)
		tx.reads = append(tx.reads, readEntry{h: h, meta: m})
	}
	return true
}
