//go:build hytm_hooks

package stm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInlineReadCommitBetweenLoads plays the interleaving that Load's
// inline read guards against with its second meta load: a read-only
// attempt loads meta (unlocked, sequence inside its snapshot), then a whole
// commit of a new value lands, then the attempt copies Var.cur. The copy
// holds the new value, stamped after the snapshot; the second meta load
// must send the read to the version chain, which still has the value the
// snapshot sees. Without it the attempt returns the new value. Run with
// go test -tags hytm_hooks (CI does).
func TestInlineReadCommitBetweenLoads(t *testing.T) {
	if !inlineReads {
		t.Skip("inline reads are off in this build (race detector, or not amd64)")
	}
	// Both copies of the inline read: Load's (read-only attempts) and
	// readCur (logged attempts that have not written).
	for _, logged := range []bool{false, true} {
		v := NewVar(1)
		var got int
		var state txState
		read := freshSite(func(tx *Tx) error { state = tx.state; got = v.Load(tx); return nil })
		if logged {
			markSiteLogged(bodySite(read))
		}
		require.NoError(t, Atomically(read))
		require.Equal(t, 1, got)

		paused := false
		inlineReadPauseFn = func() {
			if paused {
				return
			}
			paused = true
			done := make(chan error)
			go func() { done <- Atomically(func(tx *Tx) error { v.Store(tx, 2); return nil }) }()
			require.NoError(t, <-done)
		}
		require.NoError(t, Atomically(read))
		inlineReadPauseFn = nil
		freshSite(read)
		require.True(t, paused, "logged %v: the read did not take the inline path", logged)
		require.Equal(t, logged, state == txFast, "logged %v: the attempt ran in state %d", logged, state)
		require.Equal(t, 1, got, "logged %v: the read returned a value committed after its snapshot", logged)
		require.Equal(t, 2, v.Peek())
	}
}
