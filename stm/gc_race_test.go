//go:build race

package stm

// raceEnabled: under the race detector sync.Pool drops pooled workers at
// random, so allocation counts and per-worker commit counters do not hold.
const raceEnabled = true
