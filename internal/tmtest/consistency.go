package tmtest

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/stm"
)

var errInsufficient = errors.New("tmtest: insufficient funds")

// testBank is the bank hammer: transfers between accounts in several
// goroutines, with audits that read every account and require the total to
// be conserved, both inside their bodies and after they return.
func (s *suite) testBank(t *testing.T) {
	const initial = 100
	n := scale(16, 64)
	accts := newVars(n, initial)
	total := n * initial
	audited := stm.NewVar(0)
	deadline := time.Now().Add(span(300*time.Millisecond, 2*time.Second))
	seed := uint64(time.Now().UnixNano())

	var transfers, rejected, audits, badInside, badAfter, negative, unexpected atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() {
			for time.Now().Before(deadline) {
				from, to, via := rng.IntN(n), rng.IntN(n-1), rng.IntN(n)
				if to >= from {
					to++
				}
				amt := rng.IntN(initial) + 1
				split := rng.IntN(4) == 0 && via != from && via != to
				err := s.atomically(func(tx *stm.Tx) error {
					fb := accts[from].Load(tx)
					if fb < amt {
						return errInsufficient
					}
					accts[from].Store(tx, fb-amt)
					if split {
						half := amt / 2
						accts[via].Store(tx, accts[via].Load(tx)+half)
						accts[to].Store(tx, accts[to].Load(tx)+amt-half)
					} else {
						accts[to].Store(tx, accts[to].Load(tx)+amt)
					}
					return nil
				})
				switch {
				case err == nil:
					transfers.Add(1)
				case errors.Is(err, errInsufficient):
					rejected.Add(1)
				default:
					unexpected.Add(1)
				}
			}
		})
	}
	for a := range 2 {
		// Auditor 0 is read-only; auditor 1 also records the audit, so it
		// is a writer that must be opaque while it may still abort.
		writes := a == 1
		wg.Go(func() {
			for time.Now().Before(deadline) {
				var got int
				var neg bool
				err := s.atomically(func(tx *stm.Tx) error {
					got, neg = 0, false
					for i, acct := range accts {
						if i == n/2 {
							gosched()
						}
						v := acct.Load(tx)
						got += v
						neg = neg || v < 0
					}
					if got != total {
						badInside.Add(1)
					}
					if neg {
						negative.Add(1)
					}
					if writes {
						audited.Store(tx, audited.Load(tx)+1)
					}
					return nil
				})
				if err != nil {
					unexpected.Add(1)
				}
				if got != total {
					badAfter.Add(1)
				}
				audits.Add(1)
			}
		})
	}
	wg.Wait()

	t.Logf("seed %d: %d accounts, %d transfers, %d rejected for funds, %d audits",
		seed, n, transfers.Load(), rejected.Load(), audits.Load())
	assert.Zero(t, unexpected.Load(), "Atomically returned an error the body did not return")
	assert.Zero(t, badInside.Load(), "audit bodies saw a total other than %d", total)
	assert.Zero(t, badAfter.Load(), "committed audits saw a total other than %d", total)
	assert.Zero(t, negative.Load(), "audit bodies saw a negative balance")
	assert.Positive(t, transfers.Load(), "no transfer committed")
	assert.Positive(t, audits.Load(), "no audit completed")
	assert.Equal(t, total, peekSum(accts), "the committed total changed")
	for i, acct := range accts {
		assert.GreaterOrEqual(t, acct.Peek(), 0, "account %d is negative", i)
	}
}

// testOpacityProbe is go-peers.md section 7's probe: writers commit (i, -i)
// into (x, y), and readers check x+y == 0 inside their bodies, between the
// two Loads, with a Gosched between them. Every run of every body, including
// runs that later abort, must see a consistent snapshot.
func (s *suite) testOpacityProbe(t *testing.T) {
	x, y, z := stm.NewVar(0), stm.NewVar(0), stm.NewVar(0)
	deadline := time.Now().Add(span(300*time.Millisecond, time.Second))
	var commits, bodies, rwBodies, violations, unexpected atomic.Int64
	var wg sync.WaitGroup
	for w := range 2 {
		// Writer 1 yields between its Stores, so that readers run while
		// it holds tentative values.
		yield := w == 1
		wg.Go(func() {
			for i := 1; time.Now().Before(deadline); i++ {
				v := 2*i + w
				err := s.atomically(func(tx *stm.Tx) error {
					x.Store(tx, v)
					if yield {
						gosched()
					}
					y.Store(tx, -v)
					return nil
				})
				if err != nil {
					unexpected.Add(1)
				}
				commits.Add(1)
			}
		})
	}
	for r := range 3 {
		// Reader 2 also Stores, so it is a writer that validates and may
		// abort; its doomed runs must be consistent too.
		writes := r == 2
		wg.Go(func() {
			for time.Now().Before(deadline) {
				err := s.atomically(func(tx *stm.Tx) error {
					if writes {
						rwBodies.Add(1)
					} else {
						bodies.Add(1)
					}
					a := x.Load(tx)
					gosched()
					b := y.Load(tx)
					if a+b != 0 {
						violations.Add(1)
					}
					if writes {
						z.Store(tx, a)
					}
					return nil
				})
				if err != nil {
					unexpected.Add(1)
				}
			}
		})
	}
	wg.Wait()

	t.Logf("%d writer commits, %d read-only bodies, %d read-write bodies, %d inconsistent snapshots",
		commits.Load(), bodies.Load(), rwBodies.Load(), violations.Load())
	assert.Zero(t, unexpected.Load())
	assert.Zero(t, violations.Load(), "bodies saw x+y != 0: not opaque")
	assert.Positive(t, commits.Load())
	assert.Positive(t, bodies.Load())
	assert.Positive(t, rwBodies.Load())
	assert.Zero(t, x.Peek()+y.Peek())
}

