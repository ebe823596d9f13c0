package stm

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hytm/hytm/htm"
	"github.com/hytm/hytm/internal/hwtypes"
	"github.com/stretchr/testify/require"
)

// Zero Vars that no transaction has written give their zero value without
// a version (unwritten): a read allocates nothing and leaves the head nil.

// TestUnwrittenReadAllocatesNothing: read-only and logged attempts read a
// zero Var (a field of a struct, as a tree node's nil children are) without
// allocating or giving it a version; its first Store gives it one.
func TestUnwrittenReadAllocatesNothing(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector's instrumentation allocates")
	}
	type node struct{ left, right Var[*node] }
	nodes := make([]node, 1000)
	other := NewVar(0)
	i := 0
	ro := func(tx *Tx) error { _ = nodes[i].left.Load(tx); return nil }
	logged := func(tx *Tx) error { other.Store(tx, 1); _ = nodes[i].right.Load(tx); return nil }
	for _, body := range []func(*Tx) error{ro, logged} {
		for range 10 {
			require.NoError(t, Atomically(body)) // warm-up: the site learns, the logs grow
		}
	}
	for what, body := range map[string]func(*Tx) error{"read-only": ro, "logged": logged} {
		i = 0
		allocs := testing.AllocsPerRun(500, func() {
			i++
			_ = Atomically(body)
		})
		require.Zero(t, allocs, "%s: allocations per read of an unwritten Var", what)
	}
	for k := range nodes[:500] {
		require.Nil(t, nodes[k].left.h.head.Load(), "node %d: a read gave the Var a version", k)
	}
	require.NoError(t, Atomically(func(tx *Tx) error { nodes[3].left.Store(tx, &nodes[4]); return nil }))
	require.Same(t, &nodes[4], nodes[3].left.Peek())
	require.PanicsWithValue(t, "stm: Init of a Var already in use", func() { nodes[5].right.Init(&nodes[6]) },
		"Init of a Var that a transaction read")
}

// TestUnwrittenLoggedReadValidates: a logged attempt that read an unwritten
// Var records its meta word, so that a commit to the Var before the
// attempt's own commit fails the attempt, which runs again and reads the
// new value. Without the entry the attempt commits from a stale read (a
// lost update).
func TestUnwrittenLoggedReadValidates(t *testing.T) {
	var z Var[int]
	out := NewVar(0)
	attempts := 0
	body := loggedBody(t, func(tx *Tx) error {
		attempts++
		x := z.Load(tx)
		if attempts == 1 {
			conflict(&z) // another goroutine commits z = 1
		}
		out.Store(tx, x+1)
		return nil
	})
	require.NoError(t, Atomically(body))
	require.Equal(t, 2, attempts)
	require.Equal(t, 2, out.Peek(), "the attempt committed a value computed from a stale read")
}

// TestUnwrittenEmulatedRead: an emulated hardware attempt reads an
// unwritten Var as the zero value, logged with its meta word: it commits
// when nothing wrote the Var, and fails when a commit to the Var lands
// before its own.
func TestUnwrittenEmulatedRead(t *testing.T) {
	withHW(t, func() {
		var z Var[int]
		out := NewVar(0)
		body := func(tx *Tx) error { out.Store(tx, z.Load(tx)+10); return nil }
		st, _, err := runHardware(body, hwtypes.Emulated)
		require.Equal(t, htm.Started, st)
		require.NoError(t, err)
		require.Equal(t, 10, out.Peek())
		require.Nil(t, z.h.head.Load(), "the hardware read gave the Var a version")

		var y Var[int]
		conflicted := func(tx *Tx) error {
			x := y.Load(tx)
			_ = y.Load(tx) // again: the logged entry, without a node
			conflict(&y)
			out.Store(tx, x+100)
			return nil
		}
		st, _, _ = runHardware(conflicted, hwtypes.Emulated)
		require.NotEqual(t, htm.Started, st, "an attempt whose read was overwritten committed")
		require.Equal(t, 10, out.Peek())
	})
}

// loggedBody returns body at a call site of its own that runs logged from
// its first attempt, and frees the site when the test ends.
func loggedBody(t *testing.T, body func(*Tx) error) func(*Tx) error {
	body = freshSite(body)
	t.Cleanup(func() { freshSite(body) })
	markSiteLogged(bodySite(body))
	return body
}

// TestUnwrittenFirstStoreHammer: pairs of zero Vars get their first
// Stores (one transaction writes both: each links a version above its
// type's shared zero node, init) while readers with open snapshots read
// pairs, and later commits rewrite old pairs so that trims cut their
// chains down to the shared node. Every read of a pair must see both
// Vars equal: zero and zero from before the pair's first commit, or one
// commit's values.
func TestUnwrittenFirstStoreHammer(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 4_000
	}
	pairs := make([][2]Var[int], n)
	var written atomic.Int64 // pairs [0, written) have had their first commit
	var wg sync.WaitGroup
	var bad atomic.Int64
	stop := make(chan struct{})
	for r := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				j := rng.IntN(int(min(written.Load()+8, int64(n))))
				_ = Atomically(func(tx *Tx) error {
					a := pairs[j][0].Load(tx)
					if k%8 == 0 {
						runtime.Gosched() // a snapshot held across other commits
					}
					if b := pairs[j][1].Load(tx); a != b {
						bad.Add(1)
					}
					return nil
				})
			}
		})
	}
	rng := rand.New(rand.NewPCG(3, 9))
	for i := range n {
		p := &pairs[i]
		require.NoError(t, Atomically(func(tx *Tx) error { p[0].Store(tx, i+1); p[1].Store(tx, i+1); return nil }))
		written.Store(int64(i + 1))
		if i%4 == 0 {
			q := &pairs[rng.IntN(i+1)]
			require.NoError(t, Atomically(func(tx *Tx) error {
				x := q[0].Load(tx) + n
				q[0].Store(tx, x)
				q[1].Store(tx, x)
				return nil
			}))
		}
	}
	close(stop)
	wg.Wait()
	require.Zero(t, bad.Load(), "reads saw the two Vars of a pair differ")
	for i := range pairs {
		require.Equal(t, pairs[i][0].Peek(), pairs[i][1].Peek(), "pair %d", i)
	}
}
