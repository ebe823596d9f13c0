package stm

import "unsafe"

func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

// Logs are slices searched linearly while small (a handful of entries is the
// common case and a scan beats hashing); past logIndexMin entries (the read
// log) or writeIndexMin entries (the write log) a map index is built and
// kept up to date.
//
// Before any of that, findWrite asks a 64-bit filter of the Vars written in
// the attempt (wfilter, one bit per Var address hash): a Load of a Var the
// attempt has not written, the common case, costs one test instead of a
// scan. The filter only gains bits while the attempt runs (a savepoint's
// rollback leaves its bits set: a false positive costs a scan, never a
// missed write) and is cleared when the write log is emptied.
const (
	logIndexMin   = 16
	writeIndexMin = 64
)

// wbit returns h's bit in the write filter: Fibonacci hashing of the
// header's address in words (headers are 8-byte aligned), whose top six
// bits spread Vars that lie a fixed stride apart (a slice of Vars, or Vars
// allocated one after another) as well as random ones. Hashing the address
// in bytes gave Vars 48 bytes apart (a Var[int] each) the same bit so often
// that a transaction writing 16 of them found 65% of its lookups of a Var
// not yet written falsely in the filter, and scanned the write log.
func wbit(h *varHeader) uint64 {
	return 1 << ((uint64(uintptr(unsafe.Pointer(h))>>3) * 0x9E3779B97F4A7C15) >> 58)
}

// findWrite returns the index of the newest write entry for h, or -1.
func (tx *Tx) findWrite(h *varHeader) int {
	if tx.wfilter&wbit(h) == 0 {
		return -1
	}
	return tx.findWriteSlow(h)
}

func (tx *Tx) findWriteSlow(h *varHeader) int {
	if tx.windex != nil {
		if i, ok := tx.windex[h]; ok {
			return int(i)
		}
		return -1
	}
	for i := len(tx.writes) - 1; i >= 0; i-- {
		if tx.writes[i].h == h {
			return i
		}
	}
	return -1
}

func (tx *Tx) addWrite(h *varHeader, n *vnode) {
	tx.state = txActive // Load's inline path off: a Load may find the write
	tx.wfilter |= wbit(h)
	tx.writes = append(tx.writes, writeEntry{h: h, node: n})
	if len(tx.writes) > writeIndexMin {
		tx.indexWrite(h)
	}
}

// indexWrite keeps the write index up to date for a log past logIndexMin.
func (tx *Tx) indexWrite(h *varHeader) {
	if tx.windex != nil {
		tx.windex[h] = int32(len(tx.writes) - 1)
	} else {
		tx.rebuildWriteIndex()
	}
}

func (tx *Tx) rebuildWriteIndex() {
	if len(tx.writes) <= writeIndexMin {
		tx.windex = nil
		return
	}
	tx.windex = make(map[*varHeader]int32, len(tx.writes)*2)
	for i := range tx.writes {
		tx.windex[tx.writes[i].h] = int32(i)
	}
}

// findRead returns the first read entry for h, or nil.
func (tx *Tx) findRead(h *varHeader) *readEntry {
	if len(tx.reads) > logIndexMin {
		if tx.rindex == nil {
			tx.rindex = make(map[*varHeader]int32, len(tx.reads)*2)
			tx.rindexed = 0
		}
		// Index entries lazily up to the current length.
		for ; tx.rindexed < len(tx.reads); tx.rindexed++ {
			i := tx.rindexed
			if _, ok := tx.rindex[tx.reads[i].h]; !ok {
				tx.rindex[tx.reads[i].h] = int32(i)
			}
		}
		if i, ok := tx.rindex[h]; ok {
			return &tx.reads[i]
		}
		return nil
	}
	for i := range tx.reads {
		if tx.reads[i].h == h {
			return &tx.reads[i]
		}
	}
	return nil
}

// Savepoints (OrElse branches and nested Atomically calls). A Store to a Var
// already written below the current savepoint appends a shadowing entry
// instead of changing the older node, so rolling back is a truncation.
//
// A savepoint is opened and closed by the same function, the close deferred
// (closeSavepoint), so that every exit — return, error, Retry, abort, user
// panic — leaves the stack as it found it; begin resets the stack for the
// next attempt in any case.

// savepoint is what a savepoint restores on rollback: the enclosing level's
// spLen, and the number of commit hooks registered before it opened.
type savepoint struct {
	spLen int
	hooks int
}

// pushSavepoint opens a savepoint and returns its depth, for closeSavepoint.
func (tx *Tx) pushSavepoint() int {
	tx.sps = append(tx.sps, savepoint{spLen: tx.spLen, hooks: len(tx.hooks)})
	tx.spLen = len(tx.writes)
	return len(tx.sps)
}

// closeSavepoint closes the savepoint that pushSavepoint opened at depth:
// keep merges its writes into the enclosing level, otherwise they are
// discarded. Savepoints opened inside it and still open (which the deferred
// closes rule out) are discarded with it.
func (tx *Tx) closeSavepoint(depth int, keep bool) {
	if len(tx.sps) < depth || tx.state == txIdle {
		return // already closed, or the attempt ended: nothing to close
	}
	if keep && len(tx.sps) == depth {
		tx.popSavepoint()
		return
	}
	for len(tx.sps) >= depth {
		tx.rollbackSavepoint()
	}
}

// rollbackSavepoint discards the writes made and the commit hooks
// registered since the last savepoint.
func (tx *Tx) rollbackSavepoint() {
	if n := tx.sps[len(tx.sps)-1].hooks; len(tx.hooks) > n {
		tx.dropHooks(n)
	}
	for i := tx.spLen; i < len(tx.writes); i++ {
		w := &tx.writes[i]
		tx.w.releaseNode(w.h, w.node)
	}
	clear(tx.writes[tx.spLen:]) // no Var kept past the length (leaveTx)
	tx.writes = tx.writes[:tx.spLen]
	tx.popSpLen()
	if tx.windex != nil {
		tx.rebuildWriteIndex()
	}
	if tx.state == txActive && len(tx.writes) == 0 && tx.hw == nil && !tx.irrevocable && !reportOn.Load() {
		tx.state = txFast
		if tx.unlogged {
			tx.state = txRO // the reads before the first Store were not logged
		}
	}
}

// popSavepoint keeps the writes made since the last savepoint, merging any
// shadowing entries into the entries they shadow.
func (tx *Tx) popSavepoint() {
	sp := tx.spLen
	tx.popSpLen()
	out := sp
	for j := sp; j < len(tx.writes); j++ {
		e := tx.writes[j]
		merged := false
		// Merge only into entries of the enclosing savepoint level: entries
		// below it must survive a later rollback of that level.
		for i := sp - 1; i >= tx.spLen; i-- {
			if tx.writes[i].h == e.h {
				tx.w.releaseNode(e.h, tx.writes[i].node)
				tx.writes[i].node = e.node
				merged = true
				break
			}
		}
		if !merged {
			tx.writes[out] = e
			out++
		}
	}
	for k := out; k < len(tx.writes); k++ {
		tx.writes[k] = writeEntry{}
	}
	tx.writes = tx.writes[:out]
	if tx.windex != nil {
		tx.rebuildWriteIndex()
	}
}

func (tx *Tx) popSpLen() {
	n := len(tx.sps)
	tx.spLen = tx.sps[n-1].spLen
	tx.sps = tx.sps[:n-1]
}
