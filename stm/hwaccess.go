package stm

import (
	"context"
	"sync"
	"unsafe"

	"github.com/hytm/hytm/htm"

	"github.com/hytm/hytm/internal/hwtypes"
)

// Hardware attempts: the rules by which a hardware (or emulated hardware)
// attempt touches a Var live here, next to the software ones in read.go and
// commit.go. Package hybrid drives them through runHardware.
//
// Access rules, shared by both modes:
//
//   - Eager subscription. An attempt reads irrev.active at its start and
//     aborts with htm.CodeLockBusy if it is set. It reads a Var's meta word
//     before its head at the first access, and aborts with CodeLockBusy if a
//     software commit holds the Var's lock. From then on a software commit
//     that locks or writes the Var aborts the attempt (the CPU's conflict
//     detection, or the emulator's SoftwareWrite hook).
//   - A hardware Store never overwrites a committed version: it links a new
//     version node, taken from the worker's nursery. Real RTM attempts never
//     allocate: an empty nursery or a full write log aborts with
//     htm.CodeSoftware.
//   - A hardware commit, single-Var or not, stamps its versions as a
//     software commit would, with a new clock value, so software snapshots
//     stay consistent (a snapshot either predates the stamp and skips the
//     versions, or includes the stamp and sees all of them) — unless no
//     software transaction is live (RH-NOrec clock avoidance, swlive.go).
//     Software transactions announce themselves in a striped counter while
//     setHardwareActive is on; a hardware commit reads it (inside the
//     transaction in real mode, so that a later announcement aborts it;
//     after its locks in emulated mode, so that a later one reads behind
//     them), and if every stripe is zero it stamps its versions with the
//     current clock value and leaves the clock alone: every software
//     transaction that can meet them reads after the commit (real) or
//     behind its locks (emulated), and sees all of them or, if its snapshot
//     predates their one stamp, none. Such commits still let chains be
//     trimmed: the worker's maintenance ticks the clock now and then, with
//     a CAS outside any transaction.
//   - Meta seq is bumped for every Var written, so software validation sees
//     hardware writes.
//
// Emulated mode (htm.ModeEmulate, or a test's emulator) differs in that
// memory accesses are real and not rolled back: the attempt buffers its
// writes in the write log, records its reads with their meta, revalidates
// every read whenever the clock moved (so the body never sees an
// inconsistent state, as a real hardware body never does), and commits
// through the software protocol (lock, stamp, validate, install) inside
// EmuTx.EndWith, so that the emulator's commit decision and the install are
// one step for every other emulated transaction.

// hwContext is the state of a hardware attempt. It is nil for software
// transactions.
type hwContext struct {
	mode hwtypes.Mode
	emu  *htm.EmuTx
	st   htm.Status // abort status (emulated), set before unwinding
	rv   uint64     // clock value at the last validation (emulated)
	busy *varHeader // lock found held; waited for after the attempt
	bIrr bool       // the irrevocable token was found held

	readOnly bool // the attempt ended (committed) without a Store

	// Set by the commit: its stamp, and whether a multi-Var commit ticked
	// the clock or stamped without a tick (swlive.go).
	wv    uint64
	clock hwClock
}

// hwClock says what a hardware commit did to the clock.
type hwClock uint8

const (
	hwClockNone    hwClock = iota // read-only: nothing stamped
	hwClockTicked                 // a software attempt was (or may have been) live
	hwClockSkipped                // stamped with the current clock value, no tick
)

var hwctxPool = sync.Pool{New: func() any { return new(hwContext) }}

// hwEmu is the emulator used by hwtypes.Emulated attempts.
var hwEmu *htm.Emulator

// setEmulator installs e as the emulator that hwtypes.Emulated attempts run on,
// and makes every software commit announce the Vars it writes to e
// (Emulator.SoftwareWrite), so that software commits doom the emulated
// attempts that read or wrote those Vars. nil uninstalls it. Call it only
// while no transaction runs (package hybrid calls it at init, tests between
// runs).
//
//go:linkname setEmulator
func setEmulator(e *htm.Emulator) {
	hwEmu = e
	if e == nil {
		hooks.softwareWrite = nil
		return
	}
	hooks.softwareWrite = func(h *varHeader) { e.SoftwareWrite(uintptr(unsafe.Pointer(h))) }
}

// InTransaction reports whether the calling goroutine is inside a
// transaction's body (so that Atomically would join it).
func InTransaction() bool { return lookupActive(getg()) != nil }

// hwAbort ends an emulated attempt with st: it records the status and
// unwinds the body to runHardware.
func (c *hwContext) fail(st htm.Status) {
	c.st = st
	panic(ctlHW)
}

