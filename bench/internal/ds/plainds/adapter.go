package plainds

import (
	"sync"

	"github.com/hytm/hytm/bench/internal/wl"
)

// Tx stands for the transaction parameter of the generated code; the plain
// structures never use it.
type Tx struct{}

// Lock selects how the plain structures are synchronised.
type Lock int

const (
	// None: no synchronisation (the seq variant, one goroutine only).
	None Lock = iota
	// Mutex: one sync.Mutex around every operation.
	Mutex
	// RWMutex: one sync.RWMutex, read-locked by read-only operations
	// (Contains, Audit) and write-locked by the others.
	RWMutex
)

// NewSet returns an empty set of the given kind ("list", "skiplist",
// "rbtree" or "hashset") synchronised by lock.
func NewSet(kind string, size int, lock Lock) (wl.Set, error) {
	s, err := newSetImpl(kind, size)
	if err != nil {
		return nil, err
	}
	switch lock {
	case Mutex:
		return &mutexSet{s: s}, nil
	case RWMutex:
		return &rwSet{s: s}, nil
	}
	return seqSet{s}, nil
}

type seqSet struct{ s setImpl }

func (a seqSet) Insert(w *wl.Worker, key int) bool   { return a.s.Insert(nil, key) }
func (a seqSet) Remove(w *wl.Worker, key int) bool   { return a.s.Remove(nil, key) }
func (a seqSet) Contains(w *wl.Worker, key int) bool { return a.s.Contains(nil, key) }
func (a seqSet) Keys(w *wl.Worker) []int             { return a.s.Keys(nil) }
func (a seqSet) Check(w *wl.Worker) error            { return a.s.Check(nil) }

type mutexSet struct {
	mu sync.Mutex
	s  setImpl
}

func (a *mutexSet) Insert(w *wl.Worker, key int) bool {
	a.mu.Lock()
	ok := a.s.Insert(nil, key)
	a.mu.Unlock()
	return ok
}

func (a *mutexSet) Remove(w *wl.Worker, key int) bool {
	a.mu.Lock()
	ok := a.s.Remove(nil, key)
	a.mu.Unlock()
	return ok
}

func (a *mutexSet) Contains(w *wl.Worker, key int) bool {
	a.mu.Lock()
	ok := a.s.Contains(nil, key)
	a.mu.Unlock()
	return ok
}

func (a *mutexSet) Keys(w *wl.Worker) []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.s.Keys(nil)
}

func (a *mutexSet) Check(w *wl.Worker) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.s.Check(nil)
}

type rwSet struct {
	mu sync.RWMutex
	s  setImpl
}

func (a *rwSet) Insert(w *wl.Worker, key int) bool {
	a.mu.Lock()
	ok := a.s.Insert(nil, key)
	a.mu.Unlock()
	return ok
}

func (a *rwSet) Remove(w *wl.Worker, key int) bool {
	a.mu.Lock()
	ok := a.s.Remove(nil, key)
	a.mu.Unlock()
	return ok
}

func (a *rwSet) Contains(w *wl.Worker, key int) bool {
	a.mu.RLock()
	ok := a.s.Contains(nil, key)
	a.mu.RUnlock()
	return ok
}

func (a *rwSet) Keys(w *wl.Worker) []int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.s.Keys(nil)
}

func (a *rwSet) Check(w *wl.Worker) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.s.Check(nil)
}

// NewBank returns n accounts holding initial each, synchronised by lock.
func NewBank(n, initial int, lock Lock) wl.Bank {
	a := NewAccounts(n, initial)
	switch lock {
	case Mutex:
		return &mutexBank{a: a}
	case RWMutex:
		return &rwBank{a: a}
	}
	return seqBank{a}
}

type seqBank struct{ a *Accounts }

func (b seqBank) Transfer(w *wl.Worker, from, to, amount int) { b.a.Transfer(nil, from, to, amount) }
func (b seqBank) Audit(w *wl.Worker) int                      { w.ROAttempts++; return b.a.Audit(nil) }
func (b seqBank) Balances(w *wl.Worker) []int                 { return b.a.Balances(nil) }

type mutexBank struct {
	mu sync.Mutex
	a  *Accounts
}

func (b *mutexBank) Transfer(w *wl.Worker, from, to, amount int) {
	b.mu.Lock()
	b.a.Transfer(nil, from, to, amount)
	b.mu.Unlock()
}

func (b *mutexBank) Audit(w *wl.Worker) int {
	w.ROAttempts++
	b.mu.Lock()
	sum := b.a.Audit(nil)
	b.mu.Unlock()
	return sum
}

func (b *mutexBank) Balances(w *wl.Worker) []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.a.Balances(nil)
}

type rwBank struct {
	mu sync.RWMutex
	a  *Accounts
}

func (b *rwBank) Transfer(w *wl.Worker, from, to, amount int) {
	b.mu.Lock()
	b.a.Transfer(nil, from, to, amount)
	b.mu.Unlock()
}

func (b *rwBank) Audit(w *wl.Worker) int {
	w.ROAttempts++
	b.mu.RLock()
	sum := b.a.Audit(nil)
	b.mu.RUnlock()
	return sum
}

func (b *rwBank) Balances(w *wl.Worker) []int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.a.Balances(nil)
}

// NewTravel returns a vacation-lite manager (see [NewManager]) synchronised
// by lock. Every vacation action may write, so RWMutex write-locks them all.
func NewTravel(n int, row func(kind, id int) wl.Resource, lock Lock) wl.Travel {
	m := NewManager(n, row)
	if lock == None {
		return seqTravel{m}
	}
	return &lockTravel{m: m}
}

type seqTravel struct{ m *Manager }

func (t seqTravel) MakeReservation(w *wl.Worker, cust int, kinds, ids []int) bool {
	return t.m.MakeReservation(nil, cust, kinds, ids)
}

func (t seqTravel) DeleteCustomer(w *wl.Worker, cust int) bool {
	return t.m.DeleteCustomer(nil, cust)
}

func (t seqTravel) UpdateTables(w *wl.Worker, kinds, ids []int, add []bool, prices []int) {
	t.m.UpdateTables(nil, kinds, ids, add, prices)
}

func (t seqTravel) Snapshot(w *wl.Worker) wl.TravelState { return t.m.Snapshot(nil) }

type lockTravel struct {
	mu sync.Mutex
	m  *Manager
}

func (t *lockTravel) MakeReservation(w *wl.Worker, cust int, kinds, ids []int) bool {
	t.mu.Lock()
	ok := t.m.MakeReservation(nil, cust, kinds, ids)
	t.mu.Unlock()
	return ok
}

func (t *lockTravel) DeleteCustomer(w *wl.Worker, cust int) bool {
	t.mu.Lock()
	ok := t.m.DeleteCustomer(nil, cust)
	t.mu.Unlock()
	return ok
}

func (t *lockTravel) UpdateTables(w *wl.Worker, kinds, ids []int, add []bool, prices []int) {
	t.mu.Lock()
	t.m.UpdateTables(nil, kinds, ids, add, prices)
	t.mu.Unlock()
}

func (t *lockTravel) Snapshot(w *wl.Worker) wl.TravelState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m.Snapshot(nil)
}
