package stm

import (
	"unsafe"

	"github.com/hytm/hytm/internal/gcore"
	"github.com/hytm/hytm/internal/release"
)

// trimDepth is the chain depth (versions at or above the horizon) beyond
// which a commit ticks the clock and rescans the horizon. It trades version
// memory for fewer writes to shared lines: one tick and one scan per
// trimDepth commits of a hot Var.
const trimDepth = 64

// horizonEvery bounds how often a worker rescans the horizon.
const horizonEvery = 64

// singleVar reports whether the transaction writes one Var and reads no other
// (the shape counted as a single-Var commit; it is stamped like any other).
func (tx *Tx) singleVar() bool {
	if len(tx.writes) != 1 {
		return false
	}
	h := tx.writes[0].h
	for i := range tx.reads {
		if tx.reads[i].h != h {
			return false
		}
	}
	return true
}

// commit tries to commit a software attempt. It returns false if the attempt
// must be rolled back and run again.
//
// The protocol (docs/design.md, "Commit"): lock the write set; check the irrevocable
// flag; tick the clock for the timestamp; validate the read set (unless the
// tick shows that no commit was stamped since the snapshot); install each
// version at the head of its chain, trim, and unlock.
func (tx *Tx) commit() bool {
	w := tx.w
	if len(tx.writes) == 0 {
		w.stats.add(statCommitsRO)
		return true
	}
	if tx.irrevocable {
		tx.commitIrrevocable()
		return true
	}
	if tx.stale {
		tx.recordAbort(CauseStale, tx.staleVar)
		return false
	}
	if len(tx.writes) != 1 || len(tx.reads) > 1 ||
		(len(tx.reads) == 1 && tx.reads[0].h != tx.writes[0].h) {
		return tx.commitMulti()
	}
	// The common read-modify-write of one Var (or a blind write): one CAS
	// from the meta word the read saw both validates the read and takes the
	// lock. The lock carries the multi bit like any other: the tick below
	// may put our stamp inside a snapshot that reads h before we install.
	// An unlogged attempt (site.go) logged no read: it locks from the
	// current meta word and validates with its tick, below.
	e := &tx.writes[0]
	h := e.h
	var m uint64
	if len(tx.reads) == 1 {
		m = tx.reads[0].meta // unlocked, never staleMeta (tx.stale is false)
	} else {
		m = afterTrim(h, h.meta.Load())
	}
	// acq-rel CAS: takes the commit lock, and succeeds only if no commit
	// wrote h since the read (the meta word, sequence included, is the one
	// the read recorded), which is validation.
	if m&metaLocked != 0 || !h.meta.CompareAndSwap(m, m|metaLock) {
		// A trim of h (same sequence, no multi bit) installs nothing: once
		// it is gone the read is still valid. Try once more after it.
		if m&metaLocked != 0 || afterTrim(h, h.meta.Load()) != m || !h.meta.CompareAndSwap(m, m|metaLock) {
			cause := CauseValidate
			if h.meta.Load()&metaLocked != 0 {
				cause = CauseLocked
			}
			tx.recordAbort(cause, h)
			return false
		}
	}
	e.old = m
	// seq-cst load after the lock CAS: the Dekker pairing described below.
	if irrev.active.Load() != 0 {
		tx.unlock(1)
		tx.recordAbort(CauseIrrevocable, nil)
		irrevWait()
		return false
	}
	var wv uint64
	if tx.unlogged {
		// seq-cst tick after the lock CAS, as below, made with a CAS from
		// rv: it succeeds only if no commit was stamped since the snapshot,
		// commitMulti's TL2 rule for unlogged attempts, which needs no log
		// (TestUnloggedWriterCannotSkipAChangedRead's single case). The
		// inline copy comes after it: the commit could still fail before.
		if !clock.v.CompareAndSwap(tx.rv, tx.rv+1) {
			tx.unlock(1)
			tx.contendedSite() // site.go
			tx.recordAbort(CauseValidate, nil)
			return false
		}
		wv = tx.rv + 1
		if reportOn.Load() {
			tx.reportCommit()
		}
		h.publishCur(e.node)
		tx.published = true
	} else {
		if reportOn.Load() {
			tx.reportCommit()
		}
		// The commit can no longer fail: copy the value into the Var's
		// inline copy now, before the tick. Readers whose snapshot includes
		// the stamp wait from the tick to the unlock (the multi bit), and on
		// a Var that two cores write, every store in that window may miss:
		// the copy there made the window long enough for them to yield
		// (spinWait) far more often.
		h.publishCur(e.node)
		tx.published = true
		// seq-cst tick after the lock CAS (docs/design.md, "Clock"): a
		// snapshot that includes wv loaded the clock after this, and finds
		// h locked or installed.
		wv = clock.v.Add(1)
		if tx.contended {
			tx.calm(wv) // site.go
		}
	}
	long := tx.installWrites(wv, true)
	w.stats.add(statCommitsSingle)
	w.afterCommit(long, false, wv)
	return true
}

