package tasks

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/internal/policy"
	"github.com/hytm/hytm/internal/release"
	"github.com/hytm/hytm/stm"
)

// Option configures a [Pool] (and a [Dispatcher]).
type Option func(*config)

type config struct {
	workers     int
	ordered     bool
	stopOnError bool
}

func newConfig(opts []Option) config {
	c := config{workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		if o == nil {
			panic("tasks: nil Option")
		}
		o(&c)
	}
	return c
}

// Workers sets the number of goroutines that run tasks (default
// runtime.GOMAXPROCS(0)). n must be at least 1.
func Workers(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("tasks: Workers(%d): want at least 1", n))
	}
	return func(c *config) { c.workers = n }
}

// Ordered makes the tasks of a [Pool] commit in the order they were added,
// so that the final state is exactly that of running them one after another
// in a loop, while their bodies still run in parallel (see the package
// documentation, "Ordered mode"). A [Dispatcher] does not accept it.
func Ordered() Option { return func(c *config) { c.ordered = true } }

// StopOnError stops a [Pool] (or a [Dispatcher]) at the first task that
// returns an error: tasks not yet started are not started, running ones
// finish, and Run returns that error (with any others that running tasks
// returned meanwhile).
func StopOnError() Option { return func(c *config) { c.stopOnError = true } }

// TaskError is a task's error, as Run returns it (joined with the others by
// errors.Join): Task is the task's index in its Run, in the order the tasks
// were added (for a Dispatcher, the event's index in the order events were
// taken from the source).
type TaskError struct {
	Task int
	Err  error
}

// Error returns "tasks: task N: " followed by the task's error.
func (e *TaskError) Error() string { return fmt.Sprintf("tasks: task %d: %v", e.Task, e.Err) }

// Unwrap returns the task's error.
func (e *TaskError) Unwrap() error { return e.Err }

// PanicError is the value Run panics with when a task panicked: the task's
// index, the value it panicked with, and its goroutine's stack at the panic.
type PanicError struct {
	Task  int
	Value any
	Stack []byte
}

// Error describes the panic, followed by the task's stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("tasks: task %d panicked: %v\n\ntask stack:\n%s", e.Task, e.Value, e.Stack)
}

// Unwrap returns the panic value if it is an error, and nil otherwise.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// errHalted ends an ordered task that was waiting for its turn when the
// pool stopped; it is not reported.
var errHalted = errors.New("tasks: pool stopped")

// A Pool runs tasks as transactions on a fixed number of worker
// goroutines. Make one with [New]; the zero Pool is not usable.
//
// Consecutive tasks that a worker runs may share one transaction (a block,
// see the package documentation): their bodies run one after another in
// it, and it commits them together. That keeps the serial illusion, since
// a block's effects are those of its tasks run one after another, and it
// spares all but one begin and commit per block. A task that fails,
// panics, calls Retry or calls Inevitable leaves its block and runs as its
// own transaction.
//
// A Pool is safe for concurrent use: Add may be called from any goroutine,
// including from inside running tasks.
//
// The pool keeps its tasks in slices that it reuses from one Run to the
// next: adding a task allocates nothing beyond the task's closure (an Add
// inside a running task also allocates its commit hook). Workers claim
// tasks added before Run in ranges, with one atomic add per range; tasks
// added while Run runs are handed out under a mutex. Without [Ordered],
// each worker starts on a contiguous share of the tasks added before Run
// (so that a batch added in the same order Run after Run keeps its tasks,
// and the data they touch, on the same worker) and takes from the others'
// shares once its own is done.
type Pool struct {
	cfg       config
	yieldMask int // ordered.go's pause yields when k&yieldMask == 0; set by New

	// The tasks of the running Run that were added before it started, and
	// their shares: one per worker, or a single one in ordered mode. Set
	// before the workers start and not written until they have exited, so
	// that workers read them without a lock.
	run    []func(*hybrid.Tx) error
	shares []share
	_      cpu.CacheLinePad
	// pending counts the tasks of the running Run that have not finished
	// (claimed or not, from run and from added). It reaches zero once, at
	// the end of the Run, or when a stop discards the last unstarted ones.
	pending atomic.Int64
	_       cpu.CacheLinePad
	stopped atomic.Bool // no task starts any more

	mu   sync.Mutex
	cond sync.Cond // idle workers wait for added tasks or the end
	// qlock guards queued and qRun (addQueued), so that an Add outside a
	// Run takes one CAS instead of mu's two locked instructions; Run takes
	// it under mu (lock order: mu, then qlock).
	qlock   atomic.Uint64
	qRun    atomic.Bool              // inRun; written under qlock and mu
	queued  []func(*hybrid.Tx) error // tasks added while no Run runs: the next Run's
	spare   []func(*hybrid.Tx) error // an empty slice to reuse for queued
	added   []func(*hybrid.Tx) error // tasks added while the Run runs
	addNext int                      // added[:addNext] have been claimed
	idle    int                      // workers waiting in cond
	inRun   bool                     // Run is between its start and its return
	running bool                     // the Run takes new tasks: inRun, not stopped, not finished
	errs    []error
	pe      *PanicError
	ctxDone bool // the Run stopped because its context was done

	// Ordered mode (ordered.go).
	turn       atomic.Int64 // the index of the task whose turn it is to commit
	turnWait   atomic.Int32 // tasks blocked in turnCond
	doubt      atomic.Int32 // how badly speculation fared lately (ordered.go)
	turnCond   sync.Cond    // on mu: tasks waiting for their turn outside a transaction
	inBody     []bodySlot   // per worker
	_          cpu.CacheLinePad
	blk        atomic.Int32 // how many tasks an ordered worker claims as one block (ordered.go)
	blkCeil    atomic.Int32 // past it, blk grows slowly
	blkGood    atomic.Int32 // blocks that committed at one run since blk last changed
	blkBad     atomic.Int32 // the size of the last block that ran again or was split: blk grows to it only rarely
	blkFixed   int32        // tests: a block size that does not adapt (0: it adapts)
	soloForced bool         // tests: every block behind the solo gate (solo.go)
	maxBlk     int32        // maxBlock, or maxOrderedBlock in ordered mode
	_          cpu.CacheLinePad
	solo       policy.Gate // without Ordered: the gate of blocks that conflict (solo.go)
}

