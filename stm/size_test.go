package stm

import (
	"testing"
	"unsafe"
)

// TestVarSize checks that a Var is 48 bytes (varHeader: no padding, so
// that Vars stay dense; NewVar's allocations use the 48-byte size class).
func TestVarSize(t *testing.T) {
	if got := unsafe.Sizeof(Var[int]{}); got != 48 {
		t.Fatalf("unsafe.Sizeof(Var[int]{}) = %d, want 48", got)
	}
	if got := unsafe.Sizeof(Var[struct{ a, b, c, d, e, f uint64 }]{}); got != 48 {
		t.Fatalf("Var size depends on T: %d", got)
	}
}
