package stm

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestYield: an attempt that yields (setYield, for package tasks' blocks)
// ends at a Retry that leaves the body, or at Inevitable, instead of
// waiting or becoming irrevocable: Atomically returns the yield error, the
// Stores and commit hooks are discarded, and the next transaction on the
// goroutine does not yield. A Retry inside an OrElse branch still moves on
// to the next branch.
func TestYield(t *testing.T) {
	errYield := errors.New("yield")
	x, y := NewVar(0), NewVar(0)
	hooks := 0
	for _, c := range []struct {
		name string
		end  func(tx *Tx)
	}{
		{"retry", func(tx *Tx) { tx.Retry() }},
		{"check", func(tx *Tx) { Check(tx, y.Load(tx) > 0) }},
		{"inevitable", func(tx *Tx) { tx.Inevitable() }},
		{"orelse", func(tx *Tx) {
			_ = OrElse(func(tx *Tx) error { tx.Retry(); return nil })(tx)
		}},
		{"nested", func(tx *Tx) {
			_ = Atomically(func(tx *Tx) error { tx.Retry(); return nil })
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := 0
			err := Atomically(func(tx *Tx) error {
				runs++
				setYield(tx, errYield)
				_ = y.Load(tx)
				x.Store(tx, 1)
				tx.AfterCommit(func() { hooks++ })
				c.end(tx)
				return nil
			})
			require.ErrorIs(t, err, errYield)
			require.Equal(t, 1, runs)
			require.Equal(t, 0, x.Peek(), "a yielding attempt's Stores committed")
			require.Equal(t, 0, hooks, "a yielding attempt's hooks ran")
			// Not yielding any more: Inevitable works, and Retry waits.
			require.NoError(t, Atomically(func(tx *Tx) error {
				tx.Inevitable()
				return nil
			}))
		})
	}

	// A branch's Retry moves on to the next branch, as without yield.
	err := Atomically(func(tx *Tx) error {
		setYield(tx, errYield)
		return OrElse(
			func(tx *Tx) error { _ = y.Load(tx); tx.Retry(); return nil },
			func(tx *Tx) error { x.Store(tx, 2); return nil },
		)(tx)
	})
	require.NoError(t, err)
	require.Equal(t, 2, x.Peek())
}
