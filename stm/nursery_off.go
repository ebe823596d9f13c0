//go:build hytm_nonursery

package stm

// nurseryEnabled is false in builds tagged hytm_nonursery: Store allocates
// every version and trimmed versions are left to the Go GC. For benchmarks
// only (see the README, "Version reclamation").
const nurseryEnabled = false
