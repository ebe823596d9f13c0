package gc

import (
	"sync"
	"unsafe"
)

// MaxFree is the most free nodes a nursery keeps per type; beyond it trimmed
// nodes are left to the Go GC. It bounds the memory a worker holds back.
const MaxFree = 128

// DepotMags bounds the full free lists (of MaxFree nodes each) that the depot
// of one type keeps for all workers.
const DepotMags = 8

// TypeKey identifies a node type in a [Nursery]. Keep one per type, for
// example in a package-level or per-Var field; keys are compared by pointer.
//
// A key also holds the type's depot: full free lists that workers exchange,
// like the magazines of a slab allocator. When one worker trims more nodes
// than it allocates (it commits after others' versions) and another
// allocates more than it trims, the first hands a full list to the depot
// instead of dropping nodes to the Go GC, and the second takes it instead of
// allocating. One exchange moves MaxFree nodes under a mutex, so its cost is
// amortized over MaxFree Gets or Puts. Nodes in the depot are unreachable by
// every snapshot, as in a nursery; the mutex orders the giver's last writes
// to them before the taker's first.
type TypeKey struct {
	name  string
	mu    sync.Mutex
	full  [][]unsafe.Pointer // full lists, at most DepotMags
	empty [][]unsafe.Pointer // empty lists with capacity MaxFree, for exchange
}

// NewTypeKey returns a new key; name is for debugging only.
func NewTypeKey(name string) *TypeKey { return &TypeKey{name: name} }

// give trades a full list for an empty one. It returns nil when the depot
// is full, and the caller keeps its list.
func (k *TypeKey) give(full []unsafe.Pointer) []unsafe.Pointer {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.full) >= DepotMags {
		return nil
	}
	k.full = append(k.full, full)
	if n := len(k.empty); n > 0 {
		e := k.empty[n-1]
		k.empty[n-1] = nil
		k.empty = k.empty[:n-1]
		return e
	}
	return make([]unsafe.Pointer, 0, MaxFree)
}

// take trades an empty list for a full one, or returns nil when the depot
// has none.
func (k *TypeKey) take(empty []unsafe.Pointer) []unsafe.Pointer {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(k.full)
	if n == 0 {
		return nil
	}
	f := k.full[n-1]
	k.full[n-1] = nil
	k.full = k.full[:n-1]
	if len(k.empty) < DepotMags {
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
	clear(k.full)
	k.full = k.full[:0]
	clear(k.empty)
	k.empty = k.empty[:0]
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
}

// Nursery is one worker's supply of free version nodes, per type. It is owned
// by one worker and is not safe for concurrent use. The zero value is ready.
type Nursery struct {
	// A handful of types per worker: a linear scan beats a map. The first
	// lists live inline, so that the hot headers sit in the owner's (padded)
	// memory rather than in a small shared-looking heap object.
	inline [4]freeList
	more   []freeList
	// Stats, read by the owner or after the owner quiesced: nodes handed
	// out, nodes taken back, nodes left to the Go GC, and lists traded with
	// the depot.
	Reused, Recycled, Dropped, Exchanged uint64
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
			l.nodes = make([]unsafe.Pointer, 0, MaxFree)
			return l
		}
	}
	for i := range n.more {
		if n.more[i].key == k {
			return &n.more[i]
		}
	}
	n.more = append(n.more, freeList{key: k, nodes: make([]unsafe.Pointer, 0, MaxFree)})
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

// Get returns a free node of type k, or nil when there is none. The caller
// must reinitialise every field.
func (n *Nursery) Get(k *TypeKey) unsafe.Pointer {
	l := n.list(k)
	if len(l.nodes) == 0 {
		if f := k.take(l.nodes); f != nil {
			l.nodes = f
			n.Exchanged++
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
func (s Shelf) Room() int { return MaxFree - len(s.l.nodes) }

// PutAll is [Shelf.Put] of every node in ps, copied in batches.
func (s Shelf) PutAll(ps []unsafe.Pointer) {
	for len(ps) > 0 {
		if len(s.l.nodes) == MaxFree && !s.trade() {
			s.n.Dropped += uint64(len(ps))
			return
		}
		k := min(len(ps), MaxFree-len(s.l.nodes))
		s.l.nodes = append(s.l.nodes, ps[:k]...)
		s.n.Recycled += uint64(k)
		ps = ps[k:]
	}
}

// Put gives a node to the shelf: to its list, or, when the list is full,
// to a fresh list after the full one went to the type's depot; when the depot
// is full too, the node is left to the Go GC (Dropped).
func (s Shelf) Put(p unsafe.Pointer) {
	if len(s.l.nodes) == MaxFree && !s.trade() {
		s.n.Dropped++
		return
	}
	s.l.nodes = append(s.l.nodes, p)
	s.n.Recycled++
}

// trade gives the shelf's full list to the depot for an empty one.
func (s Shelf) trade() bool {
	e := s.l.key.give(s.l.nodes)
	if e == nil {
		return false
	}
	s.l.nodes = e
	s.n.Exchanged++
	return true
}
