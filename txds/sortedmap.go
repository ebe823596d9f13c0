package txds

import (
	"cmp"
	"math/rand/v2"

	"github.com/hytm/hytm/stm"
)

// SortedMap is a transactional ordered map: a skip list whose links are
// Vars. Use it from stm and hybrid transactions alike.
//
// Get and Ascend read links only. Put of a present key writes the key's
// value Var alone; Put of a new key writes the links it splices (one per
// level of the new node, 4/3 on average) and Delete the links it unlinks,
// so writers of keys that are not neighbours touch different Vars, and
// conflict only when one of them splices in next to a link the other read
// on its way down. Ascend in a read-only transaction sees one snapshot,
// never aborts and never blocks a writer.
//
// Keys are ordered by [cmp.Compare] (NaNs first). Len sums a striped
// counter, as [Map.Len] does.
//
// A SortedMap must be made with [NewSortedMap]; use it through a pointer.
type SortedMap[K cmp.Ordered, V any] struct {
	head *smNode[K, V] // sentinel, below every key, with smLevels links
	size *Counter
}

// Design notes. A node is immutable apart from its Vars: val, and next[l]
// for each of its levels. A node is linked in by storing it into the next[l]
// of its predecessor at each of its levels, with its own next[l] made to
// hold the successors read on the way down; it is unlinked by storing its
// successors into its predecessors. Levels are drawn with p = 1/4, so a
// search reads about 2 links per level over log4(n) levels. A writer that
// reads a link another writer changes aborts at commit (read-set
// validation), so no node is ever linked behind a removed one: that is what
// lock-free skip lists need mark bits for.

const smLevels = 16 // enough for 4^16 keys at p = 1/4

type smNode[K cmp.Ordered, V any] struct {
	key  K
	val  *stm.Var[V]
	next []*stm.Var[*smNode[K, V]]
}

// NewSortedMap returns an empty SortedMap.
func NewSortedMap[K cmp.Ordered, V any]() *SortedMap[K, V] {
	h := &smNode[K, V]{next: make([]*stm.Var[*smNode[K, V]], smLevels)}
	for l := range h.next {
		h.next[l] = stm.NewVar[*smNode[K, V]](nil)
	}
	return &SortedMap[K, V]{head: h, size: NewCounter()}
}

func (m *SortedMap[K, V]) check() {
	if m == nil {
		panic("txds: nil SortedMap")
	}
	if m.head == nil {
		panic("txds: SortedMap not made with NewSortedMap")
	}
}

// find returns the last node before k at each level (into preds, if not
// nil) and the node at or after k at level 0.
func (m *SortedMap[K, V]) find(tx *stm.Tx, k K, preds *[smLevels]*smNode[K, V]) *smNode[K, V] {
	x := m.head
	var nx *smNode[K, V]
	for l := smLevels - 1; l >= 0; l-- {
		for {
			nx = x.next[l].Load(tx)
			if nx == nil || cmp.Compare(nx.key, k) >= 0 {
				break
			}
			x = nx
		}
		if preds != nil {
			preds[l] = x
		}
	}
	return nx
}

// Get returns k's value in tx's snapshot, and whether k is present.
func (m *SortedMap[K, V]) Get(tx *stm.Tx, k K) (V, bool) {
	m.check()
	if n := m.find(tx, k, nil); n != nil && cmp.Compare(n.key, k) == 0 {
		return n.val.Load(tx), true
	}
	var zero V
	return zero, false
}

// Put sets k's value to v in tx.
func (m *SortedMap[K, V]) Put(tx *stm.Tx, k K, v V) {
	m.check()
	var preds [smLevels]*smNode[K, V]
	n := m.find(tx, k, &preds)
	if n != nil && cmp.Compare(n.key, k) == 0 {
		n.val.Store(tx, v)
		return
	}
	height := 1
	for height < smLevels && rand.Uint32()&3 == 0 {
		height++
	}
	nd := &smNode[K, V]{key: k, val: stm.NewVar(v), next: make([]*stm.Var[*smNode[K, V]], height)}
	for l := range height {
		link := preds[l].next[l]
		nd.next[l] = stm.NewVar(link.Load(tx))
		link.Store(tx, nd)
	}
	m.size.Add(tx, 1)
}

// Delete removes k in tx and reports whether it was present.
func (m *SortedMap[K, V]) Delete(tx *stm.Tx, k K) bool {
	m.check()
	var preds [smLevels]*smNode[K, V]
	n := m.find(tx, k, &preds)
	if n == nil || cmp.Compare(n.key, k) != 0 {
		return false
	}
	for l := range n.next {
		// preds[l].next[l] is n: n is on level l, and preds[l] is the last
		// node before k there.
		preds[l].next[l].Store(tx, n.next[l].Load(tx))
	}
	m.size.Add(tx, -1)
	return true
}

// Len returns the number of keys in tx's snapshot (with tx's own changes).
func (m *SortedMap[K, V]) Len(tx *stm.Tx) int {
	m.check()
	return int(m.size.Load(tx))
}

// Ascend calls fn for each key in [from, to) in ascending order, with its
// value in tx's snapshot, until fn returns false. fn must not Put or Delete
// in m.
func (m *SortedMap[K, V]) Ascend(tx *stm.Tx, from, to K, fn func(k K, v V) bool) {
	m.check()
	for n := m.find(tx, from, nil); n != nil && cmp.Compare(n.key, to) < 0; n = n.next[0].Load(tx) {
		if !fn(n.key, n.val.Load(tx)) {
			return
		}
	}
}

// Load returns k's value in a transaction of its own (joining the caller's
// if called inside one): the one-operation form of [SortedMap.Get].
func (m *SortedMap[K, V]) Load(k K) (v V, ok bool) {
	m.check()
	_ = stm.Atomically(func(tx *stm.Tx) error {
		v, ok = m.Get(tx, k)
		return nil
	})
	return v, ok
}

// Store sets k's value to v in a transaction of its own (joining the
// caller's if called inside one): the one-operation form of [SortedMap.Put].
func (m *SortedMap[K, V]) Store(k K, v V) {
	m.check()
	_ = stm.Atomically(func(tx *stm.Tx) error {
		m.Put(tx, k, v)
		return nil
	})
}

// Remove deletes k in a transaction of its own (joining the caller's if
// called inside one) and reports whether it was present: the one-operation
// form of [SortedMap.Delete].
func (m *SortedMap[K, V]) Remove(k K) (ok bool) {
	m.check()
	_ = stm.Atomically(func(tx *stm.Tx) error {
		ok = m.Delete(tx, k)
		return nil
	})
	return ok
}

// Size returns the number of keys, read in a transaction of its own
// (joining the caller's if called inside one): the one-operation form of
// [SortedMap.Len].
func (m *SortedMap[K, V]) Size() (n int) {
	m.check()
	_ = stm.Atomically(func(tx *stm.Tx) error {
		n = m.Len(tx)
		return nil
	})
	return n
}
