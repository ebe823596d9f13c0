//go:build amd64 && !race

package release

import (
	"sync/atomic"
	"unsafe"
)

// Uint64 stores v in *p with release order.
func Uint64(p *atomic.Uint64, v uint64) {
	// A plain MOV: release order on amd64 (package doc). The atomic.Uint64
	// is a struct whose only non-zero-size field is the uint64.
	*(*uint64)(unsafe.Pointer(p)) = v
}

// Pointer stores v in *p with release order.
func Pointer[T any](p *atomic.Pointer[T], v *T) {
	// A plain MOV (with the GC's write barrier): release order on amd64.
	*(**T)(unsafe.Pointer(p)) = v
}
