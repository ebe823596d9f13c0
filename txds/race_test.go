//go:build race

package txds

// Under the race detector sync.Pool drops one Put in four on purpose, so
// stripe tokens are remade thousands of times a second and two Ps' tokens
// fall on one stripe a few percent of the time (stripe.go). Conflict-rate
// limits are relaxed to 3% there; the 1-per-1,000 claims are checked in
// normal builds.
const raceEnabled = true
