package stm

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"

	"github.com/hytm/hytm/fallback"
	"github.com/hytm/hytm/internal/gcore"
	"github.com/hytm/hytm/internal/policy"
)

// Tx is a running transaction. A body receives it and passes it to
// [Var.Load] and [Var.Store].
//
// A Tx is valid only inside the body that received it: it must not be
// retained, used after the body returns, or shared with other goroutines.
// Using it after its transaction ended panics ("stm: transaction used after it
// ended") as long as its descriptor has not been reused by another
// transaction; descriptors are recycled, so do not rely on the panic.
type Tx struct {
	_ noCopy

	state txState // txIdle, txActive, txFast or txRO
	rv    uint64  // snapshot timestamp
	site  uintptr // the body's call site (site.go); 0: unknown, always logged

	reads    []readEntry
	writes   []writeEntry
	rindex   map[*varHeader]int32 // built when reads grow large
	rindexed int                  // reads[:rindexed] are in rindex
	windex   map[*varHeader]int32 // built when writes grow large
	wfilter  uint64               // a bit per Var written in the attempt (log.go)
	spLen    int                  // writes below this index belong to an outer savepoint
	sps      []savepoint

	// hooks are the functions registered by AfterCommit in the current
	// attempt (hooks.go); nil or empty for transactions that register none.
	hooks []func()

	// installed, set by package tasks (onInstalled, through
	// internal/hwlink) in a software attempt, runs inside a multi-Var
	// commit right after its versions are installed and its locks
	// released, if the attempt registered no hooks. Cleared at every
	// begin and when run returns.
	installed func()

	stale     bool // a read skipped a newer version: a writer cannot commit
	unlogged  bool // stored after reading in read-only mode: the read log is incomplete (site.go)
	contended bool // logged because its site was marked contended (site.go)
	staleVar  *varHeader

	irrevocable bool // holding the irrevocable token (escalated or Inevitable)
	gated       bool // holding the contention gate (contention.go)
	endWork     bool // end has more to do: irrevocable, or announced in swlive.go
	inevitable  bool // the user asked for it: cannot abort any more

	// restartIrrevocable asks run to start the next attempt irrevocable
	// (Inevitable found a stale read).
	restartIrrevocable bool

	// The panic guard (attempts' guard): inRun is set while attempts has
	// not returned, and ctl is the control value that a panic carried out
	// of the last body (ctlNone: none since attempts last handled it).
	inRun  bool
	ctl    control
	waited bool // the call waited at the contention gate (contention.go)
	// published: the single-Var commit copied its value into the Var's
	// inline copy before it ticked (commit); installWrites skips it then.
	published bool

	// hw is non-nil while the transaction runs as a hardware attempt;
	// the hybrid package sets it (hwaccess.go).
	hw *hwContext

	attempt int             // 1-based attempt of the current Atomically call
	g       uintptr         // the goroutine running the transaction (misuse check)
	ctx     context.Context // ends Retry waits (AtomicallyContext); nil: none

	// yield, when set, ends the attempt instead of a Retry wait or of
	// Inevitable: Atomically returns it (retry.go, setYield).
	yield error

	w *worker

	rep *txReport // conflict reporting state, nil until reporting is used (report.go)
}

type txState uint8

const (
	txIdle   txState = iota
	txActive         // running
	txFast           // running in software, logged, with no writes yet: Load's logged fast path applies
	txRO             // running in software without a read log (site.go): Load's inline path applies
)

type readEntry struct {
	h    *varHeader
	meta uint64 // meta seen (lock bits cleared), or staleMeta
	node *vnode
}

type writeEntry struct {
	h    *varHeader
	node *vnode // tentative version, private until commit
	old  uint64 // meta before the commit locked it
}

