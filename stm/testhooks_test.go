//go:build hytm_hooks

package stm

import (
	"testing"
	"time"

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
	// Every caller of the inline read: Load's copy (read-only attempts),
	// and readCur in logged attempts, before their first write (loadSlow)
	// and after it (loadSlower).
	for _, mode := range []string{"read-only", "logged", "logged after a write"} {
		t.Run(mode, func(t *testing.T) {
			v, w := NewVar(1), NewVar(0)
			type obs struct {
				rv  uint64
				val int
			}
			var got []obs // each attempt's snapshot and the value it read
			var state txState
			read := freshSite(func(tx *Tx) error {
				if mode == "logged after a write" {
					w.Store(tx, 1)
				}
				state = tx.state
				x := v.Load(tx)
				got = append(got, obs{tx.rv, x})
				return nil
			})
			if mode != "read-only" {
				markSiteLogged(bodySite(read))
			}
			require.NoError(t, Atomically(read))
			require.Len(t, got, 1)
			require.Equal(t, 1, got[0].val)
			got = nil

			paused := false
			inlineReadPauseFn = func() {
				if !paused {
					paused = true
					conflict(v) // another goroutine commits 2
				}
			}
			require.NoError(t, Atomically(read))
			inlineReadPauseFn = nil
			freshSite(read)
			require.True(t, paused, "%s: the read did not take the inline path", mode)
			require.Equal(t, mode == "logged", state == txFast, "%s: the attempt ran in state %d", mode, state)
			// Each attempt that read returned what its snapshot sees. (After
			// a write, an attempt whose snapshot misses the newest version
			// aborts instead of reading: it could not commit.)
			stamp := v.h.head.Load().ts
			require.NotEmpty(t, got)
			for _, r := range got {
				require.Equal(t, r.rv >= stamp, r.val == 2,
					"%s: a snapshot at %d read %d (the commit of 2 is stamped %d)", mode, r.rv, r.val, stamp)
			}
			require.Equal(t, 2, v.Peek())
		})
	}
}

// TestUnwrittenCommitBetweenLoads plays the interleaving that unwritten's
// second look at the head guards against: a logged attempt finds a zero
// Var's head nil, then a whole commit to the Var lands (its first Store
// gives the Var its version), then unwritten loads meta. Taking the zero
// value then would log the commit's meta word with the old value, which
// validation could not tell from a current read: the attempt would commit
// out = 0+1 although z is 1. With the head loaded again after meta, the
// read goes to the version chain, which holds the zero version for the
// snapshot, and the commit fails validation, so the attempt runs again and
// computes 1+1.
func TestUnwrittenCommitBetweenLoads(t *testing.T) {
	var z Var[int]
	out := NewVar(0)
	attempts := 0
	body := loggedBody(t, func(tx *Tx) error {
		attempts++
		out.Store(tx, z.Load(tx)+1)
		return nil
	})
	paused := false
	unwrittenPauseFn = func() {
		if !paused {
			paused = true
			conflict(&z) // another goroutine commits 1
		}
	}
	defer func() { unwrittenPauseFn = nil }()
	require.NoError(t, Atomically(body))
	require.True(t, paused, "the read did not go through unwritten")
	require.Equal(t, 2, out.Peek(), "the attempt committed a value computed from the zero it read after the commit of 1")
	require.Equal(t, 2, attempts)
}

// TestPeekCommitDuringCopy plays the interleaving that Peek's second meta
// load guards against: Peek finds the Var unlocked, then a commit locks it
// and has copied half of its new two-word value into the inline copy when
// Peek copies it. The second meta load sees the lock and Peek tries again,
// until the commit has unlocked; without it, Peek returns the torn pair.
func TestPeekCommitDuringCopy(t *testing.T) {
	if !inlineReads {
		t.Skip("inline reads are off in this build (race detector, or not amd64)")
	}
	v := NewVar([2]int{1, 1})
	paused := false
	inlineReadPauseFn = func() {
		if paused {
			return
		}
		paused = true
		// A commit by hand, in the middle of its copy: the lock with the
		// multi bit, the first word of {2, 2}; the rest comes later, then
		// the unlock with the next sequence number.
		m := v.h.meta.Load()
		v.h.meta.Store(m | metaLock)
		v.cur[0] = 2
		go func() {
			time.Sleep(5 * time.Millisecond)
			v.cur[1] = 2
			v.h.meta.Store(nextMeta(m, m>>metaShift+1))
		}()
	}
	defer func() { inlineReadPauseFn = nil }()
	got := v.Peek()
	require.True(t, paused, "Peek did not take the inline path")
	require.Equal(t, [2]int{2, 2}, got, "Peek returned a pair torn by a commit")
}
