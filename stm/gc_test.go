package stm

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/internal/gcore"
)

// Tests of version reclamation (internal/gcore as stm uses it). They read global
// counters (Stats.Trimmed, the trim queue), so none of them is parallel.

// chainLen counts the versions reachable from h. Call it only while no
// transaction writes h.
func chainLen(h *varHeader) int {
	n := 0
	for p := h.head.Load(); p != nil; p = p.prev.Load() {
		n++
	}
	return n
}

func maxChain[T any](vs []*Var[T]) (maxLen, total int) {
	for _, v := range vs {
		l := chainLen(&v.h)
		total += l
		maxLen = max(maxLen, l)
	}
	return maxLen, total
}

// drainTrimQueue empties the trim queue so that later Stats.Trimmed deltas
// count only this test's Vars.
func drainTrimQueue(t *testing.T) {
	t.Helper()
	for range 8 {
		TrimAll()
		if trimQ.n.Load() == 0 {
			return
		}
	}
	t.Fatalf("trim queue still holds %d Vars", trimQ.n.Load())
}

var errDiscard = errors.New("discard")

// TestGCTrimCounts: over a concurrent run with a long reader for part of it,
// versions created (one per NewVar plus one per Var written by each
// committed transaction) equal versions reclaimed (Stats.Trimmed) plus
// versions live (the sum of chain lengths). Aborted and discarded tentative
// versions are not versions: they never reach a chain.
func TestGCTrimCounts(t *testing.T) {
	drainTrimQueue(t)
	trimmed0 := ReadStats().Trimmed
	const nv, workers = 64, 4
	iters := 20000
	if testing.Short() {
		iters = 3000
	}
	vs := make([]*Var[int], nv)
	for i := range vs {
		vs[i] = NewVar(i)
	}
	var created atomic.Int64
	created.Add(nv)

	// A long reader pins its snapshot for the first part of the run.
	started, release, done := longReader(func(tx *Tx) { vs[0].Load(tx) })
	<-started

	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range iters {
				if g == 0 && i == iters/3 {
					close(release)
				}
				switch k := r.IntN(8); {
				case k == 0: // read-only
					_ = Atomically(func(tx *Tx) error {
						for range 4 {
							vs[r.IntN(nv)].Load(tx)
						}
						return nil
					})
				case k == 1: // discarded: its tentative versions go back
					a := vs[r.IntN(nv)]
					_ = Atomically(func(tx *Tx) error {
						a.Store(tx, a.Load(tx)+1)
						return errDiscard
					})
				case k < 5: // single-Var
					a := vs[r.IntN(nv)]
					if Atomically(func(tx *Tx) error {
						a.Store(tx, a.Load(tx)+1)
						a.Store(tx, a.Load(tx)+1) // same node, one version
						return nil
					}) == nil {
						created.Add(1)
					}
				default: // multi-Var, 2 or 3 distinct Vars
					i0 := r.IntN(nv)
					i1 := (i0 + 1 + r.IntN(nv-1)) % nv
					w := []*Var[int]{vs[i0], vs[i1]}
					if k == 7 {
						if i2 := (i1 + 1) % nv; i2 != i0 {
							w = append(w, vs[i2])
						}
					}
					if Atomically(func(tx *Tx) error {
						for _, v := range w {
							v.Store(tx, v.Load(tx)+1)
						}
						return nil
					}) == nil {
						created.Add(int64(len(w)))
					}
				}
			}
		}()
	}
	wg.Wait()
	<-done
	TrimAll()
	maxLen, live := maxChain(vs)
	trimmed := ReadStats().Trimmed - trimmed0
	t.Logf("created %d = trimmed %d + live %d (longest chain %d)", created.Load(), trimmed, live, maxLen)
	if uint64(created.Load()) != trimmed+uint64(live) {
		t.Fatalf("created %d != trimmed %d + live %d", created.Load(), trimmed, live)
	}
	if trimmed == 0 {
		t.Fatal("nothing was trimmed")
	}
}

