package gc

import (
	"unsafe"
)

// MaxFree is the most free nodes a nursery keeps per type; beyond it trimmed
// nodes are left to the Go GC. It bounds the memory a worker holds back.
const MaxFree = 128

// TypeKey identifies a node type in a [Nursery]. Keep one per type, for
// example in a package-level or per-Var field; keys are compared by pointer.
type TypeKey struct{ name string }

// NewTypeKey returns a new key; name is for debugging only.
func NewTypeKey(name string) *TypeKey { return &TypeKey{name: name} }

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
	// Stats, read by the owner or after the owner quiesced.
	Reused, Recycled, Dropped uint64
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
	l := n.list(k)
	if len(l.nodes) < MaxFree {
		l.nodes = append(l.nodes, p)
		n.Recycled++
		return
	}
	n.Dropped++
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

// Room reports how many more nodes the shelf keeps.
func (s Shelf) Room() int { return MaxFree - len(s.l.nodes) }

// PutAll is [Shelf.Put] of every node in ps, in one copy: it keeps as many
// as there is room for and drops the rest.
func (s Shelf) PutAll(ps []unsafe.Pointer) {
	k := min(len(ps), MaxFree-len(s.l.nodes))
	s.l.nodes = append(s.l.nodes, ps[:k]...)
	s.n.Recycled += uint64(k)
	s.n.Dropped += uint64(len(ps) - k)
}

// Drop counts k nodes as Dropped: the caller left them to the Go GC without
// offering them (its shelf was full).
func (s Shelf) Drop(k int) { s.n.Dropped += uint64(k) }

// Put is [Nursery.Put] on the shelf's type.
func (s Shelf) Put(p unsafe.Pointer) {
	if len(s.l.nodes) < MaxFree {
		s.l.nodes = append(s.l.nodes, p)
		s.n.Recycled++
		return
	}
	s.n.Dropped++
}
