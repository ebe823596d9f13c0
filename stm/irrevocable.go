package stm

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/cpu"
)

// The irrevocable token. At most one transaction holds it. While
// irrev.active is set, software writers that have locked their write set
// release their locks and wait (commit's Dekker check), and hardware
// attempts abort through their subscription; read-only transactions carry
// on untouched on their snapshots. The holder therefore reads the newest
// versions (waiting for the few commits that locked before the flag rose) and
// commits without validation: it cannot abort.
var irrev struct {
	_      cpu.CacheLinePad
	active atomic.Uint32 // subscribed word: read by every writer's commit
	_      cpu.CacheLinePad
	mu     sync.Mutex // the token; waiters sleep on it

	// The holder's call site, for IrrevocableSites: set by the holder
	// after taking the token, read by waiters to attribute their wait.
	site  atomic.Pointer[siteStats]
	since time.Time // when the holder took the token; guarded by mu
}

// becomeIrrevocable takes the token for tx. inevitable marks a user request
// (which forbids Retry) rather than an escalation.
func (tx *Tx) becomeIrrevocable(inevitable bool) {
	// The token serializes writers anyway, and waiting for it while
	// holding the gate would make the gate part of a wait.
	tx.leaveGate()
	// The stack walk happens before the token is taken, so that it does not
	// lengthen the hold.
	s := siteOf()
	if !irrev.mu.TryLock() {
		holder := irrev.site.Load()
		t0 := time.Now()
		irrev.mu.Lock()
		if holder != nil {
			holder.blocked.Add(int64(time.Since(t0)))
		}
	}
	// seq-cst store: pairs with the load in commit after the write locks.
	irrev.active.Store(1)
	irrev.site.Store(s)
	irrev.since = time.Now()
	s.count.Add(1)
	tx.irrevocable = true
	tx.endWork = true
	tx.inevitable = inevitable
	tx.w.stats.add(statIrrevocable)
}

// leaveIrrevocable releases the token.
func (tx *Tx) leaveIrrevocable() {
	tx.irrevocable = false
	tx.inevitable = false
	if s := irrev.site.Swap(nil); s != nil {
		s.held.Add(int64(time.Since(irrev.since)))
	}
	// release: writers waiting in irrevWait go on.
	irrev.active.Store(0)
	irrev.mu.Unlock()
}

// irrevWait blocks until no transaction holds the token. The wait is
// charged to the holder's call site.
func irrevWait() {
	holder := irrev.site.Load()
	t0 := time.Now()
	irrev.mu.Lock()
	irrev.mu.Unlock() //nolint:staticcheck // an intentional barrier
	if holder != nil {
		holder.blocked.Add(int64(time.Since(t0)))
	}
}

// commitIrrevocable installs an irrevocable transaction's writes. It waits
// for write locks held by commits that locked before the token was taken;
// those either finish or, seeing the flag, release at once.
func (tx *Tx) commitIrrevocable() {
	if reportOn.Load() {
		tx.reportCommit() // report.go
	}
	for i := range tx.writes {
		e := &tx.writes[i]
		for round := 0; ; round++ {
			m := e.h.meta.Load()
			if m&metaLocked == 0 && e.h.meta.CompareAndSwap(m, m|metaLock) {
				e.old = m
				break
			}
			spinWait(round)
		}
	}
	tx.installWrites(stamp(), true)
	tx.w.stats.add(statCommitsIrrevocable)
}

// Inevitable makes the running transaction irrevocable: from now on it
// cannot abort, so it may perform I/O or other side effects that must happen
// exactly once. It waits while another transaction is irrevocable; at most one
// is at a time. Other transactions keep running: read-only ones are never
// disturbed, writers that conflict with it wait or abort, never it.
//
// If the transaction already read a Var that has changed since, Inevitable
// aborts the attempt and runs the body again, irrevocable from the start;
// code before the Inevitable call may therefore run twice, code after it runs
// once per commit.
//
// After Inevitable, Retry panics. If the body returns an error or panics,
// its Stores are discarded as usual, but its side effects stay done.
func (tx *Tx) Inevitable() {
	tx.check()
	if tx.yield != nil {
		panic(ctlYield) // the caller runs the body again on its own (setYield)
	}
	if tx.irrevocable {
		tx.inevitable = true
		return
	}
	if tx.hw != nil {
		hwNeedsSoftware(tx)
	}
	if tx.state == txRO || tx.unlogged {
		// No read log to validate: start again irrevocable, and logged
		// from now on at this site (site.go).
		tx.restartIrrevocable = true
		tx.restartLogged()
	}
	tx.becomeIrrevocable(true)
	// Reads made before the token was taken came from the snapshot; they
	// are still good if every Var read is unchanged now that no writer can
	// commit (those that locked before us finish first).
	for i := range tx.reads {
		r := &tx.reads[i]
		for round := 0; ; round++ {
			m := r.h.meta.Load()
			if m&metaLocked != 0 {
				spinWait(round)
				continue
			}
			if m != r.meta {
				tx.restartIrrevocable = true
				tx.abort(CauseValidate, r.h)
			}
			break
		}
	}
	tx.state = txActive // Load's inline path off: read the newest versions
}
