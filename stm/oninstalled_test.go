package stm

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOnInstalled: the function that package tasks hands to onInstalled (an
// ordered block passing its turn on) runs inside the commit of the attempt
// that set it, once its versions are visible, and in no other case: not
// when the attempt registered commit hooks (they must run first), not when
// the body returns an error, and not in a later attempt that did not set it
// again.
func TestOnInstalled(t *testing.T) {
	a, b := NewVar(0), NewVar(0)

	t.Run("multi-Var commit", func(t *testing.T) {
		runs, seen := 0, 0
		require.NoError(t, Atomically(func(tx *Tx) error {
			a.Store(tx, 1)
			b.Store(tx, 1)
			onInstalled(tx, func() { runs++; seen = a.Peek() + b.Peek() })
			return nil
		}))
		require.Equal(t, 1, runs)
		require.Equal(t, 2, seen, "it ran before the versions were installed")
	})

	t.Run("hooks registered", func(t *testing.T) {
		runs := 0
		require.NoError(t, Atomically(func(tx *Tx) error {
			a.Store(tx, 2)
			b.Store(tx, 2)
			tx.AfterCommit(func() {})
			onInstalled(tx, func() { runs++ })
			return nil
		}))
		require.Zero(t, runs)
	})

	t.Run("error", func(t *testing.T) {
		runs := 0
		boom := errors.New("boom")
		require.ErrorIs(t, Atomically(func(tx *Tx) error {
			a.Store(tx, 3)
			b.Store(tx, 3)
			onInstalled(tx, func() { runs++ })
			return boom
		}), boom)
		require.Zero(t, runs)
	})

	t.Run("set by an aborted attempt only", func(t *testing.T) {
		runs, attempt := 0, 0
		require.NoError(t, Atomically(func(tx *Tx) error {
			attempt++
			a.Store(tx, a.Load(tx)+1)
			b.Store(tx, 4)
			if attempt == 1 {
				onInstalled(tx, func() { runs++ })
				conflict(a) // another goroutine commits a: this attempt fails validation
			}
			return nil
		}))
		require.GreaterOrEqual(t, attempt, 2)
		require.Zero(t, runs, "a later attempt's commit ran what an aborted attempt set")
	})

}
