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
// log. In read-only mode Load records nothing. The first Store, a Retry
// that reaches the transaction, or Inevitable marks the site and restarts
// the attempt (ctlRestart: no backoff, not counted as an attempt or an
// abort), which then runs logged, as every later attempt of that site does.
// A restart costs one run of the body, once per site (sites that collide
// in the table share the mark, which only costs the unmarked one its
// read-only mode).
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

// siteLogged holds one bit per site hash: set once a body from that site
// stored, retried or became inevitable. Written a few times per site over
// a process's life and read at every begin, so the words stay shared in
// every core's cache.
var siteLogged [1 << siteBits / 32]atomic.Uint32

func siteIndex(pc uintptr) uint32 {
	return uint32((uint64(pc) * 0x9E3779B97F4A7C15) >> (64 - siteBits))
}

// siteNeedsLog reports whether attempts of site pc keep a read log; pc 0
// (unknown) always does.
func siteNeedsLog(pc uintptr) bool {
	if pc == 0 {
		return true
	}
	i := siteIndex(pc)
	// Relaxed would do (a stale answer only costs one restart); atomic for
	// the race detector.
	return siteLogged[i/32].Load()&(1<<(i%32)) != 0
}

// markSiteLogged makes later attempts of site pc keep a read log.
func markSiteLogged(pc uintptr) {
	i := siteIndex(pc)
	// atomic or: sites sharing the word may be marked concurrently.
	siteLogged[i/32].Or(1 << (i % 32))
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
