package stm

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// freshSite forgets what the site of fn learnt, so that a test sees its
// first attempt in read-only mode under -count too.
func freshSite[F any](fn F) F {
	w, sh := siteEntry(siteIndex(bodySite(fn)))
	w.And(^uint32(1<<siteEntryBits-1) << sh)
	return fn
}

// A site that only reads runs without a read log, and stays that way.
func TestReadOnlySiteLogsNothing(t *testing.T) {
	x, y := NewVar(1), NewVar(2)
	for range 3 {
		var state txState
		var logged int
		sum, err := AtomicallyValue(func(tx *Tx) (int, error) {
			s := x.Load(tx) + y.Load(tx)
			state, logged = tx.state, len(tx.reads)
			return s, nil
		})
		require.NoError(t, err)
		require.Equal(t, 3, sum)
		require.Equal(t, txRO, state, "a read-only site runs in read-only mode")
		require.Zero(t, logged, "read-only mode logs no read")
	}
}

// The first Store of a read-only attempt goes on without restarting,
// unlogged: the reads after it are not logged either, and while no other
// commit comes in between, the site stays unlogged.
func TestFirstStoreKeepsSiteUnlogged(t *testing.T) {
	x, y := NewVar(1), NewVar(10)
	runs := 0
	var states []txState
	var logged []int
	body := func(tx *Tx) error {
		runs++
		states = append(states, tx.state)
		x.Store(tx, x.Load(tx)+1)
		y.Store(tx, y.Load(tx)+x.Load(tx))
		logged = append(logged, len(tx.reads))
		return nil
	}
	require.NoError(t, Atomically(freshSite(body)))
	require.NoError(t, Atomically(body))
	require.Equal(t, 2, runs, "a Store does not restart the attempt")
	require.Equal(t, []txState{txRO, txRO}, states, "the site stays read-only at its start")
	require.Equal(t, []int{0, 0}, logged, "an unlogged attempt logs no read")
	require.Zero(t, siteMode(bodySite(body)), "nothing marked the site")
	require.Equal(t, 3, x.Peek())
	require.Equal(t, 10+2+3, y.Peek())
}

// The interleaving the unlogged commit rule is about: an attempt reads x in
// read-only mode (no log), a commit changes x, then the attempt stores.
// It cannot validate the read, so it may commit only if no commit was
// stamped since its snapshot (its tick lands at rv+1); here one was, so it
// must run again. If a commit skipped that check, y would get the stale
// value, or x would lose the other commit's increment. One Var written
// takes the single-Var commit (its clock CAS), two take commitMulti.
func TestUnloggedWriterCannotSkipAChangedRead(t *testing.T) {
	for _, c := range []struct {
		name  string
		store func(tx *Tx, x, y, z *Var[int], v int)
	}{
		{"other", func(tx *Tx, x, y, z *Var[int], v int) { y.Store(tx, v) }},
		{"same", func(tx *Tx, x, y, z *Var[int], v int) { x.Store(tx, v+10) }},
		{"two", func(tx *Tx, x, y, z *Var[int], v int) { y.Store(tx, v); z.Store(tx, v) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, y, z := NewVar(1), NewVar(0), NewVar(0)
			runs := 0
			require.NoError(t, Atomically(freshSite(func(tx *Tx) error {
				runs++
				v := x.Load(tx)
				if runs == 1 {
					require.Equal(t, txRO, tx.state)
					conflict(x) // another goroutine commits x+1
				}
				c.store(tx, x, y, z, v)
				return nil
			})))
			require.Equal(t, 2, runs, "the unlogged attempt must not commit")
			if c.name == "same" {
				require.Equal(t, 12, x.Peek(), "x lost the other commit's increment")
			} else {
				require.Equal(t, x.Peek(), y.Peek(), "y holds the value x had when y was written")
			}
		})
	}
}

