package stm

import (
	"testing"
	"unsafe"
)

// TestVarSize checks that a Var's header is 40 bytes (varHeader: no
// padding, so that Vars stay dense) and that a Var is its header followed
// by its inline copy of the value, nothing more.
func TestVarSize(t *testing.T) {
	if got := unsafe.Sizeof(varHeader{}); got != 40 {
		t.Fatalf("unsafe.Sizeof(varHeader{}) = %d, want 40", got)
	}
	if got := unsafe.Sizeof(Var[int]{}); got != 48 {
		t.Fatalf("unsafe.Sizeof(Var[int]{}) = %d, want 48", got)
	}
	if got := unsafe.Sizeof(Var[struct{ a, b, c, d, e, f uint64 }]{}); got != 40+48 {
		t.Fatalf("unsafe.Sizeof(Var[6 words]) = %d, want 88", got)
	}
	var v Var[int]
	if unsafe.Pointer(&v) != unsafe.Pointer(&v.h) {
		t.Fatal("a Var's header is not at its start: publishCur's conversion is wrong")
	}
}

// TestVersionSize checks that a version node is two words and its value
// (the chain's length lives in the Var: varHeader.below), so that a
// version of a word-sized value takes the allocator's 24-byte class.
func TestVersionSize(t *testing.T) {
	if got := unsafe.Sizeof(version[int]{}); got != 24 {
		t.Fatalf("unsafe.Sizeof(version[int]{}) = %d, want 24", got)
	}
	if got := unsafe.Sizeof(version[bool]{}); got != 24 {
		t.Fatalf("unsafe.Sizeof(version[bool]{}) = %d, want 24", got)
	}
}
