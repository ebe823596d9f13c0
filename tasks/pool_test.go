package tasks_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// Run, whatever its exit, must end with its workers gone.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func scale(short, long int) int {
	if testing.Short() {
		return short
	}
	return long
}

// catch runs f and returns what it panicked with.
func catch(f func()) (r any, panicked bool) {
	defer func() {
		if panicked {
			r = recover()
		}
	}()
	panicked = true
	f()
	return nil, false
}

func requireTasksPanic(t *testing.T, what string, f func()) {
	t.Helper()
	r, panicked := catch(f)
	require.True(t, panicked, "%s: did not panic", what)
	require.True(t, strings.HasPrefix(fmt.Sprint(r), "tasks: "), "%s: panicked with %q", what, r)
}

func TestRunEmpty(t *testing.T) {
	require.NoError(t, tasks.New().Run(context.Background()))
	require.NoError(t, tasks.New(tasks.Ordered()).Run(context.Background()))
}

// TestBank: unordered tasks that move money between accounts. Serializable
// means the total is conserved, every task's effect is counted once, and
// the per-task log (one entry per committed task) holds each task once.
func TestBank(t *testing.T) {
	for _, w := range []int{1, 2, 4} {
		t.Run(fmt.Sprint("workers=", w), func(t *testing.T) {
			const accounts = 16
			acct := make([]*hybrid.Var[int], accounts)
			for i := range acct {
				acct[i] = hybrid.NewVar(100)
			}
			log := hybrid.NewVar([]int(nil))
			n := scale(500, 5000)
			p := tasks.New(tasks.Workers(w))
			for i := range n {
				a, b := i%accounts, (i*7+3)%accounts
				p.Add(func(tx *hybrid.Tx) error {
					x := acct[a].Load(tx)
					acct[a].Store(tx, x-1)
					acct[b].Store(tx, acct[b].Load(tx)+1)
					log.Store(tx, append(slices.Clip(log.Load(tx)), i))
					return nil
				})
			}
			require.NoError(t, p.Run(context.Background()))
			total := 0
			for _, v := range acct {
				total += v.Peek()
			}
			assert.Equal(t, 100*accounts, total)
			got := slices.Sorted(slices.Values(log.Peek()))
			require.Len(t, got, n)
			for i, v := range got {
				require.Equal(t, i, v, "task %d committed %s", i, map[bool]string{true: "twice", false: "never"}[i > v])
			}
		})
	}
}

// TestAddInsideTask: tasks that add tasks (a tree of fan-out 3, depth 4);
// the adding tasks conflict on one Var, so many attempts abort, and an
// aborted attempt must add nothing. Run waits for the whole tree.
func TestAddInsideTask(t *testing.T) {
	inBothModes(t, func(t *testing.T, ordered bool) {
		p := newPool(ordered, tasks.Workers(4))
		count := hybrid.NewVar(0)
		var runs atomic.Int64
		var node func(depth int) func(tx *hybrid.Tx) error
		node = func(depth int) func(tx *hybrid.Tx) error {
			return func(tx *hybrid.Tx) error {
				runs.Add(1)
				count.Store(tx, count.Load(tx)+1)
				if depth > 0 {
					for range 3 {
						p.Add(node(depth - 1))
					}
				}
				return nil
			}
		}
		p.Add(node(4))
		require.NoError(t, p.Run(context.Background()))
		want := 1 + 3 + 9 + 27 + 81
		assert.Equal(t, want, count.Peek(), "tasks committed (body runs: %d)", runs.Load())
		require.NoError(t, p.Run(context.Background()), "a second Run of the drained pool")
		assert.Equal(t, want, count.Peek(), "the second Run ran tasks again")
	})
}

// TestErrors: failed tasks roll back, the others commit; Run reports each
// failure once, with its index.
func TestErrors(t *testing.T) {
	inBothModes(t, func(t *testing.T, ordered bool) {
		p := newPool(ordered, tasks.Workers(3))
		x := hybrid.NewVar(0)
		errOdd := errors.New("odd")
		n := 50
		for i := range n {
			p.Add(func(tx *hybrid.Tx) error {
				x.Store(tx, x.Load(tx)+1)
				if i%7 == 3 {
					return fmt.Errorf("task body %d: %w", i, errOdd)
				}
				return nil
			})
		}
		err := p.Run(context.Background())
		require.ErrorIs(t, err, errOdd)
		var failed []int
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var te *tasks.TaskError
			require.ErrorAs(t, e, &te)
			require.Contains(t, te.Error(), fmt.Sprintf("tasks: task %d: task body %d", te.Task, te.Task))
			failed = append(failed, te.Task)
		}
		slices.Sort(failed)
		var want []int
		for i := range n {
			if i%7 == 3 {
				want = append(want, i)
			}
		}
		assert.Equal(t, want, failed)
		assert.Equal(t, n-len(want), x.Peek(), "failed tasks' Stores committed, or others were lost")
	})
}

