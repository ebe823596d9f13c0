//go:build amd64 && !purego

#include "textflag.h"

// func getg() uintptr
//
// Returns the address of the calling goroutine's g, read from thread-local
// storage. It identifies the goroutine for as long as the goroutine lives; the
// runtime may reuse the address for a later goroutine, which is harmless for
// our use (the table entry is cleared when a transaction ends). NOSPLIT with a
// zero frame: a leaf that touches no stack.
TEXT ·getg(SB), NOSPLIT, $0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET
