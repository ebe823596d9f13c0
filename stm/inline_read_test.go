package stm

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
	checkROReadOld(t, state, got, v, "committed after its snapshot")
}

// checkROReadOld checks the end of a test in which a read-only attempt
// (state) read v, holding 1 in its snapshot, while a commit of 2 landed:
// the attempt read got, which must be 1, and v now holds 2. why says what
// a 2 read by the attempt would mean.
func checkROReadOld(t *testing.T, state txState, got int, v *Var[int], why string) {
	t.Helper()
	if state != txRO {
		t.Fatalf("the attempt ran in state %d, not read-only: the inline read was not tried", state)
	}
	if got != 1 {
		t.Fatalf("the read-only attempt read %d, %s; want 1", got, why)
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

// TestInlineCopySizes: commits copy values into Vars' inline copies
// (publishCur), raw for pointer-free values of 1, 2, 4, 8 and 16 bytes and
// through Publish for the rest; read-only attempts must then read exactly
// the committed values, and the copy must not spill into the fields next
// to the Var.
func TestInlineCopySizes(t *testing.T) {
	type odd struct {
		a uint32
		b uint16
	} // 8 bytes with padding
	type twelve struct{ a, b, c uint32 }
	var s struct {
		g0  uint64
		u8  Var[uint8]
		g1  uint64
		u16 Var[uint16]
		g2  uint64
		u32 Var[uint32]
		g3  uint64
		u64 Var[uint64]
		g4  uint64
		w2  Var[[2]uint64]
		g5  uint64
		od  Var[odd]
		g6  uint64
		tw  Var[twelve]
		g7  uint64
		str Var[string]
		g8  uint64
	}
	const guard = 0x5A5A5A5A5A5A5A5A
	s.g0, s.g1, s.g2, s.g3, s.g4, s.g5, s.g6, s.g7, s.g8 = guard, guard, guard, guard, guard, guard, guard, guard, guard
	for round := range uint64(3) {
		k := round + 1
		if err := Atomically(func(tx *Tx) error {
			s.u8.Store(tx, uint8(0xF0+k))
			s.u16.Store(tx, uint16(0xFFF0+k))
			s.u32.Store(tx, uint32(0xFFFFFFF0+k))
			s.u64.Store(tx, ^uint64(0)-k)
			s.w2.Store(tx, [2]uint64{^uint64(0) - k, k})
			s.od.Store(tx, odd{uint32(0xFFFFFFF0 + k), uint16(0xFFF0 + k)})
			s.tw.Store(tx, twelve{uint32(k), uint32(k + 1), uint32(k + 2)})
			s.str.Store(tx, fmt.Sprint("round ", k))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var state txState
		read := freshSite(func(tx *Tx) error {
			state = tx.state
			if got := s.u8.Load(tx); got != uint8(0xF0+k) {
				t.Errorf("uint8: %#x", got)
			}
			if got := s.u16.Load(tx); got != uint16(0xFFF0+k) {
				t.Errorf("uint16: %#x", got)
			}
			if got := s.u32.Load(tx); got != uint32(0xFFFFFFF0+k) {
				t.Errorf("uint32: %#x", got)
			}
			if got := s.u64.Load(tx); got != ^uint64(0)-k {
				t.Errorf("uint64: %#x", got)
			}
			if got := s.w2.Load(tx); got != [2]uint64{^uint64(0) - k, k} {
				t.Errorf("[2]uint64: %#x", got)
			}
			if got := s.od.Load(tx); got != (odd{uint32(0xFFFFFFF0 + k), uint16(0xFFF0 + k)}) {
				t.Errorf("odd: %#x", got)
			}
			if got := s.tw.Load(tx); got != (twelve{uint32(k), uint32(k + 1), uint32(k + 2)}) {
				t.Errorf("twelve: %v", got)
			}
			if got := s.str.Load(tx); got != fmt.Sprint("round ", k) {
				t.Errorf("string: %q", got)
			}
			return nil
		})
		if err := Atomically(read); err != nil {
			t.Fatal(err)
		}
		if state != txRO {
			t.Fatalf("the reads ran in state %d, not read-only", state)
		}
		for i, g := range []uint64{s.g0, s.g1, s.g2, s.g3, s.g4, s.g5, s.g6, s.g7, s.g8} {
			if g != guard {
				t.Fatalf("guard %d overwritten: %#x", i, g)
			}
		}
	}
}

// TestInlineCopyUntouchedByAbortedCommit: a single-Var commit copies its
// value into the inline copy before it ticks, but only once it cannot fail
// (after its lock CAS and the irrevocable check). Here the irrevocable
// check fails: an inevitable transaction holds the token, so the commit
// unlocks and waits. A read-only attempt meanwhile must still read the old
// value; a copy made before the check would leave the new value there under
// the old sequence number.
func TestInlineCopyUntouchedByAbortedCommit(t *testing.T) {
	v := NewVar(0)
	x := 1
	store := func(tx *Tx) error { v.Store(tx, x); return nil }
	// One commit first, so that the site logs and its next commit takes
	// the single-Var path (a site's first Store goes on unlogged and
	// commits through commitMulti, site.go).
	if err := Atomically(store); err != nil {
		t.Fatal(err)
	}
	x = 2 // before the writer goroutine starts
	holding, release := make(chan struct{}), make(chan struct{})
	inevitableDone := make(chan error)
	go func() {
		first := true
		inevitableDone <- Atomically(func(tx *Tx) error {
			tx.Inevitable()
			if first {
				first = false
				close(holding)
				<-release
			}
			return nil
		})
	}()
	<-holding
	before := ReadStats().Aborts[CauseIrrevocable]
	writerDone := make(chan error)
	go func() { writerDone <- Atomically(store) }()
	deadline := time.Now().Add(5 * time.Second)
	for ReadStats().Aborts[CauseIrrevocable] == before {
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the single-Var commit never yielded to the inevitable transaction")
		}
		time.Sleep(time.Millisecond)
	}
	var got int
	var state txState
	read := freshSite(func(tx *Tx) error { state = tx.state; got = v.Load(tx); return nil })
	if err := Atomically(read); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-inevitableDone; err != nil {
		t.Fatal(err)
	}
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	checkROReadOld(t, state, got, v, "while the commit of 2 was aborted")
}

// TestPeekInlineSeqlock: Peek reads a Var's inline copy without a pin, as
// a seqlock. While one goroutine commits pairs {i, i} to a two-word Var
// (each commit copies the pair into the Var's inline copy while the Var is
// locked), Peeks on another must never see a pair whose halves differ (a
// copy torn by a commit), nor a pair older than one committed before the
// Peek began.
func TestPeekInlineSeqlock(t *testing.T) {
	if !inlineReads {
		t.Skip("inline reads are off in this build (race detector, or not amd64)")
	}
	n := 200_000
	if testing.Short() {
		n = 40_000
	}
	v := NewVar([2]int{})
	var committed atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= n; i++ {
			_ = Atomically(func(tx *Tx) error { v.Store(tx, [2]int{i, i}); return nil })
			committed.Store(int64(i))
		}
	}()
	torn, stale := 0, 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		before := committed.Load()
		x := v.Peek()
		if x[0] != x[1] {
			torn++
		}
		if int64(x[0]) < before {
			stale++
		}
	}
	require.Zero(t, torn, "Peeks saw a pair whose halves differ")
	require.Zero(t, stale, "Peeks saw a pair older than one committed before them")
	require.Equal(t, [2]int{n, n}, v.Peek())
}
