package tasks_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

// A rapid task program: a few Vars, root tasks, and task templates that
// tasks add. Each task is a list of steps over the Vars; the result of
// every step depends on the task's index and on what it read, so that any
// order but the serial one (or a stale read) changes the final state.

type step struct {
	write bool // false: acc = acc*7 + vars[v]; true: vars[v] = acc + index
	v     int
}

type rtask struct {
	steps []step
	fail  bool // fail (roll back) when acc is odd after the steps
	add   []int
}

type rprog struct {
	nvars int
	roots []rtask
	tmpls []rtask
}

func drawProg(t *rapid.T) rprog {
	nvars := rapid.IntRange(1, 4).Draw(t, "nvars")
	drawTask := func(label string, ntmpl int) rtask {
		var rt rtask
		for range rapid.IntRange(0, 5).Draw(t, label+"-steps") {
			rt.steps = append(rt.steps, step{
				write: rapid.Bool().Draw(t, label+"-write"),
				v:     rapid.IntRange(0, nvars-1).Draw(t, label+"-var"),
			})
		}
		rt.fail = rapid.IntRange(0, 9).Draw(t, label+"-fail") == 0
		if ntmpl > 0 {
			for range rapid.IntRange(0, 2).Draw(t, label+"-adds") {
				rt.add = append(rt.add, rapid.IntRange(0, ntmpl-1).Draw(t, label+"-add"))
			}
		}
		return rt
	}
	p := rprog{nvars: nvars}
	// Templates add only templates with a higher index: every program ends.
	ntmpl := rapid.IntRange(0, 4).Draw(t, "ntmpl")
	p.tmpls = make([]rtask, ntmpl)
	for k := ntmpl - 1; k >= 0; k-- {
		tk := drawTask("tmpl", 0)
		for range rapid.IntRange(0, 2).Draw(t, "tmpl-adds") {
			if k+1 < ntmpl {
				tk.add = append(tk.add, rapid.IntRange(k+1, ntmpl-1).Draw(t, "tmpl-add"))
			}
		}
		p.tmpls[k] = tk
	}
	for range rapid.IntRange(1, 40).Draw(t, "nroots") {
		p.roots = append(p.roots, drawTask("root", ntmpl))
	}
	return p
}

type rstate struct {
	Vars []int
	Log  [][2]int // index and final acc of the committed tasks, in commit order
	Errs []int    // indices of the failed tasks, sorted
}

// run applies task rt with index k to vars and returns its acc (what it
// read); it reports false for a failure, and then vars is to be discarded.
func (rt rtask) run(k int, load func(v int) int, store func(v, x int)) (int, bool) {
	acc := k
	for _, s := range rt.steps {
		if s.write {
			store(s.v, (acc+k)%mod)
		} else {
			acc = (acc*7 + load(s.v)) % mod
		}
	}
	return acc, !(rt.fail && acc%2 == 1)
}

// serial is the reference: a loop over a work list that tasks append to.
func (p rprog) serial() rstate {
	vars := make([]int, p.nvars)
	for i := range vars {
		vars[i] = i + 1
	}
	st := rstate{}
	list := slices.Clone(p.roots)
	for k := 0; k < len(list); k++ {
		tmp := slices.Clone(vars)
		acc, ok := list[k].run(k, func(v int) int { return tmp[v] }, func(v, x int) { tmp[v] = x })
		if !ok {
			st.Errs = append(st.Errs, k)
			continue
		}
		vars = tmp
		st.Log = append(st.Log, [2]int{k, acc})
		for _, a := range list[k].add {
			list = append(list, p.tmpls[a])
		}
	}
	st.Vars = vars
	return st
}