// bodySlot is a worker's state, on a cache line of its own. In ordered
// mode: the first task of the block whose bodies it is running (or -1),
// and the Var that its speculative commits write so that they validate.
// In both modes: the task whose body runs (cur), and without Ordered the
// first task of the block that runs and has not committed (from); these
// two are read only by the worker itself.
type bodySlot struct {
	task atomic.Int64
	seq  *stm.Var[int]
	cur  int
	from int
	// Ordered mode: passOn, made once, passes the turn on to task
	// passTo+1 from inside a block's commit (hwlink.OnInstalled) and sets
	// passed, which tells runBlock not to pass it again.
	passOn func()
	passTo int
	passed bool
	// Counters of the worker's blocks without Ordered, since New: blocks
	// of more than one task that committed, their tasks, and their runs
	// beyond the first. Read by tests once Run has returned.
	blocks, blockTasks, reruns int
	// Blocks (of any size) that ran holding the solo gate (solo.go).
	soloBlocks int
	_          cpu.CacheLinePad
}

// share is a range of p.run: next is the index of its first task not
// claimed (it may run past end).
type share struct {
	next atomic.Int64
	end  int64
	_    cpu.CacheLinePad
}

// New returns an empty Pool configured by opts.
func New(opts ...Option) *Pool {
	p := &Pool{cfg: newConfig(opts)}
	p.cond.L = &p.mu
	if p.cfg.ordered {
		p.shares = make([]share, 1) // one cursor: tasks start in order
	} else {
		p.shares = make([]share, p.cfg.workers)
	}
	p.turnCond.L = &p.mu
	p.yieldMask = 7
	if p.cfg.workers <= runtime.GOMAXPROCS(0) {
		p.yieldMask = 63
	}
	p.maxBlk = maxBlock
	if p.cfg.ordered {
		p.maxBlk = maxOrderedBlock
	}
	p.blkBad.Store(p.maxBlk + 1)
	p.inBody = make([]bodySlot, p.cfg.workers)
	for i := range p.inBody {
		p.inBody[i].task.Store(-1)
		if p.cfg.ordered {
			ws := &p.inBody[i]
			ws.seq = stm.NewVar(0)
			ws.passOn = func() {
				p.advance(ws.passTo)
				ws.passed = true
			}
		}
	}
	return p
}

