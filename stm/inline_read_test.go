package stm

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestInlineReadSeqlock hammers the read-only fast path that reads a Var's
// inline copy (Var.cur, Load) against commits that rewrite it. Every
// committed value of a and b is two copies of one counter k (16 bytes, the
// largest value read inline), and both are written by the same
// transactions, so a read-only attempt must see two equal words in each (no
// copy torn by a concurrent publishCur) and the same k in both (no value
// committed after its snapshot: nextMeta's sequence compared with rv). A
// commit landing between the inline read's two meta loads is too rare to
// hit here; TestInlineReadCommitBetweenLoads (go test -tags hytm_hooks)
// plays it.
func TestInlineReadSeqlock(t *testing.T) {
	if !inlineReads {
		t.Skip("inline reads are off in this build (race detector, or not amd64)")
	}
	type val [2]uint64
	fill := func(k uint64) (x val) {
		for i := range x {
			x[i] = k
		}
		return x
	}
	a, b := NewVar(val{}), NewVar(val{})
	reads := 500_000
	if testing.Short() {
		reads = 100_000
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := uint64(1); !stop.Load(); k++ {
			_ = Atomically(func(tx *Tx) error {
				a.Store(tx, fill(k))
				b.Store(tx, fill(k))
				return nil
			})
		}
	})
	var bad string
	read := freshSite(func(tx *Tx) error {
		x, y := a.Load(tx), b.Load(tx)
		for i := range x {
			if x[i] != x[0] || y[i] != y[0] {
				bad = "a torn value"
			}
		}
		if x[0] != y[0] {
			bad = "a and b from different commits"
		}
		return nil
	})
	ro := 0
	for range reads {
		_ = Atomically(read) // one site: read-only mode after its first run
		if bad != "" {
			break
		}
		ro++
	}
	stop.Store(true)
	wg.Wait()
	if bad != "" {
		t.Fatalf("a read-only attempt saw %s after %d reads", bad, ro)
	}
}

// TestInlineReadCommitAfterSnapshot: a commit lands after a read-only
// attempt took its snapshot and before the attempt loads the Var. The
// Var's meta is unlocked and unchanged from then on, so only its sequence
// number, which the commit set to at least its stamp (nextMeta), tells
// Load's inline read that the inline copy is newer than the snapshot; with
// a sequence that only counted commits, the attempt would return the new
// value.
func TestInlineReadCommitAfterSnapshot(t *testing.T) {
	v, other := NewVar(1), NewVar(0)
	for range 4 { // a clock well above v's commit count
		_ = Atomically(func(tx *Tx) error { other.Store(tx, other.Load(tx)+1); return nil })
	}
	var got int
	var state txState
	first := true
	read := freshSite(func(tx *Tx) error {
		state = tx.state
		if first {
			first = false
			done := make(chan error)
			go func() { done <- Atomically(func(tx *Tx) error { v.Store(tx, 2); return nil }) }()
			if err := <-done; err != nil {
				return err
			}
		}
		got = v.Load(tx)
		return nil
	})
	if err := Atomically(read); err != nil {
		t.Fatal(err)
	}
	if state != txRO {
		t.Fatalf("the attempt ran in state %d, not read-only: the inline read was not tried", state)
	}
	if got != 1 {
		t.Fatalf("the read-only attempt read %d, committed after its snapshot; want 1", got)
	}
	if v.Peek() != 2 {
		t.Fatalf("Peek = %d, want 2", v.Peek())
	}
}

// TestInlineLoggedReadThenInevitable: a logged attempt reads a Var from its
// inline copy (its read entry has no version node), then becomes
// inevitable and reads the Var again, which goes through readLatest and
// that entry: readLatest must load the head, not the missing node.
func TestInlineLoggedReadThenInevitable(t *testing.T) {
	if !inlineReads {
		t.Skip("inline reads are off in this build (race detector, or not amd64)")
	}
	v := NewVar(7)
	var first, second int
	var entryNode *vnode = &vnode{}
	body := func(tx *Tx) error {
		first = v.Load(tx)
		if len(tx.reads) == 1 {
			entryNode = tx.reads[0].node
		}
		tx.Inevitable()
		second = v.Load(tx)
		return nil
	}
	markSiteLogged(bodySite(body)) // logged mode: the read is logged
	defer freshSite(body)          // the site table is hashed: leave other tests' sites read-only
	if err := Atomically(body); err != nil {
		t.Fatal(err)
	}
	if entryNode != nil {
		t.Fatalf("the logged read recorded node %p: it did not read the inline copy", entryNode)
	}
	if first != 7 || second != 7 {
		t.Fatalf("reads %d then %d, want 7 and 7", first, second)
	}
}
