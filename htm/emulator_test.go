package htm

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// registered counts the emulator's conflict-table entries; it must be 0
// once every transaction has ended.
func (e *Emulator) registered() int {
	n := 0
	for i := range e.stripes {
		s := &e.stripes[i]
		s.mu.Lock()
		n += len(s.ents)
		s.mu.Unlock()
	}
	return n
}

func checkQuiescent(t *testing.T, e *Emulator) {
	t.Helper()
	if n := e.live.Load(); n != 0 {
		t.Errorf("%d transactions still live", n)
	}
	if n := e.registered(); n != 0 {
		t.Errorf("%d conflict-table entries left", n)
	}
}

func mustBegin(t *testing.T, e *Emulator) *EmuTx {
	t.Helper()
	tx, st := e.Begin()
	if st != Started || tx == nil {
		t.Fatalf("Begin = %v, %v", tx, st)
	}
	return tx
}

const line = 1 << LineShift

func TestEmulatorCapacity(t *testing.T) {
	tests := []struct {
		name          string
		cfg           EmuConfig
		reads, writes int // the limits that apply
	}{
		{"defaults", EmuConfig{}, DefaultMaxReadLines, DefaultMaxWriteLines},
		{"small", EmuConfig{MaxReadLines: 16, MaxWriteLines: 8}, 16, 8},
		{"one", EmuConfig{MaxReadLines: 1, MaxWriteLines: 1}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEmulator(tt.cfg)
			for _, w := range []bool{false, true} {
				limit, access := tt.reads, (*EmuTx).Read
				if w {
					limit, access = tt.writes, (*EmuTx).Write
				}
				tx := mustBegin(t, e)
				base := uintptr(0x10000)
				for i := range limit {
					// Two addresses in each line, and a repeat: one line.
					for _, a := range []uintptr{base + uintptr(i)*line, base + uintptr(i)*line + line - 1, base + uintptr(i)*line} {
						if st := access(tx, a); st != Started {
							t.Fatalf("write=%v: access %d of %d lines: %v", w, i+1, limit, st)
						}
					}
				}
				// Lines already held stay free.
				if st := access(tx, base); st != Started {
					t.Fatalf("write=%v: re-access at the limit: %v", w, st)
				}
				st := access(tx, base+uintptr(limit)*line)
				if st != StatusCapacity || !st.Capacity() || st.Retry() {
					t.Fatalf("write=%v: line %d: %v, want capacity", w, limit+1, st)
				}
				if st := tx.Check(); st != StatusCapacity {
					t.Errorf("Check after capacity abort = %v", st)
				}
			}
			// A line written, then read, uses no read capacity.
			tx := mustBegin(t, e)
			for i := range tt.writes {
				tx.Write(uintptr(i) * line)
			}
			for i := range min(tt.writes, tt.reads) {
				if st := tx.Read(uintptr(i) * line); st != Started {
					t.Fatalf("reading a written line: %v", st)
				}
			}
			if st := tx.End(); st != Started {
				t.Fatalf("End = %v", st)
			}
			s := e.Stats()
			if s.Capacity != 2 || s.Commits != 1 || s.Begins != 3 {
				t.Errorf("stats %+v", s)
			}
			checkQuiescent(t, e)
		})
	}
	t.Run("unlimited", func(t *testing.T) {
		e := NewEmulator(EmuConfig{MaxReadLines: -1, MaxWriteLines: -1})
		tx := mustBegin(t, e)
		for i := range 20000 {
			if st := tx.Read(uintptr(i) * line); st != Started {
				t.Fatal(st)
			}
			if st := tx.Write(uintptr(i+1<<20) * line); st != Started {
				t.Fatal(st)
			}
		}
		if st := tx.End(); st != Started {
			t.Fatal(st)
		}
		checkQuiescent(t, e)
	})
}