// Add adds a task: fn runs later, on a worker, as a transaction
// (hybrid.Atomically(fn), or one that runs fn after the bodies of the
// tasks before it in its block); it may run more than once, as every
// transaction body may.
//
// Called inside a transaction (typically inside a running task, on its
// goroutine), Add takes effect when that transaction commits
// ([stm.Tx.AfterCommit]): an attempt that aborts, retries or fails adds
// nothing. Otherwise the task is added at once.
//
// A task added while Run is running joins that Run (and Run waits for it);
// if that Run has stopped (StopOnError, a panic, its context), the task is
// discarded with the Run's other tasks that had not started. A task added
// while no Run is running, or once the running Run has run all of its
// tasks (it is about to return), waits for the next Run. Add may be called
// from several goroutines at once, and while another goroutine runs Run.
//
// fn must not be nil.
func (p *Pool) Add(fn func(tx *hybrid.Tx) error) {
	if fn == nil {
		panic("tasks: Add with a nil function")
	}
	if tx := stm.Current(); tx != nil {
		tx.AfterCommit(func() { p.add(fn) })
		return
	}
	p.add(fn)
}

func (p *Pool) add(fn func(*hybrid.Tx) error) {
	if p.addQueued(fn) {
		return
	}
	p.mu.Lock()
	switch {
	case p.running:
		p.added = append(p.added, fn)
		p.pending.Add(1)
		if p.idle > 0 {
			p.cond.Signal()
		}
	case p.inRun && p.stopped.Load():
		// Stopped: discarded, as the Run's unstarted tasks are.
	default:
		// No Run takes it: the next Run's. Either the Run ended after
		// addQueued looked, or it has run all of its tasks and not yet
		// returned (running is false, its workers are leaving). That Run
		// used to discard it as if it had stopped, and the task was lost
		// (TestAddConcurrentWithRun).
		p.lockQueue()
		p.queued = append(p.queued, fn)
		p.unlockQueue()
	}
	p.mu.Unlock()
}

// addQueued queues fn for the next Run and reports true, unless a Run is
// running (qRun), which the caller then joins under mu. The common Add,
// a loop of them before Run, thus costs one CAS and a plain store, not a
// lock and an unlock of mu (an Add took 17.6 ns, 12.4 of them mu's).
func (p *Pool) addQueued(fn func(*hybrid.Tx) error) bool {
	// A look without the lock first: a task that adds tasks (a commit
	// hook, during a Run) goes straight to mu. Stale either way is safe:
	// the look under the lock decides, and add's slow path queues a task
	// whose Run has ended.
	if p.qRun.Load() {
		return false
	}
	p.lockQueue()
	if p.qRun.Load() {
		p.unlockQueue()
		return false
	}
	p.queued = append(p.queued, fn)
	p.unlockQueue()
	return true
}

// lockQueue takes qlock. It is held for an append or a swap of slices, so
// a waiter yields rather than sleeps.
func (p *Pool) lockQueue() {
	// acquire CAS: what the last holder did to queued and qRun happens
	// before what we do.
	for !p.qlock.CompareAndSwap(0, 1) {
		runtime.Gosched()
	}
}

// unlockQueue releases qlock. A release store (a plain MOV on amd64,
// package release): it publishes the holder's writes to queued and qRun
// to the next holder, whose CAS reads it; nothing needs StoreLoad order
// here (no Dekker pairing: every reader of the protected fields first
// takes qlock with a CAS).
func (p *Pool) unlockQueue() {
	release.Uint64(&p.qlock, 0)
}

