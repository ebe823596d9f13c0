package txds

import (
	"fmt"
	"hash/maphash"
	"reflect"

	"github.com/hytm/hytm/stm"
)

// Map is a transactional hash map whose operations on distinct keys do not
// conflict. Use it from stm and hybrid transactions alike.
//
// Get, Put and Delete of one key read the Vars on the key's path through a
// hash trie and write at most the one Var of the key's slot (and a stripe of
// the size counter, for Puts of new keys and Deletes), so transactions on
// different keys touch different Vars except in the rare case where two
// keys share a slot being split. Len sums the striped size counter in the
// snapshot; Range visits a consistent snapshot. Both read what every insert
// writes, so a writing transaction that calls them conflicts with
// concurrent inserts, as serializability requires; in a read-only
// transaction they never abort.
//
// Keys are hashed with [maphash.Comparable]. A key whose dynamic type is not
// comparable (an interface holding a slice, map or func) panics with a
// message starting "txds: " before anything is changed.
//
// A Map must be made with [NewMap]; use it through a pointer.
type Map[K comparable, V any] struct {
	root *mapRoot[K, V]
	size *Counter
	seed maphash.Seed

	// mayPanic reports whether hashing K can panic (K is or holds an
	// interface); only then does hash recover and re-panic.
	mayPanic bool

	// testHash, when set by a test, replaces maphash to force collisions.
	testHash func(K) uint64
}

// Design notes.
//
// The map is a hash trie (HAMT-like, without bitmaps): a root of 256 slots
// picked by the hash's low 8 bits, then nodes of 16 slots picked by 4 bits
// each. Each slot is a Var embedded in its node (the zero Var
// is ready to use and holds an empty slot), whose 16-byte value is empty,
// a leaf (a pointer to an immutable chain of entries: keys of one hash, or
// of any hash at the last level) or a branch (a child node). A Put stores
// a new slot value pointing to a new chain (one entry allocated, or a copy
// of the chain up to the replaced entry). A branch is never turned back
// into a leaf: Deletes empty leaves but keep nodes, so the trie stays at
// its high-water mark, and the Var that leads to a child never changes
// once it is a branch.
//
// Why a 16-byte slot value: a slot's Var is then 56 bytes (a 40-byte
// header and its inline copy of the value), padded to one cache line in
// the root and in every node (both are arrays of 64-byte slots in
// allocations aligned to 64 bytes), and a read-only transaction reads the slot from that line
// without loading its version (stm, "Inline copies"). A Get of a 1,000-key
// map thus touches three lines, the root slot, the child slot and the
// entry, where a slot holding its entry by value (a 40-byte value for
// 8-byte keys and values: no inline read, an 88-byte Var) took two per
// level, the Var and its version: in BenchmarkTxdsMapGetRatio (package
// bench) the Get went from 3.9-4.0x an RWMutex-guarded Go map's to
// 2.4x, and the suite's map and txds rows from 5-35% slower to 5-35%
// faster. The price is an entry allocated by every Put.
//
// Inserting key k walks down the slots picked by successive digits of k's
// hash:
//
//   - empty slot: store a leaf there;
//   - leaf with k: store it with the new value;
//   - leaf with other keys of the same 64-bit hash, or at the last level:
//     store the leaf with k added to its chain;
//   - leaf with another hash: make a child node, store the leaf in the slot
//     of its next digit there (a Var private to the transaction until it
//     commits), store a branch to it, and go on in the child.
//
// So an insert writes one Var that already existed (the slot it changes),
// plus Vars of a child node it made itself. Two inserts conflict only when
// one writes a slot the other read: the same leaf slot, i.e. keys whose
// hashes agree on every digit down to the shallower of their leaves. In a
// trie of n keys that is about one pair in n.
//
// Growth needs no global step: there is no table to resize.
//
// Why a wider root: a Get costs a dependent cache miss per level, and the
// trie is as deep as log16 of the keys. A 256-slot root removes one level
// at every size (1,000 keys sit two levels deep instead of three), for 16
// KiB per Map, allocated once. A root that grew would have to be replaced,
// a conflict point for every operation. The wider root took a Get of a
// 1,000-key map in its own transaction from 5.3-5.4x an RWMutex-guarded Go
// map's Get to 4.0-4.1x, before the 16-byte slots above.
//
// Every operation reads the slot it stops at in the transaction, Get of a
// missing key included: that read is what a writing transaction that saw
// "absent" validates, so it cannot commit after a concurrent insert of the
// key (write skew).
//
// Len: a size Var would be written by every insert and make them all
// conflict. The size is a Counter instead (striped per P): an insert adds 1
// to its own stripe, Len sums the stripes in the snapshot.

const (
	rootBits   = 8
	rootFanout = 1 << rootBits
	mapBits    = 4
	mapFanout  = 1 << mapBits
	// mapLevels counts the levels, root included: the root takes 8 bits of
	// the hash, every other level 4; the last level holds chains.
	mapLevels = 1 + (64-rootBits)/mapBits
)

