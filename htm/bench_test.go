package htm

import (
	"sync/atomic"
	"testing"
)

// The emulator's cost per reported access: ReadHit is a line the
// transaction already holds (private set lookup only); ReadNew and WriteNew
// register a new line in the conflict table (one uncontended stripe lock).

func BenchmarkEmulator(b *testing.B) {
	b.Run("BeginEnd", func(b *testing.B) {
		e := NewEmulator(EmuConfig{})
		for b.Loop() {
			tx, _ := e.Begin()
			tx.End()
		}
	})
	b.Run("ReadHit", func(b *testing.B) {
		e := NewEmulator(EmuConfig{})
		tx, _ := e.Begin()
		tx.Read(0x1000)
		for b.Loop() {
			tx.Read(0x1000)
		}
		tx.End()
	})
	for _, w := range []bool{false, true} {
		name := "ReadNew"
		if w {
			name = "WriteNew"
		}
		b.Run(name, func(b *testing.B) {
			const lines = 64
			e := NewEmulator(EmuConfig{})
			b.ReportAllocs()
			for b.Loop() {
				tx, _ := e.Begin()
				for i := range lines {
					if w {
						tx.Write(uintptr(i) << LineShift)
					} else {
						tx.Read(uintptr(i) << LineShift)
					}
				}
				tx.End()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/access")
		})
	}
	b.Run("SoftwareWriteIdle", func(b *testing.B) {
		e := NewEmulator(EmuConfig{})
		for b.Loop() {
			e.SoftwareWrite(0x1000)
		}
	})
	b.Run("SoftwareWriteLive", func(b *testing.B) {
		e := NewEmulator(EmuConfig{})
		tx, _ := e.Begin()
		tx.Read(0x2000)
		for b.Loop() {
			e.SoftwareWrite(0x1000)
		}
		tx.End()
	})
	b.Run("Parallel", func(b *testing.B) {
		// Disjoint transactions of 16 reads and 4 writes per goroutine.
		e := NewEmulator(EmuConfig{})
		var next atomic.Uintptr
		b.RunParallel(func(pb *testing.PB) {
			base := next.Add(1) << 20
			for pb.Next() {
				tx, _ := e.Begin()
				for i := range uintptr(16) {
					tx.Read((base + i) << LineShift)
				}
				for i := range uintptr(4) {
					tx.Write((base + 64 + i) << LineShift)
				}
				tx.End()
			}
		})
	})
}