// TestStopOnError: with one worker the order is known: tasks up to the
// failing one run, none after it starts.
func TestStopOnError(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprint("ordered=", ordered), func(t *testing.T) {
			opts := []tasks.Option{tasks.StopOnError()}
			if ordered {
				opts = append(opts, tasks.Ordered(), tasks.Workers(3))
			} else {
				opts = append(opts, tasks.Workers(1))
			}
			p := tasks.New(opts...)
			log := hybrid.NewVar([]int(nil))
			boom := errors.New("boom")
			for i := range 100 {
				p.Add(func(tx *hybrid.Tx) error {
					if i == 5 {
						return boom
					}
					log.Store(tx, append(slices.Clip(log.Load(tx)), i))
					return nil
				})
			}
			err := p.Run(context.Background())
			require.ErrorIs(t, err, boom)
			var te *tasks.TaskError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, 5, te.Task)
			// Ordered: exactly the serial prefix. Unordered, one worker: the
			// same, since tasks run in order.
			assert.Equal(t, []int{0, 1, 2, 3, 4}, log.Peek())
		})
	}
}

// TestPanic: a task's panic stops the pool and is raised by Run on the
// caller's goroutine as a *PanicError with the task's stack; the other
// tasks' commits stand, and the pool can run again.
func TestPanic(t *testing.T) {
	inBothModes(t, func(t *testing.T, ordered bool) {
		p := newPool(ordered, tasks.Workers(2))
		x := hybrid.NewVar(0)
		for i := range 20 {
			p.Add(func(tx *hybrid.Tx) error {
				x.Store(tx, x.Load(tx)+1)
				if i == 7 {
					panicInTask()
				}
				return nil
			})
		}
		pe := runPanics(t, p, 7)
		assert.Equal(t, "task panic", pe.Value)
		assert.Contains(t, pe.Error(), "tasks: task 7 panicked: task panic")
		assert.Less(t, x.Peek(), 20, "the panicking task committed")
		if ordered {
			assert.Equal(t, 7, x.Peek(), "ordered: tasks after the panicking one committed")
		}
		// The pool is usable again.
		p.Add(func(tx *hybrid.Tx) error { x.Store(tx, 100); return nil })
		require.NoError(t, p.Run(context.Background()))
		assert.Equal(t, 100, x.Peek())
	})
}

//go:noinline
func panicInTask() { panic("task panic") }

// runPanics runs p and requires that Run re-raises task bad's panic, with
// the task's stack, as a *tasks.PanicError, which it returns.
func runPanics(t *testing.T, p *tasks.Pool, bad int) *tasks.PanicError {
	t.Helper()
	r, panicked := catch(func() { _ = p.Run(context.Background()) })
	require.True(t, panicked, "Run did not re-raise the task's panic")
	pe, ok := r.(*tasks.PanicError)
	require.True(t, ok, "Run panicked with %T %v", r, r)
	assert.Equal(t, bad, pe.Task)
	assert.Contains(t, string(pe.Stack), "panicInTask", "the stack is not the task's")
	return pe
}

// TestCancel: a context cancelled while tasks run stops the pool: no new
// task starts, Run returns ctx.Err() joined with task errors, workers exit
// (TestMain's leak check). A context done before Run starts nothing.
func TestCancel(t *testing.T) {
	inBothModes(t, func(t *testing.T, ordered bool) {
		p := newPool(ordered, tasks.Workers(2))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		x := hybrid.NewVar(0)
		boom := errors.New("boom")
		n := 10000
		for i := range n {
			p.Add(func(tx *hybrid.Tx) error {
				x.Store(tx, x.Load(tx)+1)
				if i == 1 {
					return boom
				}
				if i == 10 {
					tx.AfterCommit(cancel)
				}
				return nil
			})
		}
		err := p.Run(ctx)
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, boom)
		assert.Less(t, x.Peek(), n-1, "tasks kept starting after the cancellation")
		assert.GreaterOrEqual(t, x.Peek(), 10)

		p.Add(func(tx *hybrid.Tx) error { x.Store(tx, -1); return nil })
		require.ErrorIs(t, p.Run(ctx), context.Canceled, "Run with a done context")
		assert.NotEqual(t, -1, x.Peek(), "a task started under a done context")
	})
}

