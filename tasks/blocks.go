package tasks

import (
	"errors"
	"runtime/debug"
	"time"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/internal/hwlink"
	"github.com/hytm/hytm/stm"
)

// Blocks (ordered mode; without Ordered, see ublocks.go, which shares the
// block size and its counters below). Passing the turn from one worker to another costs
// a cache-line transfer between cores, so an ordered worker claims a block
// of consecutive tasks and runs their bodies one after another in one
// transaction, which waits for the block's turn (the turn of its first
// task) and commits the block at once: the turn passes once per block.
//
// A block runs like a single task (ordered.go): speculatively, in a
// software transaction that waits for its turn before it commits and is
// validated (a block whose reads an earlier block changed runs again,
// now at its turn), or at its turn, as a plain transaction. Its commit
// hooks run after its commit, in task order, before the turn passes on:
// tasks added by the block's tasks are appended in the order of the adding
// tasks, as when each task commits on its own.
//
// A task of the block that returns an error or panics splits the block:
// the block rolls back, the tasks before it run again as a block, and the
// task itself runs alone (runOrdered), so that its error or panic is that
// of a run at its turn and rolls back only that task. (A savepoint per
// task would keep the block whole, but merging savepoints costs a scan of
// the block's writes per task, and a nested call moves a hardware attempt
// to software.)
//
// The block size adapts, like a congestion window: it starts at one task,
// doubles at each block that commits at its first run up to blkCeil, grows
// by one task per 4*size such blocks above it, up to maxBlock
// (maxOrderedBlock in ordered mode), and halves when a block runs again or
// is split (blkCeil becomes the halved size). In ordered mode it grows back
// to the size of the last block that ran again (blkBad) only after
// 64*size blocks, not 4*size, and its doubling at a Run's start stops short
// of that size (if above badDoubling): a train schedule whose trains follow
// the ones 16 places before them fails at 9 tasks every time, and went
// through 4, 5, ... 9 and back to 4 about every 120 blocks (2% of its
// blocks ran twice; now 0.3%).
// Tasks that read what the tasks just before them wrote (a chain of trains
// 16 apart) thus settle on blocks that do not overlap their dependencies,
// while independent tasks reach maxBlock. While the pool does not
// speculate (doubt, ordered.go), blocks run at their turn and take
// maxBlock tasks.

// maxOrderedBlock bounds them in ordered mode, where blocks commit one
// after another and each commit's fixed cost (its tick of the clock, the
// hand-off of the turn) is on the path every later block waits for: 32-task
// blocks took interest on two workers from 165 to 141 ns per task (medians
// of 6, interleaved). Blocks of tasks that depend on the tasks just before
// them stay small (blkBad, badDoubling).
const maxOrderedBlock = 32

// badDoubling: in ordered mode, the doubling at the start of each Run
// stops short of the size of the last block that ran again (blkBad) when
// that size is above badDoubling. Without it a train schedule failed at 16
// at every Run's start (7% slower with 32-task blocks allowed); with it for
// every size, one block of 4 that conflicted by chance kept later Runs'
// blocks small (interest at 106-215 ns per task from one run to the next,
// against 102-114).
const badDoubling = 8

// maxBlock bounds the tasks of one block (in both modes): a block's
// transaction holds all of their reads and writes (in hardware, all of
// them must fit the L1 data cache), and a larger block re-runs more work
// when an earlier block changes something it read. Measured on 2 workers, 32- and
// 64-task blocks ran the train schedule at 0.56–0.66x the unordered pool
// against 0.75–0.78x for 16, and did not run interest faster.
const maxBlock = 16

// maxBlockRuns bounds the runs of a block's transaction: a block that
// conflicts at every run is split in two instead. A block thus never runs
// long enough for the TM to make it irrevocable (fallback.EscalateAfter),
// which would hold every other commit while tasks that never conflicted
// run: a single task can still become irrevocable, as in a plain
// transaction.
const maxBlockRuns = 2

// blockPanicked handles a panic r that left the transaction of the block
// that starts at task i (tryBlock, tryUBlock): ran reports that the bodies
// had all returned, so that the panic came from a commit hook.
func (p *Pool) blockPanicked(ws *bodySlot, i int, r any, ran bool) (err error, bad int) {
	if !ran {
		// A task panicked (the TM's own panics, which end an attempt, do
		// not leave Atomically): the transaction rolled back.
		return errSplit, ws.cur - i
	}
	// A commit hook panicked: the block committed. Which task registered
	// the hook is not recorded: the panic is reported as the block's first
	// task's.
	p.panicked(&PanicError{Task: i, Value: r, Stack: debug.Stack()})
	return errHalted, 0
}

// errSplit rolls back a block one of whose tasks returned an error or
// panicked.
var errSplit = errors.New("tasks: block split")

// blockPlan says how the next block is claimed: serial is set while the
// pool does not speculate, and want is the block's size.
func (p *Pool) blockPlan() (serial bool, want int) {
	if p.doubt.Load() > doubtMax {
		return true, int(p.maxBlk)
	}
	return false, int(p.blk.Load())
}

// blockCommitted counts a block (or single task) that committed without
// running again, and grows the block size.
func (p *Pool) blockCommitted() {
	b := p.blk.Load()
	if b >= p.maxBlk || p.blkFixed != 0 {
		return
	}
	g := p.blkGood.Add(1)
	nb := b + 1
	bad := p.blkBad.Load()
	if b < p.blkCeil.Load() && (bad <= badDoubling || nb < bad) {
		nb = min(2*b, p.blkCeil.Load())
		if bad > badDoubling {
			nb = min(nb, bad-1) // doubling stops short of the size that ran again
		}
	} else if g < 4*b || (nb >= bad && g < 64*b) {
		return
	}
	if p.blk.CompareAndSwap(b, min(nb, p.maxBlk)) {
		p.blkGood.Store(0)
	}
}

