//go:build race

package stm

// raceBuild reports whether the race detector is on; see active.go.
const raceBuild = true
