package gcore

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// MaxFree is the most free nodes a nursery keeps per type; beyond it trimmed
// nodes go to the type's depot, or to the Go GC. It bounds the memory a
// worker holds back.
const MaxFree = 128

// ListBytes bounds the bytes of the nodes in one free list of a type whose
// node size is known ([NewTypeKeyOf]): such a list keeps at most
// ListBytes/size nodes (at least one, at most MaxFree).
const ListBytes = 16 << 10

// DepotMags bounds the full free lists that the depot of one type keeps for
// all workers.
const DepotMags = 8

// MaxKeptBytes bounds, process-wide, the bytes of the free nodes of known
// size that all nurseries and depots keep together. A list reserves room
// for its nodes against it before it keeps them; when the budget is spent,
// nodes go to the Go GC.
const MaxKeptBytes = 4 << 20

// kept is the budget spent: the bytes reserved by nursery lists (their
// quota) and by the full lists in depots.
var kept struct {
	_ cpu.CacheLinePad
	n atomic.Int64
	_ cpu.CacheLinePad
}

// KeptBytes reports the bytes reserved against [MaxKeptBytes]: room for free
// nodes, held by nurseries and depots.
func KeptBytes() int64 { return kept.n.Load() }

// TypeKey identifies a node type in a [Nursery]. Keep one per type, for
// example in a package-level or per-Var field; keys are compared by pointer.
//
// A key also holds the type's depot: full free lists that workers exchange,
// like the magazines of a slab allocator. When one worker trims more nodes
// than it allocates (it commits after others' versions) and another
// allocates more than it trims, the first hands a full list to the depot
// instead of dropping nodes to the Go GC, and the second takes it instead of
// allocating. One exchange moves a full list under a mutex, so its cost is
// amortized over that many Gets or Puts. Nodes in the depot are unreachable
// by every snapshot, as in a nursery; the mutex orders the giver's last
// writes to them before the taker's first.
type TypeKey struct {
	name    string
	size    int64                  // bytes per node; 0: unknown, not counted against MaxKeptBytes
	perList int                    // nodes a full list holds
	chunk   int                    // nodes a list reserves at a time
	clear   func([]unsafe.Pointer) // clears nodes' references to the user's data, or nil
	mu      sync.Mutex
	full    [][]unsafe.Pointer // full lists, at most DepotMags
	nfull   atomic.Int32       // len(full), for take's look without the lock
	empty   [][]unsafe.Pointer // empty lists, for exchange
	taken   bool               // a full list was taken since the last Age

	// Publish is the owning package's, set before the key is shared; the
	// nursery never calls it. stm sets it to copy a version node's value
	// into the inline copy of the Var whose header is h (stm/var.go).
	Publish func(h, n unsafe.Pointer)
	// PublishRaw, if not 0, is the size of a pointer-free value that stm
	// copies itself (1, 2, 4, 8 or 16 bytes) instead of calling Publish.
	PublishRaw uint8
	// Zero, if not nil, is the owning package's shared node of the zero
	// value, set before the key is shared: never to be given to a nursery
	// (stm links it below a zero Var's first version instead of a node of
	// its own, and its trims skip it).
	Zero unsafe.Pointer
}

// NewTypeKey returns a new key for nodes of unknown size that need no
// clearing; name is for debugging only. Its lists keep MaxFree nodes and
// are not counted against MaxKeptBytes.
func NewTypeKey(name string) *TypeKey { return NewTypeKeyOf(name, 0, nil) }

// NewTypeKeyOf returns a new key for nodes of size bytes. Its lists keep at
// most ListBytes of nodes, counted against MaxKeptBytes. If clear is not
// nil, a nursery calls it on the nodes it keeps (not on those it leaves to
// the Go GC), a batch at a time, so that a free node keeps nothing else
// alive: it should zero each node's pointers to the user's data. The slice
// is the nursery's own; clear must not retain it.
func NewTypeKeyOf(name string, size uintptr, clear func(nodes []unsafe.Pointer)) *TypeKey {
	k := &TypeKey{name: name, size: int64(size), perList: MaxFree, clear: clear}
	if size > 0 {
		k.perList = max(1, min(MaxFree, ListBytes/int(size)))
	}
	k.chunk = max(1, k.perList/4)
	return k
}

// PerList reports how many nodes one free list of k keeps.
func (k *TypeKey) PerList() int { return k.perList }

// reserve counts room for nodes of k against MaxKeptBytes, or reports that
// the budget is spent.
func (k *TypeKey) reserve(nodes int) bool {
	if k.size == 0 {
		return true
	}
	b := int64(nodes) * k.size
	if kept.n.Add(b) > MaxKeptBytes {
		kept.n.Add(-b)
		return false
	}
	return true
}

// unreserve gives back room reserved for nodes of k.
func (k *TypeKey) unreserve(nodes int) {
	if k.size != 0 && nodes != 0 {
		kept.n.Add(-int64(nodes) * k.size)
	}
}