// TestRunTwiceAndAddAfterRun: tasks added after a Run returned wait for the
// next Run, which runs only them; Run during Run, and Run inside a task,
// panic.
func TestRunTwiceAndAddAfterRun(t *testing.T) {
	p := tasks.New(tasks.Workers(2))
	x := hybrid.NewVar(0)
	inc := func(tx *hybrid.Tx) error { x.Store(tx, x.Load(tx)+1); return nil }
	p.Add(inc)
	require.NoError(t, p.Run(context.Background()))
	require.Equal(t, 1, x.Peek())
	p.Add(inc)
	p.Add(inc)
	assert.Equal(t, 1, x.Peek(), "Add outside a Run ran the task")
	require.NoError(t, p.Run(context.Background()))
	require.Equal(t, 3, x.Peek(), "the second Run ran old tasks again or missed new ones")

	started, release := make(chan struct{}), make(chan struct{})
	p.Add(func(tx *hybrid.Tx) error {
		tx.AfterCommit(func() { close(started); <-release })
		return inc(tx)
	})
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	<-started
	requireTasksPanic(t, "Run during Run", func() { _ = p.Run(context.Background()) })
	// An Add from outside during the Run joins it.
	p.Add(inc)
	close(release)
	require.NoError(t, <-done)
	assert.Equal(t, 5, x.Peek())

	p.Add(func(tx *hybrid.Tx) error { return p.Run(context.Background()) })
	r, panicked := catch(func() { _ = p.Run(context.Background()) })
	require.True(t, panicked)
	pe := r.(*tasks.PanicError)
	assert.True(t, strings.HasPrefix(fmt.Sprint(pe.Value), "tasks: Run inside a transaction"), "%v", pe.Value)
}

func TestMisuse(t *testing.T) {
	requireTasksPanic(t, "Add(nil)", func() { tasks.New().Add(nil) })
	requireTasksPanic(t, "Workers(0)", func() { tasks.Workers(0) })
	requireTasksPanic(t, "Workers(-1)", func() { tasks.Workers(-1) })
	requireTasksPanic(t, "New(nil)", func() { tasks.New(nil) })
	requireTasksPanic(t, "NewDispatcher(nil)", func() { tasks.NewDispatcher[int](nil) })
	requireTasksPanic(t, "NewDispatcher Ordered", func() {
		tasks.NewDispatcher(func(*hybrid.Tx, int) error { return nil }, tasks.Ordered())
	})
}

// TestOrderedEqualsSerial: random task programs over a few Vars, with
// order-sensitive updates (x = x*31 + i, appending to a log) and tasks that
// add tasks, give exactly the serial loop's state in ordered mode, for
// several seeds and worker counts.
func TestOrderedEqualsSerial(t *testing.T) {
	seeds := scale(8, 40)
	for seed := range seeds {
		for _, w := range []int{1, 2, 4} {
			prog := randomProgram(uint64(seed))
			want := prog.serial()
			got := prog.ordered(t, w)
			require.Equal(t, want, got, "seed %d, %d workers", seed, w)
		}
	}
}

// program is a random task program: nvars Vars and a list of root tasks;
// task k reads vars a and b, sets var c to a*31 + b + k (mod 1e9+7),
// appends k to the log, and, if add >= 0, adds the task template add.
type program struct {
	nvars int
	roots []op
	tmpl  []op
}

type op struct {
	a, b, c int
	add     int // template added by this task, or -1
	fail    bool
}

const mod = 1_000_000_007

func randomProgram(seed uint64) program {
	r := rand.New(rand.NewPCG(seed, 99))
	p := program{nvars: 1 + r.IntN(4)}
	mk := func(addOK bool) op {
		o := op{a: r.IntN(p.nvars), b: r.IntN(p.nvars), c: r.IntN(p.nvars), add: -1, fail: r.IntN(10) == 0}
		if addOK && r.IntN(3) == 0 {
			o.add = r.IntN(8)
		}
		return o
	}
	for range 8 {
		p.tmpl = append(p.tmpl, mk(false))
	}
	for range 20 + r.IntN(60) {
		p.roots = append(p.roots, mk(true))
	}
	return p
}

