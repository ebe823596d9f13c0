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

func ExampleAtomicallyValue() {
	stock := hybrid.NewVar(3)
	take := func() (bool, error) {
		return hybrid.AtomicallyValue(func(tx *hybrid.Tx) (bool, error) {
			n := stock.Load(tx)
			if n == 0 {
				return false, nil
			}
			stock.Store(tx, n-1)
			return true, nil
		})
	}
	for range 4 {
		ok, _ := take()
		fmt.Print(ok, " ")
	}
	fmt.Println(stock.Peek())
	// Output: true true true false 0
}