// give trades a full list, with its reservation, for an empty one. It
// returns nil when the depot is full, and the caller keeps its list.
func (k *TypeKey) give(full []unsafe.Pointer) []unsafe.Pointer {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.full) >= DepotMags {
		return nil
	}
	k.full = append(k.full, full)
	k.nfull.Store(int32(len(k.full))) // under mu
	if n := len(k.empty); n > 0 {
		e := k.empty[n-1]
		k.empty[n-1] = nil
		k.empty = k.empty[:n-1]
		return e
	}
	return make([]unsafe.Pointer, 0, k.perList)
}

// take trades an empty list for a full one, which comes with its
// reservation, or returns nil when the depot has none.
func (k *TypeKey) take(empty []unsafe.Pointer) []unsafe.Pointer {
	// A look without the lock first: a nursery whose type's nodes keep
	// leaving for the Go GC (versions of the Vars of removed tree nodes)
	// asks an empty depot at every allocation, and the lock and its defer
	// cost more than the allocation's other steps. Relaxed would do (a
	// stale answer only costs an allocation, or the lock); atomic for the
	// race detector.
	if k.nfull.Load() == 0 {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(k.full)
	if n == 0 {
		return nil
	}
	f := k.full[n-1]
	k.full[n-1] = nil
	k.full = k.full[:n-1]
	k.nfull.Store(int32(n - 1)) // under mu
	k.taken = true
	if len(k.empty) < DepotMags && cap(empty) >= k.perList {
		clear(empty[:cap(empty)])
		k.empty = append(k.empty, empty[:0])
	}
	return f
}

// Drain empties the depot of k, leaving its nodes to the Go GC. Programs
// that have just released a burst of versions can call it (stm.TrimAll does)
// to return memory at once.
func (k *TypeKey) Drain() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.drainLocked()
}

func (k *TypeKey) drainLocked() {
	k.unreserve(len(k.full) * k.perList)
	clear(k.full)
	k.full = k.full[:0]
	k.nfull.Store(0) // under mu
	clear(k.empty)
	k.empty = k.empty[:0]
}

// Age drains the depot of k if no worker took a list from it since the
// previous Age, and reports whether it did. Called now and then (stm calls
// it once per GC cycle), it returns the free nodes of a type that is no
// longer allocated, as sync.Pool does with its victim cache.
func (k *TypeKey) Age() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.taken || len(k.full) == 0 {
		k.taken = false
		return false
	}
	k.drainLocked()
	return true
}

// DepotLen reports how many full lists the depot of k holds.
func (k *TypeKey) DepotLen() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.full)
}

type freeList struct {
	key   *TypeKey
	nodes []unsafe.Pointer
	quota int // nodes reserved against MaxKeptBytes; len(nodes) <= quota <= key.perList
}

// Nursery is one worker's supply of free version nodes, per type. It is owned
// by one worker and is not safe for concurrent use. The zero value is ready.
//
// Every list of a key made by [NewTypeKeyOf] reserves room against
// [MaxKeptBytes] before it keeps nodes; call [Nursery.Flush] before dropping
// a nursery that may hold some, or the room stays reserved.
type Nursery struct {
	// A handful of types per worker: a linear scan beats a map. The first
	// lists live inline, so that the hot headers sit in the owner's (padded)
	// memory rather than in a small shared-looking heap object.
	inline [4]freeList
	more   []freeList
	// Stats, read by the owner or after the owner quiesced: nodes handed
	// out, nodes taken back, nodes left to the Go GC by Put, lists traded
	// with the depot, and nodes let go by Flush.
	Reused, Recycled, Dropped, Exchanged, Flushed uint64
}

func (n *Nursery) list(k *TypeKey) *freeList {
	// Fast path: the first list (most workers see one or two node types).
	if l := &n.inline[0]; l.key == k {
		return l
	}
	return n.listSlow(k)
}

func (n *Nursery) listSlow(k *TypeKey) *freeList {
	for i := range n.inline {
		l := &n.inline[i]
		if l.key == k {
			return l
		}
		if l.key == nil {
			l.key = k
			l.nodes = make([]unsafe.Pointer, 0, k.perList)
			return l
		}
	}
	for i := range n.more {
		if n.more[i].key == k {
			return &n.more[i]
		}
	}
	n.more = append(n.more, freeList{key: k, nodes: make([]unsafe.Pointer, 0, k.perList)})
	return &n.more[len(n.more)-1]
}

// Pop is the inlinable fast path of [Nursery.Get]: a node from the
// nursery's first free list if that list is of type k and not empty, or nil,
// in which case call Get.
func (n *Nursery) Pop(k *TypeKey) unsafe.Pointer {
	if l := &n.inline[0]; l.key == k {
		if m := len(l.nodes) - 1; m >= 0 {
			p := l.nodes[m]
			l.nodes[m] = nil // the free list must not keep a node alive
			l.nodes = l.nodes[:m]
			n.Reused++
			return p
		}
	}
	return nil
}