// worker is a goroutine's transaction descriptor with its per-worker state
// (active.go; a sync.Pool supplies workers to goroutines without an entry of
// their own, and to Peek and TrimAll). It is
// padded at both ends, and its logs start with room for logCap entries, so
// that two workers never write the same cache line.
type worker struct {
	_       cpu.CacheLinePad
	tx      Tx
	nursery gcore.Nursery
	backoff policy.Backoff
	cm      policy.Contention
	commits uint32 // since the last horizon scan
	calmRun uint32 // logged commits at contended sites in a row stamped rv+1 (calm)
	lagging bool   // the last walk left a chain long: rescan sooner
	// maint asks run to call maintain after the attempt ends;
	// maintTick and maintStamp say whether to tick the clock.
	maint      bool
	maintTick  bool
	maintStamp uint64
	entry      *activeEntry // the goroutine entry that owns this worker, or nil (pooled)
	g          uintptr      // owning goroutine, for pooled workers
	slot       *gcore.Slot
	live       *atomic.Int64 // stripe announcing the running software attempt (swlive.go), or nil
	stats      *workerStats
	waiter     waiter
	_          cpu.CacheLinePad
}

// logCap is the initial capacity of the read and write logs. 16 entries
// make 384- and 512-byte arrays, which the allocator places on cache-line
// boundaries.
const logCap = 16

var workerPool = sync.Pool{New: func() any { return newWorker() }}

func newWorker() *worker {
	w := &worker{}
	w.slot = gcore.NewSlotFor(w)
	w.stats = newWorkerStats(w)
	w.tx.reads = make([]readEntry, 0, logCap)
	w.tx.writes = make([]writeEntry, 0, logCap)
	w.tx.w = w
	w.backoff.Seed(uint64(uintptr(unsafePointer(w))) * 0x9E3779B97F4A7C15)
	w.waiter.ch = make(chan struct{}, 1)
	registerWorker(w) // sweep.go
	return w
}

func getWorker() *worker { return workerPool.Get().(*worker) }

// putWorker returns a worker to the pool, with an empty nursery: the pool
// may drop it at any GC, and it must hold neither free nodes nor the room
// they reserve (sweep.go). The worker is not pinned here, so it holds its
// own slot to flush, as a sweep does; if a sweep holds it, the sweep
// flushes it.
func putWorker(w *worker) {
	if w.slot.Hold(false) {
		w.nursery.Flush()
		w.slot.Unhold()
	}
	workerPool.Put(w)
}

// Atomically runs fn as one transaction and returns its error.
//
// fn may run more than once: after a conflict, and after [Tx.Retry]. Keep it
// free of side effects other than Loads and Stores (or make the transaction
// inevitable first, see [Tx.Inevitable]).
//
//   - If fn returns nil, the transaction commits: its Stores become visible to
//     later transactions at once.
//   - If fn returns an error, every Store is discarded and the error is
//     returned. Nothing is retried.
//   - If fn panics, every Store is discarded, nothing is left locked, and the
//     panic continues in the caller.
//
// Called inside a running transaction's body (on the same goroutine),
// Atomically joins that transaction (flat nesting): fn's Stores commit or
// roll back with the outer transaction. If the inner fn returns an error, its
// own Stores are discarded and the error is returned to the outer body.
func Atomically(fn func(tx *Tx) error) error {
	if fn == nil {
		panic("stm: Atomically with a nil function")
	}
	return atomicallyAt(bodySite(fn), fn)
}

// atomicallyAt is Atomically for a body whose call site (site.go) is pc:
// wrappers such as AtomicallyValue pass their user's body's site, so that
// each user call site learns its own mode.
func atomicallyAt(pc uintptr, fn func(tx *Tx) error) error {
	g := getg()
	e := &active[activeIndex(g)]
	var w *worker
	// acquire: pairs with the claim CAS in enterTxSlow by this goroutine.
	if e.g.Load() == g {
		// The goroutine's own entry: one load, no atomic write.
		w = e.w
		if w.tx.state != txIdle {
			return w.tx.nested(fn)
		}
	} else {
		if outer := lookupActive(g); outer != nil {
			return outer.nested(fn)
		}
		w = enterTxSlow(g, e)
	}
	w.tx.g = g
	w.tx.site = pc
	err, _ := w.tx.run(fn)
	return err
}

