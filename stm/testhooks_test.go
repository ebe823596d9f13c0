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

// TestCommitWaitsForTrim: a commit that finds a Var it reads or writes
// locked by a trim (the locked bit alone: another worker's trim queue
// cutting versions below the horizon, which installs nothing and keeps the
// sequence) waits for the trim to end and commits at its first attempt,
// in each commit path: the single-Var commit, logged (its CAS from the
// read's meta word fails while the trim holds the Var) and unlogged (it
// locks from the current word), a multi-Var commit's lock, and a read that
// a multi-Var commit validates. Without afterTrim's wait (or validation's
// acceptance of a trim's lock), each aborts once. The body takes the trim's
// lock itself, after its last access; the hook ends the trim inside the
// commit's wait.
func TestCommitWaitsForTrim(t *testing.T) {
	trimLock := func(v *Var[int]) { v.h.meta.Or(metaLocked) }
	trimUnlock := func(v *Var[int]) { v.h.meta.And(^uint64(metaLocked)) }
	for _, c := range []string{"single unlogged", "single logged", "multi", "validated read"} {
		t.Run(c, func(t *testing.T) {
			x, y, z, w := NewVar(1), NewVar(1), NewVar(1), NewVar(0)
			var locked *Var[int]
			waits := 0
			afterTrimPauseFn = func() {
				waits++
				if locked != nil {
					trimUnlock(locked)
					locked = nil
				}
			}
			defer func() { afterTrimPauseFn = nil }()
			runs := 0
			body := freshSite(func(tx *Tx) error {
				runs++
				if runs > 1 {
					// The trim's lock made the first attempt abort (the
					// test fails below): end the trim for good.
					for _, v := range []*Var[int]{x, y, z} {
						trimUnlock(v)
					}
					locked = nil
				}
				x.Store(tx, x.Load(tx)+1)
				switch c {
				case "multi":
					y.Store(tx, y.Load(tx)+1)
					locked = y
				case "validated read":
					y.Store(tx, z.Load(tx)+1)
					if runs == 1 {
						conflict(w) // a commit in between: the commit validates its reads
						trimLock(z) // released after the commit: validation must accept it
					}
					return nil
				default:
					locked = x
				}
				if runs == 1 {
					trimLock(locked)
				}
				return nil
			})
			if c != "single unlogged" {
				markSite(bodySite(body), siteLogged)
			}
			require.NoError(t, Atomically(body))
			if c == "validated read" {
				trimUnlock(z)
				require.Zero(t, waits, "a read is validated without waiting")
			} else {
				require.Equal(t, 1, waits, "the commit did not wait for the trim")
			}
			require.Equal(t, 1, runs, "the commit aborted for a trim")
			require.Equal(t, 2, x.Peek())
			for _, v := range []*Var[int]{x, y, z} {
				require.Zero(t, v.h.meta.Load()&metaLock, "a Var was left locked")
			}
		})
	}
}
