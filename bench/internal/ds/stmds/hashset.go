package stmds

import (
	"fmt"
	"math"
	"slices"

	tm "github.com/hytm/hytm/stm"
)

const (
	minKey = math.MinInt
	maxKey = math.MaxInt
)

// hashNode is an immutable bucket entry: buckets are persistent lists, and
// an update stores a new list head in the bucket's Var.
type hashNode struct {
	key  int
	next *hashNode
}

// HashSet is a fixed-size hash table of chained buckets. The bucket count
// is fixed at creation (no resizing, which would conflict with everything).
type HashSet struct {
	buckets []*tm.Var[*hashNode]
	shift   uint
}

// NewHashSet returns an empty set with at least n buckets (rounded up to a
// power of two).
func NewHashSet(n int) *HashSet {
	size, shift := 1, uint(64)
	for size < n {
		size <<= 1
		shift--
	}
	h := &HashSet{buckets: make([]*tm.Var[*hashNode], size), shift: shift}
	for i := range h.buckets {
		h.buckets[i] = tm.NewVar[*hashNode](nil)
	}
	return h
}

// bucket returns key's bucket index (Fibonacci hashing).
func (h *HashSet) bucket(key int) int {
	if h.shift == 64 {
		return 0
	}
	return int(uint64(key) * 0x9E3779B97F4A7C15 >> h.shift)
}

// Contains reports whether key is in the set.
func (h *HashSet) Contains(tx *tm.Tx, key int) bool {
	for n := h.buckets[h.bucket(key)].Load(tx); n != nil; n = n.next {
		if n.key == key {
			return true
		}
	}
	return false
}

// Insert adds key and reports whether it was absent.
func (h *HashSet) Insert(tx *tm.Tx, key int) bool {
	b := h.bucket(key)
	head := h.buckets[b].Load(tx)
	for n := head; n != nil; n = n.next {
		if n.key == key {
			return false
		}
	}
	h.buckets[b].Store(tx, &hashNode{key: key, next: head})
	return true
}

// Remove deletes key and reports whether it was present. The entries before
// key are copied; the rest of the list is shared.
func (h *HashSet) Remove(tx *tm.Tx, key int) bool {
	b := h.bucket(key)
	head := h.buckets[b].Load(tx)
	n := head
	for n != nil && n.key != key {
		n = n.next
	}
	if n == nil {
		return false
	}
	rest := n.next
	var prefix [8]int
	keys := prefix[:0]
	for m := head; m != n; m = m.next {
		keys = append(keys, m.key)
	}
	for i := len(keys) - 1; i >= 0; i-- {
		rest = &hashNode{key: keys[i], next: rest}
	}
	h.buckets[b].Store(tx, rest)
	return true
}

// Keys returns the keys in order.
func (h *HashSet) Keys(tx *tm.Tx) []int {
	var keys []int
	for _, b := range h.buckets {
		for n := b.Load(tx); n != nil; n = n.next {
			keys = append(keys, n.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// Check verifies that every key sits in its own bucket, once.
func (h *HashSet) Check(tx *tm.Tx) error {
	for i, b := range h.buckets {
		seen := map[int]bool{}
		for n := b.Load(tx); n != nil; n = n.next {
			if h.bucket(n.key) != i {
				return fmt.Errorf("hashset: key %d in bucket %d, want %d", n.key, i, h.bucket(n.key))
			}
			if seen[n.key] {
				return fmt.Errorf("hashset: key %d twice in bucket %d", n.key, i)
			}
			seen[n.key] = true
		}
	}
	return nil
}