// longReaderRun starts a read-only transaction that blocks inside its body
// after its first Load, writes every Var of vs several times while it
// lives, checks that the chains grew by exactly the number of versions
// written (nothing the reader may see was trimmed) and that the reader still
// sees the initial values, and ends it.
func longReaderRun(t *testing.T, vs []*Var[int], other *Var[int]) {
	t.Helper()
	const rounds = 12
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan []int)
	go func() {
		var seen []int
		first := true
		_ = Atomically(func(tx *Tx) error {
			vs[0].Load(tx)
			if first {
				first = false
				close(started)
				<-release
			}
			seen = seen[:0]
			for _, v := range vs {
				seen = append(seen, v.Load(tx))
			}
			return nil
		})
		done <- seen
	}()
	<-started
	for r := range rounds {
		for i := 0; i < len(vs); i += 2 {
			a, b := vs[i], vs[(i+1)%len(vs)]
			if r%2 == 0 {
				// multi-Var: ticks the clock
				_ = Atomically(func(tx *Tx) error {
					a.Store(tx, a.Load(tx)+1)
					b.Store(tx, b.Load(tx)+1)
					return nil
				})
			} else {
				// single-Var: stamped without a tick
				_ = Atomically(func(tx *Tx) error { a.Store(tx, a.Load(tx)+1); return nil })
				_ = Atomically(func(tx *Tx) error { b.Store(tx, b.Load(tx)+1); return nil })
			}
		}
	}
	for i, v := range vs {
		if l := chainLen(&v.h); l != 1+rounds {
			t.Errorf("Var %d: chain %d while the reader lives, want %d", i, l, 1+rounds)
		}
	}
	// Writes elsewhere while the reader still lives: horizon rescans pop the
	// trim queue, but must not lose the Vars the reader holds long.
	for range 4 * horizonEvery {
		_ = Atomically(func(tx *Tx) error { other.Store(tx, other.Load(tx)+1); return nil })
	}
	close(release)
	seen := <-done
	for i, x := range seen {
		if x != i {
			t.Fatalf("reader saw Var %d = %d, want its snapshot value %d", i, x, i)
		}
	}
}

func newVars(n int) []*Var[int] {
	vs := make([]*Var[int], n)
	for i := range vs {
		vs[i] = NewVar(i)
	}
	return vs
}

// TestGCLongReader: chains grow only while a long reader lives and are back
// to at most 2 versions after it ends.
//
// Bound tested: after the reader ends, one goroutine makes at most
// horizonEvery*(nv+4) commits on one other Var, or calls TrimAll once. The
// design gives horizonEvery*(nv/2+2): every horizonEvery commits a worker
// rescans the horizon and trims 2 queued Vars; the test allows twice that
// because a goroutine may be handed a fresh worker (its counter restarts).
func TestGCLongReader(t *testing.T) {
	const nv = 32
	t.Run("commits", func(t *testing.T) {
		if raceEnabled {
			t.Skip("race mode: sync.Pool drops workers, so per-worker commit counts restart")
		}
		drainTrimQueue(t)
		vs, other := newVars(nv), NewVar(0)
		longReaderRun(t, vs, other)
		bound := horizonEvery * (nv + 4)
		for i := range bound {
			_ = Atomically(func(tx *Tx) error { other.Store(tx, other.Load(tx)+1); return nil })
			if m, _ := maxChain(vs); m <= 2 {
				t.Logf("all chains <= 2 after %d commits (bound %d)", i+1, bound)
				return
			}
		}
		m, total := maxChain(vs)
		t.Fatalf("after %d commits: longest chain %d, %d versions for %d Vars", bound, m, total, nv)
	})
	t.Run("TrimAll", func(t *testing.T) {
		drainTrimQueue(t)
		vs, other := newVars(nv), NewVar(0)
		longReaderRun(t, vs, other)
		TrimAll()
		if m, total := maxChain(vs); m > 2 {
			t.Fatalf("after TrimAll: longest chain %d, %d versions for %d Vars", m, total, nv)
		}
	})
}

