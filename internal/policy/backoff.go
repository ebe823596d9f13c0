package policy

import (
	"runtime"
)

// Backoff defaults. A software abort costs one body run (tens of ns to µs);
// waiting about as long as a commit before the next attempt spreads the
// contenders without idling a core for long.
const (
	// BackoffMinSpins is the spin count after the first abort.
	BackoffMinSpins = 16
	// BackoffMaxShift caps the exponent: at most BackoffMinSpins<<BackoffMaxShift spins.
	BackoffMaxShift = 10
	// BackoffYieldShift is the exponent from which the wait also yields the P,
	// so that a descheduled lock holder can run.
	BackoffYieldShift = 4
)

// Backoff is randomized exponential backoff. The zero value works; Seed it
// to decorrelate workers. A Backoff is owned by one goroutine.
type Backoff struct {
	rng uint64
}

// Seed sets the random state.
func (b *Backoff) Seed(s uint64) { b.rng = s | 1 }

func (b *Backoff) next() uint64 {
	// xorshift64: cheap, no shared state.
	x := b.rng
	if x == 0 {
		x = 0x9E3779B97F4A7C15
	}
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	b.rng = x
	return x
}

// Spins returns the randomized spin count for the given attempt (1 = after
// the first abort): uniform in [0, BackoffMinSpins<<min(attempt-1, BackoffMaxShift)).
func (b *Backoff) Spins(attempt int) int {
	shift := attempt - 1
	if shift < 0 {
		shift = 0
	}
	if shift > BackoffMaxShift {
		shift = BackoffMaxShift
	}
	limit := uint64(BackoffMinSpins) << uint(shift)
	return int(b.next() % limit)
}

// Wait backs off before the given attempt.
func (b *Backoff) Wait(attempt int) {
	n := b.Spins(attempt)
	if attempt-1 >= BackoffYieldShift {
		runtime.Gosched()
	}
	spin(n)
}

// spin burns about n loop iterations without touching shared memory.
//
//go:noinline
func spin(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i
	}
	return s
}
