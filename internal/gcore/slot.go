package gcore

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"

	"github.com/hytm/hytm/internal/release"
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
	// hold lets another goroutine work on the owner's per-worker state (its
	// nursery) while the owner is idle: see [Slot.Hold].
	hold atomic.Uint32
	_    cpu.CacheLinePad
}

// States of Slot.hold.
const (
	holdUsed uint32 = iota // pinned since the last Hold(true)
	holdAged               // a Hold(true) found it idle; not pinned since
	holdHeld               // held: Pin waits
)

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
		s.hold.Store(holdUsed)
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
	// seq-cst load after the store: pairs with Hold (Dekker). Either Hold
	// sees the snapshot and lets go, or we see it held and wait.
	if s.hold.Load() != holdUsed {
		s.pinSlow()
	}
	return clock.Load()
}

// pinSlow marks the slot used, after waiting for a Hold to end.
func (s *Slot) pinSlow() {
	for i := 0; ; i++ {
		switch s.hold.Load() {
		case holdUsed:
			return
		case holdAged:
			if s.hold.CompareAndSwap(holdAged, holdUsed) {
				return
			}
		default: // held: the holder saw the slot idle and works on the owner's state
			if i < 64 {
				continue
			}
			runtime.Gosched()
		}
	}
}

// Hold lets the caller work on the slot owner's private state (stm flushes
// its nursery) while the owner runs no transaction: it reports true if the
// slot is idle, and then every later [Slot.Pin] waits until [Slot.Unhold].
// The owner must touch that state only while it is pinned. With aged set,
// Hold succeeds only if an earlier Hold(true) found the slot idle and it has
// not been pinned since, and otherwise marks it for the next; a sweep that
// calls Hold(true) now and then thus reaches the workers that stayed idle
// for a whole period, such as those of exited goroutines.
func (s *Slot) Hold(aged bool) bool {
	h := s.hold.Load()
	if aged && h == holdUsed {
		s.hold.CompareAndSwap(holdUsed, holdAged)
		return false
	}
	// seq-cst CAS, then seq-cst load of the snapshot: the Dekker pairing
	// with Pin's store and load. A Pin whose store we miss loads hold after
	// this CAS, and waits.
	if h == holdHeld || !s.hold.CompareAndSwap(h, holdHeld) {
		return false
	}
	// acquire: the owner's last use of its state happened before its Unpin.
	if s.snap.Load() != Idle {
		s.hold.Store(holdUsed)
		return false
	}
	return true
}

// Unhold ends a successful [Slot.Hold]; the slot stays marked aged.
func (s *Slot) Unhold() {
	// release: our work on the owner's state happens before its next Pin
	// goes on.
	s.hold.Store(holdAged)
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
	// release store (a plain MOV on amd64, package release): every read of
	// a version by this worker happens before a horizon scan that sees
	// Idle (acquire), and so before any reuse of the node; the owner's use
	// of its state happens before a Hold that sees Idle. Nothing pairs an
	// Unpin with a later load (Pin is the seq-cst side of every Dekker
	// pairing), so release order is enough.
	release.Uint64(&s.snap, Idle)
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
