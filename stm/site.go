package stm

import "sync/atomic"

// # Read-only mode
//
// A transaction that writes nothing needs no read log: it reads one
// snapshot (every Load returns the newest version stamped at or below rv,
// waiting for a commit that is installing one), which is consistent by
// construction, and it commits without validation. The log is needed only
// by what a reader may go on to do: commit writes (validation), Retry (the
// Vars to wait on) and Inevitable (validation when the token is taken).
//
// So an attempt starts in read-only mode (txRO) unless its call site (the
// body's code pointer, as hybrid's site table uses) is known to need the
// log. In read-only mode Load records nothing. A Retry that reaches the
// transaction, or Inevitable, marks the site logged (siteLogged) and
// restarts the attempt (ctlRestart: no backoff, not counted as an attempt
// or an abort), which then runs logged, as every later attempt of that site
// does. A restart costs one run of the body, once per site (sites that
// collide in the table share the mark, which only costs the unmarked one
// its read-only mode).
//
// The first Store goes on without a restart, unlogged (Tx.unlogged): the
// attempt may commit only if no commit was stamped since its snapshot, so
// that every Var it read still holds the version read (its tick lands at
// rv+1, commitMulti: TL2's rule, which needs no log). A site whose unlogged
// commit finds another stamp in between is marked contended
// (siteContended) and runs logged, so that its commits validate instead.
// A worker whose logged commits at contended sites land at rv+1 enough
// times in a row (each would have committed unlogged) clears the mark of
// the site of the last. A writer that no other commit disturbs (one
// goroutine, or goroutines whose commits seldom land inside each other's
// transactions) thus logs nothing, and a site contended once, or in one
// phase of a program, does not pay for the log for good. Clearing costs
// no aborted attempt, but a site that is still contended is marked again
// by its next disturbed unlogged commits, one aborted attempt each; so
// "enough" starts at calmRun and doubles, for a worker, at each unlogged
// commit of its that marks a site (up to calmMax): two goroutines whose
// commits interleave in bursts (each runs 16 undisturbed, then the other)
// would otherwise clear and mark the site at every burst.
//
// The cases the log covered stay covered in read-only mode:
//   - A version installed inside the snapshot by a commit that had not
//     ticked the clock when we loaded it: every software commit locks its
//     Vars with the multi bit before it ticks, and Load waits while the bit
//     is set (it does in both modes). A hardware commit stamps without a
//     tick only while no software transaction is announced, and a
//     read-only attempt is announced (swlive.go) like any software attempt.
//   - A version installed while the Var is locked: the same wait.
//   - Retry: restarts logged, and then waits on the logged read set.

// siteBits sizes the table of call sites that run logged.
const siteBits = 12

// A site's mode: two bits of siteTable per site hash. A site with neither
// runs read-only (and unlogged after its first Store).
const (
	// siteLogged: a body from the site retried or became inevitable,
	// which needs the read set. It stays set.
	siteLogged = 1
	// siteContended: an unlogged commit of the site found that another
	// commit was stamped since its snapshot, which only a logged attempt
	// can validate. Cleared after calmRun undisturbed commits (calm).
	siteContended = 2
)

// calmRun and calmMax bound how many logged commits at contended sites in
// a row, each stamped rv+1, clear a site's contended mark (worker.calmNeed).
const (
	calmRun = 16
	calmMax = 1 << 16
)

// siteTable holds the modes, sixteen sites to a word. Written a few times
// per site (more for sites whose contention comes and goes) and read at
// every begin, so the words stay shared in every core's cache.
var siteTable [1 << siteBits / 16]atomic.Uint32

func siteIndex(pc uintptr) uint32 {
	return uint32((uint64(pc) * 0x9E3779B97F4A7C15) >> (64 - siteBits))
}

// siteMode returns the mode bits of site pc; pc 0 (unknown) always logs.
func siteMode(pc uintptr) uint32 {
	if pc == 0 {
		return siteLogged
	}
	i := siteIndex(pc)
	// Relaxed would do (a stale answer only costs one restart or one
	// logged attempt); atomic for the race detector.
	return siteTable[i/16].Load() >> (2 * (i % 16)) & 3
}

// calm records the stamp wv of a logged commit of tx, whose site was
// marked contended when the attempt began: it clears the mark after
// calmRun commits in a row that no other commit disturbed (wv == rv+1).
func (tx *Tx) calm(wv uint64) {
	w := tx.w
	if wv != tx.rv+1 {
		w.calmRun = 0
		return
	}
	if w.calmRun++; w.calmRun >= max(w.calmNeed, calmRun) {
		w.calmRun = 0
		unmarkSiteContended(tx.site)
	}
}

// contendedSite marks the site of tx, whose unlogged commit found another
// stamp in between, contended, and makes the worker's next clearing
// twice as hard (calm).
func (tx *Tx) contendedSite() {
	markSite(tx.site, siteContended)
	w := tx.w
	w.calmNeed = min(2*max(w.calmNeed, calmRun), calmMax)
}

// markSite sets mode bit b of site pc.
func markSite(pc uintptr, b uint32) {
	i := siteIndex(pc)
	// atomic or: sites sharing the word may be marked concurrently.
	siteTable[i/16].Or(b << (2 * (i % 16)))
}

// markSiteLogged makes later attempts of site pc keep a read log.
func markSiteLogged(pc uintptr) { markSite(pc, siteLogged) }

// unmarkSiteContended clears site pc's contended bit (calm).
func unmarkSiteContended(pc uintptr) {
	i := siteIndex(pc)
	b := uint32(siteContended) << (2 * (i % 16))
	if w := &siteTable[i/16]; w.Load()&b != 0 {
		// atomic and: as markSite.
		w.And(^b)
	}
}

// bodySite returns the call site of a body: its code pointer, the first word
// of the func value (closures of one literal share it). fn must not be nil.
func bodySite[F any](fn F) uintptr {
	return **(**uintptr)(unsafePointer(&fn))
}

// restartLogged ends a read-only attempt that needs the read log: it marks
// the site and restarts the attempt, which runs logged.
func (tx *Tx) restartLogged() {
	markSiteLogged(tx.site)
	panic(ctlRestart)
}
