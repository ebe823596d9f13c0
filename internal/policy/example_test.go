package policy_test

import (
	"fmt"

	"github.com/hytm/hytm/internal/policy"
)

// A contention manager backs off longer after each abort, at random within a
// doubling bound.
func ExampleBackoff() {
	var b policy.Backoff
	b.Seed(1)
	for attempt := 1; attempt <= 4; attempt++ {
		n := b.Spins(attempt)
		bound := policy.BackoffMinSpins << (attempt - 1)
		fmt.Printf("attempt %d: within bound %v\n", attempt, n >= 0 && n < bound)
	}
	// Output:
	// attempt 1: within bound true
	// attempt 2: within bound true
	// attempt 3: within bound true
	// attempt 4: within bound true
}
