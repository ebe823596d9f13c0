// Package txdsds holds the benchmark structures built from package txds
// instead of hand-built from Vars: the hash set and vacation-lite's tables
// as [txds.Map]s, and the map workload's [txds.Map]. It is written by hand
// (not generated from stmds) and serves both hytm TMs, whose Tx is the same
// type: every constructor takes the TM's Atomically.
package txdsds

import (
	"fmt"
	"slices"

	"github.com/hytm/hytm/bench/internal/wl"
	"github.com/hytm/hytm/stm"
	"github.com/hytm/hytm/txds"
)

// Atomically runs fn as one transaction: stm.Atomically or
// hybrid.Atomically.
type Atomically func(fn func(tx *stm.Tx) error) error

// run runs fn through atomic and panics if the TM reports an error: the
// workloads' bodies never return one.
func (atomic Atomically) run(fn func(tx *stm.Tx) error) {
	if err := atomic(fn); err != nil {
		panic(fmt.Sprintf("bench: Atomically: %v", err))
	}
}

// ---- hash set ----

// HashSet is an integer set in a txds.Map (keys to empty values).
type HashSet struct {
	m      *txds.Map[int, struct{}]
	atomic Atomically
}

// NewHashSet returns an empty set whose operations are transactions run
// by atomic.
func NewHashSet(atomic Atomically) *HashSet {
	return &HashSet{m: txds.NewMap[int, struct{}](), atomic: atomic}
}

// Insert adds key and reports whether it was absent.
func (h *HashSet) Insert(w *wl.Worker, key int) (ok bool) {
	h.atomic.run(func(tx *stm.Tx) error {
		w.Attempts++
		if _, ok = h.m.Get(tx, key); ok {
			ok = false
			return nil
		}
		h.m.Put(tx, key, struct{}{})
		ok = true
		return nil
	})
	return ok
}

// Remove deletes key and reports whether it was present.
func (h *HashSet) Remove(w *wl.Worker, key int) (ok bool) {
	h.atomic.run(func(tx *stm.Tx) error {
		w.Attempts++
		ok = h.m.Delete(tx, key)
		return nil
	})
	return ok
}

// Contains reports whether key is in the set.
func (h *HashSet) Contains(w *wl.Worker, key int) (ok bool) {
	h.atomic.run(func(tx *stm.Tx) error {
		w.Attempts++
		_, ok = h.m.Get(tx, key)
		return nil
	})
	return ok
}

// Keys returns the keys in increasing order.
func (h *HashSet) Keys(w *wl.Worker) (keys []int) {
	h.atomic.run(func(tx *stm.Tx) error {
		keys = keys[:0]
		h.m.Range(tx, func(k int, _ struct{}) bool {
			keys = append(keys, k)
			return true
		})
		return nil
	})
	slices.Sort(keys)
	return keys
}

// Check verifies that the map's Len agrees with what Range visits, and
// that Range visits no key twice.
func (h *HashSet) Check(w *wl.Worker) (err error) {
	h.atomic.run(func(tx *stm.Tx) error {
		err = nil
		seen := map[int]bool{}
		h.m.Range(tx, func(k int, _ struct{}) bool {
			if seen[k] {
				err = fmt.Errorf("hashset: Range visits key %d twice", k)
				return false
			}
			seen[k] = true
			return true
		})
		if n := h.m.Len(tx); err == nil && n != len(seen) {
			err = fmt.Errorf("hashset: Len %d, Range visits %d keys", n, len(seen))
		}
		return nil
	})
	return err
}

// ---- map ----

// Map is the map workload's int-to-int txds.Map; each Get and Put is one
// transaction.
type Map struct {
	m      *txds.Map[int, int]
	atomic Atomically
}

// NewMap returns an empty map whose operations are transactions run by
// atomic.
func NewMap(atomic Atomically) *Map {
	return &Map{m: txds.NewMap[int, int](), atomic: atomic}
}

// Get returns key's value.
func (m *Map) Get(w *wl.Worker, key int) (v int, ok bool) {
	m.atomic.run(func(tx *stm.Tx) error {
		w.Attempts++
		v, ok = m.m.Get(tx, key)
		return nil
	})
	return v, ok
}

// Put sets key's value.
func (m *Map) Put(w *wl.Worker, key, v int) {
	m.atomic.run(func(tx *stm.Tx) error {
		w.Attempts++
		m.m.Put(tx, key, v)
		return nil
	})
}

// Contents returns every entry, read in one transaction.
func (m *Map) Contents(w *wl.Worker) (c map[int]int) {
	m.atomic.run(func(tx *stm.Tx) error {
		c = make(map[int]int)
		m.m.Range(tx, func(k, v int) bool {
			c[k] = v
			return true
		})
		return nil
	})
	return c
}
