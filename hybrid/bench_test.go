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

// Both are called directly (not through a func value), as user code calls
// them, so that hybrid.Atomically is inlined as it would be there.
var impls = []impl{{"hybrid", true}, {"stm", false}}

type impl struct {
	name   string
	hybrid bool
}

func (im impl) run(body func(*Tx) error) error {
	if im.hybrid {
		return Atomically(body)
	}
	return stm.Atomically(body)
}

func BenchmarkIncr1(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			v := NewVar(0)
			body := func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
			b.ReportAllocs()
			for b.Loop() {
				_ = im.run(body)
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
				_ = im.run(body)
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
					_ = im.run(body)
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
					_ = im.run(body)
				}
			})
		})
	}
}

// BenchmarkTransfer moves one unit between two Vars: a multi-Var commit,
// which in hardware stamps its versions through the clock.
func BenchmarkTransfer(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			x, y := NewVar(0), NewVar(0)
			body := func(tx *Tx) error {
				x.Store(tx, x.Load(tx)-1)
				y.Store(tx, y.Load(tx)+1)
				return nil
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = im.run(body)
			}
		})
	}
}

// BenchmarkDisjointTransfer runs BenchmarkTransfer in parallel, each
// goroutine on its own pair of Vars: the only line the commits may share is
// the clock's.
func BenchmarkDisjointTransfer(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				x, y := NewVar(0), NewVar(0)
				body := func(tx *Tx) error {
					x.Store(tx, x.Load(tx)-1)
					y.Store(tx, y.Load(tx)+1)
					return nil
				}
				for pb.Next() {
					_ = im.run(body)
				}
			})
		})
	}
}

// BenchmarkIncr1Closure is Incr1 as users write it: a new closure per call
// that captures the Var and a local (addTo in alloc_test.go for hybrid, the
// same body for stm). It must report 0 allocs/op for both.
func BenchmarkIncr1Closure(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			v := NewVar(0)
			b.ReportAllocs()
			for b.Loop() {
				if im.hybrid {
					_, _ = addTo(v, 1)
				} else {
					_, _ = stmAddTo(v, 1)
				}
			}
		})
	}
}

// stmAddTo is addTo through stm.Atomically.
func stmAddTo(v *Var[int], delta int) (int, error) {
	var out int
	err := stm.Atomically(func(tx *Tx) error {
		out = v.Load(tx) + delta
		v.Store(tx, out)
		return nil
	})
	return out, err
}