// commitMulti is commit for every other shape of transaction: it writes
// several Vars, or reads another Var than the one it writes.
func (tx *Tx) commitMulti() bool {
	w := tx.w
	if h := tx.lockWrites(); h != nil {
		tx.recordAbort(CauseLocked, h)
		return false
	}
	// seq-cst load after the lock CASes: pairs with the store in
	// becomeIrrevocable (Dekker). Either the irrevocable transaction sees our
	// locks and waits for them, or we see its flag and back off.
	if irrev.active.Load() != 0 {
		tx.unlock(len(tx.writes))
		tx.recordAbort(CauseIrrevocable, nil)
		irrevWait()
		return false
	}
	wv := stamp()
	if tx.contended {
		tx.calm(wv) // site.go
	}
	// TL2: a stamp just above the snapshot means that no commit was stamped
	// in between, so every Var read still has the version read (docs/design.md,
	// "Clock"). Otherwise validate.
	if wv != tx.rv+1 {
		if tx.unlogged {
			// Reads made in read-only mode were not logged (site.go): the
			// attempt cannot validate them. The site logs from now on,
			// until its commits calm down (site.go).
			tx.unlock(len(tx.writes))
			tx.contendedSite() // site.go
			tx.recordAbort(CauseValidate, nil)
			return false
		}
		if h := tx.validateReads(); h != nil {
			tx.unlock(len(tx.writes))
			tx.recordAbort(CauseValidate, h)
			return false
		}
	}
	if reportOn.Load() {
		tx.reportCommit() // report.go: publish this commit's Store sites
	}
	long := tx.installWrites(wv, true)
	if f := tx.installed; f != nil && len(tx.hooks) == 0 {
		// Committed: every version is installed, every lock released and
		// the clock ticked, so any transaction that begins or commits from
		// here on is ordered after this one.
		tx.installed = nil
		f()
	}
	if tx.singleVar() {
		w.stats.add(statCommitsSingle)
	} else {
		w.stats.add(statCommitsMulti)
	}
	w.afterCommit(long, false, wv)
	return true
}

// afterCommit does a worker's commit bookkeeping, for software and hardware
// commits alike: it counts the commit and decides when maintain runs.
// unticked says that the commit stamped wv without ticking the clock (a
// hardware commit that no software transaction could observe, swlive.go).
func (w *worker) afterCommit(long, unticked bool, wv uint64) {
	w.commits++
	if long {
		// The horizon kept this chain long: rescan soon (every trimDepth
		// commits) rather than every horizonEvery, so that the next walk
		// cuts a small batch that fits the nursery.
		w.lagging = true
	}
	// Rate-limited: at most one tick and rescan per trimDepth/2 commits of a
	// worker, so that walks prompted by a moving horizon do not feed back
	// into more ticks and rescans (each writes or reads shared lines).
	if ((long || w.lagging) && w.commits >= trimDepth/2) || w.commits >= horizonEvery {
		w.commits = 0
		w.lagging = long
		w.maint = true
		w.maintTick = long && unticked
		w.maintStamp = wv
	}
}

// The commit phases, shared by software commits (commit), irrevocable ones
// (commitIrrevocable, which waits for locks instead of failing) and
// emulated hardware commits (hwCommitEmu).

// lockWrites takes the commit lock of every Var in the write set without
// waiting. On failure it releases the locks it took and returns the Var whose
// lock was busy. The lock carries the multi bit: readers whose snapshot may
// include the stamp wait for the install.
func (tx *Tx) lockWrites() *varHeader {
	for i := range tx.writes {
		e := &tx.writes[i]
		m := afterTrim(e.h, e.h.meta.Load())
		// acq-rel CAS: takes the Var's commit lock.
		if m&metaLocked != 0 || !e.h.meta.CompareAndSwap(m, m|metaLock) {
			tx.unlock(i)
			return e.h
		}
		e.old = m
	}
	return nil
}

