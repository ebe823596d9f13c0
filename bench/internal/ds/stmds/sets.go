package stmds

import (
	"fmt"

	tm "github.com/hytm/hytm/stm"
)

// setImpl is what the four set structures implement.
type setImpl interface {
	Insert(tx *tm.Tx, key int) bool
	Remove(tx *tm.Tx, key int) bool
	Contains(tx *tm.Tx, key int) bool
	Keys(tx *tm.Tx) []int
	Check(tx *tm.Tx) error
}

func newSetImpl(kind string, size int) (setImpl, error) {
	switch kind {
	case "list":
		return NewList(), nil
	case "skiplist":
		return NewSkipList(), nil
	case "rbtree":
		return NewRBTree(), nil
	case "hashset":
		return NewHashSet(size / 4), nil
	}
	return nil, fmt.Errorf("unknown set kind %q", kind)
}
