//go:build !race

package txds

const raceEnabled = false