// nested runs fn inside the running transaction tx, behind a savepoint: if
// fn returns an error or panics (a user panic, or a Retry or abort unwinding
// through it), its Stores are discarded and the savepoint stack is as it was
// before the call; the panic continues. One deferred call does it for every
// exit, so that an outer body or an OrElse that goes on after the panic
// never finds the inner savepoint or its writes.
func (tx *Tx) nested(fn func(tx *Tx) error) (err error) {
	tx.check()
	if tx.hw != nil {
		hwNeedsSoftware(tx)
	}
	depth := tx.pushSavepoint()
	returned := false
	defer func() { tx.closeSavepoint(depth, returned && err == nil) }()
	err = fn(tx)
	returned = true
	return err
}

// control values are panicked through a body to unwind it.
type control uint8

const (
	ctlNone control = iota
	ctlRetry
	ctlAbort
	ctlHW      // a hardware attempt ended (hybrid)
	ctlRestart // a read-only attempt needs the read log: run again, logged (site.go)
	ctlYield   // Inevitable in an attempt that yields (retry.go, setYield)
)

// run executes the transaction until it commits, returns an error, or panics,
// and then leaves the worker (leaveTx). wrote reports that the committed
// attempt stored something.
//
// Every exit is cleaned up by one deferred call (attempts' guard): a
// normal return has already ended its attempt, and any panic — from the body, from a hook
// (SetAbortHook), from Retry's misuse checks, from anything between begin and
// end — runs abandon, which rolls back and releases whatever the
// transaction still holds (snapshot, announcement, irrevocable token, gate,
// savepoints, the goroutine's entry), whatever the point it was reached from.
func (tx *Tx) run(fn func(tx *Tx) error) (err error, wrote bool) {
	tx.attempt = 0
	tx.ctl = ctlNone
	for done := false; !done; {
		err, done = tx.attempts(fn)
	}
	wrote = err == nil && len(tx.writes) > 0
	tx.installed = nil
	if tx.ctx != nil || tx.yield != nil {
		tx.ctx, tx.yield = nil, nil
	}
	if len(tx.hooks) == 0 {
		leaveTx(tx.w)
		return err, wrote
	}
	// Commit hooks (hooks.go) run after the worker has left the
	// transaction, so that they may run transactions of their own.
	hooks, owned := tx.takeHooks(err == nil)
	leaveTx(tx.w)
	runHooks(tx.w, hooks, owned)
	return err, wrote
}

// abandon releases everything a transaction may hold when a panic leaves
// run, from any point of an attempt or between attempts. Each step is a
// no-op when there is nothing to release.
func (tx *Tx) abandon() {
	tx.rollback()
	tx.dropHooks(0)
	tx.sps, tx.spLen = tx.sps[:0], 0
	tx.restartIrrevocable = false
	if tx.state != txIdle {
		tx.end() // unpin; withdraw the announcement; release the token
	} else {
		tx.endWork = true
		tx.endSlow()
	}
	tx.inevitable = false
	tx.ctx, tx.yield = nil, nil
	tx.installed = nil
	tx.leaveGate()
	tx.w.slot.Unpin()
	leaveTx(tx.w)
}