// ownWrites asks for the cache lines that tx's software attempt will need
// when it commits: each written Var's own line, exclusively (its lock CAS,
// its inline copy and its unlock write it), and the line of its newest
// version (the commit's cut reads its stamp and cuts below it,
// trimLazily). Each Store asks for them already (storeNew); a waiting
// attempt that will commit later (package tasks' ordered mode, which waits
// for its turn inside the transaction) asks again, so that it pays the
// transfer of lines another processor took back while it waits, instead
// of in its commit, on the path every later task waits for. Reached
// through internal/hwlink.
//
// Prefetches, not a locked add of zero to each meta word (which took the
// lines as well): a locked instruction waits for its line before the next
// one starts, so sixteen lines held by the other processor cost sixteen
// transfers one after another (2.4 µs a block of interest tasks against
// 0.26 µs); prefetches overlap. They are hints: a line that another
// processor takes back before the commit is fetched again by the commit.
//
//go:linkname ownWrites
func ownWrites(tx *Tx) {
	if tx.hw != nil {
		return
	}
	for i := range tx.writes {
		h := tx.writes[i].h
		prefetchw(unsafe.Pointer(&h.meta))
		// acquire load of the head, on the line just asked for: the
		// version our commit links under; a prefetch of a stale or
		// trimmed node is harmless (it reads nothing).
		prefetch(unsafe.Pointer(h.head.Load()))
	}
}

// onInstalled has f run inside tx's commit, right after it installs its
// versions, if tx's software attempt commits through commitMulti (a write
// set of more than one Var, or a read set beyond the Var written; not an
// irrevocable commit) and has registered no commit hooks; otherwise f does
// not run (the caller finds out
// for itself and does what f would have done after Atomically returns).
// Package tasks passes an ordered block's turn on this way, before the
// commit's bookkeeping and Atomically's return: the next block's commit
// waits for exactly that. Reached through internal/hwlink.
//
//go:linkname onInstalled
func onInstalled(tx *Tx, f func()) {
	if tx.hw == nil {
		tx.installed = f
	}
}

// stamp ticks the clock and returns the commit timestamp; the caller holds
// its write locks (with the multi bit).
func stamp() uint64 {
	// seq-cst tick after the locks: a snapshot that includes the stamp
	// loaded the clock after this, and so sees our locks or our versions.
	return clock.v.Add(1)
}

// validateReads returns the first Var read by the transaction whose meta
// changed since the read, or nil. The caller holds its write locks.
func (tx *Tx) validateReads() *varHeader {
	for i := range tx.reads {
		r := &tx.reads[i]
		m := r.h.meta.Load()
		if m == r.meta || m == r.meta|metaLocked {
			continue // unchanged; or being trimmed, which installs nothing
		}
		if m&metaLocked != 0 && m&^metaLock == r.meta && tx.lockedByUs(i, r.h) {
			continue // locked by us, unchanged before that
		}
		return r.h
	}
	return nil
}

// lockedByUs reports whether h, the Var of read entry i, is in the write
// set. A transaction that reads each Var just before it writes it (a
// read-modify-write, a block of such tasks) has its i-th write on the
// Var of its i-th read: one compare finds it, before the search.
func (tx *Tx) lockedByUs(i int, h *varHeader) bool {
	return (i < len(tx.writes) && tx.writes[i].h == h) || tx.findWrite(h) >= 0
}

// installWrites links each tentative version at the head of its chain,
// trims lazily, unlocks with the next sequence number and wakes Retry
// waiters. announce reports each write to the software-write hook (the
// emulator); an emulated commit, whose writes the emulator already knows,
// passes false. It reports whether a walk left a chain long.
func (tx *Tx) installWrites(wv uint64, announce bool) (long bool) {
	for i := range tx.writes {
		e := &tx.writes[i]
		n := e.node
		e.h.link(n, wv)
		if !tx.published {
			e.h.publishCur(n)
		}
		if announce && hooks.softwareWrite != nil {
			hooks.softwareWrite(e.h)
		}
		if tx.trimLazily(e.h, n) {
			long = true
		}
		// release store (a plain MOV on amd64, package release): unlock
		// with the next sequence number. Readers and lockers pair it with
		// an acquire load of meta; it orders the head store before it.
		release.Uint64(&e.h.meta, nextMeta(e.old, wv))
		// Load after the lock CAS: pairs with waitForChange, which
		// registers (seq-cst add) and then re-reads meta (Dekker). The
		// pairing rests on the lock CAS, a full barrier before this load,
		// not on the unlock store: a waiter whose re-read saw meta as it
		// was before the lock read it before our CAS, so its registration
		// is visible here; one that re-read later saw the lock or the new
		// sequence, and so does not sleep. (TestWakeAfterReleaseUnlock.)
		if e.h.waiting() {
			wakeWaiters(e.h)
		}
		e.node = nil
	}
	tx.published = false
	return long
}

