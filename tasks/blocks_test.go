package tasks_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

// Ordered mode runs consecutive tasks as blocks, one transaction per
// block, once enough tasks have committed for the blocks to grow: these
// tests run thousands of tasks so that most run inside blocks.

// TestOrderedLongProgramsEqualSerial: long random programs (every task
// reading two Vars and writing one of a few, so that blocks conflict often;
// tasks that fail; tasks that add tasks) end in exactly the serial state.
func TestOrderedLongProgramsEqualSerial(t *testing.T) {
	for seed := range scale(3, 10) {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		p := program{nvars: 1 + r.IntN(8)}
		mk := func(addOK bool) op {
			o := op{a: r.IntN(p.nvars), b: r.IntN(p.nvars), c: r.IntN(p.nvars), add: -1, fail: r.IntN(20) == 0}
			if addOK && r.IntN(5) == 0 {
				o.add = r.IntN(8)
			}
			return o
		}
		for range 8 {
			p.tmpl = append(p.tmpl, mk(false))
		}
		for range scale(1000, 3000) {
			p.roots = append(p.roots, mk(true))
		}
		want := p.serial()
		for _, w := range []int{1, 2, 4} {
			require.Equal(t, want, p.ordered(t, w), "seed %d, %d workers", seed, w)
		}
	}
}

// TestOrderedBlockErrors: in a long run of independent tasks (which run
// in large blocks), a task that returns an error rolls back only its own
// Stores and its own commit hooks; the tasks around it in its block
// commit, and their hooks run once each, in task order.
func TestOrderedBlockErrors(t *testing.T) {
	for _, w := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("workers=", w), func(t *testing.T) {
			n := scale(3000, 20000)
			vars := make([]*hybrid.Var[int], n)
			for i := range vars {
				vars[i] = hybrid.NewVar(0)
			}
			sum := hybrid.NewVar(0) // every task adds to it: blocks conflict too
			fails := func(i int) bool { return i%97 == 41 }
			var mu sync.Mutex
			var hooks []int
			boom := errors.New("boom")
			p := tasks.New(tasks.Ordered(), tasks.Workers(w))
			for i := range n {
				p.Add(func(tx *hybrid.Tx) error {
					vars[i].Store(tx, i+1)
					if i%5 == 0 {
						sum.Store(tx, sum.Load(tx)+i)
					}
					tx.AfterCommit(func() { mu.Lock(); hooks = append(hooks, i); mu.Unlock() })
					if fails(i) {
						return fmt.Errorf("task %d: %w", i, boom)
					}
					return nil
				})
			}
			err := p.Run(context.Background())
			var failed, wantFailed, wantHooks []int
			wantSum := 0
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
				assert.Equal(t, i+1, vars[i].Peek(), "task %d did not commit", i)
			}
			failed = boomTasks(t, err, boom)
			assert.Equal(t, wantFailed, failed)
			assert.Equal(t, wantSum, sum.Peek())
			assert.Equal(t, wantHooks, hooks, "commit hooks: not once each in task order")
		})
	}
}

// TestOrderedBlockPanic: a task deep in a long run (inside a block) that
// panics is reported with its own index, and exactly the tasks before it
// committed.
func TestOrderedBlockPanic(t *testing.T) {
	for _, w := range []int{1, 2} {
		t.Run(fmt.Sprint("workers=", w), func(t *testing.T) {
			const n, bad = 5000, 3210
			log := hybrid.NewVar(0) // the number of tasks committed, in order
			p := tasks.New(tasks.Ordered(), tasks.Workers(w))
			for i := range n {
				p.Add(func(tx *hybrid.Tx) error {
					k := log.Load(tx)
					if k != i {
						return fmt.Errorf("task %d ran after %d tasks", i, k)
					}
					log.Store(tx, k+1)
					if i == bad {
						panicInTask()
					}
					return nil
				})
			}
			runPanics(t, p, bad)
			assert.Equal(t, bad, log.Peek(), "not exactly the tasks before the panicking one committed")
		})
	}
}

// TestOrderedBlockChain: each task reads the Var written by the task d
// places before it and writes its own (the train schedule): blocks longer
// than d conflict with the block before them and run again; the result is
// the serial loop's for every distance.
func TestOrderedBlockChain(t *testing.T) {
	n := scale(2000, 10000)
	for _, d := range []int{1, 3, 16, 100} {
		t.Run(fmt.Sprint("d=", d), func(t *testing.T) {
			want := make([]int, n)
			f := func(i, prev int) int { return (prev*31 + i) % mod }
			for i := range want {
				prev := 0
				if i >= d {
					prev = want[i-d]
				}
				want[i] = f(i, prev)
			}
			vars := make([]*hybrid.Var[int], n)
			for i := range vars {
				vars[i] = hybrid.NewVar(-1)
			}
			p := tasks.New(tasks.Ordered(), tasks.Workers(2))
			for i := range n {
				p.Add(func(tx *hybrid.Tx) error {
					prev := 0
					if i >= d {
						prev = vars[i-d].Load(tx)
					}
					vars[i].Store(tx, f(i, prev))
					return nil
				})
			}
			require.NoError(t, p.Run(context.Background()))
			got := make([]int, n)
			for i, v := range vars {
				got[i] = v.Peek()
			}
			require.Equal(t, want, got)
		})
	}
}

// boomTasks returns, sorted, the indices of the tasks whose errors Run
// joined in err, requiring that each is a *tasks.TaskError wrapping boom
// (a task's own error "task N: boom").
func boomTasks(t *testing.T, err error, boom error) []int {
	t.Helper()
	var failed []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var te *tasks.TaskError
		require.ErrorAs(t, e, &te)
		require.ErrorIs(t, e, boom)
		require.Equal(t, fmt.Sprintf("tasks: task %d: task %d: boom", te.Task, te.Task), te.Error())
		failed = append(failed, te.Task)
	}
	slices.Sort(failed)
	return failed
}
