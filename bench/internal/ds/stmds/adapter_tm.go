package stmds

import (
	"fmt"

	"github.com/hytm/hytm/bench/internal/wl"
	tm "github.com/hytm/hytm/stm"
)

// This file adapts the data structures to the wl interfaces: every
// operation is one call of tm.Atomically, written the way a user would.

// atomically runs fn as a transaction and panics if the TM reports an
// error: the workloads' bodies never return one.
func atomically(fn func(tx *tm.Tx) error) {
	if err := tm.Atomically(fn); err != nil {
		panic(fmt.Sprintf("bench: Atomically: %v", err))
	}
}

// NewSet returns an empty set of the given kind ("list", "skiplist",
// "rbtree" or "hashset") whose operations are transactions; size is the
// expected number of keys (it sizes the hash table).
func NewSet(kind string, size int) (wl.Set, error) {
	s, err := newSetImpl(kind, size)
	if err != nil {
		return nil, err
	}
	return txSet{s}, nil
}

type txSet struct{ s setImpl }

func (a txSet) Insert(w *wl.Worker, key int) (ok bool) {
	atomically(func(tx *tm.Tx) error {
		w.Attempts++
		ok = a.s.Insert(tx, key)
		return nil
	})
	return ok
}

func (a txSet) Remove(w *wl.Worker, key int) (ok bool) {
	atomically(func(tx *tm.Tx) error {
		w.Attempts++
		ok = a.s.Remove(tx, key)
		return nil
	})
	return ok
}

func (a txSet) Contains(w *wl.Worker, key int) (ok bool) {
	atomically(func(tx *tm.Tx) error {
		w.Attempts++
		ok = a.s.Contains(tx, key)
		return nil
	})
	return ok
}

func (a txSet) Keys(w *wl.Worker) (keys []int) {
	atomically(func(tx *tm.Tx) error {
		keys = a.s.Keys(tx)
		return nil
	})
	return keys
}

func (a txSet) Check(w *wl.Worker) (err error) {
	atomically(func(tx *tm.Tx) error {
		err = a.s.Check(tx)
		return nil
	})
	return err
}

// NewBank returns n accounts holding initial each, as a wl.Bank whose
// operations are transactions.
func NewBank(n, initial int) wl.Bank { return txBank{NewAccounts(n, initial)} }

type txBank struct{ a *Accounts }

func (b txBank) Transfer(w *wl.Worker, from, to, amount int) {
	atomically(func(tx *tm.Tx) error {
		w.Attempts++
		b.a.Transfer(tx, from, to, amount)
		return nil
	})
}

func (b txBank) Audit(w *wl.Worker) (sum int) {
	atomically(func(tx *tm.Tx) error {
		w.Attempts++
		w.ROAttempts++
		sum = b.a.Audit(tx)
		return nil
	})
	return sum
}

func (b txBank) Balances(w *wl.Worker) (out []int) {
	atomically(func(tx *tm.Tx) error {
		out = b.a.Balances(tx)
		return nil
	})
	return out
}

// NewTravel returns a vacation-lite manager (see [NewManager]) whose
// operations are transactions.
func NewTravel(n int, row func(kind, id int) wl.Resource) wl.Travel {
	return txTravel{NewManager(n, row)}
}

type txTravel struct{ m *Manager }

func (t txTravel) MakeReservation(w *wl.Worker, cust int, kinds, ids []int) (ok bool) {
	atomically(func(tx *tm.Tx) error {
		w.Attempts++
		ok = t.m.MakeReservation(tx, cust, kinds, ids)
		return nil
	})
	return ok
}

func (t txTravel) DeleteCustomer(w *wl.Worker, cust int) (ok bool) {
	atomically(func(tx *tm.Tx) error {
		w.Attempts++
		ok = t.m.DeleteCustomer(tx, cust)
		return nil
	})
	return ok
}

func (t txTravel) UpdateTables(w *wl.Worker, kinds, ids []int, add []bool, prices []int) {
	atomically(func(tx *tm.Tx) error {
		w.Attempts++
		t.m.UpdateTables(tx, kinds, ids, add, prices)
		return nil
	})
}

func (t txTravel) Snapshot(w *wl.Worker) (s wl.TravelState) {
	atomically(func(tx *tm.Tx) error {
		s = t.m.Snapshot(tx)
		return nil
	})
	return s
}
