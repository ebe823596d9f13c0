package tasks_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

// Without Ordered, a worker runs the tasks it claimed in blocks, one
// transaction per block. These tests run enough tasks for blocks to form,
// and check with tasks.BlockStats that they did (blocks of more than one
// task committed), so that none passes without blocks.

// requireBlocks fails the test unless p committed blocks of more than one
// task.
func requireBlocks(t *testing.T, p *tasks.Pool) {
	t.Helper()
	blocks, inBlocks, reruns := tasks.BlockStats(p)
	t.Logf("%d blocks of %d tasks in all, %d runs again", blocks, inBlocks, reruns)
	require.Positive(t, blocks, "no block of more than one task committed")
}

// TestBlocksSerializable: tasks that move money between accounts, keep a
// pair of Vars summing to zero, record what they read in their own Var,
// and (one in eight) append to a shared log, on 1 to 4 workers. The total
// is conserved, every account ends at its initial balance plus what the
// tasks moved in and out (each task counted once), no task saw the pair
// out of balance, every task's record and commit hook exist once, and the
// log holds each logging task once.
func TestBlocksSerializable(t *testing.T) {
	for _, w := range []int{1, 2, 4} {
		t.Run(fmt.Sprint("workers=", w), func(t *testing.T) {
			const accounts = 64
			n := scale(4000, 20000)
			acct := make([]*hybrid.Var[int], accounts)
			for i := range acct {
				acct[i] = hybrid.NewVar(1000)
			}
			x, y := hybrid.NewVar(0), hybrid.NewVar(0)
			rec := make([]*hybrid.Var[int], n)
			for i := range rec {
				rec[i] = hybrid.NewVar(-1)
			}
			log := hybrid.NewVar([]int(nil))
			hooks := make([]atomic.Int32, n)
			var unbalanced atomic.Int32
			from := func(i int) int { return i * 7 % accounts }
			to := func(i int) int { return (i*13 + 5) % accounts }
			amount := func(i int) int { return i%5 + 1 }
			p := tasks.New(tasks.Workers(w))
			for i := range n {
				p.Add(func(tx *hybrid.Tx) error {
					a, b := acct[from(i)], acct[to(i)]
					va := a.Load(tx)
					a.Store(tx, va-amount(i))
					b.Store(tx, b.Load(tx)+amount(i))
					rec[i].Store(tx, va)
					if i%3 == 0 {
						xv, yv := x.Load(tx), y.Load(tx)
						if xv+yv != 0 {
							unbalanced.Add(1)
						}
						x.Store(tx, xv+i)
						y.Store(tx, yv-i)
					}
					if i%8 == 0 {
						log.Store(tx, append(slices.Clip(log.Load(tx)), i))
					}
					tx.AfterCommit(func() { hooks[i].Add(1) })
					return nil
				})
			}
			require.NoError(t, p.Run(context.Background()))
			requireBlocks(t, p)
			want := make([]int, accounts)
			for i := range want {
				want[i] = 1000
			}
			for i := range n {
				want[from(i)] -= amount(i)
				want[to(i)] += amount(i)
				require.NotEqual(t, -1, rec[i].Peek(), "task %d did not commit", i)
				require.Equal(t, int32(1), hooks[i].Load(), "commit hook of task %d", i)
			}
			total := 0
			for i, v := range acct {
				total += v.Peek()
				assert.Equal(t, want[i], v.Peek(), "account %d", i)
			}
			assert.Equal(t, 1000*accounts, total)
			assert.Zero(t, x.Peek()+y.Peek())
			assert.Zero(t, unbalanced.Load(), "tasks saw the pair out of balance")
			var wantLog []int
			for i := 0; i < n; i += 8 {
				wantLog = append(wantLog, i)
			}
			assert.Equal(t, wantLog, slices.Sorted(slices.Values(log.Peek())))
		})
	}
}

