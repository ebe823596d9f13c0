package stm

import (
	"testing"
	"unsafe"
)

// TestVarSize checks that a Var fills exactly one cache line (see the
// padding in varHeader).
func TestVarSize(t *testing.T) {
	if got := unsafe.Sizeof(Var[int]{}); got != 64 {
		t.Fatalf("unsafe.Sizeof(Var[int]{}) = %d, want 64", got)
	}
	if got := unsafe.Sizeof(Var[struct{ a, b, c, d, e, f uint64 }]{}); got != 64 {
		t.Fatalf("Var size depends on T: %d", got)
	}
}
