package stm

import (
	"sync"
	"sync/atomic"
	"weak"

	"github.com/hytm/hytm/internal/gcore"
)

// The trim queue holds Vars whose chains a commit left longer than two
// versions (a snapshot still needed them, or lazy trimming has not walked
// them yet). Every Var with more than two versions is queued. Every horizon rescan
// (about every horizonEvery commits per worker, sooner while chains are
// long) trims a few queued Vars, so a Var that is no longer written still
// gets back to at most two versions within a bounded number of commits after
// the snapshots that held its versions end.
//
// The queue holds weak pointers: a Var that the program dropped is collected
// with its versions, whether or not it was waiting to be trimmed.
var trimQ struct {
	n     atomic.Int32 // len(q) - first, read without the lock
	mu    sync.Mutex
	q     []weak.Pointer[varHeader] // FIFO: q[first:]
	first int
}

func enqueueTrim(h *varHeader) {
	if h.setQueued() {
		return
	}
	// h's queue flag is ours until popTrim's caller clears it: so is its
	// side's self (varSide).
	side := h.sideOf()
	if side.self == (weak.Pointer[varHeader]{}) {
		side.self = weak.Make(h)
	}
	wp := side.self
	trimQ.mu.Lock()
	trimQ.q = append(trimQ.q, wp)
	trimQ.n.Store(int32(len(trimQ.q) - trimQ.first))
	trimQ.mu.Unlock()
}

// popTrim removes the oldest queued Var, or returns nil. O(1) amortized.
// With wait false it gives up at once if another worker holds the queue.
func popTrim(wait bool) *varHeader {
	if wait {
		trimQ.mu.Lock()
	} else if !trimQ.mu.TryLock() {
		return nil
	}
	defer trimQ.mu.Unlock()
	q, f := trimQ.q, trimQ.first
	var h *varHeader
	for h == nil {
		if f == len(q) {
			trimQ.q, trimQ.first = q[:0], 0
			trimQ.n.Store(0)
			return nil
		}
		h = q[f].Value() // nil: the Var was collected
		q[f] = weak.Pointer[varHeader]{}
		f++
	}
	if f == len(q) {
		q, f = q[:0], 0
		if cap(q) > 1024 {
			q = nil // drained after a burst: give the memory back
		}
	} else if f >= 64 && 2*f >= len(q) {
		k := copy(q, q[f:])
		clear(q[k:])
		q, f = q[:k], 0
	}
	trimQ.q, trimQ.first = q, f
	trimQ.n.Store(int32(len(q) - f))
	return h
}

// trimQueued trims up to n queued Vars, taking each one's commit lock
// without waiting (a Var whose lock is busy is being written, and its writer
// trims it).
// coldLag is how far (in clock ticks) the horizon must have passed a queued
// Var's newest version before another worker trims it. A Var written
// recently is hot: its own writers trim it, into their own nurseries, and
// taking its lock here would only make one of them abort.
const coldLag = 8

func trimQueued(w *worker, n int) {
	trimQueuedWait(w, n, false)
}

// trimQueuedWait is trimQueued; with wait false (from commits) it leaves the
// queue alone when another worker is working on it, and it stops at the
// first Var that is not below the horizon yet (the Vars behind it were
// queued later and are most likely held too).
func trimQueuedWait(w *worker, n int, wait bool) {
	if trimQ.n.Load() == 0 {
		return
	}
	// Pin a snapshot while we look at queued Vars' heads without their
	// locks: a head loaded after the pin cannot be recycled (and reused by
	// another worker's Store) before we Unpin, however many commits the
	// Var takes meanwhile. The worker is idle here: maintain runs after its
	// attempt ended, TrimAll on a pooled worker.
	w.slot.Pin(&clock.v)
	trimQueuedPinned(w, n, wait)
	w.slot.Unpin()
}

func trimQueuedPinned(w *worker, n int, wait bool) {
	for ; n > 0 && trimQ.n.Load() > 0; n-- {
		h := popTrim(wait)
		if h == nil {
			return
		}
		h.clearQueued()
		lag := uint64(coldLag)
		if wait {
			lag = 0 // TrimAll: trim everything the horizon allows
		}
		if h.head.Load().ts+lag >= gcore.CachedHorizon() {
			// Its head is not below the horizon yet (a snapshot holds it,
			// or it was written since the last scan): keep it queued. Its
			// writers may never come back, so dropping it could leave the
			// chain long for good.
			enqueueTrim(h)
			if !wait {
				return
			}
			continue
		}
		m := h.meta.Load()
		// acq-rel CAS: the commit lock without the multi bit: a trim
		// installs nothing, so readers need not wait for us.
		if m&metaLocked != 0 || !h.meta.CompareAndSwap(m, m|metaLocked) {
			// Being written: its writer may have seen h queued and not
			// queued it again, so keep it.
			enqueueTrim(h)
			continue
		}
		w.tx.trim(h, h.head.Load()) // re-enqueues h if still long
		// release: unlock, unchanged sequence (no new version).
		h.meta.Store(m)
	}
}

// TrimAll trims every queued Var now, and lets the Go GC have the free
// version nodes kept for reuse (package gc): those in the shared depots and
// in the nurseries of every worker that runs no transaction at the time.
// Tests and long-running programs that have just ended a long read-only
// transaction can call it to return memory at once rather than over the
// next commits and GC cycles.
func TrimAll() {
	w := getWorker()
	// Tick first: unticked hardware commits stamp the current clock, and
	// only versions strictly below the horizon can be trimmed.
	gcore.Horizon(clock.v.Add(1))
	trimQueuedWait(w, int(trimQ.n.Load()), true)
	putWorker(w) // flushes w's nursery
	// Hand the free nodes kept for all workers back to the Go GC too.
	typeKeys.Range(func(_, k any) bool {
		k.(*gcore.TypeKey).Drain()
		return true
	})
	sweepIdle(false)
}