// hwFindWrite is findWrite without the map index (never built in
// hardware): the write filter (which hwStore keeps), then a scan.
func (tx *Tx) hwFindWrite(h *varHeader) int {
	if tx.wfilter&wbit(h) == 0 {
		return -1
	}
	for i := len(tx.writes) - 1; i >= 0; i-- {
		if tx.writes[i].h == h {
			return i
		}
	}
	return -1
}

func hwLoad[T any](tx *Tx, v *Var[T]) T {
	h := &v.h
	if i := tx.hwFindWrite(h); i >= 0 {
		return nodeVal[T](tx.writes[i].node)
	}
	var n *vnode
	if tx.hw.mode == hwtypes.Real {
		n = tx.hwRealHead(h)
	} else {
		n = tx.hwEmuRead(h)
	}
	if n == nil {
		// A zero Var with no version yet (hwLoadUnwritten): the zero T.
		var zero T
		return zero
	}
	return nodeVal[T](n)
}

func hwStore[T any](tx *Tx, v *Var[T], x T) {
	h := &v.h
	if i := tx.hwFindWrite(h); i >= 0 {
		(*version[T])(unsafe.Pointer(tx.writes[i].node)).val = x
		return
	}
	c := tx.hw
	var n *version[T]
	if c.mode == hwtypes.Real {
		n = (*version[T])(unsafe.Pointer(tx.hwRealNode(h)))
	} else {
		if st := c.emu.Write(uintptr(unsafe.Pointer(h))); st != htm.Started {
			c.fail(st)
		}
		if p := tx.w.nursery.Get(h.tkey.Load()); p != nil {
			n = (*version[T])(p)
		} else {
			n = new(version[T])
		}
	}
	n.ts = 0
	n.prev.Store(nil)
	n.val = x
	tx.wfilter |= wbit(h) // hwFindWrite, and validateReads' findWrite for emulated commits
	tx.writes = append(tx.writes, writeEntry{h: h, node: &n.vnode})
}

// hwLoadUnwritten reads, in an RTM attempt, a zero Var that no transaction
// has written (no version yet, head nil): it reports true if the attempt
// takes the zero value. Its loads of meta and head put the Var's line in
// its read set, so a first Store (init's head CAS) or a commit to the Var
// aborts it, and the zero value is the Var's value until then. An emulated
// attempt reports false: hwEmuRead logs the read with a nil node, which
// hwLoad turns into the zero value (validated by its meta word, as every
// emulated read).
func hwLoadUnwritten(tx *Tx, h *varHeader) bool {
	return tx.hw.mode == hwtypes.Real && tx.hwRealUnwritten(h)
}

// hwNeedsSoftware ends a hardware attempt that reached something only
// software can do (Retry, OrElse, Inevitable, nested Atomically): it aborts
// with htm.CodeSoftware.
func hwNeedsSoftware(tx *Tx) {
	c := tx.hw
	if c.mode == hwtypes.Real {
		hwRealAbortSoftware()
	}
	c.fail(c.emu.Abort(htm.CodeSoftware))
}

// hwEmuRead reads the newest committed version of h in an emulated attempt.
func (tx *Tx) hwEmuRead(h *varHeader) *vnode {
	c := tx.hw
	if len(tx.reads) > 0 {
		if r := tx.findRead(h); r != nil {
			return r.node // still current: revalidated whenever the clock moves
		}
	}
	// Subscribe first (register the line), then look at the lock.
	if st := c.emu.Read(uintptr(unsafe.Pointer(h))); st != htm.Started {
		c.fail(st)
	}
	var n *vnode
	for {
		m := h.meta.Load() // acquire
		if m&metaLocked != 0 {
			c.busy = h
			c.fail(c.emu.Abort(htm.CodeLockBusy))
		}
		n = h.head.Load() // acquire: pairs with the head store in commit
		if h.meta.Load() != m {
			continue // a commit slipped in between: read again
		}
		tx.reads = append(tx.reads, readEntry{h: h, meta: m, node: n})
		break
	}
	if st := c.emu.Check(); st != htm.Started {
		c.fail(st)
	}
	// A software multi-Var commit ticks the clock after locking and
	// before installing: if it moved, an earlier read may have been
	// overwritten. (Hardware commits that skip the tick need no such
	// signal here: the emulator dooms their conflicting emulated readers.)
	if now := clock.v.Load(); now != c.rv {
		c.rv = now
		for i := range tx.reads {
			r := &tx.reads[i]
			if r.h.meta.Load() != r.meta {
				c.fail(c.emu.Abort(htm.CodeNotHead))
			}
		}
	}
	return n
}

