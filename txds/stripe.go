package txds

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// Stripes.
//
// Counter, Map's size and Queue's put lists are split into stripes so that
// two goroutines writing at the same time write different Vars, and their
// transactions do not conflict. What a stripe needs is a hint that differs
// between goroutines running at the same time, costs a few nanoseconds, and
// stays the same for a goroutine between calls (so that its Puts land in one
// put list, in order). Package stm exports no goroutine or worker id, and Go
// has none, so the choice was among:
//
//   - the address of a stack variable, hashed: free, but two goroutines'
//     stacks hash to one stripe with probability 1/n, and then they collide
//     on every operation for their whole lives; a test cannot rely on it;
//   - a random stripe per call (xsync's first pick): every pair collides 1/n
//     of the time, forever;
//   - a token cached per P in a sync.Pool (used here): Get and Put back costs
//     about 10 ns; goroutines that run at the same time run on different Ps
//     and so hold different tokens; tokens are numbered in the order they
//     are made, so the first GOMAXPROCS tokens are 0, 1, 2, ... and differ
//     modulo any stripe count >= GOMAXPROCS. A token lost by the pool (at a
//     GC it was not used through, or dropped on purpose under the race
//     detector) is replaced by the next number, so collisions stay rare and
//     brief. Two goroutines on one P share a token, but they do not run at
//     the same time; they conflict only when one is preempted in the middle
//     of a transaction.
//
// A collision costs aborts, never correctness: any stripe is a correct
// place for any operation.

type stripeToken struct{ n uint32 }

var (
	stripeNext atomic.Uint32 // numbers tokens in the order they are made
	stripePool = sync.Pool{New: func() any {
		// relaxed would do: the number only needs to be unique.
		return &stripeToken{n: stripeNext.Add(1) - 1}
	}}
)

// stripeHint returns the calling P's token number.
func stripeHint() uint32 {
	t := stripePool.Get().(*stripeToken)
	n := t.n
	stripePool.Put(t)
	return n
}

// stripeCount is the number of stripes of a new Counter or Queue: the next
// power of two at or above 2*GOMAXPROCS, between 2 and 64.
func stripeCount() int {
	p := 2 * runtime.GOMAXPROCS(0)
	n := 1 << bits.Len(uint(p-1))
	return min(max(n, 2), 64)
}

// Under the race detector sync.Pool drops one Put in four on purpose, so
// tokens are remade constantly and collide modulo the stripe count a few
// percent of the time: expect that many more aborts in race builds.