// Run runs every task added so far, and every task added while it runs,
// and returns when all of them have committed or failed, or the pool
// stopped and the running ones have finished. Tasks run in parallel on the
// pool's workers; the result is that of running them one after another in
// some order (in the order added, with [Ordered]). Consecutive tasks may
// commit together as one transaction (a block), in which they run one
// after another: their effects, and what each of them sees, are those of
// that serial order.
//
// Run returns nil if every task committed; otherwise the errors of the
// tasks that failed, each as a [*TaskError], joined by errors.Join, with
// ctx.Err() first if ctx was done before the tasks were. A task that
// returned an error rolled back; the others are unaffected (unless
// [StopOnError] stopped the pool).
//
// When ctx is done, no new task starts, running tasks finish (or, waiting
// for their turn in ordered mode, roll back), and Run returns once every
// worker has exited. If a task panicked, the pool stops the same way and
// Run then panics on its caller's goroutine with a [*PanicError] that
// carries the task's panic value and stack.
//
// Run on a pool with no task returns nil at once. Once Run returns, the
// pool holds no task and can be given new ones and run again. Calling Run
// while another Run of the same pool is running, or inside a transaction,
// panics.
func (p *Pool) Run(ctx context.Context) error {
	if stm.InTransaction() {
		panic("tasks: Run inside a transaction")
	}
	p.mu.Lock()
	if p.inRun {
		p.mu.Unlock()
		panic("tasks: Run while the pool is already running")
	}
	p.lockQueue()
	if len(p.queued) == 0 {
		p.unlockQueue()
		p.mu.Unlock()
		return nil
	}
	p.qRun.Store(true)
	p.run, p.queued, p.spare = p.queued, p.spare, nil
	p.unlockQueue()
	p.inRun, p.running = true, true
	nt, ns := int64(len(p.run)), int64(len(p.shares))
	for w := range p.shares {
		sh := &p.shares[w]
		sh.next.Store(nt * int64(w) / ns)
		sh.end = nt * int64(w+1) / ns
	}
	p.pending.Store(int64(len(p.run)))
	p.added, p.addNext, p.idle = p.added[:0], 0, 0
	p.errs, p.pe, p.ctxDone = nil, nil, false
	p.stopped.Store(false)
	p.turn.Store(0)
	p.doubt.Store(0)
	p.blk.Store(max(p.blkFixed, 1))
	p.blkCeil.Store(p.maxBlk)
	p.blkGood.Store(0)
	for w := range p.inBody {
		ws := &p.inBody[w]
		ws.task.Store(-1)
		ws.cur, ws.from = -1, -1
	}
	p.mu.Unlock()

	// One deferred call ends the Run on every exit.
	defer func() {
		p.mu.Lock()
		p.inRun, p.running = false, false
		p.lockQueue()
		p.qRun.Store(false)
		p.unlockQueue()
		clear(p.run) // keep no closure alive
		clear(p.added)
		p.spare, p.run, p.added = p.run[:0], nil, p.added[:0]
		p.mu.Unlock()
	}()
	if ctx.Err() != nil {
		p.stop(true) // nothing starts; the workers exit at once
	}
	stopWatch := context.AfterFunc(ctx, func() { p.stop(true) })
	var wg sync.WaitGroup
	n := p.cfg.workers
	wg.Add(n)
	for w := range n {
		go p.work(w, &wg, ctx.Done())
	}
	wg.Wait()
	stopWatch()

	p.mu.Lock()
	errs, pe, ctxDone := p.errs, p.pe, p.ctxDone
	p.errs, p.pe = nil, nil
	p.mu.Unlock()
	if pe != nil {
		panic(pe)
	}
	if ctxDone {
		errs = append([]error{ctx.Err()}, errs...)
	}
	return errors.Join(errs...)
}

// stop stops the Run: no task starts any more, and tasks not started are
// discarded. byCtx says that the context was done.
func (p *Pool) stop(byCtx bool) {
	p.mu.Lock()
	if !p.running {
		p.mu.Unlock()
		return
	}
	p.running = false
	p.ctxDone = p.ctxDone || byCtx
	p.stopped.Store(true)
	discarded := len(p.added) - p.addNext
	p.addNext = len(p.added)
	for w := range p.shares {
		sh := &p.shares[w]
		if old := sh.next.Swap(sh.end); old < sh.end {
			discarded += int(sh.end - old)
		}
	}
	p.pending.Add(int64(-discarded))
	p.cond.Broadcast()
	p.turnCond.Broadcast() // ordered tasks waiting for their turn give up
	p.mu.Unlock()
}

// batchSize is how many tasks a worker claims at once when avail are left
// (in a share, or in the tasks added during the Run):
// big batches while there is much left, single tasks at the end, so that
// workers finish together (guided scheduling). In ordered mode, a worker
// claims want tasks, one block (ordered.go).
// sharers is how many workers take from the same tasks.
func (p *Pool) batchSize(avail, sharers, want int) int {
	if want > 0 {
		return want
	}
	return min(max(avail/(4*sharers), 1), 64)
}

// claimRun claims the next range of p.run for worker w, run[base:end]:
// from its own share, then from the others'. ok is false once every share
// is exhausted.
func (p *Pool) claimRun(w, want int) (base, end int, ok bool) {
	ns := len(p.shares)
	for k := range ns {
		if b, e, ok := p.claimShare(&p.shares[(w+k)%ns], want); ok {
			return b, e, true
		}
	}
	return 0, 0, false
}

// claimShare claims the next range of share sh.
func (p *Pool) claimShare(sh *share, want int) (base, end int, ok bool) {
	cur := sh.next.Load()
	if cur >= sh.end {
		return 0, 0, false
	}
	k := int64(p.batchSize(int(sh.end-cur), 1, want))
	b := sh.next.Add(k) - k
	if b >= sh.end {
		return 0, 0, false
	}
	return int(b), int(min(b+k, sh.end)), true
}