// runHardware runs fn once as a hardware attempt in the given mode and
// reports how it ended.
//
//   - status htm.Started: the attempt committed (err nil), or fn returned
//     err and nothing was written. Either way the call is over. readOnly
//     reports whether the body stored nothing.
//   - any other status: the attempt aborted and nothing was written; the
//     caller decides how to go on (internal/policy). For
//     explicit(htm.CodeLockBusy), runHardware has already waited, outside the
//     attempt, until the lock or irrevocable token it found held was free.
//
// A multi-Var commit ticks the global clock only if a software transaction
// is live, or setHardwareActive is off; readHWStats counts both cases.
//
// A panic in fn that is not an abort rolls the attempt back and propagates.
// runHardware must not be called inside a transaction (see [InTransaction]);
// mode hwtypes.Real requires [realHardware] and htm.Enabled(), and hwtypes.Emulated an
// emulator installed by setEmulator.
//
//go:linkname runHardware
func runHardware(fn func(tx *Tx) error, mode hwtypes.Mode) (st htm.Status, readOnly bool, err error) {
	if fn == nil {
		panic("stm: runHardware with a nil function")
	}
	g := getg()
	w := enterTx(g)
	tx := &w.tx
	tx.g = g
	c := hwctxPool.Get().(*hwContext)
	*c = hwContext{mode: mode}
	// One deferred call cleans up every panic exit (a user panic in an
	// emulated body, or any other): the attempt is aborted and everything
	// it holds released, as Atomically's run does for software.
	returned := false
	defer func() {
		if !returned {
			tx.hwAbandon(c)
		}
	}()
	if mode == hwtypes.Real {
		// A real attempt reads no snapshot, but it takes nodes from the
		// nursery and its commit trims into it: pin around it, so that a
		// sweep (sweep.go) leaves the nursery alone meanwhile. The pin
		// only keeps versions from being trimmed for the attempt's length.
		w.slot.Pin(&clock.v)
		st, err = tx.runReal(fn, c)
		w.slot.Unpin()
	} else {
		st, err = tx.runEmulated(fn, c)
	}
	returned = true
	var hooks []func()
	owned := false
	if len(tx.hooks) != 0 {
		hooks, owned = tx.takeHooks(st == htm.Started && err == nil)
	}
	busy, bIrr := c.busy, c.bIrr
	readOnly = c.readOnly
	clk := c.clock
	hwctxPool.Put(c)
	if w.maint {
		w.maintain() // asked for by hwMaintain; the attempt has ended
	}
	leaveTx(w)
	countHW(w, st, clk)
	if st.Explicit() && st.Code() == htm.CodeLockBusy {
		hwWaitBusy(busy, bIrr)
	}
	if hooks != nil {
		runHooks(w, hooks, owned) // committed: AfterCommit's hooks, outside the attempt
	}
	return st, readOnly, err
}

// hwWaitBusy waits, outside any attempt, for the lock of h (if not nil) and
// the irrevocable token to be free.
func hwWaitBusy(h *varHeader, irr bool) {
	if h != nil {
		for round := 0; h.meta.Load()&metaLocked != 0 && round < 64; round++ {
			spinWait(round)
		}
	}
	if irr || irrev.active.Load() != 0 {
		irrevWait()
	}
}

// hwBegin prepares tx for an attempt.
func (tx *Tx) hwBegin(c *hwContext) {
	tx.state = txActive
	clear(tx.reads) // an earlier attempt's entries (leaveTx says why)
	clear(tx.writes)
	tx.reads = tx.reads[:0]
	tx.writes = tx.writes[:0]
	tx.wfilter = 0
	tx.rindex, tx.windex = nil, nil
	tx.rindexed = 0
	tx.spLen = 0
	tx.sps = tx.sps[:0]
	if len(tx.hooks) != 0 {
		tx.dropHooks(0)
	}
	tx.stale, tx.staleVar = false, nil
	tx.attempt = 1
	tx.hw = c
}

func (tx *Tx) hwEnd() {
	tx.hw = nil
	tx.state = txIdle
}

// hwAbandon releases what a hardware attempt holds when a panic leaves
// runHardware: the emulated transaction is aborted (a no-op if it ended),
// its tentative versions go back to the nursery, and the snapshot slot and
// the goroutine's entry are released.
func (tx *Tx) hwAbandon(c *hwContext) {
	if c.emu != nil {
		c.emu.Abort(htm.CodeSoftware)
	}
	tx.rollback()
	tx.dropHooks(0)
	tx.hwEnd()
	tx.w.slot.Unpin()
	leaveTx(tx.w)
}

// hwBody runs fn, turning the abort unwind into ctlHW. Any other panic
// continues to runHardware's deferred cleanup.
func (tx *Tx) hwBody(fn func(tx *Tx) error) (err error, ctl control) {
	defer func() {
		if r := recover(); r != nil {
			if c, ok := r.(control); ok && c == ctlHW {
				ctl = c
				return
			}
			panic(r)
		}
	}()
	return fn(tx), ctlNone
}