// mapRoot is the trie's first level, mapNode every other one.
type mapRoot[K comparable, V any] struct {
	slots [rootFanout]slotVar[K, V]
}

type mapNode[K comparable, V any] struct {
	slots [mapFanout]slotVar[K, V]
}

// slotVar is a slot's Var padded to a cache line: a Var of a 16-byte value
// is 56 bytes, and the arrays of slots start at 64-byte boundaries (their
// allocations' size classes are multiples of 64), so that each slot, the
// line a Get reads, sits in a line of its own. TestSlotVarSize checks it.
type slotVar[K comparable, V any] struct {
	stm.Var[mapSlot[K, V]]
	_ [8]byte
}

// mapSlot is a slot's value: a branch (child != nil), a leaf (leaf != nil:
// its chain of entries, immutable once stored), or empty (neither). It is
// 16 bytes, so that the slot's Var (40 bytes of header and its inline copy
// of the value) fits one cache line and read-only transactions read the
// slot from that line without loading its version (stm, "Inline copies").
type mapSlot[K comparable, V any] struct {
	child *mapNode[K, V]
	leaf  *mapEntry[K, V]
}

// mapEntry is a link of a leaf's chain: one key, its value and its hash
// (which a split needs).
type mapEntry[K comparable, V any] struct {
	hash uint64
	key  K
	val  V
	next *mapEntry[K, V]
}

// digit returns the slot index in a node at depth (1 or more) for hash h.
func digit(h uint64, depth int) uint64 {
	return (h >> (rootBits + (depth-1)*mapBits)) & (mapFanout - 1)
}

// top returns the root slot for hash h.
func (m *Map[K, V]) top(h uint64) *stm.Var[mapSlot[K, V]] {
	return &m.root.slots[h&(rootFanout-1)].Var
}

// NewMap returns an empty Map. An empty Map takes a little over 16 KiB: its trie's
// first level, 256 slots wide, is allocated at once, so that lookups in a
// Map of thousands of keys go one level less deep.
func NewMap[K comparable, V any]() *Map[K, V] {
	return &Map[K, V]{
		root:     new(mapRoot[K, V]),
		size:     NewCounter(),
		seed:     maphash.MakeSeed(),
		mayPanic: holdsInterface(reflect.TypeFor[K]()),
	}
}