// pool runs the program in an ordered pool of the given workers.
func (p rprog) pool(t require.TestingT, workers int) rstate {
	vars := make([]*hybrid.Var[int], p.nvars)
	for i := range vars {
		vars[i] = hybrid.NewVar(i + 1)
	}
	var mu sync.Mutex
	var log [][2]int                    // appended by commit hooks: a task that only reads writes no Var
	next := hybrid.NewVar(len(p.roots)) // the index of the next added task
	pool := tasks.New(tasks.Ordered(), tasks.Workers(workers))
	errOdd := errors.New("odd")
	var mk func(rt rtask, k int) func(*hybrid.Tx) error
	mk = func(rt rtask, k int) func(*hybrid.Tx) error {
		return func(tx *hybrid.Tx) error {
			runtime.Gosched() // let other tasks' bodies interleave
			acc, ok := rt.run(k, func(v int) int { return vars[v].Load(tx) },
				func(v, x int) { vars[v].Store(tx, x) })
			if !ok {
				return errOdd
			}
			tx.AfterCommit(func() {
				mu.Lock()
				log = append(log, [2]int{k, acc})
				mu.Unlock()
			})
			for _, a := range rt.add {
				// A child's index is its place in the serial work list,
				// which follows the commit order: a counter read and
				// bumped by the adding task.
				n := next.Load(tx)
				next.Store(tx, n+1)
				pool.Add(mk(p.tmpls[a], n))
			}
			return nil
		}
	}
	for k, rt := range p.roots {
		pool.Add(mk(rt, k))
	}
	err := pool.Run(context.Background())
	st := rstate{Vars: make([]int, p.nvars), Log: log}
	for i, v := range vars {
		st.Vars[i] = v.Peek()
	}
	if err != nil {
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var te *tasks.TaskError
			require.ErrorAs(t, e, &te)
			require.ErrorIs(t, te, errOdd)
			st.Errs = append(st.Errs, te.Task)
		}
		slices.Sort(st.Errs)
	}
	return st
}

// TestOrderedEqualsSerialRapid: on random programs (random reads and
// writes over a few Vars, tasks that only read, tasks that fail, tasks that
// add tasks), an ordered pool ends in exactly the serial loop's state, with
// the same tasks committed in the same order, having read the same values
// (as their commit hooks report), and the same tasks failed.
func TestOrderedEqualsSerialRapid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prog := drawProg(t)
		workers := rapid.SampledFrom([]int{1, 2, 3, 4}).Draw(t, "workers")
		want := prog.serial()
		got := prog.pool(t, workers)
		require.Equal(t, want, got)
	})
}

// TestAfterCommitExactlyOnceUnderAborts: every task's first two attempts
// abort (a helper goroutine commits to a Var that the attempt read, before
// the attempt commits), and the tasks also conflict on one counter. Each
// task registers a commit hook and adds a task from its body. Every
// committed task's hook runs exactly once, and every added task runs and
// commits exactly once, although two thirds of the attempts or more abort.
func TestAfterCommitExactlyOnceUnderAborts(t *testing.T) {
	inBothModes(t, func(t *testing.T, ordered bool) {
		n := scale(200, 2000)
		x, y := hybrid.NewVar(0), hybrid.NewVar(0)
		kick := make(chan chan struct{})
		helped := make(chan struct{})
		go func() {
			defer close(helped)
			for reply := range kick {
				_ = hybrid.Atomically(func(tx *hybrid.Tx) error { y.Store(tx, y.Load(tx)+1); return nil })
				close(reply)
			}
		}()
		hooks := make([]atomic.Int32, 2*n)
		attempts := make([]atomic.Int32, 2*n)
		p := newPool(ordered, tasks.Workers(4))
		var body func(k int) func(*hybrid.Tx) error
		body = func(k int) func(*hybrid.Tx) error {
			return func(tx *hybrid.Tx) error {
				_ = y.Load(tx)
				if attempts[k].Add(1) <= 2 {
					reply := make(chan struct{})
					kick <- reply
					<-reply // y changed since this attempt read it
				}
				x.Store(tx, x.Load(tx)+1)
				if k < n {
					p.Add(body(n + k))
				}
				tx.AfterCommit(func() { hooks[k].Add(1) })
				return nil
			}
		}
		for k := range n {
			p.Add(body(k))
		}
		err := p.Run(context.Background())
		close(kick)
		<-helped
		require.NoError(t, err)
		require.Equal(t, 2*n, x.Peek(), "committed tasks")
		total := 0
		for k := range hooks {
			require.Equal(t, int32(1), hooks[k].Load(), "hook of task %d", k)
			require.GreaterOrEqual(t, attempts[k].Load(), int32(3), "attempts of task %d", k)
			total += int(attempts[k].Load())
		}
		t.Logf("%d attempts for %d commits", total, 2*n)
	})
}