// TestBlockErrorsUnordered: a task that returns an error inside a block
// rolls back its own Stores and commit hooks only; the tasks around it
// commit, and their hooks run once each (on one worker, in task order).
// Failing tasks also add a task, which must not join the pool; the others
// add one that must.
func TestBlockErrorsUnordered(t *testing.T) {
	for _, w := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("workers=", w), func(t *testing.T) {
			n := scale(3000, 20000)
			vars := make([]*hybrid.Var[int], n)
			for i := range vars {
				vars[i] = hybrid.NewVar(0)
			}
			sum := hybrid.NewVar(0) // one task in five adds to it: blocks conflict too
			fails := func(i int) bool { return i%97 == 41 }
			var mu sync.Mutex
			var hooks []int
			var children atomic.Int32
			boom := errors.New("boom")
			p := tasks.New(tasks.Workers(w))
			for i := range n {
				p.Add(func(tx *hybrid.Tx) error {
					vars[i].Store(tx, i+1)
					if i%5 == 0 {
						sum.Store(tx, sum.Load(tx)+i)
					}
					tx.AfterCommit(func() { mu.Lock(); hooks = append(hooks, i); mu.Unlock() })
					if i%10 == 1 {
						p.Add(func(tx *hybrid.Tx) error {
							tx.AfterCommit(func() { children.Add(1) })
							return nil
						})
					}
					if fails(i) {
						return fmt.Errorf("task %d: %w", i, boom)
					}
					return nil
				})
			}
			err := p.Run(context.Background())
			requireBlocks(t, p)
			var failed, wantFailed, wantHooks []int
			wantSum, wantChildren := 0, 0
			for i := range n {
				if fails(i) {
					wantFailed = append(wantFailed, i)
					assert.Equal(t, 0, vars[i].Peek(), "failed task %d committed", i)
					continue
				}
				wantHooks = append(wantHooks, i)
				if i%5 == 0 {
					wantSum += i
				}
				if i%10 == 1 {
					wantChildren++
				}
				assert.Equal(t, i+1, vars[i].Peek(), "task %d did not commit", i)
			}
			require.Error(t, err)
			failed = boomTasks(t, err, boom)
			assert.Equal(t, wantFailed, failed)
			assert.Equal(t, wantSum, sum.Peek())
			assert.Equal(t, int32(wantChildren), children.Load(), "added tasks")
			if w == 1 {
				assert.Equal(t, wantHooks, hooks, "commit hooks: not once each in task order")
			} else {
				assert.Equal(t, wantHooks, slices.Sorted(slices.Values(hooks)), "commit hooks: not once each")
			}
		})
	}
}

// TestBlockPanicUnordered: a task deep in a long run (inside a block) that
// panics is reported with its own index and stack; on one worker, exactly
// the tasks before it committed; on two, it did not commit.
func TestBlockPanicUnordered(t *testing.T) {
	for _, w := range []int{1, 2} {
		t.Run(fmt.Sprint("workers=", w), func(t *testing.T) {
			const n, bad = 5000, 3210
			done := make([]*hybrid.Var[bool], n)
			for i := range done {
				done[i] = hybrid.NewVar(false)
			}
			p := tasks.New(tasks.Workers(w))
			for i := range n {
				p.Add(func(tx *hybrid.Tx) error {
					done[i].Store(tx, true)
					if i == bad {
						panicInTask()
					}
					return nil
				})
			}
			runPanics(t, p, bad)
			requireBlocks(t, p)
			assert.False(t, done[bad].Peek(), "the panicking task committed")
			if w == 1 {
				for i := range n {
					require.Equal(t, i < bad, done[i].Peek(), "task %d", i)
				}
			}
		})
	}
}

// TestBlockStopOnErrorUnordered: on one worker, with StopOnError, exactly
// the tasks before the failing one commit, although it sits in a block.
func TestBlockStopOnErrorUnordered(t *testing.T) {
	const n, bad = 3000, 1777
	p := tasks.New(tasks.Workers(1), tasks.StopOnError())
	count := hybrid.NewVar(0)
	boom := errors.New("boom")
	for i := range n {
		p.Add(func(tx *hybrid.Tx) error {
			if c := count.Load(tx); c != i {
				return fmt.Errorf("task %d ran after %d tasks", i, c)
			}
			if i == bad {
				return boom
			}
			count.Store(tx, i+1)
			return nil
		})
	}
	err := p.Run(context.Background())
	var te *tasks.TaskError
	require.ErrorAs(t, err, &te)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, bad, te.Task)
	assert.Equal(t, bad, count.Peek())
	requireBlocks(t, p)
}

// TestBlockRetrySplits: a task that calls Retry inside a block must not
// hold the tasks before it. Two workers, blocks of four: worker A's first
// block sets flag a, then waits (Retry) for flag b; worker B's first block
// waits for a, then sets b. If a block waited as a whole, a would never
// be committed and both would wait forever; split at the Retry, the tasks
// before it commit and every task runs. The test releases a deadlock
// itself after a deadline and fails.
func TestBlockRetrySplits(t *testing.T) {
	const n = 64 // shares of 32: each worker's first claim is 8 tasks, two blocks
	p := tasks.New(tasks.Workers(2))
	tasks.FixBlock(p, 4)
	a, b := hybrid.NewVar(false), hybrid.NewVar(false)
	ran := make([]*hybrid.Var[int], n)
	for i := range ran {
		ran[i] = hybrid.NewVar(0)
	}
	for i := range n {
		p.Add(func(tx *hybrid.Tx) error {
			switch i {
			case 0:
				a.Store(tx, true)
			case 1:
				hybrid.Check(tx, b.Load(tx))
			case n / 2:
				hybrid.Check(tx, a.Load(tx))
			case n/2 + 1:
				b.Store(tx, true)
			}
			ran[i].Store(tx, ran[i].Load(tx)+1)
			return nil
		})
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		// Release the waiting tasks, so that Run returns, and fail.
		_ = hybrid.Atomically(func(tx *hybrid.Tx) error { a.Store(tx, true); b.Store(tx, true); return nil })
		<-done
		t.Fatal("deadlock: a Retry held the tasks before it in its block")
	}
	for i := range n {
		require.Equal(t, 1, ran[i].Peek(), "task %d", i)
	}
	requireBlocks(t, p)
}

