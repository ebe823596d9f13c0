package stmds

import (
	"fmt"
	"math"

	tm "github.com/hytm/hytm/stm"
)

// listNode is a node of the sorted linked list. Its key never changes; next
// is the only mutable field.
type listNode struct {
	key  int
	next *tm.Var[*listNode]
}

// List is a sorted singly linked list with head and tail sentinels
// (Synchrobench's "linked list").
type List struct {
	head *listNode
}

// NewList returns an empty list.
func NewList() *List {
	tail := &listNode{key: math.MaxInt, next: tm.NewVar[*listNode](nil)}
	head := &listNode{key: math.MinInt, next: tm.NewVar(tail)}
	return &List{head: head}
}

// find returns the last node with a key below key and its successor.
func (l *List) find(tx *tm.Tx, key int) (pred, curr *listNode) {
	pred = l.head
	curr = pred.next.Load(tx)
	for curr.key < key {
		pred = curr
		curr = curr.next.Load(tx)
	}
	return pred, curr
}

// Contains reports whether key is in the list.
func (l *List) Contains(tx *tm.Tx, key int) bool {
	_, curr := l.find(tx, key)
	return curr.key == key
}

// Insert adds key and reports whether it was absent.
func (l *List) Insert(tx *tm.Tx, key int) bool {
	pred, curr := l.find(tx, key)
	if curr.key == key {
		return false
	}
	n := &listNode{key: key, next: tm.NewVar(curr)}
	pred.next.Store(tx, n)
	return true
}

// Remove deletes key and reports whether it was present.
func (l *List) Remove(tx *tm.Tx, key int) bool {
	pred, curr := l.find(tx, key)
	if curr.key != key {
		return false
	}
	pred.next.Store(tx, curr.next.Load(tx))
	return true
}

// Keys returns the keys in order.
func (l *List) Keys(tx *tm.Tx) []int {
	var keys []int
	for n := l.head.next.Load(tx); n.key != math.MaxInt; n = n.next.Load(tx) {
		keys = append(keys, n.key)
	}
	return keys
}

// Check verifies that the keys strictly increase and the tail ends the list.
func (l *List) Check(tx *tm.Tx) error {
	prev := l.head
	for n := l.head.next.Load(tx); ; n = n.next.Load(tx) {
		if n == nil {
			return fmt.Errorf("list: nil link after key %d", prev.key)
		}
		if n.key <= prev.key {
			return fmt.Errorf("list: key %d after %d", n.key, prev.key)
		}
		if n.key == math.MaxInt {
			return nil
		}
		prev = n
	}
}
