package stm

import (
	"sync"
	"sync/atomic"
)

// # Per-goroutine workers
//
// Flat nesting needs the transaction running on the calling goroutine, and
// Go has no goroutine-local storage: getg (an assembly leaf) gives the
// goroutine's identity and this table maps it to a worker.
//
// Each goroutine hashes to one entry. The first transaction of a goroutine
// claims a free entry with a CAS and attaches a worker to it; the entry then
// stays the goroutine's (in non-race builds) and later transactions of that
// goroutine find their worker with one load and no atomic write at all. That
// is why the worker is per goroutine rather than per P: the common path
// needs neither a sync.Pool round trip nor a lock-prefixed instruction.
//
// A goroutine that exits leaves its entry claimed. The runtime recycles g
// structures, so a later goroutine with the same g address inherits the
// entry and its idle worker, which is harmless: a worker is only ever used by
// the one live goroutine whose g address matches, and only between its
// transactions' begin and end. So the number of workers is bounded by the
// table size (and, in practice, by the peak number of goroutines that run
// transactions).
//
// A goroutine whose entry is held by another g uses a pooled worker and
// registers it in a mutex-protected overflow map, consulted only while that
// map is non-empty.
//
// Under the race detector, entries are released at the end of every
// transaction and claimed again (CAS) at the start of the next, so that the
// detector sees the hand-over between goroutines that reuse a g address.
const (
	activeBits = 12
	activeSize = 1 << activeBits
)

type activeEntry struct {
	g atomic.Uintptr // owner's g address; 0 when free
	w *worker        // the owner's worker; written before the claim is used
}

var active [activeSize]activeEntry

var overflow struct {
	n  atomic.Int32 // entries in m; read on every lookup miss
	mu sync.Mutex
	m  map[uintptr]*worker
}

func activeIndex(g uintptr) uintptr {
	// Fibonacci hashing: g addresses share their low bits.
	return uintptr((uint64(g) * 0x9E3779B97F4A7C15) >> (64 - activeBits))
}

// lookupActive returns the transaction running on goroutine g, or nil.
func lookupActive(g uintptr) *Tx {
	e := &active[activeIndex(g)]
	// acquire: pairs with the CAS in enterTx by this same goroutine.
	if e.g.Load() == g {
		if tx := &e.w.tx; tx.state != txIdle {
			return tx
		}
		return nil
	}
	if overflow.n.Load() == 0 {
		return nil
	}
	return lookupOverflow(g)
}

func lookupOverflow(g uintptr) *Tx {
	overflow.mu.Lock()
	defer overflow.mu.Unlock()
	if w := overflow.m[g]; w != nil && w.tx.state != txIdle {
		return &w.tx
	}
	return nil
}

// enterTx returns the worker that goroutine g uses for a new (outermost)
// transaction. The caller has checked that g runs no transaction.
func enterTx(g uintptr) *worker {
	e := &active[activeIndex(g)]
	if e.g.Load() == g {
		return e.w
	}
	return enterTxSlow(g, e)
}

func enterTxSlow(g uintptr, e *activeEntry) *worker {
	if e.g.Load() == 0 && e.g.CompareAndSwap(0, g) {
		if e.w == nil {
			e.w = newWorker()
		}
		e.w.entry = e
		return e.w
	}
	w := getWorker()
	w.entry = nil
	w.g = g
	overflow.mu.Lock()
	if overflow.m == nil {
		overflow.m = make(map[uintptr]*worker)
	}
	overflow.m[g] = w
	overflow.n.Add(1)
	overflow.mu.Unlock()
	return w
}

// Logs after a transaction. A log that grew past logCap entries is cleared,
// so that it keeps no Var or version alive while its goroutine idles, and
// kept for the next transaction (reallocating it every time would make a
// transaction that reads a few hundred Vars pay for its log in allocations
// and GC scans). One that grew past maxKeptLog entries is given back, so
// that a goroutine that once read 100,000 Vars does not hold the memory.
const maxKeptLog = 4096

// leaveTx ends the use of w by its goroutine's outermost transaction.
//
// The logs' entries are cleared, not only truncated: the GC scans a log's
// whole array, so entries left in it would keep the last transaction's Vars
// (and whatever their values point to: a whole tree) reachable for as long
// as the goroutine's worker lives, which for an exited goroutine's entry is
// until another goroutine claims it (TestIdleWorkerKeepsNoVar). begin
// clears what an aborted attempt left, so the arrays past their lengths
// hold nothing.
func leaveTx(w *worker) {
	// Inlinable fast path: a goroutine's own worker, empty logs (a
	// read-only attempt in read-only mode logs nothing).
	if w.entry != nil && !raceBuild && len(w.tx.reads)|len(w.tx.writes) == 0 {
		return
	}
	leaveTxSlow(w)
}

func leaveTxSlow(w *worker) {
	w.tx.releaseLogs()
	if e := w.entry; e != nil {
		if raceBuild {
			// release: the next claimer's CAS orders its use of e.w after
			// ours, for the race detector's benefit.
			e.g.Store(0)
		}
		return
	}
	overflow.mu.Lock()
	delete(overflow.m, w.g)
	overflow.n.Add(-1)
	overflow.mu.Unlock()
	putWorker(w)
}

// releaseLogs clears the logs' entries, and replaces logs that grew past
// maxKeptLog with small fresh ones, so that neither keeps the Vars and
// versions they point to alive. Logs of up to logCap entries (the common
// case: a read-modify-write logs one entry each, a tree's insert a dozen
// writes) are cleared by a loop of pointer stores rather than by clear,
// whose call of memclrHasPointers and its bulk write barrier cost about 470
// instructions for a dozen entries.
func (tx *Tx) releaseLogs() {
	if len(tx.reads) <= logCap {
		for i := range tx.reads {
			// The pointers only, one store each: assigning the zero entry
			// compiled to a call of memclrHasPointers, which was about a
			// twelfth of a bank transfer. meta may stay: append writes
			// whole entries.
			r := &tx.reads[i]
			r.h, r.node = nil, nil
		}
		tx.reads = tx.reads[:0]
	} else {
		tx.reads = releaseLog(tx.reads)
	}
	if len(tx.writes) <= logCap {
		for i := range tx.writes {
			e := &tx.writes[i] // as for reads: old may stay
			e.h, e.node = nil, nil
		}
		tx.writes = tx.writes[:0]
	} else {
		tx.writes = releaseLog(tx.writes)
	}
	if tx.rindex != nil || tx.windex != nil {
		tx.rindex, tx.windex = nil, nil
	}
}

// releaseLog is releaseLogs for one log.
func releaseLog[E any](l []E) []E {
	switch {
	case cap(l) > maxKeptLog:
		return make([]E, 0, logCap)
	}
	clear(l)
	return l[:0]
}