// TestBlockInevitable: a task that calls Inevitable inside a block runs as
// a transaction of its own, so that what it does after Inevitable happens
// once: here a task later in the same block fails, which rolls the block
// back; had the inevitable task stayed in it, its side effect would
// happen again when the tasks before the failing one run again.
func TestBlockInevitable(t *testing.T) {
	for _, w := range []int{1, 2} {
		t.Run(fmt.Sprint("workers=", w), func(t *testing.T) {
			const n = 256
			p := tasks.New(tasks.Workers(w))
			tasks.FixBlock(p, 8)
			var effects [n]atomic.Int32
			inevitable := func(i int) bool { return i%8 == 2 }
			fails := func(i int) bool { return i%8 == 5 }
			x := hybrid.NewVar(0)
			for i := range n {
				p.Add(func(tx *hybrid.Tx) error {
					x.Store(tx, x.Load(tx)+1)
					if inevitable(i) {
						tx.Inevitable()
						effects[i].Add(1) // a side effect: once per commit
					}
					if fails(i) {
						return errors.New("fail")
					}
					return nil
				})
			}
			err := p.Run(context.Background())
			require.Error(t, err)
			nfail := 0
			for i := range n {
				if inevitable(i) {
					require.Equal(t, int32(1), effects[i].Load(), "side effects of task %d", i)
				}
				if fails(i) {
					nfail++
				}
			}
			assert.Equal(t, n-nfail, x.Peek())
			requireBlocks(t, p)
		})
	}
}

// TestBlockGoexit: runtime.Goexit in a task inside a block ends the
// worker; the tasks of its block that ran before it rolled back with it,
// and run again: on one worker, exactly the tasks before it commit, once
// each, and Run reports the task.
func TestBlockGoexit(t *testing.T) {
	const n, bad = 3000, 1234
	p := tasks.New(tasks.Workers(1))
	commits := make([]*hybrid.Var[int], n)
	for i := range commits {
		commits[i] = hybrid.NewVar(0)
	}
	for i := range n {
		p.Add(func(tx *hybrid.Tx) error {
			commits[i].Store(tx, commits[i].Load(tx)+1)
			if i == bad {
				runtime.Goexit()
			}
			return nil
		})
	}
	err := p.Run(context.Background())
	var te *tasks.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, bad, te.Task)
	assert.Contains(t, te.Error(), "runtime.Goexit")
	for i := range n {
		want := 0
		if i < bad {
			want = 1
		}
		require.Equal(t, want, commits[i].Peek(), "commits of task %d", i)
	}
	requireBlocks(t, p)
}

// TestPoolAllocsPerTask: running a batch of tasks allocates nothing per
// task (blocks included): only Run's own few allocations. A commit reuses
// the version its cut frees only once the horizon has passed it, so a
// snapshot that another goroutine holds meanwhile (a transaction still
// running when the test starts: on a loaded machine, in one run of three
// test binaries at once, 2,005 allocations per Run of 2,000 tasks) makes
// every Store allocate for a while; the test measures up to three times and
// needs one measurement under the limit, which a pool that allocated per
// task would never give.
func TestPoolAllocsPerTask(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if hybrid.HardwareEnabled() {
		t.Skip("hardware attempts are on (HYTM_HTM); this checks the software path")
	}
	const n = 2000
	vars := make([]*hybrid.Var[int], n)
	fns := make([]func(*hybrid.Tx) error, n)
	for i := range vars {
		vars[i] = hybrid.NewVar(0)
		fns[i] = func(tx *hybrid.Tx) error { vars[i].Store(tx, vars[i].Load(tx)+1); return nil }
	}
	for _, w := range []int{1, 2} {
		p := tasks.New(tasks.Workers(w))
		run := func() {
			for _, f := range fns {
				p.Add(f)
			}
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		run() // the pool's slices grow once
		var a float64
		for range 3 {
			a = testing.AllocsPerRun(20, run)
			t.Logf("workers=%d: %.1f allocations per Run of %d tasks", w, a, n)
			if a < float64(n)/50 {
				break
			}
		}
		assert.Less(t, a, float64(n)/50, "workers=%d: allocations per task", w)
	}
}
