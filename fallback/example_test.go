package fallback_test

import (
	"fmt"

	"github.com/hytm/hytm/fallback"
	"github.com/hytm/hytm/stm"
)

// A transaction that keeps losing to other commits stops being optimistic:
// its attempt EscalateAfter+1 runs serial-irrevocable, and commits.
func ExampleEscalateAfter() {
	x := stm.NewVar(0)
	attempts := 0
	_ = stm.Atomically(func(tx *stm.Tx) error {
		attempts++
		v := x.Load(tx)
		if attempts <= fallback.EscalateAfter {
			// Another goroutine commits to x meanwhile: this attempt
			// read a stale x, so it aborts.
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = stm.Atomically(func(tx *stm.Tx) error { x.Store(tx, x.Load(tx)+1); return nil })
			}()
			<-done
		}
		x.Store(tx, v+100)
		return nil
	})
	fmt.Println("attempts:", attempts, "x:", x.Peek())
	// Output: attempts: 9 x: 108
}
