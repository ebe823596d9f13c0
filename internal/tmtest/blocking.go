package tmtest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/hytm/hytm/stm"
)

// blockedWaiter runs a transaction in its own goroutine and watches it.
type blockedWaiter struct {
	runs atomic.Int64 // body runs; the body must call count
	done chan struct{}
	err  error
}

func (s *suite) startWaiter(body func(w *blockedWaiter, tx *stm.Tx) error) *blockedWaiter {
	w := &blockedWaiter{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.err = s.atomically(func(tx *stm.Tx) error { return body(w, tx) })
	}()
	return w
}

// parked waits until the waiter has run its body and stopped rerunning it,
// fails the test if it returned instead of blocking, and returns the run
// count it settled at.
func (w *blockedWaiter) parked(t *testing.T, what string) int64 {
	t.Helper()
	require.True(t, eventually(patience, func() bool { return w.runs.Load() >= 1 }), "%s: the body never ran", what)
	r := stable(&w.runs)
	select {
	case <-w.done:
		t.Fatalf("%s: the transaction returned (err %v) instead of blocking in Retry", what, w.err)
	default:
	}
	return r
}

// finished waits for the waiter to return and requires that it committed.
func (w *blockedWaiter) finished(t *testing.T, what string) bool {
	t.Helper()
	if !waitDone(t, w.done, patience, "%s: the Retry waiter was not woken", what) {
		return false
	}
	require.NoError(t, w.err, what)
	return true
}

// stillBlocked fails the test if the waiter has returned.
func (w *blockedWaiter) stillBlocked(t *testing.T, what string) {
	t.Helper()
	select {
	case <-w.done:
		t.Fatalf("%s: the transaction returned (err %v) though nothing it read changed", what, w.err)
	default:
	}
}