// attempts runs attempts until one commits or returns an error (done), or
// until a control panic (Retry, an abort, a restart) unwinds a body: it
// then returns with done false and the control value in tx.ctl, and run
// calls it again, which handles tx.ctl first and goes on.
//
// Design note: one deferred call per transaction. A body's control panics
// and every other panic are caught by the same deferred guard, so that the
// common case (an attempt that commits) pays for one defer, not one for the
// body and one for the loop: measured, the second defer cost a one-Var
// transaction about 3 ns, a tenth of a read-only one. The price is that a
// control panic unwinds the loop, which run re-enters; control panics end
// attempts that are lost anyway.
func (tx *Tx) attempts(fn func(tx *Tx) error) (err error, done bool) {
	tx.inRun = true
	defer tx.guard()
	w := tx.w
	if tx.ctl != ctlNone {
		if err, done = tx.afterControl(); done {
			tx.inRun = false
			return err, true
		}
	} else if tx.attempt == 0 {
		tx.waited = false
		if w.cm.Gated() {
			tx.waited = tx.enterGate()
		}
	}
	for {
		tx.attempt++
		if tx.restartIrrevocable {
			tx.restartIrrevocable = false
			tx.becomeIrrevocable(true)
		} else if tx.attempt > fallback.EscalateAfter && !tx.irrevocable {
			tx.becomeIrrevocable(false)
		}
		tx.begin()
		if err = fn(tx); err != nil {
			tx.rollback()
			tx.end()
			tx.leaveGate()
			w.stats.add(statErrors)
			tx.inRun = false
			return err, true
		}
		// A read-only attempt commits without a call (commit's first case).
		if ro := len(tx.writes) == 0; ro || tx.commit() {
			if ro {
				w.stats.add(statCommitsRO)
			}
			tx.end()
			w.cm.Committed(tx.leaveGate() || tx.waited)
			if w.maint {
				w.maintain()
			}
			tx.inRun = false
			return nil, true
		}
		tx.rollback()
		tx.end()
		w.cm.Aborted()
		w.backoff.Wait(tx.attempt)
	}
}

// afterControl ends the attempt whose body a control panic unwound, as
// tx.ctl says, and reports whether the transaction is over (done: a
// cancelled Retry wait, with its error); otherwise attempts goes on with
// the next attempt.
func (tx *Tx) afterControl() (err error, done bool) {
	w := tx.w
	ctl := tx.ctl
	tx.ctl = ctlNone
	switch ctl {
	case ctlRestart:
		tx.rollback()
		tx.end()
		tx.attempt-- // not an attempt: the body had not finished
	case ctlRetry, ctlYield:
		if tx.yield != nil {
			// The caller ends the transaction instead of waiting
			// (setYield): nothing of the attempt remains.
			tx.rollback()
			tx.end()
			tx.leaveGate()
			return tx.yield, true
		}
		if tx.state == txRO || tx.unlogged {
			// No read set to wait on: run logged (site.go), then wait.
			markSiteLogged(tx.site)
			tx.end()
			tx.attempt--
			return nil, false
		}
		tx.rollback()
		tx.leaveGate() // never block holding it
		cancelled := tx.waitForChange()
		tx.end()
		if cancelled {
			w.stats.add(statErrors)
			return tx.ctx.Err(), true
		}
		tx.attempt = 0
	default: // ctlAbort
		tx.rollback()
		tx.end()
		w.cm.Aborted()
		w.backoff.Wait(tx.attempt)
	}
	return nil, false
}

// guard is attempts' deferred call, a method value rather than a closure
// capturing locals (which costs a few instructions more on every
// transaction). It does nothing after a normal return. A control panic
// (Retry, an abort, a restart) is recovered into tx.ctl: attempts returns
// with done false, and run calls it again. Any other panic, and
// runtime.Goexit, abandons the transaction and goes on; guard runs before
// run's leaveTx hands the worker back, so it never touches a worker that
// another goroutine may have taken.
func (tx *Tx) guard() {
	if !tx.inRun {
		return
	}
	tx.inRun = false
	r := recover()
	if c, ok := r.(control); ok {
		tx.ctl = c
		return
	}
	tx.abandon()
	if r != nil {
		panic(r) // a user panic, or a misuse check's: it goes on to the caller
	}
	// runtime.Goexit (r == nil): recover did not stop it.
}