// blockFailed shrinks the block size after a block of n tasks ran again or
// was split.
func (p *Pool) blockFailed(n int) {
	if p.blkFixed != 0 {
		return
	}
	nb := int32(max(n/2, 1))
	p.blkGood.Store(0)
	p.blkCeil.Store(nb)
	if p.cfg.ordered {
		// The block ran again because it read what an earlier block, still
		// running, wrote: in ordered mode that is a dependency of the
		// tasks' order (a train that follows the one 16 places before it),
		// which a block as large will meet again. Without Ordered,
		// conflicts come and go with the timing.
		p.blkBad.Store(int32(n))
	}
	if p.blk.Load() > nb {
		p.blk.Store(nb)
	}
}

// runBlock runs tasks i, i+1, ... of fns, in order, on worker w, and
// returns how many it ran (at least one): all of them, unless a task
// returned an error or panicked, or the pool stopped. serial says that the
// block was claimed while the pool did not speculate.
func (p *Pool) runBlock(w, i int, fns []func(*hybrid.Tx) error, serial bool) int {
	ws := &p.inBody[w]
	ws.cur = i
	n := len(fns)
	if n == 1 {
		p.runTask(w, i, fns[0])
		return 1
	}
	spec := !serial && p.turn.Load() != int64(i)
	if serial && !p.waitTurn(i) {
		return n // stopped: the rest is discarded
	}
	err, runs, bad := p.tryBlock(ws, i, fns, spec)
	switch {
	case !spec:
		if serial {
			p.lessDoubt()
		}
		if err == nil {
			p.blockCommitted()
		}
	case err == nil && runs == 1:
		p.lessDoubt()
		p.blockCommitted()
	case err == errSplit && runs == 1:
		// A task's error or panic, not a conflict.
	case err == errNotTurn && runs == 1:
		// It stepped aside (see stepAside): its bodies' run is lost, but
		// nothing conflicted.
		p.stepAside()
	default:
		p.doubt.Add(doubtFail)
		p.blockFailed(n)
	}
	if err == errNotTurn {
		// It stepped aside: run the block again at its turn.
		if !p.waitTurn(i) {
			return n
		}
		err, _, bad = p.tryBlock(ws, i, fns, false)
	}
	if err == nil {
		if !ws.passed {
			p.advance(i + n - 1)
		}
		return n
	}
	if err == errHalted {
		return n
	}
	p.blockFailed(n)
	if bad < 0 {
		// errSplit after maxBlockRuns runs: run the first half as a block
		// (the caller goes on with the rest).
		return p.runBlock(w, i, fns[:n/2], serial)
	}
	// errSplit: task i+bad returned an error or panicked.
	if bad > 0 {
		if done := p.runBlock(w, i, fns[:bad], serial); done < bad || p.stopped.Load() {
			return done
		}
	}
	ws.cur = i + bad
	p.runTask(w, i+bad, fns[bad])
	return bad + 1
}

// tryBlock runs the tasks of fns, the block that starts at task i, as one
// transaction: speculatively if spec (waiting for the turn inside the
// transaction), and otherwise at its turn. It returns the transaction's
// error: nil once it committed, errNotTurn if it stepped aside (or the pool
// stopped), errSplit if task i+bad returned an error or panicked (bad < 0:
// the block ran maxBlockRuns times without committing), errHalted
// if a commit hook panicked (recorded; the pool stops); and how many times
// the bodies ran.
func (p *Pool) tryBlock(ws *bodySlot, i int, fns []func(*hybrid.Tx) error, spec bool) (err error, runs, bad int) {
	returned, ran := false, false
	defer func() {
		ws.task.Store(-1)
		if returned {
			return
		}
		if r := recover(); r != nil {
			err, bad = p.blockPanicked(ws, i, r, ran)
		}
		// r == nil: runtime.Goexit goes on by itself.
	}()
	body := func(tx *stm.Tx) error {
		runs++
		ran = false
		if runs > maxBlockRuns {
			// Conflicts again and again: split the block rather than let
			// the TM make it irrevocable on behalf of all its tasks.
			bad = -1
			return errSplit
		}
		var start time.Duration
		if spec {
			ws.task.Store(int64(i))
			start = mono()
		}
		for k, fn := range fns {
			ws.cur = i + k
			if fn(tx) != nil {
				bad = k
				return errSplit
			}
		}
		if spec {
			// Wait at most as long as the bodies took (at least
			// turnSpin): stepping aside costs running them again.
			hwlink.OwnWrites(tx) // the lines our commit locks: fetched while we wait
			if !p.awaitTurn(i, max(turnSpin, mono()-start)) {
				return errNotTurn
			}
			ws.seq.Store(tx, i)
		}
		// Pass the turn on from inside the commit, once the block's
		// versions are installed (if it registered no commit hooks, which
		// must run first): the next block's commit waits for nothing else.
		// (Passing it earlier, at the commit point before the installs,
		// which is as safe, made interest on two workers slower: 136 ->
		// 160-171 ns per task, with the two commits then overlapping.)
		ws.passTo, ws.passed = i+len(fns)-1, false
		hwlink.OnInstalled(tx, ws.passOn)
		ran = true
		return nil
	}
	if spec {
		err = stm.Atomically(body)
	} else {
		// At its turn, the block may run in hardware, which must not
		// write the slot that other workers read.
		ws.task.Store(int64(i))
		err = hybrid.Atomically(body)
	}
	returned = true
	return err, runs, bad
}