// TestGCUnwrittenAfterSingleVarBurst: a Var written many times by
// single-Var commits (which do not tick the clock) and then never again must
// still get back to at most 2 versions.
func TestGCUnwrittenAfterSingleVarBurst(t *testing.T) {
	drainTrimQueue(t)
	v := NewVar(0)
	for range 10 {
		_ = Atomically(func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil })
	}
	x, y := NewVar(0), NewVar(0)
	for range horizonEvery * 4 {
		_ = Atomically(func(tx *Tx) error { // multi-Var: ticks
			x.Store(tx, x.Load(tx)+1)
			y.Store(tx, y.Load(tx)+1)
			return nil
		})
	}
	TrimAll()
	if l := chainLen(&v.h); l > 2 {
		t.Fatalf("chain %d after the burst ended", l)
	}
}

// checked is a value carrying a checksum of its fields. A reader that got a
// recycled node being rewritten would see fields from two values.
type checked struct {
	id, seq uint64
	amount  int64
	pad     [3]uint64
	sum     uint64
}

func (c *checked) checksum() uint64 {
	h := c.id*0x9E3779B97F4A7C15 ^ c.seq*0xC2B2AE3D27D4EB4F ^ uint64(c.amount)*0x165667B19E3779F9
	for _, p := range c.pad {
		h = (h ^ p) * 0x100000001B3
	}
	return h
}

func mkChecked(id, seq uint64, amount int64) checked {
	c := checked{id: id, seq: seq, amount: amount}
	c.pad = [3]uint64{seq ^ id, seq * 3, uint64(amount) + id}
	c.sum = c.checksum()
	return c
}

// TestGCUseAfterRecycle: writers churn Vars (transfers between two, and
// single-Var rewrites) so that nodes are trimmed and reused at a high rate;
// readers, one of them sometimes long, Load every Var and verify each
// value's checksum and the conserved total inside their bodies. Run it with
// -race: a recycled node handed out while a snapshot could still read it
// is a data race between the new owner's Store and the reader's Load.
func TestGCUseAfterRecycle(t *testing.T) {
	const nv, total = 32, 32 * 1000
	vs := make([]*Var[checked], nv)
	for i := range vs {
		vs[i] = NewVar(mkChecked(uint64(i), 0, 1000))
	}
	dur := 1500 * time.Millisecond
	if testing.Short() {
		dur = 400 * time.Millisecond
	}
	var stop atomic.Bool
	var bad, reads, writes atomic.Int64
	verify := func(i int, c checked) {
		if c.sum != c.checksum() || c.id != uint64(i) {
			bad.Add(1)
		}
	}
	trimmed0 := ReadStats().Trimmed
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 2))
			for !stop.Load() {
				i := r.IntN(nv)
				j := (i + 1 + r.IntN(nv-1)) % nv
				amt := int64(r.IntN(5))
				var err error
				if r.IntN(4) == 0 {
					err = Atomically(func(tx *Tx) error {
						a := vs[i].Load(tx)
						verify(i, a)
						vs[i].Store(tx, mkChecked(a.id, a.seq+1, a.amount))
						return nil
					})
				} else {
					err = Atomically(func(tx *Tx) error {
						a, b := vs[i].Load(tx), vs[j].Load(tx)
						verify(i, a)
						verify(j, b)
						vs[i].Store(tx, mkChecked(a.id, a.seq+1, a.amount-amt))
						vs[j].Store(tx, mkChecked(b.id, b.seq+1, b.amount+amt))
						return nil
					})
				}
				if err == nil {
					writes.Add(1)
				}
			}
		}()
	}
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				long := g == 0 && n%50 == 0
				_ = Atomically(func(tx *Tx) error {
					s := int64(0)
					for i, v := range vs {
						c := v.Load(tx)
						verify(i, c)
						s += c.amount
						if long && i == 0 {
							time.Sleep(2 * time.Millisecond) // pin while writers churn
						}
					}
					if s != total {
						bad.Add(1)
					}
					return nil
				})
				reads.Add(1)
			}
		}()
	}
	time.Sleep(dur)
	stop.Store(true)
	wg.Wait()
	trimmed := ReadStats().Trimmed - trimmed0
	t.Logf("%d writes, %d reads, %d versions trimmed", writes.Load(), reads.Load(), trimmed)
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d checksum or total mismatches", n)
	}
	if trimmed == 0 {
		t.Fatal("nothing was trimmed: the hammer did not exercise recycling")
	}
}