// Push is the inlinable fast path of [Nursery.Put]: it gives p, a node of
// type k, to the nursery's first free list if that list is of type k, has
// room within its reservation, and k's nodes need no clearing, and reports
// whether it did; if not, call Put. The node must be unreachable by every
// live and future snapshot (see the package doc).
func (n *Nursery) Push(k *TypeKey, p unsafe.Pointer) bool {
	if l := &n.inline[0]; l.key == k && len(l.nodes) < l.quota && k.clear == nil {
		l.nodes = append(l.nodes, p)
		n.Recycled++
		return true
	}
	return false
}

// Get returns a free node of type k, or nil when there is none. The caller
// must reinitialise every field.
func (n *Nursery) Get(k *TypeKey) unsafe.Pointer {
	l := n.list(k)
	if len(l.nodes) == 0 {
		if f := k.take(l.nodes); f != nil {
			k.unreserve(l.quota) // f comes with its own reservation
			l.nodes, l.quota = f, k.perList
			n.Exchanged++
		} else if l.quota > 0 {
			// The caller allocates: give the room back for nurseries
			// that have nodes to keep.
			k.unreserve(l.quota)
			l.quota = 0
		}
	}
	if m := len(l.nodes); m > 0 {
		p := l.nodes[m-1]
		l.nodes[m-1] = nil
		l.nodes = l.nodes[:m-1]
		n.Reused++
		return p
	}
	return nil
}

// Put gives a node of type k to the nursery. The node must be unreachable by
// every live and future snapshot (see the package doc).
func (n *Nursery) Put(k *TypeKey, p unsafe.Pointer) {
	n.Shelf(k).Put(p)
}

// Len reports how many free nodes of type k the nursery holds.
func (n *Nursery) Len(k *TypeKey) int { return len(n.list(k).nodes) }

// Flush lets go of every free node of the nursery, to the Go GC, gives the
// room its lists reserved back to [MaxKeptBytes], and returns how many
// nodes it let go.
func (n *Nursery) Flush() int {
	c := 0
	flush := func(l *freeList) {
		if l.key == nil {
			return
		}
		c += len(l.nodes)
		clear(l.nodes)
		l.nodes = l.nodes[:0]
		l.key.unreserve(l.quota)
		l.quota = 0
	}
	for i := range n.inline {
		flush(&n.inline[i])
	}
	for i := range n.more {
		flush(&n.more[i])
	}
	n.Flushed += uint64(c)
	return c
}

// Shelf is a nursery's free list for one type, looked up once for a batch
// of Puts (a trim returning a whole cut-off chain).
type Shelf struct {
	n *Nursery
	l *freeList
}

// Shelf returns the free list of type k.
func (n *Nursery) Shelf(k *TypeKey) Shelf { return Shelf{n, n.list(k)} }

// Room reports how many more nodes the shelf keeps before it trades its
// full list with the depot.
func (s Shelf) Room() int { return s.l.key.perList - len(s.l.nodes) }

// PutAll is [Shelf.Put] of every node in ps, copied in batches.
func (s Shelf) PutAll(ps []unsafe.Pointer) {
	l := s.l
	clr := l.key.clear
	for len(ps) > 0 {
		if len(l.nodes) == l.quota && !s.grow() {
			s.n.Dropped += uint64(len(ps))
			return
		}
		k := min(len(ps), l.quota-len(l.nodes))
		m := len(l.nodes)
		l.nodes = append(l.nodes, ps[:k]...)
		if clr != nil {
			clr(l.nodes[m:]) // the list's own array: ps need not escape
		}
		s.n.Recycled += uint64(k)
		ps = ps[k:]
	}
}

// Put gives a node to the shelf: to its list, or, when the list is full,
// to a fresh list after the full one went to the type's depot; when the
// depot is full too, or the room for the node cannot be reserved against
// MaxKeptBytes, the node is left to the Go GC (Dropped). A node it keeps is
// cleared first (see [NewTypeKeyOf]).
func (s Shelf) Put(p unsafe.Pointer) {
	l := s.l
	if len(l.nodes) == l.quota && !s.grow() {
		s.n.Dropped++
		return
	}
	l.nodes = append(l.nodes, p)
	if clr := l.key.clear; clr != nil {
		clr(l.nodes[len(l.nodes)-1:])
	}
	s.n.Recycled++
}

// grow makes room for at least one more node in a list that is at its
// quota: it reserves another chunk, or, when the list is full, trades it
// with the depot and reserves a chunk for the fresh one. It reports whether
// there is room.
func (s Shelf) grow() bool {
	l := s.l
	k := l.key
	if len(l.nodes) == k.perList {
		e := k.give(l.nodes) // the reservation goes with the full list
		if e == nil {
			return false
		}
		l.nodes, l.quota = e, 0
		s.n.Exchanged++
	}
	c := min(k.chunk, k.perList-l.quota)
	if !k.reserve(c) {
		return false
	}
	l.quota += c
	return true
}
