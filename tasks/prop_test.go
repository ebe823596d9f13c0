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

// Without Ordered, the result must be that of some serial order of the
// committed tasks. A rapid program of tasks whose every access is recorded
// lets the test check that directly: each Var holds the id of the task
// that wrote it last (+1; 0 is the initial value), a task's write is a
// read followed by a store of its own id, and each committed task reports
// in a commit hook which writer it saw for each Var. Those reports give
// each Var's version order (a writer follows the writer it read) and the
// serialization graph (a task follows the writer it read from and precedes
// the next writer of what it only read); the pool's execution is
// serializable exactly when that graph has no cycle, no two writers follow
// the same version (a lost update), and every task saw one version per
// Var and only committed ones.

type uaccess struct {
	write bool
	v     int
}

type utask struct {
	steps []uaccess
	fail  bool // fail when the ids seen sum to a multiple of 3
	adds  []int
}

type uprog struct {
	nvars int
	roots []utask
	tmpls []utask // template k adds only templates above k
	block int     // tasks.FixBlock, 0: adaptive
}

func drawUProg(t *rapid.T) uprog {
	p := uprog{nvars: rapid.IntRange(1, 5).Draw(t, "nvars")}
	draw := func(label string, addFrom, ntmpl int) utask {
		var ut utask
		for range rapid.IntRange(0, 4).Draw(t, label+"-steps") {
			ut.steps = append(ut.steps, uaccess{
				write: rapid.Bool().Draw(t, label+"-write"),
				v:     rapid.IntRange(0, p.nvars-1).Draw(t, label+"-var"),
			})
		}
		ut.fail = rapid.IntRange(0, 5).Draw(t, label+"-fail") == 0
		if addFrom < ntmpl {
			for range rapid.IntRange(0, 2).Draw(t, label+"-adds") {
				ut.adds = append(ut.adds, rapid.IntRange(addFrom, ntmpl-1).Draw(t, label+"-add"))
			}
		}
		return ut
	}
	ntmpl := rapid.IntRange(0, 3).Draw(t, "ntmpl")
	for k := range ntmpl {
		p.tmpls = append(p.tmpls, draw("tmpl", k+1, ntmpl))
	}
	for range rapid.IntRange(1, 120).Draw(t, "nroots") {
		p.roots = append(p.roots, draw("root", 0, ntmpl))
	}
	p.block = rapid.SampledFrom([]int{0, 2, 4, 16}).Draw(t, "block")
	return p
}

// useen is what a committed task reported: for each Var, the writer it saw
// (-1: the initial value; unone: it did not access the Var; utwo: it saw
// two versions), and whether it wrote it.
type useen struct {
	from  []int
	wrote []bool
}

const (
	unone = -3
	utwo  = -2
)

func (p uprog) run(t *rapid.T, workers int, solo bool) (committed map[int]useen, failed []int, blocks int) {
	vars := make([]*hybrid.Var[int], p.nvars)
	for i := range vars {
		vars[i] = hybrid.NewVar(0)
	}
	var mu sync.Mutex
	committed = map[int]useen{}
	pool := tasks.New(tasks.Workers(workers))
	tasks.FixBlock(pool, p.block)
	tasks.ForceSolo(pool, solo)
	var mk func(ut utask, id int) func(*hybrid.Tx) error
	mk = func(ut utask, id int) func(*hybrid.Tx) error {
		return func(tx *hybrid.Tx) error {
			if id%4 == 0 {
				runtime.Gosched() // let other workers' blocks interleave
			}
			s := useen{from: make([]int, p.nvars), wrote: make([]bool, p.nvars)}
			for v := range s.from {
				s.from[v] = unone
			}
			sum := 0
			for _, a := range ut.steps {
				seen := vars[a.v].Load(tx) - 1 // the writer's id, -1: the initial value
				if !s.wrote[a.v] {
					if s.from[a.v] == unone {
						s.from[a.v] = seen
						sum += seen + 1
					} else if s.from[a.v] != seen {
						s.from[a.v] = utwo // reported by checkSerializable
					}
				}
				if a.write {
					vars[a.v].Store(tx, id+1)
					s.wrote[a.v] = true
				}
			}
			if ut.fail && sum%3 == 0 {
				return fmt.Errorf("id %d", id)
			}
			for j, a := range ut.adds {
				pool.Add(mk(p.tmpls[a], (id+1)*1000+j))
			}
			tx.AfterCommit(func() {
				mu.Lock()
				committed[id] = s
				mu.Unlock()
			})
			return nil
		}
	}
	for id, ut := range p.roots {
		pool.Add(mk(ut, id))
	}
	if err := pool.Run(context.Background()); err != nil {
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var te *tasks.TaskError
			require.ErrorAs(t, e, &te)
			var id int
			_, serr := fmt.Sscanf(te.Err.Error(), "id %d", &id)
			require.NoError(t, serr)
			failed = append(failed, id)
		}
	}
	b, _, _ := tasks.BlockStats(pool)
	soloRan.Add(int64(tasks.SoloBlocks(pool)))
	// The final values must be the last version of each Var's order.
	final := make([]int, p.nvars)
	for i, v := range vars {
		final[i] = v.Peek() - 1
	}
	checkSerializable(t, p, committed, failed, final)
	return committed, failed, b
}

