//go:build !purego

#include "textflag.h"

// Cache hints, for a commit that is about to come (ownWrites). Neither reads
// nor writes memory as far as the program can tell: a prefetch never faults
// and changes no value, so p may point anywhere, even at memory that has been
// freed. NOSPLIT with a zero frame: leaves that touch no stack.

// func prefetchw(p unsafe.Pointer)
//
// PREFETCHW (0F 0D /1, encoded by hand: the Go assembler does not know it)
// asks for p's line in the exclusive state, as a store would, without
// waiting for it. CPUs without it (Intel before Broadwell) run it as a NOP.
TEXT ·prefetchw(SB), NOSPLIT, $0-8
	MOVQ p+0(FP), AX
	BYTE $0x0F; BYTE $0x0D; BYTE $0x08 // PREFETCHW (AX)
	RET

// func prefetch(p unsafe.Pointer)
//
// PREFETCHT0 asks for p's line in every cache level, as a load would,
// without waiting for it.
TEXT ·prefetch(SB), NOSPLIT, $0-8
	MOVQ p+0(FP), AX
	PREFETCHT0 (AX)
	RET
