package gc_test

import (
	"fmt"

	"github.com/hytm/hytm/gc"
	"github.com/hytm/hytm/stm"
)

// Versions trimmed from chains are kept for reuse, within a bound;
// stm.TrimAll gives the kept memory of idle goroutines back at once.
func ExampleKeptBytes() {
	vars := make([]*stm.Var[[64]byte], 100)
	for i := range vars {
		vars[i] = stm.NewVar([64]byte{})
	}
	for round := range 10 {
		_ = stm.Atomically(func(tx *stm.Tx) error {
			for _, v := range vars {
				v.Store(tx, [64]byte{byte(round)})
			}
			return nil
		})
	}
	fmt.Println("within the bound:", gc.KeptBytes() <= gc.MaxKeptBytes)
	stm.TrimAll()
	fmt.Println("after TrimAll:", gc.KeptBytes())
	// Output:
	// within the bound: true
	// after TrimAll: 0
}