// trimWaitRounds bounds afterTrim's wait: about 5 µs, longer than a trim
// of a chain of a few dozen cold versions. A trim never waits for anything
// while it holds its lock, so a longer one means that its goroutine was
// descheduled: the committer then gives up, as it always did.
const trimWaitRounds = 128

// afterTrim returns h's meta word m once no trim holds h: m with the locked
// bit but not the multi bit is a trim's lock (the trim queue's, or a
// hardware commit's trims), taken by another worker to cut versions below
// the horizon. A trim installs nothing and keeps the sequence, so a commit
// may wait the few hundred nanoseconds it takes rather than abort: two
// goroutines adding to a Counter aborted 1-3 times per 1,000 commits in some
// runs when one's trim queue took the other's stripe, written a moment ago,
// for cold. A commit lock (with the multi bit) is not waited for.
func afterTrim(h *varHeader, m uint64) uint64 {
	if m&metaLock == metaLocked {
		return afterTrimSlow(h, m)
	}
	return m
}

func afterTrimSlow(h *varHeader, m uint64) uint64 {
	for i := 0; m&metaLock == metaLocked && i < trimWaitRounds; i++ {
		if testHooks {
			afterTrimPause() // testhooks_on.go: the trim may end here
		}
		spinLocal(64)
		m = h.meta.Load() // acquire: pairs with the trim's unlock
	}
	return m
}

// nextMeta is the meta word that unlocks a Var whose meta was old before a
// commit stamped wv locked it: unlocked, with a sequence number above
// old's (validation and Retry compare meta words) and at least wv, so that
// a reader whose snapshot rv is at least the sequence knows, from meta
// alone, that the Var's newest version is inside its snapshot (Load's
// inline read).
func nextMeta(old, wv uint64) uint64 {
	return max(old>>metaShift+1, wv) << metaShift
}

// publishCur copies n's value, the version link just installed at the head
// of h's chain, into the Var's inline copy (Var.cur). Every caller of link
// calls it next, in the same critical section. Read-only attempts read the
// copy only while meta shows neither the multi bit nor a sequence above
// their snapshot, which the unlock's nextMeta sets, so its stores need no
// order of their own. (Not in link: the indirect call would keep link from
// being inlined.)
func (h *varHeader) publishCur(n *vnode) {
	k := h.tkey.Load()
	// A pointer-free value is copied here, as plain words: no write
	// barrier is needed, and the indirect call of Publish (a generic
	// function's wrapper) cost a contended single-Var commit, which holds
	// its lock meanwhile, about a tenth of its time.
	dst, src := unsafe.Add(unsafe.Pointer(h), curOffset), unsafe.Add(unsafe.Pointer(n), valOffset)
	switch k.PublishRaw {
	case 8:
		*(*uint64)(dst) = *(*uint64)(src)
	case 16:
		*(*[2]uint64)(dst) = *(*[2]uint64)(src)
	case 4:
		*(*uint32)(dst) = *(*uint32)(src)
	case 1:
		*(*uint8)(dst) = *(*uint8)(src)
	case 2:
		*(*uint16)(dst) = *(*uint16)(src)
	default:
		if p := k.Publish; p != nil { // nil: values above inlineMax
			p(unsafe.Pointer(h), unsafe.Pointer(n))
		}
	}
}

// link installs n, stamped wv, at the head of h's chain, with the trim
// bookkeeping: the count of versions below it. The caller holds h's
// commit lock, or runs inside an RTM transaction that read h's meta unlocked (the
// hardware makes the whole commit one atomic step, hwCommitReal): either way
// no other commit touches h meanwhile. Software and hardware commits share
// it, so that both keep the bookkeeping trimming relies on.
func (h *varHeader) link(n *vnode, wv uint64) {
	old := h.head.Load()
	n.ts = wv
	h.below++ // the caller holds h (see above); old's line is not needed
	n.setPrevPrivate(old)
	// release store (a plain MOV on amd64, package release): publishes n's
	// fields to every reader that loads head (acquire). No load after it
	// relies on its being visible: readers that might miss it are behind
	// the multi bit, which the unlock clears later.
	release.Pointer(&h.head, n)
}

