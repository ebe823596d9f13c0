package stm

import (
	"sync"
	"sync/atomic"

	"github.com/hytm/hytm/gc"
)

// The trim queue holds Vars whose chains a commit left longer than two
// versions, because a snapshot still needed them. Every horizon rescan
// (about every horizonEvery commits per worker, sooner while chains are
// long) trims a few queued Vars, so a Var that is no longer written still
// gets back to at most two versions within a bounded number of commits after
// the snapshots that held its versions end.
var trimQ struct {
	n  atomic.Int32 // len(q), read without the lock
	mu sync.Mutex
	q  []*varHeader
}

func enqueueTrim(h *varHeader) {
	if h.queued.Swap(true) {
		return
	}
	trimQ.mu.Lock()
	trimQ.q = append(trimQ.q, h)
	trimQ.n.Store(int32(len(trimQ.q)))
	trimQ.mu.Unlock()
}

// trimQueued trims up to n queued Vars, taking each one's commit lock
// without waiting (a Var whose lock is busy is being written, and its writer
// trims it).
func trimQueued(w *worker, n int) {
	for ; n > 0 && trimQ.n.Load() > 0; n-- {
		trimQ.mu.Lock()
		k := len(trimQ.q)
		if k == 0 {
			trimQ.mu.Unlock()
			return
		}
		h := trimQ.q[0]
		copy(trimQ.q, trimQ.q[1:])
		trimQ.q[k-1] = nil
		trimQ.q = trimQ.q[:k-1]
		trimQ.n.Store(int32(k - 1))
		trimQ.mu.Unlock()

		h.queued.Store(false)
		if h.head.Load().ts >= gc.CachedHorizon() {
			// Written recently: its writers trim it, and taking its lock
			// here could only make one of them abort.
			continue
		}
		m := h.meta.Load()
		// acq-rel CAS: the commit lock, as a single-Var writer takes it, so
		// readers do not wait for us.
		if m&metaLocked != 0 || !h.meta.CompareAndSwap(m, m|metaLocked) {
			continue
		}
		w.tx.trim(h, h.head.Load()) // re-enqueues h if still long
		// release: unlock, unchanged sequence (no new version).
		h.meta.Store(m)
	}
}

// TrimAll trims every queued Var now. Tests and long-running programs that
// have just ended a long read-only transaction can call it to return
// memory at once rather than over the next commits.
func TrimAll() {
	w := getWorker()
	gc.Horizon(clock.v.Load())
	trimQ.mu.Lock()
	n := len(trimQ.q)
	trimQ.mu.Unlock()
	trimQueued(w, n)
	putWorker(w)
}
