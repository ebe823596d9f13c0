//go:build !purego

package stm

import "unsafe"

// prefetchw asks for p's cache line in the exclusive state, as a store
// would, without waiting for it; prefetch asks for it as a load would.
// Hints only: they change no value and never fault (prefetch_amd64.s).
//
//go:noescape
func prefetchw(p unsafe.Pointer)

//go:noescape
func prefetch(p unsafe.Pointer)
