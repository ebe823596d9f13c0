//go:build !(amd64 || arm64) || purego

package stm

import (
	"runtime"
)

// getg returns an identifier of the calling goroutine: its goroutine ID, parsed
// from the first line of runtime.Stack ("goroutine 17 [running]:"). It is slow
// (about a microsecond) and used only where no assembly is available.
func getg() uintptr {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	var id uintptr
	for _, c := range buf[len("goroutine "):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uintptr(c-'0')
	}
	return id + 1 // never zero: zero marks a free table entry
}
