package tasks

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/hybrid"
)

// gateHeld reports whether someone holds p's solo gate.
func gateHeld(p *Pool) bool { return p.solo.Busy() }

// incrTasks returns n tasks that each add one to x and record in held
// whether the solo gate was held while their body ran.
func incrTasks(p *Pool, x *hybrid.Var[int], n int, held *atomic.Int32) []func(*hybrid.Tx) error {
	fns := make([]func(*hybrid.Tx) error, n)
	for i := range fns {
		fns[i] = func(tx *hybrid.Tx) error {
			if gateHeld(p) {
				held.Add(1)
			}
			x.Store(tx, x.Load(tx)+1)
			return nil
		}
	}
	return fns
}

// TestSoloGateFollowsDoubt: while doubt is above doubtMax, a block (and a
// single task) runs holding the solo gate and releases it after; at or
// below doubtMax it runs without the gate. Each block that commits at its
// first run lowers doubt by one, so the pool leaves the gate once doubt is
// back at doubtMax.
func TestSoloGateFollowsDoubt(t *testing.T) {
	p := New(Workers(2))
	x := hybrid.NewVar(0)
	var held atomic.Int32

	p.doubt.Store(doubtMax + 2)
	for _, n := range []int{4, 1} {
		held.Store(0)
		require.Equal(t, n, p.runUBlock(0, 0, incrTasks(p, x, n, &held)))
		assert.Equal(t, int32(n), held.Load(), "block of %d: bodies that ran holding the gate", n)
		assert.False(t, gateHeld(p), "block of %d: the gate is still held after it", n)
	}
	assert.Equal(t, int32(doubtMax), p.doubt.Load(), "doubt after two blocks that committed at their first run")
	assert.Equal(t, 2, p.inBody[0].soloBlocks)

	held.Store(0)
	require.Equal(t, 4, p.runUBlock(0, 0, incrTasks(p, x, 4, &held)))
	assert.Zero(t, held.Load(), "at doubtMax a block runs without the gate")
	assert.Equal(t, 9, x.Peek())
}

// TestSoloConflictRaisesDoubt: a block that runs again because another
// transaction committed to a Var it read raises doubt by doubtFail.
func TestSoloConflictRaisesDoubt(t *testing.T) {
	p := New(Workers(2))
	x, y := hybrid.NewVar(0), hybrid.NewVar(0)
	runs := 0
	fns := []func(*hybrid.Tx) error{
		func(tx *hybrid.Tx) error {
			runs++
			v := x.Load(tx)
			if runs == 1 {
				// Another goroutine's commit to x, after the read.
				done := make(chan struct{})
				go func() {
					defer close(done)
					_ = hybrid.Atomically(func(tx *hybrid.Tx) error { x.Store(tx, x.Load(tx)+10); return nil })
				}()
				<-done
			}
			y.Store(tx, v)
			return nil
		},
		func(tx *hybrid.Tx) error { y.Store(tx, y.Load(tx)+1); return nil },
	}
	require.Equal(t, 2, p.runUBlock(0, 0, fns))
	require.Equal(t, 2, runs, "the block should have run again after the conflict")
	assert.Equal(t, int32(doubtFail), p.doubt.Load())
	assert.Equal(t, 11, y.Peek())
}

// TestSoloWaitIsBounded: the gate is a hint. A block whose worker cannot
// get it (here the test holds it, and never leaves) runs without it once
// its wait sees no progress, instead of waiting for it.
func TestSoloWaitIsBounded(t *testing.T) {
	p := New(Workers(2))
	x := hybrid.NewVar(0)
	var held atomic.Int32
	p.doubt.Store(doubtMax + 100)
	_, ok := p.solo.Enter()
	require.True(t, ok)
	defer p.solo.Leave()
	done := make(chan int, 1)
	go func() { done <- p.runUBlock(0, 0, incrTasks(p, x, 4, &held)) }()
	select {
	case n := <-done:
		require.Equal(t, 4, n)
	case <-time.After(10 * time.Second):
		t.Fatal("a block waited for the solo gate for 10s")
	}
	assert.Equal(t, 4, x.Peek())
	assert.Equal(t, int32(4), held.Load(), "the bodies ran while the test held the gate")
	assert.Zero(t, p.inBody[0].soloBlocks)
}