// TestEmulatorSpuriousRate checks the injected abort rate against a
// binomial bound (six standard deviations), and that half of them strike at
// Begin.
func TestEmulatorSpuriousRate(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 5000
	}
	for _, rate := range []float64{0, 0.01, 0.1, 0.5, 1} {
		for _, retry := range []bool{false, true} {
			e := NewEmulator(EmuConfig{Seed: 42, SpuriousRate: rate, SpuriousRetry: retry})
			want := Status(0)
			if retry {
				want = StatusRetry
			}
			atBegin, later := 0, 0
			for i := range n {
				tx, st := e.Begin()
				if st != Started {
					if st != want || tx != nil {
						t.Fatalf("Begin = %v, %v; want nil, %v", tx, st, want)
					}
					atBegin++
					continue
				}
				// A few accesses, fewer than the window for some.
				for j := range i % 36 {
					if st = tx.Read(uintptr(j) * line); st != Started {
						break
					}
				}
				if st == Started {
					st = tx.End()
				}
				if st != Started {
					if st != want {
						t.Fatalf("spurious abort = %v, want %v", st, want)
					}
					later++
				}
			}
			got := atBegin + later
			mean := float64(n) * rate
			sd := math.Sqrt(mean * (1 - rate))
			if d := math.Abs(float64(got) - mean); d > 6*sd+0.5 {
				t.Errorf("rate %v: %d spurious aborts in %d, want %v ± %.0f", rate, got, n, mean, 6*sd)
			}
			if rate > 0 && rate < 1 {
				// atBegin ~ Binomial(got, 1/2).
				if d := math.Abs(float64(atBegin) - float64(got)/2); d > 6*math.Sqrt(float64(got)/4)+0.5 {
					t.Errorf("rate %v: %d of %d spurious aborts at Begin, want about half", rate, atBegin, got)
				}
			}
			if s := e.Stats(); s.Spurious != uint64(got) || s.Commits != uint64(n-got) || s.Begins != uint64(n) {
				t.Errorf("stats %+v, counted %d spurious", s, got)
			}
			checkQuiescent(t, e)
		}
	}
}

// trace runs a fixed single-goroutine script of transactions on a new
// emulator and returns the statuses it saw.
func trace(cfg EmuConfig) string {
	e := NewEmulator(cfg)
	var b strings.Builder
	for i := range 2000 {
		tx, st := e.Begin()
		for j := 0; st == Started && j < i%50; j++ {
			a := uintptr(i*7+j) % 300 * line
			if j%3 == 0 {
				st = tx.Write(a)
			} else {
				st = tx.Read(a)
			}
		}
		if st == Started {
			if i%97 == 0 {
				st = tx.Abort(uint8(i))
			} else {
				st = tx.End()
			}
		}
		fmt.Fprintf(&b, "%d:%v ", i, st)
	}
	fmt.Fprintf(&b, "%+v", e.Stats())
	return b.String()
}

func TestEmulatorDeterminism(t *testing.T) {
	cfg := EmuConfig{Seed: 7, SpuriousRate: 0.2, MaxReadLines: 30, MaxWriteLines: 12}
	a, b := trace(cfg), trace(cfg)
	if a != b {
		t.Fatal("the same seed and calls gave different statuses")
	}
	for _, want := range []string{"other(0)", "capacity", "explicit(0x", "started"} {
		if !strings.Contains(a, want) {
			t.Errorf("trace never saw %q", want)
		}
	}
	cfg.Seed = 8
	if trace(cfg) == a {
		t.Error("seeds 7 and 8 gave the same statuses")
	}
}

