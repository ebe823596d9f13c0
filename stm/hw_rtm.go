//go:build amd64 && !purego && !race

package stm

import (
	_ "unsafe" // go:linkname

	"github.com/hytm/hytm/htm"
)

// realHardware reports whether this build contains the real RTM path of
// runHardware (mode hwtypes.Real). It is false under the race detector, whose
// instrumentation calls into the runtime on every access and so would abort
// every hardware transaction, and on builds without the RTM instructions.
const realHardware = true

// hasRealHardware reports realHardware to package hybrid (internal/hwlink).
//
//go:linkname hasRealHardware
func hasRealHardware() bool { return realHardware }

// hwStackReserve is the stack, in bytes, made available before XBEGIN.
const hwStackReserve = 16 << 10

// growStack makes sure the goroutine's stack has hwStackReserve bytes free
// below the caller. A body that needs more stack than it has calls
// morestack, which copies the stack: inside RTM that is far beyond any write
// set, so the attempt aborts with capacity, and since the stack is restored
// with everything else, the next attempt aborts the same way and the call
// site would learn to skip hardware for no reason. Touching a large frame
// once, before XBEGIN, grows the stack outside the transaction; Go stacks
// shrink only during GC, so the room usually stays.
//
//go:noinline
func growStack(i int) byte {
	var buf [hwStackReserve]byte
	buf[i%len(buf)] = byte(i)
	return buf[(i*7)%len(buf)]
}

func hwRealAbortSoftware() {
	htm.AbortSoftware()
	panic("stm: hardware abort returned inside a transaction")
}

// hwRealHead reads h's newest version inside an RTM transaction. Reading
// meta first subscribes to the Var's commit lock: a software commit that
// locks it later aborts the transaction.
func (tx *Tx) hwRealHead(h *varHeader) *vnode {
	if h.meta.Load()&metaLocked != 0 {
		htm.AbortLockBusy()
	}
	return h.head.Load()
}

// hwRealUnwritten reports, inside an RTM transaction, that h has no
// version yet (hwLoadUnwritten). Reading meta first subscribes to the
// Var's commit lock, as hwRealHead does.
func (tx *Tx) hwRealUnwritten(h *varHeader) bool {
	if h.meta.Load()&metaLocked != 0 {
		htm.AbortLockBusy()
	}
	return h.head.Load() == nil
}

// hwRealNode takes a version node for h from the nursery inside an RTM
// transaction; it never allocates.
func (tx *Tx) hwRealNode(h *varHeader) *vnode {
	if len(tx.writes) == cap(tx.writes) {
		htm.AbortSoftware()
	}
	p := tx.w.nursery.Get(h.tkey.Load())
	if p == nil {
		htm.AbortSoftware()
	}
	return (*vnode)(p)
}

func (tx *Tx) runReal(fn func(tx *Tx) error, c *hwContext) (st htm.Status, err error) {
	tx.hwBegin(c)
	growStack(int(uintptr(unsafePointer(tx))))
	st = htm.Begin()
	if st == htm.Started {
		// Eager subscription to the irrevocable token.
		if irrev.active.Load() != 0 {
			htm.AbortLockBusy()
		}
		err = fn(tx)
		c.readOnly = len(tx.writes) == 0
		if err == nil && len(tx.writes) > 0 {
			tx.hwCommitReal()
		}
		htm.End()
		if err == nil {
			tx.hwAfterCommit()
		}
	} else {
		err = nil
		if st.Explicit() && st.Code() == htm.CodeLockBusy {
			c.bIrr = irrev.active.Load() != 0
		}
	}
	// After an abort the hardware restored the log (empty) and the nursery;
	// after a commit the installed entries are nil (hwCommitReal). What is
	// left are the nodes of a body that returned an error after its Stores:
	// they go back to the nursery instead of to the Go GC.
	tx.rollback()
	tx.hwEnd()
	return st, err
}

// hwCommitReal installs the write log inside the RTM transaction. The
// transaction makes the stamp, the links, the head stores and the meta bumps
// one atomic step, so no lock is taken.
func (tx *Tx) hwCommitReal() {
	c := tx.hw
	var wv uint64
	switch {
	case swLiveAny():
		// A software snapshot may be live: tick. The clock line joins the
		// write set, so a software Pin or tick before XEND aborts us.
		wv = clock.v.Load() + 1
		clock.v.Store(wv)
		c.clock = hwClockTicked
	default:
		// Every stripe read zero and stays in the read set: a software
		// attempt that announces itself before XEND aborts us, so every
		// snapshot that can meet our versions loads the clock after XEND
		// (swlive.go). Stamp with the current value, which cannot move
		// before XEND either (the clock is in the read set).
		wv = clock.v.Load()
		c.clock = hwClockSkipped
	}
	c.wv = wv
	for i := range tx.writes {
		e := &tx.writes[i]
		m := e.h.meta.Load()
		if m&metaLocked != 0 {
			htm.AbortLockBusy()
		}
		e.h.link(e.node, wv) // the chain count, as a software commit keeps it
		e.h.publishCur(e.node)
		e.h.meta.Store(nextMeta(m, wv))
		e.node = nil // published: runReal's rollback must not take it back
	}
}

// hwAfterCommit trims the chains a hardware commit grew, lazily as a
// software commit does (trimLazily: a walk only when the chain count that
// link kept says one is due), and wakes Retry waiters, outside the
// transaction. Trimming needs the Var's lock; a Var whose lock is busy is
// trimmed by that commit instead.
func (tx *Tx) hwAfterCommit() {
	long := false
	for i := range tx.writes {
		h := tx.writes[i].h
		// acq-rel CAS: the commit lock without the multi bit (a trim
		// installs nothing).
		if m := h.meta.Load(); m&metaLocked == 0 && h.meta.CompareAndSwap(m, m|metaLocked) {
			if tx.trimLazily(h, h.head.Load()) {
				long = true
			}
			// release: unlock, unchanged sequence (no new version).
			h.meta.Store(m)
		}
		if h.waiting() {
			wakeWaiters(h)
		}
	}
	tx.hwMaintain(long)
}
