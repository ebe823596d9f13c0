package tmtest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/hytm/hytm/stm"
)

// spin busy-waits for about d without yielding, so that a reader holds its
// snapshot open between two Loads while a writer on another core commits.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// testRealTimeSingleVar: one goroutine commits x = i and then y = i, each a
// blind write of one Var (the transactions that commit without ticking the
// clock), for i = 1, 2, 3, ... Between two of its commits y <= x <= y+1, and
// every snapshot of a strictly serializable TM is taken between two commits.
// Readers Load x, hold their snapshot open for a few microseconds (a busy
// spin, or a Gosched every fourth attempt), then Load y: if a commit stamped
// inside their snapshot were accepted Var by Var, they would see the y of a
// later i than their x (x = 3, y = 4, say, which would make 1/(x-y+1) divide
// by zero inside the body). Every attempt's observation counts, aborted
// attempts included: opacity forbids a torn state in any of them.
func (s *suite) testRealTimeSingleVar(t *testing.T) {
	x, y := stm.NewVar(0), stm.NewVar(0)
	deadline := time.Now().Add(span(300*time.Millisecond, 2*time.Second))
	stop := make(chan struct{})
	var commits, bodies, torn, unexpected atomic.Int64
	var firstTorn atomic.Pointer[string]
	var writer, readers sync.WaitGroup
	writer.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			for _, v := range []*stm.Var[int]{x, y} {
				if err := s.atomically(func(tx *stm.Tx) error {
					v.Store(tx, i)
					return nil
				}); err != nil {
					unexpected.Add(1)
				}
				commits.Add(1)
			}
		}
	})
	for range 2 {
		readers.Go(func() {
			for n := 0; time.Now().Before(deadline); n++ {
				err := s.atomically(func(tx *stm.Tx) error {
					b := bodies.Add(1)
					vx := x.Load(tx)
					if b%4 == 0 {
						gosched()
					} else {
						spin(3 * time.Microsecond)
					}
					vy := y.Load(tx)
					if vx < vy || vx > vy+1 {
						if torn.Add(1) == 1 {
							msg := fmt.Sprintf("x = %d, y = %d", vx, vy)
							firstTorn.Store(&msg)
						}
					}
					return nil
				})
				if err != nil {
					unexpected.Add(1)
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writer.Wait()

	t.Logf("%d single-Var commits, %d reader bodies, %d torn snapshots", commits.Load(), bodies.Load(), torn.Load())
	assert.Zero(t, unexpected.Load(), "Atomically returned an error the body did not return")
	if n := torn.Load(); n > 0 {
		t.Errorf("%d of %d reader bodies saw a torn state (first: %s); the writer commits x = i, then y = i, "+
			"so every snapshot has y <= x <= y+1: a snapshot accepted a version committed after it began, Var by Var",
			n, bodies.Load(), *firstTorn.Load())
	}
	assert.Positive(t, commits.Load())
	assert.Positive(t, bodies.Load())
}

// testLongFork: two writers each commit one blind single-Var write (a = 1,
// b = 1) on fresh Vars each round, while two read-only transactions read
// them in opposite orders, a then b and b then a. If one reader sees a = 0,
// b = 1 and the other a = 1, b = 0, each write was seen without the other
// and in opposite orders, which no serial order explains: a long fork, the
// anomaly of snapshot isolation without a total order of commits.
//
// Even rounds pin down the interleaving that exposes it: each reader's first
// attempt makes its first Load, then waits for both writers to commit before
// its second Load, and the writers wait for both first Loads. (The waits
// give up after a short rendezvous, so a TM that runs transactions one at a
// time is slowed, not stuck.) Odd rounds let the four goroutines race from a
// start barrier, each yielding zero to two times first (a pattern that
// changes from round to round, so that each goroutine is sometimes first
// and sometimes last), and the readers yield between their Loads; these
// rounds find it less often, without knowing where to look. Every attempt
// of each reader is compared with every attempt of the other: aborted
// attempts must be consistent too.
func (s *suite) testLongFork(t *testing.T) {
	rounds := scale(300, 2000)
	const rendezvous = 10 * time.Millisecond
	type seen struct{ a, b int }
	var forks, tightForks, unexpected int
	var firstFork string
	for round := range rounds {
		tight := round%2 == 0
		vars := [2]*stm.Var[int]{stm.NewVar(0), stm.NewVar(0)}
		start := make(chan struct{})
		loaded := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		wrote := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		var obs [2][]seen
		var errs [4]error
		var wg sync.WaitGroup
		// awaitAll waits for every channel in chs, giving up at the
		// round's deadline.
		var deadline time.Time
		awaitAll := func(chs [2]chan struct{}) {
			for _, ch := range chs {
				select {
				case <-ch:
				case <-time.After(time.Until(deadline)):
					return
				}
			}
		}
		for k := range 2 {
			wg.Go(func() {
				<-start
				if tight {
					awaitAll(loaded)
				} else {
					for range (round / 2) % 3 {
						gosched()
					}
				}
				errs[k] = s.atomically(func(tx *stm.Tx) error {
					vars[k].Store(tx, 1)
					return nil
				})
				close(wrote[k])
			})
		}
		for k := range 2 {
			first, second := vars[k], vars[1-k]
			firstRun := true
			wg.Go(func() {
				<-start
				if !tight {
					for range (round/2 + k) % 2 {
						gosched()
					}
				}
				errs[2+k] = s.atomically(func(tx *stm.Tx) error {
					f := first.Load(tx)
					if firstRun {
						firstRun = false
						close(loaded[k])
						if tight {
							awaitAll(wrote)
						}
					}
					if !tight {
						gosched()
					}
					g := second.Load(tx)
					if k == 0 {
						obs[k] = append(obs[k], seen{a: f, b: g})
					} else {
						obs[k] = append(obs[k], seen{a: g, b: f})
					}
					return nil
				})
			})
		}
		deadline = time.Now().Add(rendezvous)
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				unexpected++
			}
		}
		forked := false
		for _, o0 := range obs[0] {
			for _, o1 := range obs[1] {
				if (o0 == seen{0, 1} && o1 == seen{1, 0}) || (o0 == seen{1, 0} && o1 == seen{0, 1}) {
					forked = true
				}
			}
		}
		if forked {
			forks++
			if tight {
				tightForks++
			}
			if firstFork == "" {
				firstFork = fmt.Sprintf("round %d: reader a-then-b saw %+v, reader b-then-a saw %+v", round, obs[0], obs[1])
			}
		}
	}
	t.Logf("%d rounds, %d long forks (%d in rounds with the pinned interleaving)", rounds, forks, tightForks)
	assert.Zero(t, unexpected, "Atomically returned an error the body did not return")
	if forks > 0 {
		t.Errorf("long fork in %d of %d rounds (%d pinned): two read-only transactions saw the two single-Var writes "+
			"in opposite orders, which no serial order explains; first %s", forks, rounds, tightForks, firstFork)
	}
}