func TestEmulatorConflicts(t *testing.T) {
	const A, B, C = 1 * line, 2 * line, 3 * line
	conflict := StatusConflict | StatusRetry
	e := NewEmulator(EmuConfig{})

	t.Run("read-read", func(t *testing.T) {
		t1, t2 := mustBegin(t, e), mustBegin(t, e)
		t1.Read(A)
		t2.Read(A + 8)
		if s1, s2 := t1.End(), t2.End(); s1 != Started || s2 != Started {
			t.Errorf("End = %v, %v", s1, s2)
		}
	})
	t.Run("write after read dooms the reader", func(t *testing.T) {
		t1, t2 := mustBegin(t, e), mustBegin(t, e)
		t1.Read(A)
		if st := t2.Write(A + 1); st != Started {
			t.Fatalf("requester: %v", st)
		}
		if st := t1.Read(B); st != conflict {
			t.Errorf("doomed reader's next call = %v, want %v", st, conflict)
		}
		if st := t1.End(); st != conflict {
			t.Errorf("End of an aborted transaction = %v, want the same status", st)
		}
		if st := t2.End(); st != Started {
			t.Errorf("requester End = %v", st)
		}
	})
	t.Run("read after write dooms the writer", func(t *testing.T) {
		t1, t2 := mustBegin(t, e), mustBegin(t, e)
		t1.Write(A)
		t2.Read(A)
		if st := t1.Check(); st != conflict {
			t.Errorf("writer Check = %v", st)
		}
		if st := t2.End(); st != Started {
			t.Errorf("reader End = %v", st)
		}
	})
	t.Run("write after write", func(t *testing.T) {
		t1, t2 := mustBegin(t, e), mustBegin(t, e)
		t1.Read(B)
		t1.Write(A)
		t2.Write(A)
		if st := t1.End(); st != conflict {
			t.Errorf("first writer End = %v", st)
		}
		if st := t2.End(); st != Started {
			t.Errorf("second writer End = %v", st)
		}
	})
	t.Run("upgrade", func(t *testing.T) {
		t1, t2 := mustBegin(t, e), mustBegin(t, e)
		t1.Read(A)
		t2.Read(A)
		t2.Write(A) // dooms t1, which read A
		if st := t1.End(); st != conflict {
			t.Errorf("reader End = %v", st)
		}
		if st := t2.End(); st != Started {
			t.Errorf("upgrader End = %v", st)
		}
	})
	t.Run("explicit", func(t *testing.T) {
		t1 := mustBegin(t, e)
		t1.Write(A)
		if st := t1.Abort(CodeLockBusy); st != ExplicitStatus(CodeLockBusy) || st.Code() != 0xff {
			t.Errorf("Abort = %v", st)
		}
		if st := t1.Read(A); st != ExplicitStatus(CodeLockBusy) {
			t.Errorf("after Abort, Read = %v", st)
		}
		// Its lines are released: no conflict for a new transaction.
		t2 := mustBegin(t, e)
		t2.Write(A)
		if st := t2.End(); st != Started {
			t.Errorf("End = %v", st)
		}
		// Abort of a doomed transaction reports the conflict.
		t3, t4 := mustBegin(t, e), mustBegin(t, e)
		t3.Read(C)
		t4.Write(C)
		if st := t3.Abort(CodeSoftware); st != conflict {
			t.Errorf("Abort of a doomed transaction = %v", st)
		}
		t4.Abort(CodeSoftware)
	})
	t.Run("software write", func(t *testing.T) {
		t1, t2, t3 := mustBegin(t, e), mustBegin(t, e), mustBegin(t, e)
		t1.Read(A)
		t2.Write(A)            // dooms t1
		t3.Read(B)             // untouched line
		e.SoftwareWrite(A + 5) // dooms t2 (t1 already doomed)
		e.SoftwareWrite(C)     // no one
		if st := t2.End(); st != conflict {
			t.Errorf("writer End = %v", st)
		}
		if st := t1.End(); st != conflict {
			t.Errorf("reader End = %v", st)
		}
		if st := t3.End(); st != Started {
			t.Errorf("bystander End = %v", st)
		}
	})
	t.Run("software read", func(t *testing.T) {
		t1, t2 := mustBegin(t, e), mustBegin(t, e)
		t1.Read(A)
		t2.Write(B)
		e.SoftwareRead(A) // readers are unaffected
		e.SoftwareRead(B) // strong isolation: the writer aborts
		if st := t1.End(); st != Started {
			t.Errorf("reader End = %v", st)
		}
		if st := t2.End(); st != conflict {
			t.Errorf("writer End = %v", st)
		}
	})
	t.Run("commit is atomic", func(t *testing.T) {
		t1 := mustBegin(t, e)
		t1.Read(C)
		t1.Write(A)
		t1.Write(B)
		var inApply [3]Status
		var applied atomic.Bool
		swDone := make(chan bool)
		st := t1.EndWith(func() {
			// t1 can no longer abort: conflicting requesters abort.
			t2 := mustBegin(t, e)
			inApply[0] = t2.Read(A)
			t3 := mustBegin(t, e)
			inApply[1] = t3.Write(C) // t1 only read C: no conflict
			inApply[2] = t3.End()
			// Software accesses wait for the write-back.
			go func() {
				e.SoftwareWrite(B)
				swDone <- applied.Load()
			}()
			time.Sleep(10 * time.Millisecond)
			applied.Store(true)
		})
		if st != Started {
			t.Errorf("EndWith = %v", st)
		}
		if inApply != [3]Status{conflict, Started, Started} {
			t.Errorf("during apply: %v", inApply)
		}
		if !<-swDone {
			t.Error("SoftwareWrite returned during the write-back")
		}
	})
	t.Run("software store", func(t *testing.T) {
		t1, t2 := mustBegin(t, e), mustBegin(t, e)
		t1.Read(A)
		t2.Read(B)
		ran := false
		e.SoftwareStore(A, func() { ran = true })
		if !ran {
			t.Error("store did not run")
		}
		if st := t1.End(); st != conflict {
			t.Errorf("reader of the stored line: End = %v", st)
		}
		if st := t2.End(); st != Started {
			t.Errorf("bystander End = %v", st)
		}
	})
	t.Run("use after commit", func(t *testing.T) {
		t1 := mustBegin(t, e)
		t1.End()
		if st := t1.Abort(1); st != Started {
			t.Errorf("Abort after commit = %v", st)
		}
		defer func() {
			if r := recover(); r != "htm: EmuTx used after End" {
				t.Errorf("Read after commit: recover() = %v", r)
			}
		}()
		t1.Read(A)
	})
	checkQuiescent(t, e)
	s := e.Stats()
	t.Logf("%+v", s)
	if s.Begins != s.Commits+s.Explicit+s.Conflict+s.Capacity+s.Spurious {
		t.Errorf("stats do not add up: %+v", s)
	}
}