// claimAdded returns the next batch of tasks added during the Run, waiting
// while running tasks may still add some. ok is false when the Run is over.
func (p *Pool) claimAdded(want int) (batch []func(*hybrid.Tx) error, base int, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.pending.Load() == 0 {
			p.running = false
			p.cond.Broadcast()
			return nil, 0, false
		}
		if avail := len(p.added) - p.addNext; avail > 0 {
			k := min(p.batchSize(avail, p.cfg.workers, want), avail)
			b := p.addNext
			p.addNext += k
			// Safe to read after the unlock: append never writes below
			// len, and a reallocation leaves this array as it is.
			return p.added[b:p.addNext:p.addNext], len(p.run) + b, true
		}
		p.idle++
		p.cond.Wait()
		p.idle--
	}
}

// finished accounts for k finished (or discarded) tasks; the last one ends
// the Run.
func (p *Pool) finished(k int) {
	if p.pending.Add(int64(-k)) == 0 {
		p.mu.Lock()
		p.running = false
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// work is a worker's loop: first ranges of the tasks added before Run,
// then batches of those added since. In ordered mode, each range is a
// block (ordered.go); otherwise each range runs in blocks of up to blk
// tasks (ublocks.go).
//
// Cancellation is seen here, before each block, as well as by the context.AfterFunc that Run installs: that one
// wakes idle workers and ordered tasks waiting for their turn, but its
// goroutine may not be scheduled while every core runs a worker.
func (p *Pool) work(w int, wg *sync.WaitGroup, done <-chan struct{}) {
	// The batch being run: tasks base+j, ..., base+end-1 (indices in the
	// Run), from src[j:end].
	var src []func(*hybrid.Tx) error
	base, j, end := 0, 0, 0
	defer func() {
		// Only runtime.Goexit in a task gets here with a batch unfinished:
		// account for it so that Run does not wait for it.
		if j < end {
			i := base + j
			// A block runs its tasks one after another: the task that
			// ended the goroutine is the one whose body ran.
			ws := &p.inBody[w]
			if cur := ws.cur; cur > i && cur < base+end {
				if !p.cfg.ordered {
					// The tasks of its block that ran before it rolled
					// back with it: they run again, each on its own,
					// as they would have committed before it started.
					for k := max(ws.from, i); k < cur; k++ {
						ws.from, ws.cur = k, k
						p.runTask(w, k, src[k-base])
					}
				}
				i = cur
			}
			p.fail(i, errors.New("runtime.Goexit called in the task"), true)
			p.finished(end - j)
		}
		wg.Done()
	}()
	fromRun := true
	for {
		serial, want := false, 0
		if p.cfg.ordered {
			serial, want = p.blockPlan()
		}
		if fromRun {
			b, e, ok := p.claimRun(w, want)
			if !ok {
				fromRun = false
				continue
			}
			src, base, j, end = p.run[b:e], b, 0, e-b
		} else {
			batch, b, ok := p.claimAdded(want)
			if !ok {
				return
			}
			src, base, j, end = batch, b, 0, len(batch)
		}
		for j < end {
			select {
			case <-done:
				p.stop(true)
			default:
			}
			if p.stopped.Load() {
				j = end
				break
			}
			if p.cfg.ordered {
				j += p.runBlock(w, base+j, src[j:end], serial)
			} else {
				// blk is only a size: any value it holds is correct, and
				// the load orders nothing.
				k := min(int(p.blk.Load()), end-j)
				j += p.runUBlock(w, base+j, src[j:j+k])
			}
		}
		p.finished(end)
	}
}

// runTask runs task i on worker w and records its error or panic.
func (p *Pool) runTask(w, i int, fn func(*hybrid.Tx) error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			p.panicked(&PanicError{Task: i, Value: r, Stack: debug.Stack()})
		}
		// r == nil: runtime.Goexit; work's deferred call accounts for it.
	}()
	var err error
	if p.cfg.ordered {
		err = p.runOrdered(&p.inBody[w], i, fn)
	} else {
		err = hybrid.Atomically(fn)
	}
	returned = true
	if err != nil && err != errHalted {
		p.fail(i, err, p.cfg.stopOnError)
	}
}

// fail records task i's error, and stops the pool if stop is set.
func (p *Pool) fail(i int, err error, stop bool) {
	p.mu.Lock()
	p.errs = append(p.errs, &TaskError{Task: i, Err: err})
	p.mu.Unlock()
	if stop {
		p.stop(false)
	}
}

// panicked records the first task panic and stops the pool.
func (p *Pool) panicked(pe *PanicError) {
	p.mu.Lock()
	if p.pe == nil {
		p.pe = pe
	}
	p.mu.Unlock()
	p.stop(false)
}
