package htm

import "strconv"

// Status is the value that XBEGIN leaves in EAX: either [Started], when the
// transaction began, or an abort status whose bits say why the most recent
// transaction aborted. The layout is Intel's (SDM vol. 1 §16.3.5, GCC
// rtmintrin.h):
//
//	bit 0      explicit: XABORT was executed; bits 31:24 hold its immediate
//	bit 1      retry: the transaction may succeed if retried (never with bit 0)
//	bit 2      conflict: another logical processor touched a line in the
//	           transaction's read or write set
//	bit 3      capacity: the read or write set overflowed the hardware buffers
//	bit 4      debug: a debug breakpoint was hit
//	bit 5      nested: the abort happened inside a nested transaction
//	bits 31:24 the XABORT immediate when bit 0 is set
//
// A Status of 0 means "other": an interrupt, a fault, a disallowed
// instruction, or anything else the CPU does not classify. It is transient as
// often as not. The [Emulator] reports the same bits, so code above this
// package cannot tell real and emulated aborts apart by their status.
//
// The decoding methods are meaningful only for abort statuses; for [Started]
// they all report false (and Code reports 0).
type Status uint32

// Started is the Status that [Begin] returns when the transaction began: the
// value XBEGIN leaves untouched in EAX (^uint32(0), _XBEGIN_STARTED in C).
// No abort status equals Started, since bit 1 (retry) is always clear when bit
// 0 (explicit) is set.
const Started Status = 0xFFFFFFFF

// The abort status bits, for building and comparing statuses (for example in
// tests and in the [Emulator]).
const (
	StatusExplicit Status = 1 << 0 // XABORT executed; the code is in bits 31:24
	StatusRetry    Status = 1 << 1 // the transaction may succeed on a retry
	StatusConflict Status = 1 << 2 // a data conflict with another processor
	StatusCapacity Status = 1 << 3 // the read or write set overflowed
	StatusDebug    Status = 1 << 4 // a debug breakpoint was hit
	StatusNested   Status = 1 << 5 // the abort happened in a nested transaction
)

// Abort codes passed to XABORT by the explicit-abort leaves. XABORT takes an
// 8-bit immediate, so each code has its own assembly function.
const (
	// CodeLockBusy (0xff) means a software commit or an irrevocable
	// transaction holds the lock that hardware transactions subscribe to.
	// 0xff is the code glibc and libitm reserve for a busy lock: wait until
	// the lock is free, then retry in hardware without charging the attempt.
	CodeLockBusy uint8 = 0xff
	// CodeSoftware (0xfe) means the transaction needs the software path:
	// Retry, OrElse, Inevitable, a nested atomic block, or an allocation
	// that hardware cannot do. Retrying in hardware is pointless.
	CodeSoftware uint8 = 0xfe
	// CodeNotHead (0xfd) means a version check failed: a value read was not
	// the newest version. It is a conflict detected in software.
	CodeNotHead uint8 = 0xfd
)

// ExplicitStatus returns the Status that XABORT with the given code leaves
// outside a nested transaction: the code in bits 31:24 and the explicit bit.
func ExplicitStatus(code uint8) Status {
	return Status(code)<<24 | StatusExplicit
}

// Explicit reports whether the transaction aborted by XABORT; [Status.Code]
// then holds the XABORT immediate.
func (s Status) Explicit() bool { return s != Started && s&StatusExplicit != 0 }

// Code returns the XABORT immediate of an explicit abort, or 0 when s is not
// an explicit abort.
func (s Status) Code() uint8 {
	if !s.Explicit() {
		return 0
	}
	return uint8(s >> 24)
}

// Retry reports whether the CPU hints that the transaction may succeed if
// retried.
func (s Status) Retry() bool { return s != Started && s&StatusRetry != 0 }

// Conflict reports whether the transaction aborted on a data conflict.
func (s Status) Conflict() bool { return s != Started && s&StatusConflict != 0 }

// Capacity reports whether the transaction aborted because its read or write
// set overflowed. Interrupts and a busy hyperthread sibling can make small
// transactions report capacity too.
func (s Status) Capacity() bool { return s != Started && s&StatusCapacity != 0 }

// Debug reports whether the transaction aborted on a debug breakpoint.
func (s Status) Debug() bool { return s != Started && s&StatusDebug != 0 }

// Nested reports whether the abort happened inside a nested transaction.
func (s Status) Nested() bool { return s != Started && s&StatusNested != 0 }

// String returns the status in words: "started"; the set bits joined by "|",
// as in "capacity" or "explicit(0xff)|nested"; or "other(0)" when no bit
// is set (an interrupt, a fault, an instruction not allowed in a
// transaction). Reserved bits 6-23, which no current CPU sets, are shown as
// "reserved(0x…)".
func (s Status) String() string {
	if s == Started {
		return "started"
	}
	var buf [64]byte
	b := buf[:0]
	sep := func() {
		if len(b) > 0 {
			b = append(b, '|')
		}
	}
	if s&StatusExplicit != 0 {
		b = append(b, "explicit(0x"...)
		code := uint8(s >> 24)
		const hex = "0123456789abcdef"
		b = append(b, hex[code>>4], hex[code&0xf], ')')
	}
	for _, f := range [...]struct {
		bit  Status
		name string
	}{
		{StatusRetry, "retry"},
		{StatusConflict, "conflict"},
		{StatusCapacity, "capacity"},
		{StatusDebug, "debug"},
		{StatusNested, "nested"},
	} {
		if s&f.bit != 0 {
			sep()
			b = append(b, f.name...)
		}
	}
	if len(b) == 0 {
		// No classified bit: report the raw value (the code bits only mean
		// something with the explicit bit).
		return "other(" + hexString(uint32(s)) + ")"
	}
	if r := s & 0x00FFFFC0; r != 0 {
		sep()
		b = append(b, "reserved("...)
		b = append(b, hexString(uint32(r))...)
		b = append(b, ')')
	}
	return string(b)
}

// hexString formats v as fmt's %#x does ("0" for zero).
func hexString(v uint32) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}