// An unlogged commit that finds another commit in between marks its site
// contended: the next attempt runs logged, so that its commit validates
// instead of aborting whenever the clock moved. The failed commit also ends
// the worker's run of calm commits: here the worker is one calm commit
// short of clearing a mark (built up at other sites, as earlier tests in
// the process may leave it), and the logged attempt's calm commit must not
// clear the mark its own site has just got.
func TestUnloggedConflictMarksSiteContended(t *testing.T) {
	x, y := NewVar(1), NewVar(0)
	var states []txState
	body := func(tx *Tx) error {
		states = append(states, tx.state)
		v := x.Load(tx)
		if len(states) == 1 {
			tx.w.calmRun = calmRun - 1
			conflict(x)
		}
		y.Store(tx, v)
		return nil
	}
	require.NoError(t, Atomically(freshSite(body)))
	require.Equal(t, []txState{txRO, txFast}, states, "the attempt after the failed unlogged commit runs logged")
	require.Equal(t, uint32(siteContended), siteMode(bodySite(body)))
	require.Equal(t, 2, y.Peek())
}

// A contended site runs logged until calmRun of the worker's commits there
// in a row are stamped rv+1 (no commit in between: each would have
// committed unlogged); then it runs unlogged again. A commit that another
// commit disturbs, even one that validates, starts the count again; and a
// site marked again after a clear needs calmGrowth times as many.
func TestContendedSiteCalms(t *testing.T) {
	// multi: the commit takes commitMulti; single: the single-Var path.
	for _, single := range []bool{false, true} {
		t.Run(map[bool]string{false: "multi", true: "single"}[single], func(t *testing.T) {
			x, y, z := NewVar(1), NewVar(0), NewVar(0)
			var states []txState
			disturb, clash := false, false
			body := func(tx *Tx) error {
				states = append(states, tx.state)
				var v int
				if single {
					v = y.Load(tx) + 1
				} else {
					v = x.Load(tx)
				}
				if disturb {
					disturb = false
					conflict(z) // a commit in between, on a Var the body did not read
				}
				if clash && tx.state == txRO {
					clash = false
					conflict(x) // the unlogged commit fails: the site is marked again
				}
				y.Store(tx, v)
				return nil
			}
			run := func(n int) {
				for range n {
					require.NoError(t, Atomically(body))
				}
			}
			site := bodySite(freshSite(body))
			markSite(site, siteContended)
			disturb = true
			run(1) // the worker's count may have started in another test: start it again
			run(calmRun - 1)
			disturb = true
			run(1)
			run(calmRun - 1)
			require.Equal(t, uint32(siteContended), siteMode(site), "a disturbed commit must start the count again")
			for _, s := range states {
				require.Equal(t, txFast, s, "a contended site runs logged")
			}
			run(1)
			require.Zero(t, siteMode(site), "calmRun calm commits in a row clear the mark")
			first := len(states)
			run(3)
			require.Equal(t, []txState{txRO, txRO, txRO}, states[first:], "the site runs unlogged again")

			// Marked again by an unlogged commit: clearing now takes
			// calmGrowth times as many calm commits.
			clash = true
			run(1) // the unlogged attempt fails; the logged one that follows is calm
			require.Equal(t, uint32(siteContended), siteMode(site))
			run(calmGrowth*calmRun - 2)
			require.Equal(t, uint32(siteContended), siteMode(site), "a site cleared once must wait longer")
			run(1)
			require.Zero(t, siteMode(site), "calmGrowth*calmRun calm commits clear it")
			if !single {
				require.Equal(t, x.Peek(), y.Peek())
			}
		})
	}
}

// A nested Atomically that stores and fails leaves the attempt with no
// writes: it must go back to read-only mode, not to the logged mode whose
// log would miss the reads made before.
func TestUnloggedRollbackStaysReadOnly(t *testing.T) {
	x, z := NewVar(1), NewVar(0)
	var after txState
	require.NoError(t, Atomically(freshSite(func(tx *Tx) error {
		_ = x.Load(tx)
		_ = Atomically(func(tx *Tx) error {
			z.Store(tx, 1)
			return errTest
		})
		after = tx.state
		return nil
	})))
	require.Equal(t, txRO, after)
	require.Equal(t, 0, z.Peek())
}

// Retry in read-only mode has no read set to wait on: the attempt runs
// again logged, and then waits (and wakes) as usual.
func TestRetryInReadOnlyModeWaits(t *testing.T) {
	x := NewVar(0)
	done := make(chan int)
	go func() {
		v, _ := AtomicallyValue(func(tx *Tx) (int, error) {
			v := x.Load(tx)
			Check(tx, v > 0)
			return v, nil
		})
		done <- v
	}()
	require.NoError(t, Atomically(func(tx *Tx) error { x.Store(tx, 7); return nil }))
	select {
	case v := <-done:
		require.Equal(t, 7, v)
	case <-time.After(10 * time.Second):
		t.Fatal("the Retry in read-only mode never woke")
	}
}