// begin starts an attempt: announce a snapshot and reset the logs.
func (tx *Tx) begin() {
	if len(tx.reads)|len(tx.writes)|len(tx.sps)|len(tx.hooks)|tx.spLen != 0 ||
		tx.rindex != nil || tx.windex != nil || tx.staleVar != nil {
		tx.beginReset() // another attempt's state (a first attempt has none)
	}
	tx.wfilter = 0
	tx.stale, tx.unlogged, tx.contended = false, false, false
	tx.installed = nil
	tx.w.liveEnter() // swlive.go: before the snapshot's clock loads
	tx.rv = tx.w.slot.Pin(&clock.v)
	switch m := siteMode(tx.site); {
	case tx.irrevocable:
		tx.state = txActive
	case m == 0:
		tx.state = txRO
	default:
		tx.state = txFast
		tx.contended = m == siteContended
	}
	if reportOn.Load() {
		tx.reportBegin() // report.go: keeps Load's inline path off so every Load is seen
	}
}

// beginReset clears what an earlier attempt of the transaction left: its
// log entries (leaveTx says why they are cleared, not only truncated), the
// logs' indexes, its savepoints and its commit hooks.
func (tx *Tx) beginReset() {
	clear(tx.reads)
	clear(tx.writes)
	tx.reads = tx.reads[:0]
	tx.writes = tx.writes[:0]
	tx.rindex, tx.windex, tx.staleVar = nil, nil, nil
	tx.spLen = 0
	tx.sps = tx.sps[:0]
	if len(tx.hooks) != 0 {
		tx.dropHooks(0) // registered by an attempt that did not commit
	}
}

// end finishes an attempt: release the snapshot and any irrevocability.
func (tx *Tx) end() {
	tx.state = txIdle
	tx.w.slot.Unpin()
	if tx.endWork {
		tx.endSlow()
	}
}

// endSlow is end's rare part, kept out of line so that end inlines.
//
//go:noinline
func (tx *Tx) endSlow() {
	tx.endWork = false
	tx.w.liveLeave() // swlive.go: after the last read, before the token goes
	if tx.irrevocable {
		tx.leaveIrrevocable()
	}
}

// check panics if tx is not usable.
func (tx *Tx) check() {
	tx.checkLive()
	tx.checkGoroutine()
}

// checkLive panics if tx is nil or has ended. Loads and Stores check this
// much; the goroutine is checked by every Store that adds a write (storeNew)
// and not by Loads (see checkGoroutine).
func (tx *Tx) checkLive() {
	if tx == nil {
		panic("stm: nil *Tx (Load and Store need the transaction passed to the body)")
	}
	if tx.state == txIdle {
		panic("stm: transaction used after it ended")
	}
}

// checkGoroutine panics if the calling goroutine is not the one running tx.
// It costs a call to an assembly function (getg) and back, about 2.5 ns,
// so only the Stores that add a write call it (storeNew), not Loads: three
// calls per Var read and written (a logged Load, the Store, its new entry)
// cost a transaction that updates 16 Vars about a tenth of its time. A Tx
// used from another goroutine is thus caught at a Store that adds a write.
func (tx *Tx) checkGoroutine() {
	if getg() != tx.g {
		panic("stm: transaction used from another goroutine (a *Tx belongs to the goroutine running its body)")
	}
}

// abort unwinds the body; the attempt is rolled back and run again.
func (tx *Tx) abort(cause Cause, h *varHeader) {
	tx.recordAbort(cause, h)
	panic(ctlAbort)
}

// rollback discards the tentative versions, returning them to the nursery.
func (tx *Tx) rollback() {
	for i := range tx.writes {
		w := &tx.writes[i]
		tx.w.releaseNode(w.h, w.node)
	}
	clear(tx.writes) // no Var kept past the length (leaveTx)
	tx.writes = tx.writes[:0]
	tx.wfilter = 0
}
