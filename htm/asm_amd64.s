//go:build amd64 && !purego

#include "textflag.h"

// The RTM instructions, and nothing else: policy (detection, retries, abort
// classification, subscription to locks) is Go code. Every function is a
// NOSPLIT leaf with a zero-byte frame, so that no stack check (which could
// call morestack and abort the transaction) and no frame setup sits between
// the caller and the instruction. All of them raise #UD (SIGILL) on a CPU
// without RTM; callers must gate them on Enabled.
//
// Registers: an abort restores every register to its value at XBEGIN and
// resumes at the fallback label of Begin. Go's ABI0 has no callee-saved
// registers besides SP and BP, and Go callers re-load R14 (g) and X15 after
// every call into ABI0 assembly, so nothing the caller relies on is lost.

// func Begin() Status
//
// Begin starts a transaction with XBEGIN and returns Started (^uint32(0)):
// the value preloaded into AX, which XBEGIN leaves untouched when the
// transaction begins. Execution then continues transactionally in the
// caller. When the transaction aborts (now or later), the CPU rolls back
// memory and registers to this XBEGIN and jumps to the fallback label with
// the abort status in EAX, so Begin returns a second time, with that status.
// The fallback label is the next instruction (rel32 = 0), as in GCC's
// _xbegin.
TEXT ·Begin(SB), NOSPLIT, $0-4
	MOVL	$0xffffffff, AX
	XBEGIN	fallback
fallback:
	// Started (AX untouched) or the abort status (AX written by the abort).
	MOVL	AX, ret+0(FP)
	RET

// func End()
//
// End commits the innermost transaction with XEND (the outermost XEND
// commits all of them). XEND outside a transaction raises #GP, which Go
// reports as a fatal signal: End must only follow a Begin that returned
// Started.
TEXT ·End(SB), NOSPLIT, $0-0
	XEND
	RET

// func Test() bool
//
// Test reports whether the processor is executing a transaction: XTEST
// clears ZF inside one and sets it outside.
TEXT ·Test(SB), NOSPLIT, $0-1
	XTEST
	SETNE	ret+0(FP)
	RET

// func AbortLockBusy()
//
// AbortLockBusy executes XABORT $0xff (CodeLockBusy). Inside a transaction
// it does not return: the transaction aborts and Begin returns a status with
// the explicit bit and code 0xff. Outside a transaction XABORT is a no-op and
// the function returns.
TEXT ·AbortLockBusy(SB), NOSPLIT, $0-0
	XABORT	$0xff
	RET

// func AbortSoftware()
//
// AbortSoftware executes XABORT $0xfe (CodeSoftware); see AbortLockBusy.
TEXT ·AbortSoftware(SB), NOSPLIT, $0-0
	XABORT	$0xfe
	RET

// func AbortNotHead()
//
// AbortNotHead executes XABORT $0xfd (CodeNotHead); see AbortLockBusy.
TEXT ·AbortNotHead(SB), NOSPLIT, $0-0
	XABORT	$0xfd
	RET