// The unlock is a release store; the Retry wake-up rests on the lock CAS
// before the commit's load of the waiter count (installWrites). Two
// goroutines hand a turn back and forth through one Var, each waiting in
// Retry for its turn: a lost wake-up leaves both asleep, and the test
// fails on its deadline instead of hanging.
func TestWakeAfterReleaseUnlock(t *testing.T) {
	rounds := 20000
	if testing.Short() {
		rounds = 2000
	}
	turn := NewVar(0)
	done := make(chan struct{}, 2)
	player := func(me int) {
		defer func() { done <- struct{}{} }()
		for i := 0; i < rounds; i++ {
			_ = Atomically(func(tx *Tx) error {
				Check(tx, turn.Load(tx) == me)
				turn.Store(tx, 1-me)
				return nil
			})
		}
	}
	go player(0)
	go player(1)
	deadline := time.After(60 * time.Second)
	for range 2 {
		select {
		case <-done:
		case <-deadline:
			t.Fatalf("a Retry wake-up was lost: turn stuck at %d", turn.Peek())
		}
	}
}

// The waiter's half of the Retry pairing with a release-store unlock: a
// transaction that re-reads a Var's meta while a commit holds its lock must
// take the lock as a change and not sleep (the commit may have loaded the
// waiter count before the registration, and its unlock store may not be
// visible yet). Here the test holds x's commit lock while a transaction
// that read x calls Retry: the transaction must go on to its next attempt
// instead of sleeping.
func TestRetryTakesLockAsChange(t *testing.T) {
	x := NewVar(0)
	read := make(chan struct{})
	locked := make(chan struct{})
	done := make(chan struct{})
	var runs atomic.Int32
	body := func(tx *Tx) error {
		if runs.Add(1) == 1 {
			_ = x.Load(tx)
			close(read)
			<-locked
			tx.Retry()
		}
		return nil
	}
	markSiteLogged(bodySite(body)) // a logged attempt: Retry waits at once
	go func() {
		defer close(done)
		_ = Atomically(body)
	}()
	<-read
	m := x.h.meta.Load()
	require.True(t, x.h.meta.CompareAndSwap(m, m|metaLock), "lock x as a commit does")
	close(locked)
	deadline := time.Now().Add(5 * time.Second)
	for runs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	again := runs.Load()
	x.h.meta.Store(m) // unlock unchanged; a commit then wakes a sleeper
	require.NoError(t, Atomically(func(tx *Tx) error { x.Store(tx, 1); return nil }))
	<-done
	require.GreaterOrEqual(t, again, int32(2), "Retry slept although the Var it read was locked")
}

// An idle goroutine's worker keeps no Var of its last transaction alive:
// the GC scans a log's whole array, so entries left past the length would
// keep the Vars, and all their values reach, for as long as the worker
// lives. Each case leaves a goroutine idle after its transactions on a Var
// whose value has a cleanup, drops every other reference, and waits for the
// cleanup.
func TestIdleWorkerKeepsNoVar(t *testing.T) {
	type big struct{ _ [1 << 10]byte }
	cases := map[string]func(v *Var[*big], other *Var[int]){
		"commit": func(v *Var[*big], other *Var[int]) {
			_ = Atomically(func(tx *Tx) error { v.Store(tx, v.Load(tx)); other.Store(tx, 1); return nil })
		},
		"error": func(v *Var[*big], other *Var[int]) {
			_ = Atomically(func(tx *Tx) error { v.Store(tx, v.Load(tx)); return errTest })
		},
		"longer attempt first": func(v *Var[*big], other *Var[int]) {
			runs := 0
			_ = Atomically(func(tx *Tx) error {
				runs++
				if runs == 1 {
					other.Store(tx, other.Load(tx)+1)
					v.Store(tx, v.Load(tx)) // the log's second entry
					conflict(other)         // the next attempt writes only other
					return nil
				}
				other.Store(tx, other.Load(tx)+1)
				return nil
			})
		},
		"nested rollback": func(v *Var[*big], other *Var[int]) {
			_ = Atomically(func(tx *Tx) error {
				other.Store(tx, 1)
				_ = Atomically(func(tx *Tx) error { v.Store(tx, v.Load(tx)); return errTest })
				return nil
			})
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			requireIdleWorkerDrops(t, func(collected chan struct{}) func() {
				obj := new(big)
				runtime.AddCleanup(obj, func(ch chan struct{}) { close(ch) }, collected)
				v, other := NewVar(obj), NewVar(0)
				return func() { run(v, other) }
			}, "the idle goroutine's worker still reaches the Var of its last transaction")
		})
	}
}