// holdsInterface reports whether values of t can hold an interface, whose
// dynamic type may not be hashable.
func holdsInterface(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Array:
		return holdsInterface(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsInterface(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// hash checks m and returns k's hash. It runs before any state changes.
func (m *Map[K, V]) hash(k K) uint64 {
	if m == nil {
		panic("txds: nil Map")
	}
	if m.root == nil {
		panic("txds: Map not made with NewMap")
	}
	if m.testHash != nil {
		return m.testHash(k)
	}
	if m.mayPanic {
		return hashChecked(m.seed, k)
	}
	return maphash.Comparable(m.seed, k)
}

func hashChecked[K comparable](seed maphash.Seed, k K) uint64 {
	defer func() {
		if r := recover(); r != nil {
			panic(fmt.Sprintf("txds: key %T is not hashable: %v", any(k), r))
		}
	}()
	return maphash.Comparable(seed, k)
}

// Get returns the value of k in tx's snapshot, and whether k is present.
func (m *Map[K, V]) Get(tx *stm.Tx, k K) (V, bool) {
	return m.get(tx, k, m.hash(k))
}

// get is Get for a key whose hash h the caller computed (and so checked m).
func (m *Map[K, V]) get(tx *stm.Tx, k K, h uint64) (V, bool) {
	sv := m.top(h)
	for d := 1; ; d++ {
		s := sv.Load(tx)
		if s.child != nil {
			sv = &s.child.slots[digit(h, d)].Var
			continue
		}
		for e := s.leaf; e != nil; e = e.next {
			if e.hash == h && e.key == k {
				return e.val, true
			}
		}
		var zero V
		return zero, false
	}
}

// Put sets k's value to v in tx.
func (m *Map[K, V]) Put(tx *stm.Tx, k K, v V) {
	m.put(tx, k, v, m.hash(k))
}

// put is Put for a key whose hash h the caller computed.
func (m *Map[K, V]) put(tx *stm.Tx, k K, v V, h uint64) {
	sv := m.top(h)
	for d := 0; ; d++ { // d: sv's depth
		s := sv.Load(tx)
		switch {
		case s.child != nil:
			sv = &s.child.slots[digit(h, d+1)].Var
			continue
		case s.leaf == nil:
			sv.Store(tx, mapSlot[K, V]{leaf: &mapEntry[K, V]{hash: h, key: k, val: v}})
			m.size.Add(tx, 1)
			return
		}
		if leaf, ok := s.leaf.replaced(h, k, v); ok {
			sv.Store(tx, mapSlot[K, V]{leaf: leaf})
			return
		}
		// A chain holds keys of one hash, or any keys at the last level.
		if s.leaf.hash == h || d == mapLevels-1 {
			sv.Store(tx, mapSlot[K, V]{leaf: &mapEntry[K, V]{hash: h, key: k, val: v, next: s.leaf}})
			m.size.Add(tx, 1)
			return
		}
		// Split: the leaf moves, whole, one level down into a new node,
		// private to tx until it commits; k goes on in that node.
		c := new(mapNode[K, V])
		c.slots[digit(s.leaf.hash, d+1)].Store(tx, s)
		sv.Store(tx, mapSlot[K, V]{child: c})
		sv = &c.slots[digit(h, d+1)].Var
	}
}

// replaced returns a copy of the chain e with k's value set to v, if k is
// in it.
func (e *mapEntry[K, V]) replaced(h uint64, k K, v V) (*mapEntry[K, V], bool) {
	if e == nil {
		return nil, false
	}
	if e.hash == h && e.key == k {
		return &mapEntry[K, V]{hash: h, key: k, val: v, next: e.next}, true
	}
	rest, ok := e.next.replaced(h, k, v)
	if !ok {
		return nil, false
	}
	return &mapEntry[K, V]{hash: e.hash, key: e.key, val: e.val, next: rest}, true
}

// without returns a copy of the chain e without k, if k is in it.
func (e *mapEntry[K, V]) without(h uint64, k K) (*mapEntry[K, V], bool) {
	if e == nil {
		return nil, false
	}
	if e.hash == h && e.key == k {
		return e.next, true
	}
	rest, ok := e.next.without(h, k)
	if !ok {
		return nil, false
	}
	return &mapEntry[K, V]{hash: e.hash, key: e.key, val: e.val, next: rest}, true
}

// Delete removes k in tx and reports whether it was present.
func (m *Map[K, V]) Delete(tx *stm.Tx, k K) bool {
	return m.delete(tx, k, m.hash(k))
}

// delete is Delete for a key whose hash h the caller computed.
func (m *Map[K, V]) delete(tx *stm.Tx, k K, h uint64) bool {
	sv := m.top(h)
	for d := 1; ; d++ {
		s := sv.Load(tx)
		if s.child != nil {
			sv = &s.child.slots[digit(h, d)].Var
			continue
		}
		leaf, ok := s.leaf.without(h, k)
		if !ok {
			return false
		}
		sv.Store(tx, mapSlot[K, V]{leaf: leaf})
		m.size.Add(tx, -1)
		return true
	}
}

// Len returns the number of keys in tx's snapshot (with tx's own changes).
func (m *Map[K, V]) Len(tx *stm.Tx) int {
	if m == nil {
		panic("txds: nil Map")
	}
	if m.root == nil {
		panic("txds: Map not made with NewMap")
	}
	return int(m.size.Load(tx))
}

// Range calls fn for each key and value in tx's snapshot (with tx's own
// changes), in no particular order, until fn returns false. fn may call
// Get but must not Put or Delete.
func (m *Map[K, V]) Range(tx *stm.Tx, fn func(k K, v V) bool) {
	if m == nil {
		panic("txds: nil Map")
	}
	if m.root == nil {
		panic("txds: Map not made with NewMap")
	}
	rangeSlots(tx, m.root.slots[:], fn)
}

func rangeSlots[K comparable, V any](tx *stm.Tx, slots []slotVar[K, V], fn func(K, V) bool) bool {
	for i := range slots {
		s := slots[i].Load(tx)
		if s.child != nil {
			if !rangeSlots(tx, s.child.slots[:], fn) {
				return false
			}
			continue
		}
		for e := s.leaf; e != nil; e = e.next {
			if !fn(e.key, e.val) {
				return false
			}
		}
	}
	return true
}

// Load returns k's value in a transaction of its own (joining the caller's
// if called inside one): the one-operation form of [Map.Get].
func (m *Map[K, V]) Load(k K) (v V, ok bool) {
	h := m.hash(k) // once, and misuse panics outside the transaction
	_ = stm.Atomically(func(tx *stm.Tx) error {
		v, ok = m.get(tx, k, h)
		return nil
	})
	return v, ok
}

// Store sets k's value to v in a transaction of its own (joining the
// caller's if called inside one): the one-operation form of [Map.Put].
func (m *Map[K, V]) Store(k K, v V) {
	h := m.hash(k)
	_ = stm.Atomically(func(tx *stm.Tx) error {
		m.put(tx, k, v, h)
		return nil
	})
}

// Remove deletes k in a transaction of its own (joining the caller's if
// called inside one) and reports whether it was present: the one-operation
// form of [Map.Delete].
func (m *Map[K, V]) Remove(k K) (ok bool) {
	h := m.hash(k)
	_ = stm.Atomically(func(tx *stm.Tx) error {
		ok = m.delete(tx, k, h)
		return nil
	})
	return ok
}

// Size returns the number of keys, read in a transaction of its own
// (joining the caller's if called inside one): the one-operation form of
// [Map.Len].
func (m *Map[K, V]) Size() (n int) {
	_ = stm.Atomically(func(tx *stm.Tx) error {
		n = m.Len(tx)
		return nil
	})
	return n
}