// paddedAccount puts each account on its own cache line.
type paddedAccount struct {
	v atomic.Int64
	_ [line - 8]byte
}

// TestEmulatorBank runs concurrent emulated transfers that read both
// accounts, report the accesses to the emulator, and write back with
// EndWith. If the emulator lets no conflicting pair commit, money is
// conserved and every audit sees the initial total. Run it with -race.
func TestEmulatorBank(t *testing.T) {
	const accounts, initial = 32, 1000
	workers, transfers := 8, 5000
	if testing.Short() {
		transfers = 500
	}
	e := NewEmulator(EmuConfig{Seed: 3, SpuriousRate: 0.05, SpuriousRetry: true})
	var acct [accounts]paddedAccount
	for i := range acct {
		acct[i].v.Store(initial)
	}
	addr := func(i int) uintptr { return uintptr(unsafe.Pointer(&acct[i])) }
	var commits, audits atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Go(func() {
			r := uint64(w + 1)
			for range transfers {
				r = splitmix64(r)
				from, to := int(r%accounts), int(r>>8%accounts)
				if w == 0 && r>>16%8 == 0 {
					// An audit: a read-only transaction over all accounts.
					for {
						tx, st := e.Begin()
						sum := int64(0)
						for i := 0; st == Started && i < accounts; i++ {
							if st = tx.Read(addr(i)); st == Started {
								sum += acct[i].v.Load()
							}
						}
						if st == Started {
							st = tx.End()
						}
						if st == Started {
							if sum != accounts*initial {
								errs <- fmt.Sprintf("audit saw total %d", sum)
								return
							}
							audits.Add(1)
							break
						}
					}
					continue
				}
				for {
					tx, st := e.Begin()
					var a, b int64
					if st == Started {
						st = tx.Read(addr(from))
						a = acct[from].v.Load()
					}
					if st == Started {
						runtime.Gosched() // widen the race windows
						st = tx.Read(addr(to))
						b = acct[to].v.Load()
					}
					// Writes are buffered until commit: report them now.
					if st == Started {
						st = tx.Write(addr(from))
					}
					if st == Started {
						st = tx.Write(addr(to))
					}
					if st == Started {
						st = tx.EndWith(func() {
							if from != to {
								acct[from].v.Store(a - 1)
								acct[to].v.Store(b + 1)
							}
						})
					}
					if st == Started {
						commits.Add(1)
						break
					}
					if !st.Retry() && st != 0 {
						errs <- fmt.Sprintf("unexpected abort %v", st)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := int64(0)
	for i := range acct {
		total += acct[i].v.Load()
	}
	if total != accounts*initial {
		t.Errorf("total %d, want %d", total, accounts*initial)
	}
	s := e.Stats()
	t.Logf("%d transfers, %d audits committed; %+v", commits.Load(), audits.Load(), s)
	if s.Conflict == 0 {
		t.Log("no conflicts: the workers did not overlap")
	}
	checkQuiescent(t, e)
}

// TestEmulatorSoftwareLock mixes emulated counter increments with software
// increments under a lock, following the protocol documented on
// SoftwareWrite: emulated transactions read the lock word first and abort if
// it is held; software stores the lock word, then announces it. No update
// may be lost. Run it with -race.
func TestEmulatorSoftwareLock(t *testing.T) {
	e := NewEmulator(EmuConfig{Seed: 11, SpuriousRate: 0.01})
	var lock, counter paddedAccount
	la, ca := uintptr(unsafe.Pointer(&lock)), uintptr(unsafe.Pointer(&counter))
	n := 3000
	if testing.Short() {
		n = 300
	}
	var busy atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for range n {
				for {
					tx, st := e.Begin()
					var v int64
					if st == Started {
						if st = tx.Read(la); st == Started && lock.v.Load() != 0 {
							st = tx.Abort(CodeLockBusy) // subscription
							busy.Add(1)
						}
					}
					if st == Started {
						st = tx.Read(ca)
						runtime.Gosched() // widen the race windows
						v = counter.v.Load()
					}
					if st == Started {
						runtime.Gosched()
						st = tx.Write(ca)
					}
					if st == Started {
						st = tx.EndWith(func() { runtime.Gosched(); counter.v.Store(v + 1) })
					}
					if st == Started {
						break
					}
					runtime.Gosched()
				}
			}
		})
		wg.Go(func() {
			for range n {
				for !lock.v.CompareAndSwap(0, 1) {
					runtime.Gosched()
				}
				runtime.Gosched()
				e.SoftwareWrite(la) // after the lock store
				e.SoftwareWrite(ca)
				runtime.Gosched()
				counter.v.Add(1)
				lock.v.Store(0)
			}
		})
	}
	wg.Wait()
	if got := counter.v.Load(); got != int64(6*n) {
		t.Errorf("counter = %d, want %d (lost updates)", got, 6*n)
	}
	t.Logf("%d lock-busy aborts; %+v", busy.Load(), e.Stats())
	checkQuiescent(t, e)
}

// TestEmulatorSoftwareStore mixes emulated increments with unsynchronised
// software increments made through SoftwareStore.
func TestEmulatorSoftwareStore(t *testing.T) {
	e := NewEmulator(EmuConfig{Seed: 12})
	var counter paddedAccount
	ca := uintptr(unsafe.Pointer(&counter))
	n := 3000
	if testing.Short() {
		n = 300
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for range n {
				for {
					tx, st := e.Begin()
					var v int64
					if st == Started {
						st = tx.Read(ca)
						runtime.Gosched() // widen the race windows
						v = counter.v.Load()
					}
					if st == Started {
						runtime.Gosched()
						st = tx.Write(ca)
					}
					if st == Started {
						st = tx.EndWith(func() { runtime.Gosched(); counter.v.Store(v + 1) })
					}
					if st == Started {
						break
					}
					runtime.Gosched()
				}
			}
		})
		wg.Go(func() {
			for range n {
				e.SoftwareStore(ca, func() { counter.v.Add(1) })
			}
		})
	}
	wg.Wait()
	if got := counter.v.Load(); got != int64(6*n) {
		t.Errorf("counter = %d, want %d (lost updates)", got, 6*n)
	}
	t.Logf("%+v", e.Stats())
	checkQuiescent(t, e)
}