type memVal [8]uint64

func heapAlloc() uint64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestGCBoundedMemory: 1e6 commits (1e5 with -short) over 1,000 Vars, with a
// reader pinned for the second fifth of the run. After it ends and TrimAll,
// the heap above the starting point stays within 2x the heap of the same
// Vars holding one version each, measured in this test.
func TestGCBoundedMemory(t *testing.T) {
	const nv, workers = 1000, 4
	commits := 1_000_000
	if testing.Short() {
		commits = 100_000
		if raceEnabled {
			commits = 40_000
		}
	}
	drainTrimQueue(t)
	before := heapAlloc()
	vs := make([]*Var[memVal], nv)
	for i := range vs {
		vs[i] = NewVar(memVal{uint64(i)})
	}
	oneVersion := heapAlloc() - before

	per := commits / workers
	started, release, done := longReader(func(tx *Tx) { vs[0].Load(tx) })
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 3))
			for i := range per {
				if g == 0 && i == per/5 {
					// Pin for the second fifth of the run.
					<-started
				}
				if g == 0 && i == 2*per/5 {
					close(release)
				}
				a := vs[r.IntN(nv)]
				if i%4 == 0 {
					b := vs[r.IntN(nv)]
					_ = Atomically(func(tx *Tx) error {
						x, y := a.Load(tx), b.Load(tx)
						x[1]++
						y[2]++
						a.Store(tx, x)
						b.Store(tx, y)
						return nil
					})
				} else {
					_ = Atomically(func(tx *Tx) error {
						x := a.Load(tx)
						x[1]++
						a.Store(tx, x)
						return nil
					})
				}
			}
		}()
	}
	wg.Wait()
	<-done
	_, live := maxChain(vs)
	TrimAll()
	maxLen, liveAfter := maxChain(vs)
	after := heapAlloc() - before
	runtime.KeepAlive(vs)
	t.Logf("%d commits: one version each %d B; after %d B (%.2fx); versions %d before TrimAll, %d after (longest %d)",
		commits, oneVersion, after, float64(after)/float64(oneVersion), live, liveAfter, maxLen)
	if maxLen > 2 {
		t.Errorf("longest chain %d after TrimAll", maxLen)
	}
	if after > 2*oneVersion {
		t.Fatalf("heap %d B > 2x the one-version heap %d B", after, oneVersion)
	}
}

// Allocation guards: at steady state a transaction takes its version nodes
// from its worker's nursery and its logs are preallocated.
func TestGCZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("race mode: sync.Pool drops workers at random")
	}
	if !nurseryEnabled {
		t.Skip("built with hytm_nonursery")
	}
	v := NewVar(0)
	incr := func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
	for range 1000 {
		_ = Atomically(incr)
	}
	if a := testing.AllocsPerRun(10000, func() { _ = Atomically(incr) }); a != 0 {
		t.Errorf("Incr1: %v allocs per transaction", a)
	}
	vs := newVars(16)
	var sum int
	read := func(tx *Tx) error {
		s := 0
		for _, v := range vs {
			s += v.Load(tx)
		}
		sum = s
		return nil
	}
	if a := testing.AllocsPerRun(10000, func() { _ = Atomically(read) }); a != 0 {
		t.Errorf("Read16: %v allocs per transaction", a)
	}
	if sum != 120 {
		t.Fatalf("sum %d", sum)
	}
}