// trimLazily trims h, whose head is n, if its depth says a walk is due, and
// otherwise queues it when it is longer than two versions, so that it is
// trimmed even if it is never written again. The caller holds h's lock. It
// reports whether a walk left the chain long.
func (tx *Tx) trimLazily(h *varHeader, n *vnode) bool {
	depth := h.below + 1
	if depth == 3 {
		// The steady state of a Var written now and then (bank's
		// accounts): n, the version it replaced, p, and one below p, the
		// chain's last (h.below counts what lies under n). When p is stamped
		// below the cached horizon, every snapshot reads n or p, never
		// the last: cut it as trim would, without the walk (a transfer
		// spent a fifth of its instructions in trimLazily, trim and their
		// calls). Without the horizon check, longReaderRun's reader loses
		// the versions it reads (TestGCTrimCounts).
		if p := n.prev.Load(); p.ts < gcore.CachedHorizon() {
			cut := p.prev.Load()
			// release store, as in trim: readers stop at p or above.
			release.Pointer(&p.prev, nil)
			h.below = 1
			tx.recycleLast(h, cut)
			return false
		}
	}
	// Walk the chain only when it has grown by trimDepth since the last
	// cut, so a commit usually does O(1) work here.
	if trimDue(depth) || cutDue(n, depth) {
		return tx.trim(h, n)
	}
	if depth > 2 && !h.isQueued() {
		enqueueTrim(h)
	}
	return false
}

// trimDue reports whether a commit that made a chain depth deep walks it.
// A walk comes every trimDepth commits up to 4*trimDepth (a hot Var whose
// horizon lags a little is cut again soon, so its nodes return to the
// nursery in small batches); beyond that, while a snapshot keeps the chain
// long, only as the depth doubles, so that the work stays O(1) per commit
// amortized (walking at every commit would be quadratic in the reader's
// life). The trim queue trims the chain once the snapshot ends.
func trimDue(depth uint32) bool {
	if depth <= trimDepth {
		return false
	}
	if depth <= 4*trimDepth && depth%trimDepth == 1 {
		return true
	}
	return depth&(depth-1) == 0
}

// cutDue reports whether the chain under head, which a commit has just
// linked, can be cut below the version it replaced (head's prev) now: that
// version is stamped below the head and at or below the cached horizon, so
// trim finds the cut point one step down (every software commit ticks, so
// the versions below it are stamped below it), and something lies below
// it. A Var written now and then (bank's accounts) is thus cut by each
// commit to two versions, one or two cold nodes at a time, instead of
// growing until trimDue's walk over a long cold chain (which cost a
// profiled bank transfer about a third of its time) or until the trim
// queue gets to it. A hot Var, whose replaced version is usually above the
// horizon, is still cut by trimDue's periodic walks and right after each
// horizon rescan. (At, not only below: a worker that is the only one
// ticking rescans the horizon right after its commit, to that commit's
// stamp, which its next commit's replaced version then carries.) Unticked
// hardware commits share their stamp with the version they replace: their
// chains wait for trimDue. The caller holds h's lock; link has just loaded
// head's prev.
func cutDue(head *vnode, depth uint32) bool {
	if depth <= 2 {
		return false
	}
	p := head.prev.Load()
	return p != nil && p.ts < head.ts && p.ts <= gcore.CachedHorizon()
}

// unlock releases the first n write locks taken by commit, unchanged.
func (tx *Tx) unlock(n int) {
	for i := 0; i < n; i++ {
		e := &tx.writes[i]
		// release: the Var is as it was.
		e.h.meta.Store(e.old)
	}
}

