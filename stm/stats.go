package stm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Cause says why a software attempt aborted.
type Cause uint8

const (
	// CauseLocked: a Var to be written was locked by another commit.
	CauseLocked Cause = iota + 1
	// CauseValidate: a Var read by the attempt was changed by another commit.
	CauseValidate
	// CauseStale: the attempt read a Var whose newest version is newer than
	// its snapshot, and writes; it cannot commit.
	CauseStale
	// CauseIrrevocable: the attempt yielded to an irrevocable transaction.
	CauseIrrevocable
)

// String returns the cause's name: "locked", "validate", "stale" or
// "irrevocable".
func (c Cause) String() string {
	switch c {
	case CauseLocked:
		return "locked"
	case CauseValidate:
		return "validate"
	case CauseStale:
		return "stale"
	case CauseIrrevocable:
		return "irrevocable"
	}
	return "unknown"
}

// AbortEvent describes one aborted software attempt, for diagnostics.
type AbortEvent struct {
	Cause   Cause
	Var     VarID // the conflicting Var, or 0 when there is none (CauseIrrevocable)
	Attempt int   // 1-based attempt number within its Atomically call
}

// VarID identifies a Var for diagnostics (its address); 0 means none.
type VarID uintptr

// ID returns the Var's identity for matching [AbortEvent.Var].
func (v *Var[T]) ID() VarID { return VarID(unsafe.Pointer(&v.h)) }

type statIndex int

const (
	statCommitsRO statIndex = iota
	statCommitsSingle
	statCommitsMulti
	statCommitsIrrevocable
	statErrors
	statIrrevocable
	statRetryWaits
	statTrimmed
	statGated
	statAbortBase // + Cause
	nStats        = statAbortBase + 8
)

// workerStats are one worker's counters. Only the owner writes them (atomic
// adds on its own padded line, so summing never races); ReadStats sums them.
type workerStats struct {
	_ cpu.CacheLinePad
	c [nStats]atomic.Uint64
	_ cpu.CacheLinePad
}

func (s *workerStats) add(i statIndex) { s.addN(i, 1) }

// addN adds n to counter i. Only the worker's owner writes its counters, so
// the read-modify-write needs no lock prefix: in normal builds it is a plain
// add to the counter's word, which ReadStats reads with an atomic load. A
// word-sized racing read observes some earlier write (the Go memory model's
// rule for word-sized values), so a concurrent ReadStats sees each counter
// at some value it had, never a torn one, and the hot path saves a locked
// instruction per commit. Under the race detector it is an atomic add, so
// that the detector sees no race.
func (s *workerStats) addN(i statIndex, n uint64) {
	if raceBuild {
		s.c[i].Add(n)
		return
	}
	p := (*uint64)(unsafe.Pointer(&s.c[i]))
	*p += n
}

var statsReg struct {
	mu      sync.Mutex
	live    map[*workerStats]struct{}
	retired [nStats]uint64 // counts of collected workers
}

func newWorkerStats(owner *worker) *workerStats {
	s := new(workerStats)
	statsReg.mu.Lock()
	if statsReg.live == nil {
		statsReg.live = make(map[*workerStats]struct{})
	}
	statsReg.live[s] = struct{}{}
	statsReg.mu.Unlock()
	runtime.AddCleanup(owner, func(s *workerStats) {
		statsReg.mu.Lock()
		for i := range s.c {
			statsReg.retired[i] += s.c[i].Load()
		}
		delete(statsReg.live, s)
		statsReg.mu.Unlock()
	}, s)
	return s
}

// Stats are cumulative counters of the software TM, summed over workers.
type Stats struct {
	ReadOnlyCommits    uint64 // commits that wrote nothing
	SingleVarCommits   uint64 // commits that wrote one Var and read no other
	MultiVarCommits    uint64 // other software commits
	IrrevocableCommits uint64 // commits in serial-irrevocable mode
	Errors             uint64 // bodies that returned an error
	Irrevocable        uint64 // times a transaction became irrevocable
	RetryWaits         uint64 // times a transaction blocked in Retry
	Trimmed            uint64 // versions cut from chains and recycled
	Gated              uint64 // Atomically calls that ran behind the contention gate
	GateGaveUp         uint64 // gate waits that gave up on a holder blocked in its body (it then ran ungated)
	Aborts             map[Cause]uint64
}

// Commits returns the total number of commits.
func (s Stats) Commits() uint64 {
	return s.ReadOnlyCommits + s.SingleVarCommits + s.MultiVarCommits + s.IrrevocableCommits
}

// TotalAborts returns the number of aborted attempts.
func (s Stats) TotalAborts() uint64 {
	var n uint64
	for _, v := range s.Aborts {
		n += v
	}
	return n
}

// ReadStats returns the counters summed over all workers. It is cheap enough
// to call often, but not free: it visits every worker.
func ReadStats() Stats {
	var c [nStats]uint64
	statsReg.mu.Lock()
	c = statsReg.retired
	for s := range statsReg.live {
		for i := range s.c {
			c[i] += s.c[i].Load()
		}
	}
	statsReg.mu.Unlock()
	st := Stats{
		ReadOnlyCommits:    c[statCommitsRO],
		SingleVarCommits:   c[statCommitsSingle],
		MultiVarCommits:    c[statCommitsMulti],
		IrrevocableCommits: c[statCommitsIrrevocable],
		Errors:             c[statErrors],
		Irrevocable:        c[statIrrevocable],
		RetryWaits:         c[statRetryWaits],
		Trimmed:            c[statTrimmed],
		Gated:              c[statGated],
		GateGaveUp:         gate.GaveUp(),
		Aborts:             map[Cause]uint64{},
	}
	for cause := CauseLocked; cause <= CauseIrrevocable; cause++ {
		if n := c[statAbortBase+statIndex(cause)]; n > 0 {
			st.Aborts[cause] = n
		}
	}
	return st
}

// hooks are optional observers, set by other hytm packages. Each costs one
// predictable branch while unset.
var hooks struct {
	abort         func(AbortEvent)
	softwareWrite func(h *varHeader)
}

// SetAbortHook installs f to be called, on the aborting goroutine, for
// every aborted software attempt; nil removes it. It is meant for the
// diagnostics layer and must be set before transactions run.
func SetAbortHook(f func(AbortEvent)) { hooks.abort = f }

func (tx *Tx) recordAbort(cause Cause, h *varHeader) {
	tx.w.stats.add(statAbortBase + statIndex(cause))
	if reportOn.Load() {
		tx.reportAbort(cause, h) // report.go
	}
	if hooks.abort != nil {
		hooks.abort(AbortEvent{Cause: cause, Var: VarID(unsafe.Pointer(h)), Attempt: tx.attempt})
	}
}
