package stm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestValidateFailsOnAnotherCommitsLock plays the case that validation's
// "locked by us" check must tell apart: an attempt read x, and when it
// commits x is locked, with the sequence it read, by another commit that
// has already taken its stamp (below ours) and not yet installed. That
// commit serializes first and writes x, so the attempt, which read the old
// x, must fail. Its own lock on a Var it wrote looks the same; only the
// write set tells them apart (lockedByUs, which also tries the write at the
// read's index first). The test takes x's lock by hand, as a commit does,
// and ticks the clock as that commit would; the attempt writes y, not x,
// and its write at x's read index is y's.
func TestValidateFailsOnAnotherCommitsLock(t *testing.T) {
	x, y := NewVar(1), NewVar(0)
	var m uint64
	attempts := 0
	body := loggedBody(t, func(tx *Tx) error {
		attempts++
		if attempts == 2 {
			x.h.meta.Store(m) // the other commit gives up: unlock x unchanged
		}
		y.Store(tx, x.Load(tx)+10)
		if attempts == 1 {
			m = x.h.meta.Load()
			require.True(t, x.h.meta.CompareAndSwap(m, m|metaLock), "lock x as a commit does")
			clock.v.Add(1) // that commit's stamp, below ours: validation runs
		}
		return nil
	})
	require.NoError(t, Atomically(body))
	require.Equal(t, 2, attempts, "the attempt committed although a Var it read was locked by another commit")
	require.Equal(t, 11, y.Peek())
}

// TestCommitDoesNotTakeACommitLock: a single-Var commit that finds the Var
// locked by another commit (the locked and multi bits: it is installing)
// aborts, in the unlogged path too, which locks from the current meta word:
// it neither waits for the lock, as it does for a trim's, nor takes it. A
// version of the trim wait that retried its CAS from the locked word "took"
// a lock it did not hold, installed, and unlocked under the other commit,
// which left readers waiting for an install that never came. The body
// plays the other commit's lock after its Store and releases it when the
// body runs again.
func TestCommitDoesNotTakeACommitLock(t *testing.T) {
	x := NewVar(1)
	var saved uint64
	runs := 0
	require.NoError(t, Atomically(freshSite(func(tx *Tx) error {
		runs++
		if runs == 2 {
			x.h.meta.Store(saved) // the other commit is gone
		}
		x.Store(tx, x.Load(tx)+1)
		if runs == 1 {
			require.Equal(t, txActive, tx.state)
			require.True(t, tx.unlogged, "the first attempt at a fresh site stores unlogged")
			saved = x.h.meta.Load()
			x.h.meta.Store(saved | metaLock) // another commit's lock
		}
		return nil
	})))
	require.Equal(t, 2, runs, "the commit went through another commit's lock")
	require.Equal(t, 2, x.Peek())
	require.Zero(t, x.h.meta.Load()&metaLock, "x was left locked")
}