func TestNewEmulatorBadRate(t *testing.T) {
	for _, r := range []float64{-0.1, 1.5, math.NaN()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewEmulator(SpuriousRate: %v) did not panic", r)
				}
			}()
			NewEmulator(EmuConfig{SpuriousRate: r})
		}()
	}
}

func TestEmuConfigFromEnv(t *testing.T) {
	tests := []struct {
		seed, rate string
		want       EmuConfig
		stderr     string
	}{
		{"", "", EmuConfig{Seed: 1, SpuriousRate: 0.01}, ""},
		{"123", "0.25", EmuConfig{Seed: 123, SpuriousRate: 0.25}, ""},
		{"0xff", "0", EmuConfig{Seed: 255}, ""},
		{"-1", "2", EmuConfig{Seed: 1, SpuriousRate: 0.01},
			`htm: invalid HYTM_EMU_SEED value "-1": want an unsigned integer; using 1` + "\n" +
				`htm: invalid HYTM_EMU_SPURIOUS value "2": want a rate in [0, 1]; using 0.01` + "\n"},
	}
	for _, tt := range tests {
		var w bytes.Buffer
		if got := emuConfigFromEnv(tt.seed, tt.rate, &w); got != tt.want || w.String() != tt.stderr {
			t.Errorf("emuConfigFromEnv(%q, %q) = %+v, stderr %q; want %+v, %q", tt.seed, tt.rate, got, w.String(), tt.want, tt.stderr)
		}
	}
	if DefaultEmulator() != DefaultEmulator() {
		t.Error("DefaultEmulator is not a singleton")
	}
}
