//go:build amd64 && !purego && !race

// These tests run real RTM transactions. They are left out of race builds:
// the race detector instruments the loads and stores between Begin and End
// with calls into its runtime, which abort transactions (see doc.go).
// Where RTM is not usable they skip with Info's explanation.

package htm

import "testing"

func requireRTM(t testing.TB) {
	t.Helper()
	if !Supported() {
		t.Skip(Info())
	}
}

// hwCell is written inside transactions; it has a line to itself.
var hwCell struct {
	_ [64]byte
	n uint64
	_ [64]byte
}

func TestHardwareCommit(t *testing.T) {
	requireRTM(t)
	if Test() {
		t.Fatal("Test() outside a transaction = true")
	}
	start := hwCell.n
	commits, notInTx := 0, 0
	aborts := map[Status]int{}
	for range 1000 {
		if st := Begin(); st == Started {
			hwCell.n++
			in := Test()
			End()
			commits++
			if !in {
				notInTx++
			}
		} else {
			aborts[st]++
		}
	}
	t.Logf("%d of 1000 committed; aborts %v", commits, aborts)
	if commits == 0 {
		t.Fatal("no transaction committed")
	}
	if notInTx != 0 {
		t.Errorf("Test() inside %d transactions = false", notInTx)
	}
	if got := hwCell.n - start; got != uint64(commits) {
		t.Errorf("counter advanced %d, want %d (one per commit, none per abort)", got, commits)
	}
}

func TestHardwareExplicitAbort(t *testing.T) {
	requireRTM(t)
	for _, tt := range []struct {
		abort func()
		code  uint8
	}{
		{AbortLockBusy, CodeLockBusy},
		{AbortSoftware, CodeSoftware},
		{AbortNotHead, CodeNotHead},
	} {
		before := hwCell.n
		var st Status
		reached, tries := 0, 0
		for tries = 1; tries <= 1000; tries++ {
			if st = Begin(); st == Started {
				hwCell.n = 12345 // rolled back by the abort
				tt.abort()
				reached++ // unreachable: XABORT resumes at Begin
				End()
				continue
			}
			if st.Explicit() {
				break
			}
			// A transient abort (interrupt, conflict) before XABORT: retry.
		}
		t.Logf("code %#x: %v after %d tries", tt.code, st, tries)
		if reached != 0 {
			t.Errorf("code %#x: execution continued past XABORT %d times", tt.code, reached)
		}
		if !st.Explicit() || st.Code() != tt.code || st.Retry() || st.Nested() {
			t.Errorf("code %#x: status %v (%#x), want explicit(%#x)", tt.code, st, uint32(st), tt.code)
		}
		if st != ExplicitStatus(tt.code) {
			t.Errorf("code %#x: status %#x, want %#x", tt.code, uint32(st), uint32(ExplicitStatus(tt.code)))
		}
		if hwCell.n != before {
			t.Errorf("code %#x: aborted store is visible: %d", tt.code, hwCell.n)
		}
	}
	// Outside a transaction XABORT does nothing.
	AbortLockBusy()
}

func TestHardwareNestedAbort(t *testing.T) {
	requireRTM(t)
	var st Status
	for range 1000 {
		if st = Begin(); st == Started {
			if Begin() == Started {
				AbortSoftware() // aborts the outermost transaction
			}
			End()
			End()
			t.Fatal("nested transaction did not abort")
		}
		if st.Explicit() {
			break
		}
	}
	t.Logf("nested abort: %v", st)
	if !st.Explicit() || st.Code() != CodeSoftware || !st.Nested() {
		t.Errorf("status %v, want explicit(0xfe)|nested", st)
	}
}

func TestHardwareCapacity(t *testing.T) {
	requireRTM(t)
	// 4096 lines: far more than any L1D holds (512 lines on Haswell through
	// Skylake, 768 on Ice Lake and Sapphire Rapids).
	buf := make([]byte, 4096*64)
	for i := range buf {
		buf[i] = 1 // fault the pages in now: a page fault aborts too
	}
	commits, capacity := 0, 0
	aborts := map[Status]int{}
	for range 100 {
		if st := Begin(); st == Started {
			for i := 0; i < len(buf); i += 64 {
				buf[i] = 2
			}
			End()
			commits++
		} else {
			aborts[st]++
			if st.Capacity() {
				capacity++
			}
		}
	}
	t.Logf("100 tries writing %d lines: %d commits, aborts %v", len(buf)/64, commits, aborts)
	if commits != 0 {
		t.Errorf("%d transactions writing %d KiB committed", commits, len(buf)>>10)
	}
	if capacity == 0 {
		t.Error("no capacity abort")
	}
	if commits == 0 {
		for i := 0; i < len(buf); i += 64 {
			if buf[i] != 1 {
				t.Fatalf("aborted store at %d is visible", i)
			}
		}
	}
}

func BenchmarkBeginEnd(b *testing.B) {
	requireRTM(b)
	aborts := 0
	for b.Loop() {
		if Begin() == Started {
			End()
		} else {
			aborts++
		}
	}
	b.ReportMetric(float64(aborts)/float64(b.N), "aborts/op")
}
