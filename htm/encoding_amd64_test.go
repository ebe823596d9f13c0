//go:build amd64 && !purego

package htm

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// text returns n bytes of machine code at pc.
func text(pc uintptr, n int) []byte {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&pc)) // pc is a text address, not a Go pointer
	return unsafe.Slice((*byte)(p), n)
}

// machineCode returns the first n bytes of fn's assembly body. A func value
// of an assembly (ABI0) function points at the ABIInternal wrapper that the
// toolchain generates; the wrapper CALLs the body, so follow the first CALL
// rel32 whose target is the entry of a function with the same name.
func machineCode(t *testing.T, fn any, n int) (string, []byte) {
	t.Helper()
	pc := reflect.ValueOf(fn).Pointer()
	f := runtime.FuncForPC(pc)
	if f == nil || f.Entry() != pc {
		t.Fatalf("no function at %#x", pc)
	}
	name := f.Name()
	wrapper := text(pc, 64)
	for i := 0; i+5 <= len(wrapper); i++ {
		if wrapper[i] != 0xe8 { // CALL rel32
			continue
		}
		target := pc + uintptr(i) + 5 + uintptr(int64(int32(binary.LittleEndian.Uint32(wrapper[i+1:]))))
		g := runtime.FuncForPC(target)
		if g != nil && g.Entry() == target && strings.TrimSuffix(g.Name(), ".abi0") == name {
			t.Logf("%s: wrapper at %#x calls body at %#x (%s)", name, pc, target, g.Name())
			return name, text(target, n)
		}
	}
	// No wrapper: the func value points at the body itself.
	return name, text(pc, n)
}

// TestEncoding checks the RTM encodings at each leaf's entry, and that each
// leaf starts with its instruction (no stack-check prologue: NOSPLIT, $0).
func TestEncoding(t *testing.T) {
	tests := []struct {
		fn   any
		want []byte
	}{
		// MOVL $-1, AX; XBEGIN rel32=0 (the fallback label is the next
		// instruction); MOVL AX, ret+0(FP); RET.
		{Begin, []byte{0xb8, 0xff, 0xff, 0xff, 0xff, 0xc7, 0xf8, 0, 0, 0, 0, 0x89, 0x44, 0x24, 0x08, 0xc3}},
		{End, []byte{0x0f, 0x01, 0xd5, 0xc3}},                          // XEND; RET
		{Test, []byte{0x0f, 0x01, 0xd6, 0x0f, 0x95, 0x44, 0x24, 0x08}}, // XTEST; SETNE ret+0(FP)
		{AbortLockBusy, []byte{0xc6, 0xf8, CodeLockBusy, 0xc3}},        // XABORT $0xff; RET
		{AbortSoftware, []byte{0xc6, 0xf8, CodeSoftware, 0xc3}},        // XABORT $0xfe; RET
		{AbortNotHead, []byte{0xc6, 0xf8, CodeNotHead, 0xc3}},          // XABORT $0xfd; RET
	}
	for _, tt := range tests {
		name, code := machineCode(t, tt.fn, len(tt.want))
		if !bytes.Equal(code, tt.want) {
			t.Errorf("%s: machine code % x, want % x", name, code, tt.want)
		}
	}
}