// testRetryWakes: Retry blocks until a Var the transaction read is changed
// by a commit, and only then: commits to other Vars do not rerun the body.
func (s *suite) testRetryWakes(t *testing.T) {
	leaks := goleak.IgnoreCurrent()

	t.Run("WakesOnlyOnRead", func(t *testing.T) {
		x, y, z := stm.NewVar(0), stm.NewVar(0), stm.NewVar(0)
		var got int
		w := s.startWaiter(func(w *blockedWaiter, tx *stm.Tx) error {
			w.runs.Add(1)
			v := x.Load(tx)
			if v == 0 {
				tx.Retry()
			}
			got = v
			return nil
		})
		r0 := w.parked(t, "consumer")

		// A while of commits to Vars the waiter never read, and of
		// read-only transactions on the Var it did read.
		until := time.Now().Add(span(100*time.Millisecond, 400*time.Millisecond))
		unrelated := 0
		for time.Now().Before(until) {
			require.NoError(t, s.atomically(func(tx *stm.Tx) error {
				y.Store(tx, y.Load(tx)+1)
				if unrelated%3 == 0 {
					z.Store(tx, z.Load(tx)+1)
				}
				return nil
			}))
			if unrelated%16 == 0 {
				require.NoError(t, s.atomically(func(tx *stm.Tx) error {
					_ = x.Load(tx)
					return nil
				}))
			}
			unrelated++
		}
		time.Sleep(settle)
		extra := w.runs.Load() - r0
		assert.Zero(t, extra, "commits to Vars the waiter never read reran its body %d times (over %d unrelated commits)", extra, unrelated)
		w.stillBlocked(t, "after unrelated commits")

		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			x.Store(tx, 42)
			return nil
		}))
		if w.finished(t, "after a commit to x") {
			assert.Equal(t, 42, got)
			assert.Greater(t, w.runs.Load(), r0)
		}
	})

	// Every Var read before Retry counts, not only the last one.
	t.Run("WakesOnEveryVarRead", func(t *testing.T) {
		a, b := stm.NewVar(0), stm.NewVar(0)
		w := s.startWaiter(func(w *blockedWaiter, tx *stm.Tx) error {
			w.runs.Add(1)
			_ = a.Load(tx)
			if b.Load(tx) == 0 {
				tx.Retry()
			}
			return nil
		})
		r0 := w.parked(t, "consumer")
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			a.Store(tx, 1)
			return nil
		}))
		assert.True(t, eventually(patience, func() bool { return w.runs.Load() > r0 }),
			"a commit to a Var read before Retry (but not the last one read) did not wake the waiter")
		w.parked(t, "consumer after a woke it")
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			b.Store(tx, 1)
			return nil
		}))
		w.finished(t, "after a commit to b")
	})

	t.Run("ManyWaiters", func(t *testing.T) {
		gate, woke := stm.NewVar(false), stm.NewVar(0)
		ws := make([]*blockedWaiter, 8)
		for i := range ws {
			ws[i] = s.startWaiter(func(w *blockedWaiter, tx *stm.Tx) error {
				w.runs.Add(1)
				if !gate.Load(tx) {
					tx.Retry()
				}
				woke.Store(tx, woke.Load(tx)+1)
				return nil
			})
		}
		for i, w := range ws {
			w.parked(t, fmt.Sprintf("waiter %d", i))
		}
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			gate.Store(tx, true)
			return nil
		}))
		for i, w := range ws {
			w.finished(t, fmt.Sprintf("waiter %d", i))
		}
		assert.Equal(t, len(ws), woke.Peek())
	})

	// Two goroutines hand a ball back and forth, each Retry-blocking until
	// it is its turn. A lost wake-up stalls the game.
	t.Run("PingPong", func(t *testing.T) {
		rounds := scale(300, 3000)
		ball := stm.NewVar(0)
		var progress [2]atomic.Int64
		var wg sync.WaitGroup
		for p := range 2 {
			wg.Go(func() {
				for range rounds {
					err := s.atomically(func(tx *stm.Tx) error {
						if ball.Load(tx) != p {
							tx.Retry()
						}
						ball.Store(tx, 1-p)
						return nil
					})
					if err != nil {
						return
					}
					progress[p].Add(1)
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		if !waitDone(t, done, span(10*time.Second, 30*time.Second), "ping-pong stalled (lost wake-up?)") {
			t.Fatalf("rounds done: %d and %d of %d", progress[0].Load(), progress[1].Load(), rounds)
		}
		assert.Equal(t, int64(rounds), progress[0].Load())
		assert.Equal(t, int64(rounds), progress[1].Load())
		assert.Equal(t, 0, ball.Peek())
	})

	// A bounded queue: producers Retry while it is full, consumers while it
	// is empty. Every item is delivered exactly once.
	t.Run("BoundedQueue", func(t *testing.T) {
		const producers, consumers, capacity = 2, 3, 4
		perProducer := scale(200, 2000)
		q := stm.NewVar([]int(nil))
		push := func(item int) error {
			return s.atomically(func(tx *stm.Tx) error {
				cur := q.Load(tx)
				if len(cur) >= capacity {
					tx.Retry()
				}
				// Clip so that append copies: older versions share the
				// backing array and must not be written.
				q.Store(tx, append(slices.Clip(cur), item))
				return nil
			})
		}
		var got [consumers][]int
		var unexpected atomic.Int64
		var prodWG, consWG sync.WaitGroup
		for c := range consumers {
			consWG.Go(func() {
				for {
					var item int
					err := s.atomically(func(tx *stm.Tx) error {
						cur := q.Load(tx)
						if len(cur) == 0 {
							tx.Retry()
						}
						item = cur[0]
						q.Store(tx, cur[1:])
						return nil
					})
					if err != nil {
						unexpected.Add(1)
						return
					}
					if item < 0 {
						return
					}
					got[c] = append(got[c], item)
				}
			})
		}
		for p := range producers {
			prodWG.Go(func() {
				for i := range perProducer {
					if push(p*perProducer+i) != nil {
						unexpected.Add(1)
						return
					}
				}
			})
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			prodWG.Wait()
			for range consumers {
				if push(-1) != nil {
					unexpected.Add(1)
				}
			}
			consWG.Wait()
		}()
		if !waitDone(t, done, span(10*time.Second, 30*time.Second), "the bounded queue stalled (lost wake-up?)") {
			t.FailNow()
		}
		assert.Zero(t, unexpected.Load())
		var all []int
		for c := range consumers {
			all = append(all, got[c]...)
		}
		slices.Sort(all)
		want := make([]int, producers*perProducer)
		for i := range want {
			want[i] = i
		}
		assert.Equal(t, want, all, "items lost or duplicated")
		assert.Empty(t, q.Peek())
	})

	if !t.Failed() {
		VerifyNone(t, leaks)
	}
}

// testOrElseDiscards: OrElse runs the first branch; a branch that Retries
// has its Stores discarded (but not its reads) and the next branch runs; if
// every branch Retries, the whole transaction blocks until a Var read by any
// of them changes. This is go-peers.md section 7's Select probe.
func (s *suite) testOrElseDiscards(t *testing.T) {
	leaks := goleak.IgnoreCurrent()

	t.Run("DiscardsRetriedBranch", func(t *testing.T) {
		x := stm.NewVar(0)
		var sawInBranch1, sawInBranch2 = -1, -1
		ran2 := false
		err := s.atomically(s.OrElse(
			func(tx *stm.Tx) error {
				x.Store(tx, 1)
				sawInBranch1 = x.Load(tx)
				tx.Retry()
				return nil
			},
			func(tx *stm.Tx) error {
				ran2 = true
				sawInBranch2 = x.Load(tx)
				return nil
			},
		))
		require.NoError(t, err)
		assert.True(t, ran2, "the second branch did not run")
		assert.Equal(t, 1, sawInBranch1, "the first branch did not read its own Store")
		assert.Equal(t, 0, sawInBranch2, "the second branch saw the retried branch's Store")
		assert.Equal(t, 0, x.Peek(), "the retried branch's Store was committed")
	})

	t.Run("SecondBranchCommits", func(t *testing.T) {
		x, y := stm.NewVar(0), stm.NewVar(0)
		require.NoError(t, s.atomically(s.OrElse(
			func(tx *stm.Tx) error {
				x.Store(tx, 1)
				y.Store(tx, 1)
				tx.Retry()
				return nil
			},
			func(tx *stm.Tx) error {
				y.Store(tx, y.Load(tx)+2)
				return nil
			},
		)))
		assert.Equal(t, 0, x.Peek())
		assert.Equal(t, 2, y.Peek())
	})

	t.Run("FirstBranchWins", func(t *testing.T) {
		x := stm.NewVar(0)
		ran2 := false
		require.NoError(t, s.atomically(s.OrElse(
			func(tx *stm.Tx) error {
				x.Store(tx, 1)
				return nil
			},
			func(tx *stm.Tx) error {
				ran2 = true
				x.Store(tx, 2)
				return nil
			},
		)))
		assert.False(t, ran2, "the second branch ran though the first did not Retry")
		assert.Equal(t, 1, x.Peek())
	})

	// Stores made before OrElse survive a retried branch that overwrote them.
	t.Run("KeepsStoresBeforeBranch", func(t *testing.T) {
		w := stm.NewVar(0)
		saw := -1
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			w.Store(tx, 1)
			return s.OrElse(
				func(tx *stm.Tx) error {
					w.Store(tx, 2)
					tx.Retry()
					return nil
				},
				func(tx *stm.Tx) error {
					saw = w.Load(tx)
					return nil
				},
			)(tx)
		}))
		assert.Equal(t, 1, saw, "discarding the retried branch also discarded the Store before OrElse")
		assert.Equal(t, 1, w.Peek())
	})

	// Only Retry moves on to the next branch. An error or a panic ends the
	// transaction, rolled back.
	t.Run("ErrorDoesNotFallThrough", func(t *testing.T) {
		x := stm.NewVar(0)
		ran2 := false
		err := s.atomically(s.OrElse(
			func(tx *stm.Tx) error {
				x.Store(tx, 1)
				return errBody
			},
			func(tx *stm.Tx) error {
				ran2 = true
				return nil
			},
		))
		require.ErrorIs(t, err, errBody)
		assert.False(t, ran2)
		assert.Equal(t, 0, x.Peek())
	})

	t.Run("PanicDoesNotFallThrough", func(t *testing.T) {
		x := stm.NewVar(0)
		ran2 := false
		want := &boom{"branch"}
		r, panicked := catch(func() {
			_ = s.atomically(s.OrElse(
				func(tx *stm.Tx) error {
					x.Store(tx, 1)
					panic(want)
				},
				func(tx *stm.Tx) error {
					ran2 = true
					return nil
				},
			))
		})
		require.True(t, panicked)
		require.Equal(t, any(want), r)
		assert.False(t, ran2)
		assert.Equal(t, 0, x.Peek())
		s.commitsElsewhere(t, "after a panic in an OrElse branch", func(tx *stm.Tx) error {
			x.Store(tx, 2)
			return nil
		})
	})

	t.Run("ThreeAndNested", func(t *testing.T) {
		retrying := func(v *stm.Var[int], val int) func(*stm.Tx) error {
			return func(tx *stm.Tx) error {
				v.Store(tx, val)
				tx.Retry()
				return nil
			}
		}
		for _, shape := range []string{"flat", "nested-first", "nested-last"} {
			x, y := stm.NewVar(0), stm.NewVar(0)
			saw := -1
			last := func(tx *stm.Tx) error {
				saw = x.Load(tx)
				y.Store(tx, 3)
				return nil
			}
			var body func(*stm.Tx) error
			switch shape {
			case "flat":
				body = s.OrElse(retrying(x, 1), retrying(x, 2), last)
			case "nested-first":
				body = s.OrElse(s.OrElse(retrying(x, 1), retrying(x, 2)), last)
			case "nested-last":
				body = s.OrElse(retrying(x, 1), s.OrElse(retrying(x, 2), last))
			}
			require.NoError(t, s.atomically(body), shape)
			assert.Equal(t, 0, saw, "%s: the last branch saw a retried branch's Store", shape)
			assert.Equal(t, 0, x.Peek(), "%s: a retried branch's Store was committed", shape)
			assert.Equal(t, 3, y.Peek(), shape)
		}
	})

	// When every branch Retries, the transaction blocks until a Var read by
	// any branch changes, including one read only in an earlier branch.
	t.Run("AllRetryBlocks", func(t *testing.T) {
		for _, wake := range []string{"first", "last"} {
			a, b, w, unrelated := stm.NewVar(0), stm.NewVar(0), stm.NewVar(0), stm.NewVar(0)
			var chose string
			waiter := s.startWaiter(func(wt *blockedWaiter, tx *stm.Tx) error {
				wt.runs.Add(1)
				return s.OrElse(
					func(tx *stm.Tx) error {
						w.Store(tx, 1)
						if a.Load(tx) == 0 {
							tx.Retry()
						}
						chose = "first"
						return nil
					},
					func(tx *stm.Tx) error {
						w.Store(tx, 2)
						if b.Load(tx) == 0 {
							tx.Retry()
						}
						chose = "last"
						return nil
					},
				)(tx)
			})
			r0 := waiter.parked(t, "all branches retry")
			for i := range 20 {
				require.NoError(t, s.atomically(func(tx *stm.Tx) error {
					unrelated.Store(tx, i)
					return nil
				}))
			}
			time.Sleep(settle)
			assert.Equal(t, r0, waiter.runs.Load(), "a commit to a Var no branch read woke the waiter")
			waiter.stillBlocked(t, "all branches retry")
			assert.Equal(t, 0, w.Peek(), "a blocked transaction's Store was committed")

			target := a
			if wake == "last" {
				target = b
			}
			require.NoError(t, s.atomically(func(tx *stm.Tx) error {
				target.Store(tx, 1)
				return nil
			}))
			if waiter.finished(t, "wake through the "+wake+" branch's Var") {
				assert.Equal(t, wake, chose)
				want := 1
				if wake == "last" {
					want = 2
				}
				assert.Equal(t, want, w.Peek())
			}
		}
	})

	if !t.Failed() {
		VerifyNone(t, leaks)
	}
}