// checkSerializable checks the reports of run as described above.
func checkSerializable(t *rapid.T, p uprog, committed map[int]useen, failed []int, final []int) {
	// Every task that should exist committed or failed, once.
	want := map[int]utask{}
	for id, ut := range p.roots {
		want[id] = ut
	}
	for changed := true; changed; {
		changed = false
		for id, ut := range want {
			if _, ok := committed[id]; !ok {
				continue
			}
			for j, a := range ut.adds {
				if _, ok := want[(id+1)*1000+j]; !ok {
					want[(id+1)*1000+j] = p.tmpls[a]
					changed = true
				}
			}
		}
	}
	for _, id := range failed {
		_, dup := committed[id]
		require.False(t, dup, "task %d both failed and committed", id)
	}
	require.Len(t, slices.Compact(slices.Sorted(slices.Values(failed))), len(failed), "a failure reported twice")
	require.Equal(t, len(want), len(committed)+len(failed), "tasks run: %d committed, %d failed, want %d", len(committed), len(failed), len(want))

	// Version orders: next[v][w] is the writer that followed w (-1: the initial value).
	next := make([]map[int]int, p.nvars)
	for v := range next {
		next[v] = map[int]int{}
	}
	for id, s := range committed {
		for v, w := range s.from {
			require.NotEqual(t, utwo, w, "task %d saw two versions of Var %d", id, v)
			if w == unone {
				continue
			}
			if w >= 0 {
				_, ok := committed[w]
				require.True(t, ok, "task %d saw Var %d written by %d, which did not commit", id, v, w)
			}
			if s.wrote[v] {
				if u, dup := next[v][w]; dup {
					t.Fatalf("lost update: tasks %d and %d both overwrote Var %d's version by %d", u, id, v, w)
				}
				next[v][w] = id
			}
		}
	}
	for v := range next {
		last := -1
		for k := 0; ; k++ {
			u, ok := next[v][last]
			if !ok {
				break
			}
			require.Less(t, k, len(committed), "Var %d: a cycle of versions", v)
			last = u
		}
		require.Equal(t, last, final[v], "Var %d: the final value is not the last version", v)
	}
	// The serialization graph, and Kahn's algorithm on it.
	succ := map[int][]int{}
	indeg := map[int]int{}
	edge := func(a, b int) {
		if a != b {
			succ[a] = append(succ[a], b)
			indeg[b]++
		}
	}
	for id, s := range committed {
		for v, w := range s.from {
			if w == unone {
				continue
			}
			if w == -1 && !s.wrote[v] {
				if u, ok := next[v][-1]; ok {
					edge(id, u) // read the initial value: before its first writer
				}
				continue
			}
			if w >= 0 {
				edge(w, id) // read from w
			}
			if !s.wrote[v] {
				if u, ok := next[v][w]; ok {
					edge(id, u) // read w's version: before the writer that replaced it
				}
			}
		}
	}
	var ready []int
	for id := range committed {
		if indeg[id] == 0 {
			ready = append(ready, id)
		}
	}
	done := 0
	for len(ready) > 0 {
		a := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		done++
		for _, b := range succ[a] {
			if indeg[b]--; indeg[b] == 0 {
				ready = append(ready, b)
			}
		}
	}
	require.Equal(t, len(committed), done, "the serialization graph has a cycle: no serial order explains what the tasks saw")
}

// TestUnorderedSerializableRapid: on random programs (reads and
// read-modify-writes over a few Vars, tasks that fail depending on what
// they read, tasks that add tasks), an unordered pool's execution, blocks
// included, is that of some serial order of its committed tasks, and every
// task that should run committed or failed exactly once; with every block
// behind the solo gate (solo.go) as well as without.
func TestUnorderedSerializableRapid(t *testing.T) {
	var blocks atomic.Int64
	soloRan.Store(0)
	rapid.Check(t, func(t *rapid.T) {
		prog := drawUProg(t)
		workers := rapid.SampledFrom([]int{1, 2, 3, 4}).Draw(t, "workers")
		solo := rapid.Bool().Draw(t, "solo") // every block behind the solo gate
		_, _, b := prog.run(t, workers, solo)
		blocks.Add(int64(b))
	})
	require.Positive(t, blocks.Load(), "no block of more than one task formed")
	require.Positive(t, soloRan.Load(), "no block ran behind the solo gate")
}

// soloRan counts the blocks that uprog.run's pools ran behind the solo gate.
var soloRan atomic.Int64
