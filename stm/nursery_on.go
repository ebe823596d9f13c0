//go:build !hytm_nonursery

package stm

// nurseryEnabled is a constant so that the default build pays nothing for
// the switch; build with -tags hytm_nonursery to take every version node from
// the Go allocator instead (for measuring what the nursery buys).
const nurseryEnabled = true
