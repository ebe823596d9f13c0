package gc

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

// Idle is the value of a [Slot] whose worker runs no transaction.
const Idle = math.MaxUint64

// Slot is one worker's snapshot announcement. It fills a cache line of its own
// so that pinning never writes a line that another worker writes.
//
// The zero value is not usable; get one from [NewSlot]. A Slot must not be
// copied.
type Slot struct {
	_    cpu.CacheLinePad
	snap atomic.Uint64
	_    cpu.CacheLinePad
}

// registry is the set of all slots, live or free. It only grows; a slot of a
// descriptor that the Go GC collected is handed to the next NewSlot.
var registry struct {
	mu    sync.Mutex
	all   atomic.Pointer[[]*Slot] // copy-on-write; read lock-free by Horizon
	free  []*Slot
	count int
}

// NewSlot returns an idle slot registered for horizon scans. The caller should
// call [Slot.Release] when its worker goes away; [NewSlotFor] arranges that
// automatically.
func NewSlot() *Slot {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if n := len(registry.free); n > 0 {
		s := registry.free[n-1]
		registry.free = registry.free[:n-1]
		return s
	}
	s := new(Slot)
	s.snap.Store(Idle)
	var next []*Slot
	if p := registry.all.Load(); p != nil {
		next = append(next, (*p)...)
	}
	next = append(next, s)
	// release: publishes the new slice (and the idle slot in it) to Horizon.
	registry.all.Store(&next)
	registry.count++
	return s
}

// NewSlotFor returns a slot that is released when owner becomes unreachable.
func NewSlotFor[T any](owner *T) *Slot {
	s := NewSlot()
	runtime.AddCleanup(owner, func(s *Slot) { s.Release() }, s)
	return s
}

// Release marks the slot idle and makes it available to the next NewSlot.
func (s *Slot) Release() {
	s.snap.Store(Idle)
	registry.mu.Lock()
	registry.free = append(registry.free, s)
	registry.mu.Unlock()
}

// Pin announces a snapshot and returns it: the value of clock loaded after the
// announcement (see the package doc for why it loads the clock twice).
func (s *Slot) Pin(clock *atomic.Uint64) uint64 {
	// seq-cst store, then seq-cst load: a horizon scan that misses this store
	// loaded the clock before it, so the returned snapshot is >= that horizon.
	s.snap.Store(clock.Load())
	return clock.Load()
}

// Repin moves an announced snapshot forward to rv, which must be >= the value
// announced so far (an extension, or a new attempt of the same transaction).
func (s *Slot) Repin(rv uint64) {
	// Plain store to the worker's own line: moving forward never invalidates
	// a horizon that was computed from the older value.
	s.snap.Store(rv)
}

// Unpin marks the slot idle: the worker no longer reads any version.
func (s *Slot) Unpin() {
	// release: every read of a version by this worker happens before a
	// horizon scan that sees Idle, and so before any reuse of the node.
	s.snap.Store(Idle)
}

// Snapshot reports the announced snapshot, or Idle.
func (s *Slot) Snapshot() uint64 { return s.snap.Load() }

var cached struct {
	_ cpu.CacheLinePad
	h atomic.Uint64
	_ cpu.CacheLinePad
}

// Horizon scans every slot and returns min(now, oldest announced snapshot),
// where now must be a clock value loaded before the call. It also updates the
// value that [CachedHorizon] returns.
func Horizon(now uint64) uint64 {
	h := now
	if p := registry.all.Load(); p != nil { // acquire: pairs with NewSlot's store
		for _, s := range *p {
			// acquire: pairs with Pin and Unpin.
			if v := s.snap.Load(); v < h {
				h = v
			}
		}
	}
	// Publish monotonically: a slow scanner must not move the cache back
	// (moving it back would be safe, only wasteful).
	for {
		old := cached.h.Load()
		if h <= old || cached.h.CompareAndSwap(old, h) {
			break
		}
	}
	return h
}

// CachedHorizon returns the last horizon computed by [Horizon]. It is never
// greater than the true horizon, so trimming below it is always safe.
func CachedHorizon() uint64 { return cached.h.Load() }

// Slots reports how many slots exist (live and free), for tests and stats.
func Slots() int {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return registry.count
}