// testWriteSkew is the classic write skew: a and b start at 1 with the
// constraint a+b >= 1. T1 reads both and, if the sum is 2, sets a = 0; T2
// does the same and sets b = 0. Under snapshot isolation both commit and the
// constraint breaks; a serializable TM aborts one of them, whose rerun sees
// the sum 1 and writes nothing.
func (s *suite) testWriteSkew(t *testing.T) {
	rounds := scale(200, 1000)
	// On its first run each body waits (briefly, so that a TM that runs
	// them one at a time is not stuck) until the other has taken its
	// snapshot, which makes the overlap all but certain.
	const rendezvous = 10 * time.Millisecond
	var skews, overlaps, unexpected int
	for range rounds {
		a, b := stm.NewVar(1), stm.NewVar(1)
		start := make(chan struct{})
		arrived := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		var firstSums [2]int
		var errs [2]error
		var wg sync.WaitGroup
		for k := range 2 {
			mine := a
			if k == 1 {
				mine = b
			}
			first := true
			wg.Go(func() {
				<-start
				errs[k] = s.atomically(func(tx *stm.Tx) error {
					sum := a.Load(tx) + b.Load(tx)
					if first {
						first = false
						firstSums[k] = sum
						close(arrived[k])
						select {
						case <-arrived[1-k]:
						case <-time.After(rendezvous):
						}
					}
					if sum >= 2 {
						mine.Store(tx, 0)
					}
					return nil
				})
			})
		}
		close(start)
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			unexpected++
		}
		if firstSums[0] == 2 && firstSums[1] == 2 {
			overlaps++
		}
		if a.Peek()+b.Peek() < 1 {
			skews++
		}
	}
	t.Logf("%d rounds, %d with both first snapshots at sum 2, %d skews", rounds, overlaps, skews)
	assert.Zero(t, unexpected)
	assert.Zero(t, skews, "write skew: both transactions committed a = b = 0")
}

