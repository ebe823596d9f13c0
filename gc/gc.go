package gc

import "github.com/hytm/hytm/internal/gcore"

// MaxKeptBytes bounds, process-wide, the bytes of free version nodes that
// hytm keeps for reuse. Beyond it, trimmed versions go to the Go garbage
// collector.
const MaxKeptBytes = 4 << 20

// The bound documented here is the one the free lists apply (a compile-time
// check: either difference would overflow uint if they differed).
const _ = uint(MaxKeptBytes-gcore.MaxKeptBytes) + uint(gcore.MaxKeptBytes-MaxKeptBytes)

// KeptBytes reports the bytes of free version nodes that hytm keeps for
// reuse now, counted as room reserved for them (a free list reserves a
// quarter of its room at a time, so it counts a little more than it holds).
// It is at most [MaxKeptBytes], except for a moment while a reservation
// that would exceed the bound is taken back.
func KeptBytes() int64 { return gcore.KeptBytes() }