type state struct {
	Vars []int
	Log  []int
}

func (o op) apply(vars []int, k int) (ok bool) {
	if o.fail && vars[o.a]%2 == 0 {
		return false // an error decided by the state
	}
	vars[o.c] = (vars[o.a]*31 + vars[o.b] + k) % mod
	return true
}

// serial is the reference: a loop over a work list that tasks append to.
func (p program) serial() state {
	vars := make([]int, p.nvars)
	for i := range vars {
		vars[i] = i + 1
	}
	var log []int
	list := slices.Clone(p.roots)
	for k := 0; k < len(list); k++ {
		o := list[k]
		if !o.apply(vars, k) {
			continue
		}
		log = append(log, k)
		if o.add >= 0 {
			list = append(list, p.tmpl[o.add])
		}
	}
	return state{vars, log}
}

func (p program) ordered(t *testing.T, workers int) state {
	vars := make([]*hybrid.Var[int], p.nvars)
	for i := range vars {
		vars[i] = hybrid.NewVar(i + 1)
	}
	log := hybrid.NewVar([]int(nil))
	pool := tasks.New(tasks.Ordered(), tasks.Workers(workers))
	next := hybrid.NewVar(len(p.roots)) // the index the next added task gets
	var task func(o op, k int) func(*hybrid.Tx) error
	task = func(o op, idx int) func(*hybrid.Tx) error {
		return func(tx *hybrid.Tx) error {
			a, b := vars[o.a].Load(tx), vars[o.b].Load(tx)
			if o.fail && a%2 == 0 {
				return errors.New("odd")
			}
			vars[o.c].Store(tx, (a*31+b+idx)%mod)
			log.Store(tx, append(slices.Clip(log.Load(tx)), idx))
			if o.add >= 0 {
				// The child's index is its position in the serial work
				// list: the number of tasks added before it, which the
				// serial order fixes; the task reads and bumps a counter
				// Var so that the index follows the commit order.
				n := next.Load(tx)
				next.Store(tx, n+1)
				pool.Add(task(p.tmpl[o.add], n))
			}
			return nil
		}
	}
	for i, o := range p.roots {
		pool.Add(task(o, i))
	}
	_ = pool.Run(context.Background())
	out := state{Vars: make([]int, p.nvars), Log: log.Peek()}
	for i, v := range vars {
		out.Vars[i] = v.Peek()
	}
	return out
}

// inBothModes runs f as a subtest in unordered and in ordered mode.
func inBothModes(t *testing.T, f func(t *testing.T, ordered bool)) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprint("ordered=", ordered), func(t *testing.T) { f(t, ordered) })
	}
}

// newPool makes a pool with opts, in ordered mode if ordered.
func newPool(ordered bool, opts ...tasks.Option) *tasks.Pool {
	if ordered {
		opts = append(opts, tasks.Ordered())
	}
	return tasks.New(opts...)
}

// TestAddConcurrentWithRun: goroutines outside any task Add while another
// goroutine runs the pool again and again. A task added before a Run
// starts is that Run's; one added while a Run runs joins it; one added as
// a Run ends (Add found it running, then the Run ended) is the next
// Run's. Every task runs exactly once, none is lost to a race between the
// adders' appends and a Run taking the queue.
func TestAddConcurrentWithRun(t *testing.T) {
	for name, opts := range map[string][]tasks.Option{
		"unordered": {tasks.Workers(2)},
		"ordered":   {tasks.Workers(2), tasks.Ordered()},
	} {
		t.Run(name, func(t *testing.T) {
			adders, per := 4, 3000
			if testing.Short() {
				per = 500
			}
			p := tasks.New(opts...)
			ran := make([]atomic.Int32, adders*per)
			var wg sync.WaitGroup
			for a := range adders {
				wg.Go(func() {
					for i := range per {
						id := a*per + i
						p.Add(func(tx *hybrid.Tx) error {
							tx.AfterCommit(func() { ran[id].Add(1) })
							return nil
						})
						if i%64 == 0 {
							runtime.Gosched()
						}
					}
				})
			}
			addersDone := make(chan struct{})
			go func() { wg.Wait(); close(addersDone) }()
			for running := true; running; {
				select {
				case <-addersDone:
					running = false
				default:
				}
				require.NoError(t, p.Run(context.Background())) // the last one after every Add
			}
			for id := range ran {
				require.Equal(t, int32(1), ran[id].Load(), "runs of task %d", id)
			}
		})
	}
}
