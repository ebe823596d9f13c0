//go:build (amd64 || arm64) && !purego

package stm

// getg returns an identifier of the calling goroutine that is unique among
// running goroutines. Implemented in goid_$GOARCH.s.
//
//go:noescape
func getg() uintptr