// TestReaderWaitsForTickedCommit is the interleaving the clock's argument is
// about (docs/design.md, "Clock"): a commit locks its Var, then ticks the clock; a
// reader pins after the tick (its snapshot includes the stamp) and loads the
// Var before the commit installs. The reader must wait for the install and
// see the new version. Without the multi bit on the lock (as single-Var
// commits once took it) the reader returns the old value: a later
// transaction would miss a commit stamped inside its snapshot, and a reader
// that loaded another Var first could see a torn state.
func TestReaderWaitsForTickedCommit(t *testing.T) {
	v := NewVar(1)
	w := enterTx(getg())
	tx := &w.tx
	n := &version[int]{val: 2}
	tx.writes = append(tx.writes[:0], writeEntry{h: &v.h, node: &n.vnode})
	require.Nil(t, tx.lockWrites()) // commit's first step
	wv := stamp()

	got := make(chan [2]uint64, 1)
	go func() {
		_ = Atomically(func(tx *Tx) error {
			x := v.Load(tx)
			got <- [2]uint64{tx.rv, uint64(x)}
			return nil
		})
	}()
	select {
	case r := <-got:
		t.Fatalf("reader returned %d (snapshot %d, commit stamp %d) while the commit was installing", r[1], r[0], wv)
	case <-time.After(50 * time.Millisecond):
	}
	tx.installWrites(wv, false)
	tx.writes = tx.writes[:0]
	leaveTx(w)
	r := <-got
	require.GreaterOrEqual(t, r[0], wv, "the reader pinned after the tick")
	require.Equal(t, uint64(2), r[1], "a snapshot that includes the stamp sees the version")
}

// TestValidationSkipNeedsUntouchedClock is the interleaving of TL2's
// validation skip (commitMulti): an attempt reads a, another transaction
// commits a new a, then the attempt writes b from the old a and commits. Its
// tick lands two above its snapshot, so it must validate, fail and run again:
// b ends as the new a + 1. Skipping validation on any other condition than
// "stamp == snapshot+1" commits b = old a + 1.
func TestValidationSkipNeedsUntouchedClock(t *testing.T) {
	a, b := NewVar(10), NewVar(0)
	runs := 0
	err := Atomically(func(tx *Tx) error {
		runs++
		x := a.Load(tx)
		if runs == 1 {
			done := make(chan error)
			go func() { done <- Atomically(func(tx *Tx) error { a.Store(tx, 20); return nil }) }()
			require.NoError(t, <-done)
		}
		b.Store(tx, x+1)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 2, runs, "the first attempt read a stale a and must not commit")
	require.Equal(t, 21, b.Peek())
}

// idleWorkerWithNodes runs transactions on a new goroutine until its worker's
// nursery holds free nodes of v's type, lets the goroutine exit, and returns
// the worker. The nursery is read inside a transaction, while pinned, as its
// owner reads it.
func idleWorkerWithNodes(t *testing.T, v *Var[int]) *worker {
	t.Helper()
	var w *worker
	held := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 4 * trimDepth {
			_ = Atomically(func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil })
		}
		// A discarded tentative version goes back to the nursery too.
		_ = Atomically(func(tx *Tx) error { v.Store(tx, 0); return errDiscard })
		_ = Atomically(func(tx *Tx) error {
			w, held = tx.w, tx.w.nursery.Len(v.h.tkey.Load())
			return nil
		})
	}()
	<-done
	if held == 0 {
		t.Fatal("the worker's nursery holds no node")
	}
	return w
}

// nurseryLen reads an idle worker's nursery under a Hold of its slot, or
// reports false if the worker is pinned or held by a sweep.
func nurseryLen(w *worker, k *gcore.TypeKey) (int, bool) {
	if !w.slot.Hold(false) {
		return 0, false
	}
	defer w.slot.Unhold()
	return w.nursery.Len(k), true
}

