package tmtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/stm"
)

// testExits: every exit from a transaction or a part of one — return, error,
// Retry, a panic, a panic recovered by an enclosing body, a panic raised by
// the library itself after the body — leaves nothing behind: no savepoint,
// no write of the part that was left, no transaction the goroutine still
// seems to run, no lock or token that stops other goroutines.
func (s *suite) testExits(t *testing.T) {
	// A nested Atomically that Retries inside an OrElse branch: Retry
	// unwinds through the nested call to the branch, which must discard the
	// branch's Stores made before the nested call. A nested call without a
	// deferred close left its savepoint on the stack, so the branch's
	// rollback only dropped the nested level and x = 42 committed.
	t.Run("NestedRetryInOrElse", func(t *testing.T) {
		x, never := stm.NewVar(0), stm.NewVar(0)
		err := s.atomically(s.OrElse(
			func(tx *stm.Tx) error {
				x.Store(tx, 42)
				return s.atomically(func(tx *stm.Tx) error {
					if never.Load(tx) == 0 {
						tx.Retry()
					}
					return nil
				})
			},
			func(tx *stm.Tx) error { return nil },
		))
		require.NoError(t, err)
		assert.Equal(t, 0, x.Peek(), "the Stores of a retried OrElse branch committed")
	})

	// The same, with the next branch writing the Var the retried branch
	// wrote: with the stale savepoint the transaction held two write entries
	// for one Var, failed on its own lock at every commit, escalated, and
	// spun for ever holding the irrevocable token.
	t.Run("NestedRetryThenSameVar", func(t *testing.T) {
		x, never := stm.NewVar(0), stm.NewVar(0)
		done := make(chan error, 1)
		go func() {
			done <- s.atomically(s.OrElse(
				func(tx *stm.Tx) error {
					x.Store(tx, 42)
					return s.atomically(func(tx *stm.Tx) error {
						if never.Load(tx) == 0 {
							tx.Retry()
						}
						return nil
					})
				},
				func(tx *stm.Tx) error { x.Store(tx, 7); return nil },
			))
		}()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(patience):
			t.Fatalf("a transaction whose retried branch and next branch wrote one Var did not commit in %v", patience)
		}
		assert.Equal(t, 7, x.Peek())
		s.commitsElsewhere(t, "after a nested Retry", func(tx *stm.Tx) error {
			x.Store(tx, x.Load(tx)+1)
			return nil
		})
		assert.Equal(t, 8, x.Peek())
	})

	// A panic in a nested Atomically, recovered by the outer body: the
	// nested call's Stores are discarded ("if fn panics, every Store is
	// discarded"), the outer body's own Stores commit, and a Var written
	// both before and inside the nested call keeps the outer value.
	t.Run("NestedPanicRecovered", func(t *testing.T) {
		x, y := stm.NewVar(0), stm.NewVar(0)
		err := s.atomically(func(tx *stm.Tx) error {
			x.Store(tx, 1)
			recoverBoom(func() {
				_ = s.atomically(func(tx *stm.Tx) error {
					x.Store(tx, 99)
					y.Store(tx, 99)
					panic(&boom{"nested"})
				})
			})
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 1, x.Peek(), "a Var written before and inside a panicking nested call")
		assert.Equal(t, 0, y.Peek(), "a Store of a panicking nested call committed")
		s.commitsElsewhere(t, "after a recovered nested panic", func(tx *stm.Tx) error {
			x.Store(tx, x.Load(tx)+1)
			return nil
		})
	})

	// The same inside an OrElse branch: a panic out of the branch, recovered
	// by the body that called OrElse's composition, discards the branch.
	t.Run("OrElsePanicRecovered", func(t *testing.T) {
		x := stm.NewVar(0)
		choice := s.OrElse(func(tx *stm.Tx) error {
			x.Store(tx, 5)
			panic(&boom{"branch"})
		})
		err := s.atomically(func(tx *stm.Tx) error {
			recoverBoom(func() { _ = choice(tx) })
			x.Store(tx, x.Load(tx)+1)
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 1, x.Peek(), "a panicking OrElse branch's Store was kept")
	})

	// A panic raised by the library after the body, outside it: Retry in a
	// transaction that has read nothing panics once the attempt is rolled
	// back. The goroutine must not stay inside the dead transaction: its
	// next Atomically is a transaction of its own, and its Stores commit.
	t.Run("PanicAfterBody", func(t *testing.T) {
		x := stm.NewVar(0)
		for i := range 3 {
			requireStmPanic(t, "Retry with no Var read", func() {
				_ = s.atomically(func(tx *stm.Tx) error { tx.Retry(); return nil })
			})
			assert.False(t, stm.InTransaction(), "the goroutine is still inside the panicked transaction")
			require.NoError(t, s.atomically(func(tx *stm.Tx) error {
				x.Store(tx, x.Load(tx)+1)
				return nil
			}))
			require.Equal(t, i+1, x.Peek(), "a transaction after the panic lost its Store")
		}
		s.commitsElsewhere(t, "after the Retry panic", func(tx *stm.Tx) error {
			x.Store(tx, x.Load(tx)+1)
			return nil
		})
	})

	// An inevitable transaction that panics releases the irrevocable token:
	// writers on other goroutines go on.
	t.Run("InevitablePanicReleasesToken", func(t *testing.T) {
		x := stm.NewVar(0)
		for _, how := range []string{"user panic", "Retry after Inevitable"} {
			r, panicked := catch(func() {
				_ = s.atomically(func(tx *stm.Tx) error {
					x.Load(tx)
					tx.Inevitable()
					x.Store(tx, 100)
					if how == "user panic" {
						panic(&boom{"inevitable"})
					}
					tx.Retry()
					return nil
				})
			})
			require.True(t, panicked, how)
			if how != "user panic" {
				assert.True(t, strings.HasPrefix(fmt.Sprint(r), "stm:"), "%s: panic %v", how, r)
			}
			assert.False(t, stm.InTransaction(), how)
			s.commitsElsewhere(t, how, func(tx *stm.Tx) error {
				x.Store(tx, x.Load(tx)+1)
				return nil
			})
		}
		assert.Equal(t, 2, x.Peek(), "an inevitable transaction that panicked committed its Store")
	})
}

// recoverBoom runs f and recovers a *boom panic only; anything else (the
// library's own control flow included) goes on.
func recoverBoom(f func()) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*boom); !ok {
				panic(r)
			}
		}
	}()
	f()
}