func (tx *Tx) runEmulated(fn func(tx *Tx) error, c *hwContext) (htm.Status, error) {
	w := tx.w
	e := hwEmu
	et, st := e.Begin()
	if st != htm.Started {
		return st, nil
	}
	c.emu = et
	tx.hwBegin(c)
	tx.rv = w.slot.Pin(&clock.v) // keeps the nodes read from being recycled
	c.rv = tx.rv
	// Subscribe to the irrevocable token.
	if et.Read(uintptr(unsafe.Pointer(&irrev.active))) == htm.Started && irrev.active.Load() != 0 {
		c.bIrr = true
		st = et.Abort(htm.CodeLockBusy)
	}
	var err error
	var ctl control
	if st == htm.Started {
		err, ctl = tx.hwBody(fn)
		switch {
		case ctl == ctlHW:
			st = c.st
		case err != nil || len(tx.writes) == 0:
			c.readOnly = len(tx.writes) == 0
			st = et.End()
		default:
			var cst htm.Status
			st = et.EndWith(func() { cst = tx.hwCommitEmu(c) })
			if st == htm.Started && cst != htm.Started {
				st = cst
			}
		}
	}
	if st != htm.Started {
		err = nil
	}
	tx.rollback() // after a commit the log holds no nodes any more

	tx.hwEnd()
	w.slot.Unpin()
	return st, err
}

// hwCommitEmu installs an emulated attempt's writes with the software
// protocol. It runs inside EmuTx.EndWith, so it never waits: a held lock or
// token makes it give up with CodeLockBusy, a failed validation with
// CodeNotHead. It does not announce its writes to the emulator: its own
// Write registrations already doomed the emulated readers of those lines.
func (tx *Tx) hwCommitEmu(c *hwContext) htm.Status {
	if h := tx.lockWrites(); h != nil {
		c.busy = h
		return htm.ExplicitStatus(htm.CodeLockBusy)
	}
	// Dekker with becomeIrrevocable, as in commit.
	if irrev.active.Load() != 0 {
		tx.unlock(len(tx.writes))
		c.bIrr = true
		return htm.ExplicitStatus(htm.CodeLockBusy)
	}
	var wv uint64
	switch {
	case swLiveAny():
		// A software snapshot may be live: tick (seq-cst, after the locks),
		// as a software commit does.
		wv, c.clock = stamp(), hwClockTicked
	default:
		// No software attempt was live when the stripes were loaded, after
		// our locks: every one that starts later waits for our locks or
		// sees our versions (swlive.go). Stamp with the current value.
		wv, c.clock = clock.v.Load(), hwClockSkipped
	}
	c.wv = wv
	if tx.validateReads() != nil {
		tx.unlock(len(tx.writes))
		return htm.ExplicitStatus(htm.CodeNotHead)
	}
	long := tx.installWrites(wv, false)
	tx.hwMaintain(long)
	return htm.Started
}

// hwMaintain does commit's maintenance bookkeeping for a hardware commit
// whose walks left a chain long (long): now and then it asks runHardware to
// run maintain after the attempt, which rescans the horizon, trims queued
// Vars and, if the commit did not tick the clock (it skipped the tick,
// swlive.go) and chains stay long, ticks it with a CAS so that
// versions sharing the clock value fall below the next horizon. The rate
// limits are commit's (commit.go).
func (tx *Tx) hwMaintain(long bool) {
	c := tx.hw
	tx.w.afterCommit(long, c.clock != hwClockTicked, c.wv)
}

// atomicallyWrote is [Atomically] that also reports whether the committed
// attempt stored anything. The hybrid policy uses it (through
// internal/hwlink) to learn which call sites write: read-only sites stay in
// software, where their bodies run once. Inside a running transaction it
// joins it and reports true. It keeps no reference to fn (internal/hwlink
// declares it noescape). pc is the call site that read-only mode learns
// about (site.go): hybrid passes its user's body's, which differs from
// fn's when fn is a wrapper (AtomicallyValue); 0 means fn's own.
//
//go:linkname atomicallyWrote
func atomicallyWrote(pc uintptr, fn func(tx *Tx) error) (wrote bool, err error) {
	return atomicallyWroteContext(nil, pc, fn)
}

// atomicallyWroteContext is atomicallyWrote with a context that ends Retry
// waits (nil: none); see [AtomicallyContext]. The context is kept in the
// transaction while it runs, so it escapes.
//
//go:linkname atomicallyWroteContext
func atomicallyWroteContext(ctx context.Context, pc uintptr, fn func(tx *Tx) error) (wrote bool, err error) {
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
	g := getg()
	if outer := lookupActive(g); outer != nil {
		return true, outer.nested(fn)
	}
	w := enterTx(g)
	w.tx.g = g
	w.tx.ctx = ctx
	if pc == 0 {
		pc = bodySite(fn)
	}
	w.tx.site = pc
	err, wrote = w.tx.run(fn)
	return wrote, err
}
