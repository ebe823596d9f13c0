package fallback_test

import (
	"fmt"

	"github.com/hytm/hytm/fallback"
)

// A contention manager backs off longer after each abort, at random within a
// doubling bound, and gives up on optimism after EscalateAfter aborts.
func ExampleBackoff() {
	var b fallback.Backoff
	b.Seed(1)
	for attempt := 1; attempt <= 4; attempt++ {
		n := b.Spins(attempt)
		bound := fallback.BackoffMinSpins << (attempt - 1)
		fmt.Printf("attempt %d: within bound %v\n", attempt, n >= 0 && n < bound)
	}
	fmt.Println("escalate after", fallback.EscalateAfter, "aborts")
	// Output:
	// attempt 1: within bound true
	// attempt 2: within bound true
	// attempt 3: within bound true
	// attempt 4: within bound true
	// escalate after 8 aborts
}