// TestSweepFlushesExitedGoroutinesNursery: the nursery of a worker whose
// goroutine exited is flushed (its free nodes go to the Go GC) by the
// per-GC-cycle sweep, at the latest by the second sweep after its last
// transaction; and at once by TrimAll.
func TestSweepFlushesExitedGoroutinesNursery(t *testing.T) {
	v := NewVar(0)
	t.Run("GC", func(t *testing.T) {
		w := idleWorkerWithNodes(t, v)
		start := gcSweeps.Load()
		for i := 0; gcSweeps.Load() < start+2; i++ {
			if i == 200 {
				t.Fatalf("%d sweeps after 200 GC cycles", gcSweeps.Load()-start)
			}
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
		for {
			if n, ok := nurseryLen(w, v.h.tkey.Load()); ok {
				if n != 0 {
					t.Fatalf("nursery holds %d nodes after two sweeps", n)
				}
				return
			}
			runtime.Gosched()
		}
	})
	t.Run("TrimAll", func(t *testing.T) {
		w := idleWorkerWithNodes(t, v)
		TrimAll()
		for {
			if n, ok := nurseryLen(w, v.h.tkey.Load()); ok {
				if n != 0 {
					t.Fatalf("nursery holds %d nodes after TrimAll", n)
				}
				return
			}
			runtime.Gosched()
		}
	})
}

// TestGCDeepChainCutAfterReader: a Var that a long reader made deeper than
// 4*trimDepth is cut by its own commits once the reader ends (as soon as a
// horizon rescan passes its trim hint), not only when its depth doubles:
// within 2*horizonEvery commits on it, its chain is back under trimDepth.
func TestGCDeepChainCutAfterReader(t *testing.T) {
	drainTrimQueue(t)
	const deep = 600 // between 512 and 1024: no doubling walk soon
	v, x := NewVar(0), NewVar(0)
	started, release, done := longReader(func(tx *Tx) { v.Load(tx) })
	<-started
	for range deep {
		_ = Atomically(func(tx *Tx) error { // multi-Var: ticks the clock
			v.Store(tx, v.Load(tx)+1)
			x.Store(tx, x.Load(tx)+1)
			return nil
		})
	}
	if l := chainLen(&v.h); l != deep+1 {
		t.Fatalf("chain %d while the reader lives, want %d", l, deep+1)
	}
	close(release)
	<-done
	for i := range 2 * horizonEvery {
		_ = Atomically(func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil })
		if l := chainLen(&v.h); l < trimDepth {
			t.Logf("chain %d after %d commits", l, i+1)
			return
		}
	}
	t.Fatalf("chain %d after %d commits since the reader ended", chainLen(&v.h), 2*horizonEvery)
}

// longReader starts a read-only transaction that loads what load loads and
// then blocks, its snapshot pinned, until release is closed. started is
// closed once the snapshot is pinned, done once the transaction has ended.
func longReader(load func(tx *Tx)) (started, release, done chan struct{}) {
	started, release, done = make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		first := true
		_ = Atomically(func(tx *Tx) error {
			load(tx)
			if first {
				first = false
				close(started)
				<-release
			}
			return nil
		})
	}()
	return started, release, done
}

// TestPeekWaitsForTickedCommit is TestReaderWaitsForTickedCommit for Peek:
// a commit locks its Var and ticks, then Peek pins (its pin includes the
// stamp) and reads the Var before the commit installs. Peek must wait for
// the install. Reading the old head instead let a trim recycle that head
// under Peek once the horizon passed the stamp (the new version is then the
// newest below the horizon): a data race that -race reported in the txds
// Queue, which Peeks inside transactions.
func TestPeekWaitsForTickedCommit(t *testing.T) {
	v := NewVar(1)
	w := enterTx(getg())
	tx := &w.tx
	n := &version[int]{val: 2}
	tx.writes = append(tx.writes[:0], writeEntry{h: &v.h, node: &n.vnode})
	require.Nil(t, tx.lockWrites())
	wv := stamp()

	got := make(chan int, 1)
	go func() { got <- v.Peek() }()
	select {
	case x := <-got:
		t.Fatalf("Peek returned %d while a commit stamped %d was installing", x, wv)
	case <-time.After(50 * time.Millisecond):
	}
	tx.installWrites(wv, false)
	tx.writes = tx.writes[:0]
	leaveTx(w)
	require.Equal(t, 2, <-got, "Peek after the install sees the new version")
}

