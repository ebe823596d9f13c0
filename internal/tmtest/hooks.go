package tmtest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/stm"
)

// testAfterCommit: Tx.AfterCommit runs its function exactly once per commit,
// after the commit and outside the transaction, in registration order, and
// never for an attempt, a nested Atomically or an OrElse branch that did not
// commit.
func (s *suite) testAfterCommit(t *testing.T) {
	t.Run("OnceAfterCommit", func(t *testing.T) {
		x := stm.NewVar(0)
		var runs, hooks int
		var sawX int
		var inTx bool
		err := s.atomically(func(tx *stm.Tx) error {
			runs++
			x.Store(tx, x.Load(tx)+1)
			tx.AfterCommit(func() {
				hooks++
				sawX = x.Peek()
				inTx = stm.InTransaction() || stm.Current() != nil
			})
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 1, hooks, "the hook ran %d times for one commit (%d body runs)", hooks, runs)
		assert.Equal(t, 1, sawX, "the hook ran before the commit's Stores were visible")
		assert.False(t, inTx, "the hook ran inside the transaction")
	})

	t.Run("Order", func(t *testing.T) {
		x := stm.NewVar(0)
		var got []int
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			got = got[:0]
			x.Store(tx, 1)
			for i := range 5 {
				tx.AfterCommit(func() { got = append(got, i) })
			}
			return nil
		}))
		assert.Equal(t, []int{0, 1, 2, 3, 4}, got)
	})

	t.Run("ReadOnly", func(t *testing.T) {
		x := stm.NewVar(7)
		var seen []int
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			v := x.Load(tx)
			tx.AfterCommit(func() { seen = append(seen, v) })
			return nil
		}))
		assert.Equal(t, []int{7}, seen)
	})

	t.Run("NoneAfterError", func(t *testing.T) {
		x := stm.NewVar(0)
		var hooks int
		err := s.atomically(func(tx *stm.Tx) error {
			x.Store(tx, 1)
			tx.AfterCommit(func() { hooks++ })
			return errBody
		})
		require.ErrorIs(t, err, errBody)
		assert.Zero(t, hooks, "a hook ran for a transaction that returned an error")
		// The dropped hook must not run with the goroutine's next commit.
		require.NoError(t, s.atomically(func(tx *stm.Tx) error { x.Store(tx, 2); return nil }))
		assert.Zero(t, hooks, "a dropped hook ran with the next transaction")
	})

	t.Run("NoneAfterPanic", func(t *testing.T) {
		x := stm.NewVar(0)
		var hooks int
		r, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				x.Store(tx, 1)
				tx.AfterCommit(func() { hooks++ })
				panic("boom")
			})
		})
		require.True(t, panicked)
		assert.Equal(t, "boom", r)
		require.NoError(t, s.atomically(func(tx *stm.Tx) error { x.Store(tx, 2); return nil }))
		assert.Zero(t, hooks, "a hook of a panicking transaction ran")
	})

	t.Run("NoneAfterRetry", func(t *testing.T) {
		x, flag := stm.NewVar(0), stm.NewVar(0)
		var runs, hooks atomic.Int64
		done := make(chan error, 1)
		go func() {
			done <- s.atomically(func(tx *stm.Tx) error {
				runs.Add(1)
				f := flag.Load(tx)
				x.Store(tx, x.Load(tx)+1)
				tx.AfterCommit(func() { hooks.Add(1) })
				if f == 0 {
					tx.Retry()
				}
				return nil
			})
		}()
		require.True(t, eventually(patience, func() bool { return runs.Load() >= 1 }))
		time.Sleep(settle)
		assert.Zero(t, hooks.Load(), "a hook ran for an attempt that called Retry")
		s.commitsElsewhere(t, "waking the retrier", func(tx *stm.Tx) error { flag.Store(tx, 1); return nil })
		waitDone(t, asDone(done), patience, "the retrier did not commit after the wake-up")
		assert.GreaterOrEqual(t, runs.Load(), int64(2), "the body did not run again after Retry")
		assert.Equal(t, int64(1), hooks.Load(), "hooks after %d body runs and one commit", runs.Load())
	})

	t.Run("NoneAfterAbort", func(t *testing.T) {
		// The first attempt reads x, lets another goroutine commit x, and
		// then writes x: it cannot commit, and its hook must not run.
		x := stm.NewVar(0)
		var runs, hooks int
		err := s.atomically(func(tx *stm.Tx) error {
			runs++
			v := x.Load(tx)
			tx.AfterCommit(func() { hooks++ })
			if runs == 1 {
				s.commitsElsewhere(t, "the conflicting commit", func(tx *stm.Tx) error {
					x.Store(tx, x.Load(tx)+10)
					return nil
				})
			}
			x.Store(tx, v+1)
			return nil
		})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, runs, 2, "the conflicting commit did not abort the first attempt")
		assert.Equal(t, 1, hooks, "hooks after %d body runs and one commit", runs)
		assert.Equal(t, 11, x.Peek())
	})

	t.Run("NestedRollbackDrops", func(t *testing.T) {
		x := stm.NewVar(0)
		var got []string
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			got = got[:0]
			x.Store(tx, 1)
			tx.AfterCommit(func() { got = append(got, "outer1") })
			innerErr := s.atomically(func(tx *stm.Tx) error {
				tx.AfterCommit(func() { got = append(got, "inner-error") })
				return errBody
			})
			if !errors.Is(innerErr, errBody) {
				return innerErr
			}
			if _, panicked := catch(func() {
				_ = s.atomically(func(tx *stm.Tx) error {
					tx.AfterCommit(func() { got = append(got, "inner-panic") })
					panic("inner")
				})
			}); !panicked {
				return errors.New("the inner panic did not propagate")
			}
			if err := s.atomically(func(tx *stm.Tx) error {
				tx.AfterCommit(func() { got = append(got, "inner-ok") })
				return nil
			}); err != nil {
				return err
			}
			if len(got) != 0 {
				return errors.New("a nested hook ran at the nested call's return")
			}
			tx.AfterCommit(func() { got = append(got, "outer2") })
			return nil
		}))
		assert.Equal(t, []string{"outer1", "inner-ok", "outer2"}, got)
	})

	t.Run("OrElseRetriedBranchDrops", func(t *testing.T) {
		x, never := stm.NewVar(0), stm.NewVar(0)
		var got []string
		require.NoError(t, s.atomically(s.OrElse(
			func(tx *stm.Tx) error {
				x.Store(tx, 1)
				tx.AfterCommit(func() { got = append(got, "first") })
				if never.Load(tx) == 0 {
					tx.Retry()
				}
				return nil
			},
			func(tx *stm.Tx) error {
				x.Store(tx, 2)
				tx.AfterCommit(func() { got = append(got, "second") })
				return nil
			},
		)))
		assert.Equal(t, []string{"second"}, got)
		assert.Equal(t, 2, x.Peek())
	})

	t.Run("HookRunsAtomically", func(t *testing.T) {
		x, y := stm.NewVar(0), stm.NewVar(0)
		var inner int
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			x.Store(tx, x.Load(tx)+1)
			tx.AfterCommit(func() {
				err := s.atomically(func(tx *stm.Tx) error {
					y.Store(tx, x.Load(tx)*10)
					tx.AfterCommit(func() { inner++ })
					return nil
				})
				if err != nil {
					panic(err)
				}
			})
			return nil
		}))
		assert.Equal(t, 10, y.Peek(), "the hook's own transaction did not commit, or did not see the first commit")
		assert.Equal(t, 1, inner)
	})

	t.Run("HookPanic", func(t *testing.T) {
		x := stm.NewVar(0)
		var got []int
		r, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				got = got[:0]
				x.Store(tx, 5)
				tx.AfterCommit(func() { got = append(got, 1) })
				tx.AfterCommit(func() { panic("hook") })
				tx.AfterCommit(func() { got = append(got, 3) })
				return nil
			})
		})
		require.True(t, panicked, "a panicking hook's panic was swallowed")
		assert.Equal(t, "hook", r)
		assert.Equal(t, []int{1}, got, "hooks after the panicking one ran, or the first did not")
		assert.Equal(t, 5, x.Peek(), "the transaction whose hook panicked did not stay committed")
		assert.False(t, stm.InTransaction(), "the goroutine is still in the transaction")
		// The skipped hook never runs later, and the goroutine goes on.
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			x.Store(tx, 6)
			tx.AfterCommit(func() { got = append(got, 4) })
			return nil
		}))
		assert.Equal(t, []int{1, 4}, got)
		s.commitsElsewhere(t, "after a hook panicked", func(tx *stm.Tx) error { x.Store(tx, 7); return nil })
	})

	t.Run("Misuse", func(t *testing.T) {
		requireStmPanic(t, "AfterCommit(nil)", func() {
			_ = s.atomically(func(tx *stm.Tx) error { tx.AfterCommit(nil); return nil })
		})
		var kept *stm.Tx
		require.NoError(t, s.atomically(func(tx *stm.Tx) error { kept = tx; return nil }))
		requireStmPanic(t, "AfterCommit after the transaction ended", func() { kept.AfterCommit(func() {}) })
		assert.Nil(t, stm.Current(), "Current outside a transaction")
	})

	// ExactlyOnceHammer: goroutines increment one Var, each commit
	// registering one hook; most attempts conflict. The hooks must count
	// exactly the commits: the Var's final value.
	t.Run("ExactlyOnceHammer", func(t *testing.T) {
		x := stm.NewVar(0)
		var hooks, runs atomic.Int64
		g, n := 4, scale(300, 3000)
		var wg sync.WaitGroup
		for range g {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n {
					_ = s.atomically(func(tx *stm.Tx) error {
						runs.Add(1)
						v := x.Load(tx)
						gosched()
						x.Store(tx, v+1)
						tx.AfterCommit(func() { hooks.Add(1) })
						return nil
					})
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, g*n, x.Peek())
		assert.Equal(t, int64(g*n), hooks.Load(), "hooks != commits (%d body runs)", runs.Load())
		t.Logf("%d commits, %d body runs", g*n, runs.Load())
	})
}

// asDone turns an error channel into a done channel for waitDone.
func asDone(c <-chan error) <-chan struct{} {
	d := make(chan struct{})
	go func() { <-c; close(d) }()
	return d
}
