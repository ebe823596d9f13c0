package hybrid

import (
	"sync/atomic"
	"testing"

	"github.com/hytm/hytm/stm"
)

// The same workloads through hybrid.Atomically and stm.Atomically, so that
// the overhead of hybrid with hardware off (≤5% expected) shows in one run:
//
//	go test -run=^$ -bench=. -benchmem ./hybrid/

type atomicallyFn func(func(*Tx) error) error

var impls = []struct {
	name string
	fn   atomicallyFn
}{{"hybrid", Atomically}, {"stm", stm.Atomically}}

func BenchmarkIncr1(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			v := NewVar(0)
			body := func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
			b.ReportAllocs()
			for b.Loop() {
				_ = im.fn(body)
			}
		})
	}
}

func BenchmarkRead16(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			vs := make([]*Var[int], 16)
			for i := range vs {
				vs[i] = NewVar(i)
			}
			var s int
			body := func(tx *Tx) error {
				s = 0
				for _, v := range vs {
					s += v.Load(tx)
				}
				return nil
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = im.fn(body)
			}
		})
	}
}

func BenchmarkDisjointIncr(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			var next atomic.Int32
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				_ = next.Add(1)
				v := NewVar(0)
				body := func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
				for pb.Next() {
					_ = im.fn(body)
				}
			})
		})
	}
}

func BenchmarkSharedIncr(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			v := NewVar(0)
			body := func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = im.fn(body)
				}
			})
		})
	}
}
