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
// "enough" starts at calmRun and grows calmGrowth times at each clear of
// the site (calmNeed).
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

// A site's entry: four bits of siteTable per site hash. The low two are
// its mode: a site with neither runs read-only (and unlogged after its
// first Store). The high two count the times its contended mark was
// cleared (up to 3), which sets how calm its commits must be for the next
// clear (calmNeed).
const (
	// siteLogged: a body from the site retried or became inevitable,
	// which needs the read set. It stays set.
	siteLogged = 1
	// siteContended: an unlogged commit of the site found that another
	// commit was stamped since its snapshot, which only a logged attempt
	// can validate. Cleared after enough undisturbed commits (calm).
	siteContended = 2

	siteEntryBits = 4
	sitesPerWord  = 32 / siteEntryBits
)

// calmRun is how many logged commits at contended sites in a row, each
// stamped rv+1, clear a site's contended mark the first time; each clear
// makes the next one need calmGrowth times as many, up to three clears.
// A clear that comes too soon costs an aborted attempt of each goroutine
// that runs the site unlogged before it is marked again: goroutines whose
// commits interleave in bursts (each commits a run undisturbed, then the
// other) would otherwise pay that at every burst. Two goroutines putting
// distinct keys into a Map must stay under one aborted attempt per 1,000
// commits (TestMapDistinctKeysNoConflict): with 16 in a row and a per-worker
// doubling, 12 in 10,000 in one run of seven.
const (
	calmRun    = 1024
	calmGrowth = 8
)

// siteTable holds the entries, eight sites to a word. Written a few times
// per site and read at every begin, so the words stay shared in every
// core's cache.
var siteTable [1 << siteBits / sitesPerWord]atomic.Uint32

func siteIndex(pc uintptr) uint32 {
	return uint32((uint64(pc) * 0x9E3779B97F4A7C15) >> (64 - siteBits))
}

// siteEntry returns site i's word and the shift of its entry in it.
func siteEntry(i uint32) (*atomic.Uint32, uint32) {
	return &siteTable[i/sitesPerWord], siteEntryBits * (i % sitesPerWord)
}

// siteMode returns the mode bits of site pc; pc 0 (unknown) always logs.
func siteMode(pc uintptr) uint32 {
	if pc == 0 {
		return siteLogged
	}
	i := siteIndex(pc)
	// Relaxed would do (a stale answer only costs one restart or one
	// logged attempt); atomic for the race detector.
	return siteTable[i/sitesPerWord].Load() >> (siteEntryBits * (i % sitesPerWord)) & 3
}

// calmNeed is how many calm commits in a row clear site pc's contended
// mark: calmRun, times calmGrowth for each earlier clear.
func calmNeed(pc uintptr) uint32 {
	w, sh := siteEntry(siteIndex(pc))
	clears := w.Load() >> (sh + 2) & 3
	return calmRun << (3 * clears) // calmGrowth == 1<<3
}

// calm records the stamp wv of a logged commit of tx, whose site was
// marked contended when the attempt began: it clears the mark after
// calmNeed commits of the worker's in a row that no other commit disturbed
// (wv == rv+1), at any contended sites.
func (tx *Tx) calm(wv uint64) {
	w := tx.w
	if wv != tx.rv+1 {
		w.calmRun = 0
		return
	}
	if w.calmRun++; w.calmRun >= calmRun && w.calmRun >= calmNeed(tx.site) {
		w.calmRun = 0
		unmarkSiteContended(tx.site)
	}
}

// contendedSite marks the site of tx, whose unlogged commit found another
// stamp in between, contended. That commit was disturbed, so it also ends
// the worker's run of calm commits: a run that other sites built up must
// not clear the mark at the first calm commit after it.
func (tx *Tx) contendedSite() {
	tx.w.calmRun = 0
	markSite(tx.site, siteContended)
}

// markSite sets mode bit b of site pc.
func markSite(pc uintptr, b uint32) {
	w, sh := siteEntry(siteIndex(pc))
	if w.Load()&(b<<sh) == 0 {
		// atomic or: sites sharing the word may be marked concurrently.
		w.Or(b << sh)
	}
}

// markSiteLogged makes later attempts of site pc keep a read log.
func markSiteLogged(pc uintptr) { markSite(pc, siteLogged) }

// unmarkSiteContended clears site pc's contended bit and counts the clear
// (calm).
func unmarkSiteContended(pc uintptr) {
	w, sh := siteEntry(siteIndex(pc))
	for {
		old := w.Load()
		if old&(siteContended<<sh) == 0 {
			return
		}
		nw := old &^ (siteContended << sh)
		if old>>(sh+2)&3 < 3 {
			nw += 1 << (sh + 2)
		}
		// acq-rel CAS: as markSite's or, for sites sharing the word.
		if w.CompareAndSwap(old, nw) {
			return
		}
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
