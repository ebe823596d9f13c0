package hybrid_test

import (
	"fmt"

	"github.com/hytm/hytm/hybrid"
)

// A transfer between two accounts: the same code runs in hardware when the
// CPU (or HYTM_HTM=emulate) allows it, and in software otherwise.
func Example() {
	a, b := hybrid.NewVar(100), hybrid.NewVar(0)
	_ = hybrid.Atomically(func(tx *hybrid.Tx) error {
		a.Store(tx, a.Load(tx)-30)
		b.Store(tx, b.Load(tx)+30)
		return nil
	})
	var sa, sb int
	_ = hybrid.Atomically(func(tx *hybrid.Tx) error {
		sa, sb = a.Load(tx), b.Load(tx)
		return nil
	})
	fmt.Println(sa, sb)
	// Output: 70 30
}