// testReadOnlyOnce: read-only bodies over several Vars, under a storm of
// writers on the same Vars, run exactly once each, and see one snapshot.
func (s *suite) testReadOnlyOnce(t *testing.T) {
	vs := newVars(8, 0)
	deadline := time.Now().Add(span(300*time.Millisecond, 1500*time.Millisecond))
	stop := make(chan struct{})
	var commits, calls, reruns, maxRuns, inconsistent, unexpected atomic.Int64
	var writers, readers sync.WaitGroup
	for range 2 {
		writers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.atomically(func(tx *stm.Tx) error {
					for _, v := range vs {
						v.Store(tx, v.Load(tx)+1)
					}
					return nil
				})
				if err != nil {
					unexpected.Add(1)
				}
				commits.Add(1)
			}
		})
	}
	for range 2 {
		readers.Go(func() {
			for time.Now().Before(deadline) {
				runs := int64(0)
				err := s.atomically(func(tx *stm.Tx) error {
					runs++
					first := vs[0].Load(tx)
					for i, v := range vs[1:] {
						if i == len(vs)/2 {
							gosched()
						}
						if v.Load(tx) != first {
							inconsistent.Add(1)
						}
					}
					gosched()
					if vs[0].Load(tx) != first {
						inconsistent.Add(1) // not a repeatable read
					}
					return nil
				})
				if err != nil {
					unexpected.Add(1)
				}
				calls.Add(1)
				if runs != 1 {
					reruns.Add(1)
					for m := maxRuns.Load(); runs > m && !maxRuns.CompareAndSwap(m, runs); m = maxRuns.Load() {
					}
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writers.Wait()

	t.Logf("%d read-only transactions against %d writer commits; %d ran more than once (max %d runs)",
		calls.Load(), commits.Load(), reruns.Load(), maxRuns.Load())
	assert.Zero(t, unexpected.Load())
	assert.Zero(t, inconsistent.Load(), "read-only bodies saw an inconsistent snapshot")
	assert.Zero(t, reruns.Load(), "read-only bodies ran more than once")
	assert.Positive(t, calls.Load())
	assert.Positive(t, commits.Load())
}

// testLostUpdates: G goroutines each increment one shared Var N times, and
// each its own Var too; the counts are exact.
func (s *suite) testLostUpdates(t *testing.T) {
	g := scale(4, 8)
	n := scale(250, 2500)
	shared := stm.NewVar(0)
	own := newVars(g, 0)
	var unexpected atomic.Int64
	var wg sync.WaitGroup
	for k := range g {
		wg.Go(func() {
			for i := range n {
				yield := i%2 == 0
				err := s.atomically(func(tx *stm.Tx) error {
					v := shared.Load(tx)
					if yield {
						gosched() // widen the window between the Load and the Store
					}
					shared.Store(tx, v+1)
					own[k].Store(tx, own[k].Load(tx)+1)
					return nil
				})
				if err != nil {
					unexpected.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, unexpected.Load())
	assert.Equal(t, g*n, shared.Peek(), "lost updates on the shared Var")
	for k, v := range own {
		assert.Equal(t, n, v.Peek(), "goroutine %d's own Var", k)
	}
}

// testLivelock: 8 goroutines each increment one shared Var and their own
// Var while reading everyone else's, so every pair of transactions
// conflicts. All of them must finish, with exact counts.
func (s *suite) testLivelock(t *testing.T) {
	const g = 8
	n := scale(100, 1000)
	shared := stm.NewVar(0)
	own := newVars(g, 0)
	var progress [g]atomic.Int64
	var stop atomic.Bool
	var unexpected atomic.Int64
	var wg sync.WaitGroup
	for k := range g {
		wg.Go(func() {
			for range n {
				if stop.Load() {
					return
				}
				err := s.atomically(func(tx *stm.Tx) error {
					others := 0
					for j, v := range own {
						if j != k {
							others += v.Load(tx)
						}
					}
					gosched()
					shared.Store(tx, shared.Load(tx)+1)
					own[k].Store(tx, own[k].Load(tx)+1)
					return nil
				})
				if err != nil {
					unexpected.Add(1)
				}
				progress[k].Add(1)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	limit := span(15*time.Second, 40*time.Second)
	if !waitDone(t, done, limit, "livelock: not all goroutines finished") {
		stop.Store(true)
		var p [g]int64
		for k := range g {
			p[k] = progress[k].Load()
		}
		t.Errorf("progress per goroutine after %v: %v of %d", limit, p, n)
		<-done
		return
	}
	assert.Zero(t, unexpected.Load())
	assert.Equal(t, g*n, shared.Peek(), "lost updates on the shared Var")
	for k, v := range own {
		assert.Equal(t, n, v.Peek(), "goroutine %d's own Var", k)
	}
}

// testStarvation: one transaction that reads and writes 200 Vars runs
// against 2 goroutines hammering short writes on the same Vars, and is made
// to lose every attempt for as long as they are free to commit. It must
// commit while they are still hammering; the attempt count is logged.
func (s *suite) testStarvation(t *testing.T) {
	const width = 200
	vs := newVars(width, 0)
	var stop, timedOut atomic.Bool
	var hammerCommits atomic.Int64
	var wg sync.WaitGroup
	for h := range 2 {
		wg.Go(func() {
			for i := h; !stop.Load(); i++ {
				v := vs[(i*7)%width]
				if i%16 == 0 {
					v = vs[0] // the Var the long transaction waits on
				}
				_ = s.atomically(func(tx *stm.Tx) error {
					v.Store(tx, v.Load(tx)+1)
					return nil
				})
				hammerCommits.Add(1)
			}
		})
	}
	limit := span(5*time.Second, 10*time.Second)
	timer := time.AfterFunc(limit, func() {
		timedOut.Store(true)
		stop.Store(true)
	})
	require.True(t, eventually(patience, func() bool { return hammerCommits.Load() > 100 }), "the short writers did not get going")

	// Halfway through each attempt, the long transaction waits until a short
	// writer has committed to the first Var it read, so every attempt is
	// doomed for as long as they are free to commit. The wait gives up after
	// a while, which is what it does once the long transaction has escalated
	// and the short writers are held back.
	awaitOverwrite := func(seen int) {
		until := time.Now().Add(50 * time.Millisecond)
		for vs[0].Peek() == seen && time.Now().Before(until) {
			gosched()
		}
	}
	attempts := 0
	start := time.Now()
	err := s.atomically(func(tx *stm.Tx) error {
		attempts++
		first := vs[0].Load(tx)
		for i, v := range vs {
			if i == width/2 {
				awaitOverwrite(first)
			}
			v.Store(tx, v.Load(tx)+1)
		}
		return nil
	})
	elapsed := time.Since(start)
	starved := timedOut.Load()
	timer.Stop()
	stop.Store(true)
	wg.Wait()

	t.Logf("the 200-Var transaction committed after %d attempts in %v, against %d short commits",
		attempts, elapsed, hammerCommits.Load())
	require.NoError(t, err)
	assert.False(t, starved, "the long transaction committed only after the short writers stopped (%v): starvation", limit)
	assert.Equal(t, int(hammerCommits.Load())+width, peekSum(vs), "lost updates")
}
