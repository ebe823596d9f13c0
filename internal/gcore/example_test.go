package gcore_test

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/hytm/hytm/internal/gcore"
)

// A worker announces its snapshot before reading versions; the horizon is the
// oldest announced snapshot, and only versions older than it may be recycled.
func ExampleSlot() {
	var clock atomic.Uint64
	clock.Store(10)
	reader := gcore.NewSlot()
	defer reader.Release()

	rv := reader.Pin(&clock) // a transaction begins at timestamp 10
	clock.Store(15)          // others commit meanwhile
	fmt.Println("snapshot", rv, "horizon <= snapshot:", gcore.Horizon(clock.Load()) <= rv)

	reader.Unpin() // the transaction ends
	fmt.Println("horizon after", gcore.Horizon(clock.Load()) >= 15)
	// Output:
	// snapshot 10 horizon <= snapshot: true
	// horizon after true
}

// A nursery hands back the nodes that were given to it, per type.
func ExampleNursery() {
	type node struct{ v int }
	key := gcore.NewTypeKey("node")
	var n gcore.Nursery
	a := &node{1}
	n.Put(key, unsafe.Pointer(a))
	fmt.Println(n.Len(key), (*node)(n.Get(key)).v, n.Get(key) == nil)
	// Output: 1 1 true
}
