//go:build arm64 && !purego

#include "textflag.h"

// func getg() uintptr
//
// Returns the address of the calling goroutine's g, which arm64 keeps in the
// g register (R28). NOSPLIT leaf with a zero frame.
TEXT ·getg(SB), NOSPLIT, $0-8
	MOVD g, R0
	MOVD R0, ret+0(FP)
	RET
