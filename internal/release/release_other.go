//go:build !amd64 || race

package release

import "sync/atomic"

// Uint64 stores v in *p with release order.
func Uint64(p *atomic.Uint64, v uint64) {
	// seq-cst store: at least release order, on every architecture, and
	// visible to the race detector.
	p.Store(v)
}

// Pointer stores v in *p with release order.
func Pointer[T any](p *atomic.Pointer[T], v *T) {
	// seq-cst store: at least release order, on every architecture, and
	// visible to the race detector.
	p.Store(v)
}