// zeroProbe is a type that only TestGCSharedZeroNode uses, so that its
// shared zero node (TypeKey.Zero) is touched by nothing else.
type zeroProbe struct{ a, b int }

// TestGCSharedZeroNode: every zero Var of a type links its first written
// version above the type's one shared zero node (init), so trims cut that
// node off chains all the time; they must stop at it and never give it to
// a nursery, from which a later Store would take it as a fresh node and
// write into every chain that ends at it. A snapshot taken before a Var's
// first Store still reads the zero value through it.
func TestGCSharedZeroNode(t *testing.T) {
	k := typeKeyFor[zeroProbe]()
	z := (*version[zeroProbe])(k.Zero)
	vars := make([]Var[zeroProbe], 256)
	for round := 1; round <= 40; round++ {
		for i := range vars {
			v := &vars[i]
			require.NoError(t, Atomically(func(tx *Tx) error {
				x := v.Load(tx)
				v.Store(tx, zeroProbe{x.a + 1, round})
				return nil
			}))
		}
		gcore.Horizon(clock.v.Load()) // every chain cut below its newest version from here on
	}
	for i := range vars {
		require.Equal(t, zeroProbe{40, 40}, vars[i].Peek(), "Var %d", i)
	}
	// Chains that a snapshot held long: their cut takes several nodes and
	// the shared one at once (recycle, not recycleLast).
	long := make([]Var[zeroProbe], 256)
	pinned, release, unpinned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(unpinned)
		_ = Atomically(func(tx *Tx) error {
			_ = vars[0].Load(tx)
			close(pinned) // read-only: the body runs once
			<-release
			return nil
		})
	}()
	<-pinned
	write := func(round int) {
		for i := range long {
			v := &long[i]
			require.NoError(t, Atomically(func(tx *Tx) error { v.Store(tx, zeroProbe{round, round}); return nil }))
		}
	}
	for round := 1; round <= 6; round++ {
		write(round)
	}
	require.Greater(t, chainLen(&long[0].h), 6, "the snapshot should have kept the versions")
	close(release)
	<-unpinned
	gcore.Horizon(clock.v.Load())
	for round := 7; round <= 10; round++ {
		write(round)
		gcore.Horizon(clock.v.Load())
	}
	require.LessOrEqual(t, chainLen(&long[0].h), 3, "the chains were not cut")
	require.Equal(t, zeroProbe{}, z.val, "the shared zero node was written")
	require.Zero(t, z.ts, "the shared zero node was stamped")
	require.Nil(t, z.prev.Load())

	// An old snapshot reads a fresh Var's zero through the shared node.
	var fresh Var[zeroProbe]
	seen := make(chan zeroProbe, 1)
	pinned, stored := make(chan struct{}), make(chan struct{})
	go func() {
		_ = Atomically(func(tx *Tx) error {
			_ = vars[0].Load(tx) // a snapshot from before the Store below
			close(pinned)        // read-only: the body runs once
			<-stored
			seen <- fresh.Load(tx)
			return nil
		})
	}()
	<-pinned
	require.NoError(t, Atomically(func(tx *Tx) error { fresh.Store(tx, zeroProbe{7, 7}); return nil }))
	close(stored)
	require.Equal(t, zeroProbe{}, <-seen, "an old snapshot after a first Store")
	require.Same(t, &z.vnode, fresh.h.head.Load().prev.Load(), "the first version links above the shared zero node")
}
