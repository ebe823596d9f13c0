package stm

import _ "unsafe" // go:linkname

// waiter is a transaction blocked in Retry. It is part of the worker, so
// blocking allocates nothing after the first time.
type waiter struct {
	ch chan struct{} // capacity 1: a wake-up is never lost or blocking
}

// Retry abandons the current attempt and blocks until a Var that the
// transaction has read so far is changed by a commit; then the transaction
// runs again from the start. Inside [OrElse], Retry moves on to the next
// branch instead.
//
// Retry never returns. A transaction that has read nothing would block
// forever; Retry panics instead. Calling Retry in an inevitable transaction
// panics, because such a transaction cannot roll back.
func (tx *Tx) Retry() {
	tx.check()
	if tx.inevitable {
		panic("stm: Retry in an inevitable transaction")
	}
	if tx.hw != nil {
		hwNeedsSoftware(tx)
	}
	panic(ctlRetry)
}

// setYield makes the running software attempt of tx yield instead of
// waiting in Retry or becoming inevitable: a Retry that leaves the body (one
// that OrElse does not catch in a branch) or a call of Inevitable ends the
// attempt, rolls it back, and Atomically returns err (non-nil). It lasts
// until the transaction ends; each attempt's body sets it again. In a
// hardware attempt it does nothing (Retry and Inevitable move the
// transaction to software first, where the body sets it again).
//
// Package tasks runs several tasks' bodies as one transaction (a block);
// a task that retries or asks for inevitability must not hold the whole
// block, so the block yields and the task then runs as a transaction of
// its own, where Retry waits and Inevitable holds as usual. It is reached
// through internal/hwlink.
//
//go:linkname setYield
func setYield(tx *Tx, err error) {
	if tx.hw == nil {
		tx.yield = err
	}
}

// OrElse returns a body that runs fns in order until one does not call
// Retry. The Stores of a branch that retries are discarded, its Loads are
// kept: if every branch retries, the whole transaction waits for a change to
// any Var that any branch read, then runs again.
//
// A branch that returns an error ends the choice: the error is returned, and
// the transaction rolls back as usual.
func OrElse(fns ...func(tx *Tx) error) func(tx *Tx) error {
	for _, fn := range fns {
		if fn == nil {
			panic("stm: OrElse with a nil function")
		}
	}
	return func(tx *Tx) error {
		tx.check()
		if tx.hw != nil {
			hwNeedsSoftware(tx)
		}
		for _, fn := range fns {
			if err, retried := tx.branch(fn); !retried {
				return err
			}
		}
		tx.Retry()
		return nil // not reached
	}
}

// branch runs one OrElse branch behind a savepoint and reports whether it
// called Retry. The branch's Stores are kept if it returns (an error ends the
// choice and rolls the transaction back as usual) and discarded if it
// retries or panics; one deferred call closes the savepoint on every exit
// (log.go).
func (tx *Tx) branch(fn func(tx *Tx) error) (err error, retried bool) {
	depth := tx.pushSavepoint()
	returned := false
	defer func() {
		tx.closeSavepoint(depth, returned)
		if returned {
			return
		}
		r := recover()
		if c, ok := r.(control); ok && c == ctlRetry {
			retried = true
			return
		}
		if r == nil {
			return // runtime.Goexit: let it go on
		}
		panic(r)
	}()
	err = fn(tx)
	returned = true
	return err, false
}

// waitForChange blocks until a Var in the read set has a commit newer than
// the version read, or the transaction's context (AtomicallyContext) is
// done; it reports the latter. The snapshot is released first so that
// waiting pins no versions.
func (tx *Tx) waitForChange() (cancelled bool) {
	if len(tx.reads) == 0 {
		panic("stm: Retry in a transaction that has read no Var would block forever")
	}
	tx.w.stats.add(statRetryWaits)
	tx.w.liveLeave() // swlive.go: waiting reads no snapshot
	if tx.irrevocable {
		tx.leaveIrrevocable()
	}
	tx.w.slot.Unpin()
	wt := &tx.w.waiter
	select { // drain a stale wake-up
	case <-wt.ch:
	default:
	}
	registered := 0
	changed := false
	for i := range tx.reads {
		r := &tx.reads[i]
		if tx.seenEarlier(i) {
			continue
		}
		l := r.h.waitListOf()
		l.mu.Lock()
		l.ws = append(l.ws, wt)
		// seq-cst: pairs with the commit's waiting load (installWrites).
		r.h.addWaiter(1)
		l.mu.Unlock()
		registered = i + 1
		if r.h.meta.Load() != r.meta {
			changed = true
			break
		}
	}
	if !changed {
		if tx.ctx == nil {
			<-wt.ch
		} else {
			select {
			case <-wt.ch:
			case <-tx.ctx.Done():
				cancelled = true
			}
		}
	}
	for i := 0; i < registered; i++ {
		if !tx.seenEarlier(i) {
			unregister(tx.reads[i].h, wt)
		}
	}
	return cancelled
}

// seenEarlier reports whether reads[i]'s Var occurs earlier in the read set.
func (tx *Tx) seenEarlier(i int) bool {
	h := tx.reads[i].h
	if len(tx.reads) > logIndexMin {
		return tx.findRead(h) != &tx.reads[i]
	}
	for j := 0; j < i; j++ {
		if tx.reads[j].h == h {
			return true
		}
	}
	return false
}

func unregister(h *varHeader, wt *waiter) {
	l := h.waitListOf()
	l.mu.Lock()
	for i, x := range l.ws {
		if x == wt {
			last := len(l.ws) - 1
			l.ws[i] = l.ws[last]
			l.ws[last] = nil
			l.ws = l.ws[:last]
			h.addWaiter(-1)
			break
		}
	}
	l.mu.Unlock()
}

// wakeWaiters wakes every transaction waiting on h. Waiters unregister
// themselves, so a waiter woken through one Var leaves the others' lists.
func wakeWaiters(h *varHeader) {
	l := h.waitListOf()
	l.mu.Lock()
	for _, wt := range l.ws {
		select {
		case wt.ch <- struct{}{}:
		default:
		}
	}
	l.mu.Unlock()
}