// requireIdleWorkerDrops runs the function that start returns on a
// goroutine that then stays idle, its worker kept, and requires that the
// object whose cleanup start set up to close collected is collected: by
// then only that worker could still reach it.
func requireIdleWorkerDrops(t *testing.T, start func(collected chan struct{}) func(), msg string) {
	t.Helper()
	collected, idle, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	func() {
		run := start(collected)
		go func() {
			run()
			close(idle)
			<-release // idle, with its worker
		}()
	}()
	defer close(release)
	<-idle
	requireCollected(t, collected, msg)
}

// requireCollected runs the GC (after TrimAll) until collected is closed
// by an object's cleanup, and fails with msg after 5 s.
func requireCollected(t *testing.T, collected <-chan struct{}, msg string) {
	t.Helper()
	TrimAll()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		select {
		case <-collected:
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An idle goroutine's worker keeps no version node of its last
// transaction alive either: a Var whose values are wider than the inline
// copy (inlineMax) is read from its node, which the read entry records; an
// entry left past the log's length would keep the node, and the value it
// holds, reachable after the Var itself is gone.
func TestIdleWorkerKeepsNoVersion(t *testing.T) {
	type big struct{ _ [1 << 10]byte }
	type wide struct {
		p *big
		_ [3]uint64 // wider than inlineMax: read from the node
	}
	requireIdleWorkerDrops(t, func(collected chan struct{}) func() {
		obj := new(big)
		runtime.AddCleanup(obj, func(ch chan struct{}) { close(ch) }, collected)
		v, other := NewVar(wide{p: obj}), NewVar(0)
		return func() {
			for range 3 { // the site learns to log: the last run records v's node
				_ = Atomically(func(tx *Tx) error { _ = v.Load(tx); other.Store(tx, 1); return nil })
			}
		}
	}, "the idle goroutine's worker still reaches a version of its last transaction")
}

// Init gives a fresh zero Var its first value, once; a second Init, or an
// Init after a transaction used the Var, panics.
func TestVarInit(t *testing.T) {
	var v Var[int]
	v.Init(5)
	require.Equal(t, 5, v.Peek())
	require.PanicsWithValue(t, "stm: Init of a Var already in use", func() { v.Init(6) })
	var w Var[int]
	require.NoError(t, Atomically(func(tx *Tx) error { _ = w.Load(tx); return nil }))
	require.PanicsWithValue(t, "stm: Init of a Var already in use", func() { w.Init(1) })
	var nilVar *Var[int]
	require.PanicsWithValue(t, "stm: Init of a nil Var", func() { nilVar.Init(1) })
	require.Equal(t, 5, v.Peek())
}

// A transaction that writes many Vars reads its own writes back through the
// write filter, the linear scan and (past writeIndexMin) the map index, and
// a nested call that writes and fails leaves the outer writes readable and
// its own gone, although its filter bits stay set.
func TestManyWritesReadBack(t *testing.T) {
	for _, n := range []int{3, writeIndexMin, writeIndexMin + 1, 300} {
		vs := make([]*Var[int], n)
		for i := range vs {
			vs[i] = NewVar(-1)
		}
		others := make([]*Var[int], n)
		for i := range others {
			others[i] = NewVar(-2)
		}
		require.NoError(t, Atomically(func(tx *Tx) error {
			for i, v := range vs {
				v.Store(tx, i)
			}
			_ = Atomically(func(tx *Tx) error {
				for i, v := range others {
					v.Store(tx, i)
				}
				vs[0].Store(tx, 1000)
				return errTest
			})
			for i, v := range vs {
				if got := v.Load(tx); got != i {
					t.Fatalf("n=%d: Var %d reads %d in its own transaction, want %d", n, i, got, i)
				}
			}
			for i, v := range others {
				if got := v.Load(tx); got != -2 {
					t.Fatalf("n=%d: other Var %d reads %d after its nested write failed, want -2", n, i, got)
				}
			}
			return nil
		}))
		for i, v := range vs {
			require.Equal(t, i, v.Peek())
		}
	}
}