// trim cuts h's chain below the newest version older than the cached
// horizon and recycles the whole tail it cut (recycle): nothing stays
// linked below the cut point. The caller holds h's commit lock. It reports
// whether the chain stays longer than trimDepth/2.
func (tx *Tx) trim(h *varHeader, head *vnode) bool {
	hz := gcore.CachedHorizon()
	n := head
	depth := uint32(1)
	for n.ts >= hz {
		p := n.prev.Load()
		if p == nil {
			break
		}
		n = p
		depth++
	}
	if n.ts < hz {
		if cut := n.prev.Load(); cut != nil {
			// Readers stop at n or above (n.ts < hz <= rv, and every
			// version stamped <= rv was installed before a reader could
			// pass it: writers lock before they tick), so none loads
			// n.prev. A release store (a plain MOV on amd64, package
			// release) orders our earlier reads of the cut nodes before
			// it; under the race detector it is atomic, which the detector
			// needs. (An XCHG here cost a bank transfer about a tenth of
			// its time once commits cut below the replaced version, cutDue.)
			release.Pointer(&n.prev, nil)
			if h.below == depth {
				// The chain ends at cut (h.below counts the nodes under head):
				// recycle it without loading it. It is the oldest
				// version, usually cold, and its prev is nil already.
				tx.recycleLast(h, cut)
			} else {
				tx.recycle(h, cut)
			}
		}
	}
	h.below = depth - 1
	if depth > 2 && !h.isQueued() {
		// A snapshot holds versions (or unticked hardware commits share
		// the horizon's stamp): make sure the chain is trimmed once they fall
		// below the horizon, even if h is not written again.
		enqueueTrim(h)
	}
	return depth > trimDepth/2
}

// recycle gives the cut-off chain starting at n, which no snapshot can
// reach, to the worker's nursery, in batches: the nursery clears each node
// it keeps (internal/gcore, NewTypeKeyOf), trades full lists with the type's
// depot, and leaves what neither has room for (MaxFree, ListBytes,
// DepotMags, MaxKeptBytes) to the Go GC. Each node is unlinked, so that one
// stale pointer to it cannot retain the rest.
func (tx *Tx) recycle(h *varHeader, n *vnode) {
	k := h.tkey.Load()
	shelf := tx.w.nursery.Shelf(k)
	// Collect on the stack and put in one copy: appending node by node
	// chains every iteration through the free list's length in memory.
	var buf [16]unsafe.Pointer // small: a cut at commit usually frees one or two
	total := 0
	for n != nil {
		b := 0
		// The type's shared zero node (init), always a chain's last, is
		// left as it is: every chain of the type may end at it.
		for ; n != nil && unsafe.Pointer(n) != k.Zero && b < len(buf); b++ {
			next := n.prev.Load()
			n.setPrevPrivate(nil)
			buf[b] = unsafe.Pointer(n)
			n = next
		}
		if nurseryEnabled {
			shelf.PutAll(buf[:b])
		}
		total += b
		if unsafe.Pointer(n) == k.Zero {
			break
		}
	}
	tx.w.stats.addN(statTrimmed, uint64(total)) // one add per cut, not per node
}

// recycleLast is recycle of a cut-off chain of one node, n, known to be the
// chain's last (its prev is nil): it does not load n, whose line a commit
// that cuts below the version it replaced would otherwise wait for; the nursery's next
// Store to it does not wait. Under the race detector it checks that n is
// the last, so that the race-enabled tests catch a wrong chain length.
func (tx *Tx) recycleLast(h *varHeader, n *vnode) {
	k := h.tkey.Load()
	if unsafe.Pointer(n) == k.Zero {
		return // the type's shared zero node (init): never recycled
	}
	if raceBuild && n.prev.Load() != nil {
		panic("stm: internal error: the chain length in the Var's below count is wrong")
	}
	if nurseryEnabled && !tx.w.nursery.Push(k, unsafe.Pointer(n)) {
		// Put, not PutAll: a one-element copy goes through
		// typedslicecopy and its bulk write barrier.
		tx.w.nursery.Shelf(k).Put(unsafe.Pointer(n))
	}
	tx.w.stats.addN(statTrimmed, 1)
}

// releaseNode gives a node that no snapshot can reach (cut below the
// horizon, or a discarded tentative version) to the worker's nursery, which
// clears its value.
func (w *worker) releaseNode(h *varHeader, n *vnode) {
	if n == nil {
		return // already installed (an entry whose commit went through)
	}
	if nurseryEnabled {
		w.nursery.Put(h.tkey.Load(), unsafePointer(n))
	}
}

// maintain ticks the clock if hardware commits have been stamping its
// current value without a tick (swlive.go), rescans the horizon and trims a
// few queued Vars. run calls
// it after the attempt ended, so that the worker's own (finished) snapshot
// no longer holds the horizon back.
func (w *worker) maintain() {
	w.maint = false
	c := clock.v.Load()
	if w.maintTick && w.maintStamp >= c {
		// Unticked hardware commits have been stamping c: tick so that
		// they fall below the next horizon and can be trimmed.
		clock.v.CompareAndSwap(c, c+1)
	}
	gcore.Horizon(clock.v.Load())
	trimQueued(w, 2)
}
