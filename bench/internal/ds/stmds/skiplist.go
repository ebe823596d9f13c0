package stmds

import (
	"fmt"
	"math"
	"math/bits"

	tm "github.com/hytm/hytm/stm"
)

// skipMaxLevel bounds the tower height: enough for 2^16 keys at p = 1/2.
const skipMaxLevel = 16

// skipNode is a skip-list node: an immutable key and one forward link per
// level of its tower, the Vars side by side in one array.
type skipNode struct {
	key  int
	next []tm.Var[*skipNode]
}

// SkipList is a sorted skip list with head and tail sentinels.
type SkipList struct {
	head *skipNode
}

// skipLevel is the tower height of key: geometric with p = 1/2, derived
// from a hash of the key so that transactions need no random numbers and a
// retried insert builds the same tower.
func skipLevel(key int) int {
	h := uint64(key)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return bits.TrailingZeros64(h|1<<(skipMaxLevel-1)) + 1
}

// NewSkipList returns an empty skip list.
func NewSkipList() *SkipList {
	tail := &skipNode{key: math.MaxInt, next: make([]tm.Var[*skipNode], skipMaxLevel)} // nil links
	head := &skipNode{key: math.MinInt, next: make([]tm.Var[*skipNode], skipMaxLevel)}
	for i := range skipMaxLevel {
		head.next[i].Init(tail)
	}
	return &SkipList{head: head}
}

// find fills preds and succs with, at each level, the last node below key
// and its successor.
func (s *SkipList) find(tx *tm.Tx, key int, preds, succs *[skipMaxLevel]*skipNode) {
	x := s.head
	for i := skipMaxLevel - 1; i >= 0; i-- {
		nx := x.next[i].Load(tx)
		for nx.key < key {
			x = nx
			nx = x.next[i].Load(tx)
		}
		preds[i] = x
		succs[i] = nx
	}
}

// Contains reports whether key is in the list.
func (s *SkipList) Contains(tx *tm.Tx, key int) bool {
	x := s.head
	for i := skipMaxLevel - 1; i >= 0; i-- {
		nx := x.next[i].Load(tx)
		for nx.key < key {
			x = nx
			nx = x.next[i].Load(tx)
		}
		if nx.key == key {
			return true
		}
	}
	return false
}

// Insert adds key and reports whether it was absent.
func (s *SkipList) Insert(tx *tm.Tx, key int) bool {
	var preds, succs [skipMaxLevel]*skipNode
	s.find(tx, key, &preds, &succs)
	if succs[0].key == key {
		return false
	}
	lvl := skipLevel(key)
	n := &skipNode{key: key, next: make([]tm.Var[*skipNode], lvl)}
	for i := range lvl {
		n.next[i].Init(succs[i]) // n is private to tx until it commits
		preds[i].next[i].Store(tx, n)
	}
	return true
}

// Remove deletes key and reports whether it was present.
func (s *SkipList) Remove(tx *tm.Tx, key int) bool {
	var preds, succs [skipMaxLevel]*skipNode
	s.find(tx, key, &preds, &succs)
	victim := succs[0]
	if victim.key != key {
		return false
	}
	for i := range len(victim.next) {
		preds[i].next[i].Store(tx, victim.next[i].Load(tx))
	}
	return true
}

// Keys returns the keys in order.
func (s *SkipList) Keys(tx *tm.Tx) []int {
	var keys []int
	for n := s.head.next[0].Load(tx); n.key != math.MaxInt; n = n.next[0].Load(tx) {
		keys = append(keys, n.key)
	}
	return keys
}

// Check verifies that every level is sorted, ends at the tail, and holds
// exactly the level-0 nodes whose tower reaches it.
func (s *SkipList) Check(tx *tm.Tx) error {
	for i := range skipMaxLevel {
		prev := s.head
		n := s.head.next[i].Load(tx)
		// Walk level 0 in step to check that level i skips no tall node.
		z := s.head.next[0].Load(tx)
		for {
			if n == nil {
				return fmt.Errorf("skiplist: nil link at level %d after key %d", i, prev.key)
			}
			if n.key <= prev.key {
				return fmt.Errorf("skiplist: level %d: key %d after %d", i, n.key, prev.key)
			}
			for z.key < n.key {
				if len(z.next) > i {
					return fmt.Errorf("skiplist: level %d skips key %d", i, z.key)
				}
				z = z.next[0].Load(tx)
			}
			if z != n {
				return fmt.Errorf("skiplist: level %d node %d not on level 0", i, n.key)
			}
			if n.key == math.MaxInt {
				break
			}
			if len(n.next) != skipLevel(n.key) {
				return fmt.Errorf("skiplist: key %d has height %d, want %d", n.key, len(n.next), skipLevel(n.key))
			}
			prev = n
			n = n.next[i].Load(tx)
			z = z.next[0].Load(tx)
		}
	}
	return nil
}
