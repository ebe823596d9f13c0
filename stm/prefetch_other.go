//go:build !amd64 || purego

package stm

import "unsafe"

// prefetchw and prefetch are hints (prefetch_amd64.s); elsewhere they do
// nothing.
func prefetchw(p unsafe.Pointer) {}

func prefetch(p unsafe.Pointer) {}