// TestSoloGateReleasedOnEveryExit: a block behind the gate releases it
// when a task panics, when it calls runtime.Goexit, and before a task that
// calls Retry waits on its own: there the task waits for a commit that
// another goroutine makes only once it sees the gate free.
func TestSoloGateReleasedOnEveryExit(t *testing.T) {
	t.Run("panic", func(t *testing.T) {
		p := New(Workers(2))
		p.doubt.Store(doubtMax + 100)
		x := hybrid.NewVar(0)
		fns := []func(*hybrid.Tx) error{
			func(tx *hybrid.Tx) error { x.Store(tx, 1); return nil },
			func(tx *hybrid.Tx) error { panic("boom") },
		}
		p.runUBlock(0, 0, fns)
		require.NotNil(t, p.pe, "the panic was not recorded")
		assert.False(t, gateHeld(p))
	})
	t.Run("Goexit", func(t *testing.T) {
		p := New(Workers(2))
		p.doubt.Store(doubtMax + 100)
		x := hybrid.NewVar(0)
		fns := []func(*hybrid.Tx) error{
			func(tx *hybrid.Tx) error { x.Store(tx, 1); return nil },
			func(tx *hybrid.Tx) error { runtime.Goexit(); return nil },
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.runUBlock(0, 0, fns)
		}()
		<-done
		assert.False(t, gateHeld(p))
	})
	t.Run("Retry", func(t *testing.T) {
		p := New(Workers(2))
		p.doubt.Store(doubtMax + 100)
		x := hybrid.NewVar(0)
		var sawFree atomic.Bool
		fns := []func(*hybrid.Tx) error{
			func(tx *hybrid.Tx) error {
				if x.Load(tx) == 0 {
					if !gateHeld(p) {
						sawFree.Store(true)
					}
					tx.Retry()
				}
				return nil
			},
			func(tx *hybrid.Tx) error { return nil },
		}
		done := make(chan int, 1)
		go func() { done <- p.runUBlock(0, 0, fns) }()
		deadline := time.Now().Add(10 * time.Second)
		for !sawFree.Load() {
			if time.Now().After(deadline) {
				_ = hybrid.Atomically(func(tx *hybrid.Tx) error { x.Store(tx, 1); return nil })
				<-done
				t.Fatal("the waiting task never saw the solo gate free")
			}
			time.Sleep(time.Millisecond)
		}
		_ = hybrid.Atomically(func(tx *hybrid.Tx) error { x.Store(tx, 1); return nil })
		// The block split at task 0, which then ran alone: runUBlock
		// returns 1 (its caller goes on with the rest).
		assert.Equal(t, 1, <-done)
		assert.False(t, gateHeld(p))
	})
}

// TestSoloHammer: every task increments one Var, on 2 and 4 workers: the
// pool's result is exact whichever blocks ran behind the gate, and the
// gate is free after Run.
func TestSoloHammer(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 4000
	}
	for _, w := range []int{2, 4} {
		p := New(Workers(w))
		x := hybrid.NewVar(0)
		for range n {
			p.Add(func(tx *hybrid.Tx) error { x.Store(tx, x.Load(tx)+1); return nil })
		}
		require.NoError(t, p.Run(context.Background()))
		require.Equal(t, n, x.Peek(), "workers=%d", w)
		assert.False(t, gateHeld(p))
		blocks, _, reruns := BlockStats(p)
		t.Logf("workers=%d: %d blocks, %d reruns, %d blocks behind the gate", w, blocks, reruns, SoloBlocks(p))
	}
}
