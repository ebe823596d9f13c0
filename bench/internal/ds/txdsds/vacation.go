package txdsds

import (
	"github.com/hytm/hytm/bench/internal/wl"
	"github.com/hytm/hytm/stm"
	"github.com/hytm/hytm/txds"
)

// booking is an immutable entry of a customer's reservation list.
type booking struct {
	kind, id, price int
	next            *booking
}

// customer is an immutable customer record; an update stores a new one.
type customer struct {
	bookings *booking
}

// Travel is vacation-lite's reservation manager with STAMP vacation's
// tables as maps, as in STAMP (which uses red-black trees): car, flight and
// room rows by id, and customers by id. An absent row or customer has no
// entry.
type Travel struct {
	n         int
	tables    [wl.NumKinds]*txds.Map[int, wl.Resource]
	customers *txds.Map[int, *customer]
	atomic    Atomically
}

// NewTravel returns a manager with ids 1..n, every customer present with
// no reservation and each table row set by row(kind, id), whose operations
// are transactions run by atomic.
func NewTravel(n int, row func(kind, id int) wl.Resource, atomic Atomically) *Travel {
	t := &Travel{n: n, customers: txds.NewMap[int, *customer](), atomic: atomic}
	for k := range t.tables {
		t.tables[k] = txds.NewMap[int, wl.Resource]()
	}
	// Fill in batches: one transaction per id would be slow, one for
	// everything large.
	const batch = 1024
	for lo := 1; lo <= n; lo += batch {
		atomic.run(func(tx *stm.Tx) error {
			for id := lo; id < lo+batch && id <= n; id++ {
				for k := range t.tables {
					if r := row(k, id); r.Total > 0 {
						t.tables[k].Put(tx, id, r)
					}
				}
				t.customers.Put(tx, id, &customer{})
			}
			return nil
		})
	}
	return t
}

// MakeReservation is STAMP's ACTION_MAKE_RESERVATION: it queries the rows
// (kinds[i], ids[i]), picks the most expensive present row of each kind,
// creates the customer if needed and reserves those rows for it. It reports
// whether any row was found.
func (t *Travel) MakeReservation(w *wl.Worker, cust int, kinds, ids []int) (found bool) {
	t.atomic.run(func(tx *stm.Tx) error {
		w.Attempts++
		var maxPrice, maxID [wl.NumKinds]int
		found = false
		for i, k := range kinds {
			r, ok := t.tables[k].Get(tx, ids[i])
			if ok && (maxID[k] == 0 || r.Price > maxPrice[k]) {
				maxPrice[k], maxID[k] = r.Price, ids[i]
				found = true
			}
		}
		if !found {
			return nil
		}
		if _, ok := t.customers.Get(tx, cust); !ok {
			t.customers.Put(tx, cust, &customer{})
		}
		for k, id := range maxID {
			if id > 0 {
				t.reserve(tx, cust, k, id)
			}
		}
		return nil
	})
	return found
}

// reserve books row (k, id) for customer cust if it has a free unit and the
// customer does not hold it already.
func (t *Travel) reserve(tx *stm.Tx, cust, k, id int) bool {
	c, ok := t.customers.Get(tx, cust)
	if !ok {
		return false
	}
	r, ok := t.tables[k].Get(tx, id)
	if !ok || r.Used >= r.Total {
		return false
	}
	for b := c.bookings; b != nil; b = b.next {
		if b.kind == k && b.id == id {
			return false
		}
	}
	r.Used++
	t.tables[k].Put(tx, id, r)
	t.customers.Put(tx, cust, &customer{bookings: &booking{kind: k, id: id, price: r.Price, next: c.bookings}})
	return true
}

// DeleteCustomer is STAMP's ACTION_DELETE_CUSTOMER: if the customer exists,
// it releases all its reservations and removes it.
func (t *Travel) DeleteCustomer(w *wl.Worker, cust int) (ok bool) {
	t.atomic.run(func(tx *stm.Tx) error {
		w.Attempts++
		var c *customer
		if c, ok = t.customers.Get(tx, cust); !ok {
			return nil
		}
		for b := c.bookings; b != nil; b = b.next {
			r, _ := t.tables[b.kind].Get(tx, b.id)
			r.Used--
			t.tables[b.kind].Put(tx, b.id, r)
		}
		t.customers.Delete(tx, cust)
		return nil
	})
	return ok
}

// UpdateTables is STAMP's ACTION_UPDATE_TABLES: for each i it adds 100
// units to row (kinds[i], ids[i]) at prices[i], creating the row if absent,
// or removes 100 free units, deleting the row when none is left.
func (t *Travel) UpdateTables(w *wl.Worker, kinds, ids []int, add []bool, prices []int) {
	t.atomic.run(func(tx *stm.Tx) error {
		w.Attempts++
		for i, k := range kinds {
			r, _ := t.tables[k].Get(tx, ids[i])
			if add[i] {
				r.Total += 100
				r.Price = prices[i]
			} else {
				if r.Total-r.Used < 100 {
					continue
				}
				r.Total -= 100
				if r.Total == 0 {
					t.tables[k].Delete(tx, ids[i])
					continue
				}
			}
			t.tables[k].Put(tx, ids[i], r)
		}
		return nil
	})
}

// Snapshot copies the tables and the customers' reservations. A table
// entry outside 1..n, or one with Total == 0, is copied into row 0 of its
// table as a row the check rejects (row 0 holds no reservation).
func (t *Travel) Snapshot(w *wl.Worker) (s wl.TravelState) {
	t.atomic.run(func(tx *stm.Tx) error {
		s = wl.TravelState{}
		for k := range t.tables {
			s.Tables[k] = make([]wl.Resource, t.n+1)
			t.tables[k].Range(tx, func(id int, r wl.Resource) bool {
				if id < 1 || id > t.n || r.Total == 0 {
					s.Tables[k][0] = wl.Resource{Used: -1}
					return true
				}
				s.Tables[k][id] = r
				return true
			})
		}
		s.Customers = make([][]wl.Booking, t.n+1)
		s.Present = make([]bool, t.n+1)
		t.customers.Range(tx, func(id int, c *customer) bool {
			if id < 1 || id > t.n {
				s.Present[0] = true
				s.Customers[0] = append(s.Customers[0], wl.Booking{})
				return true
			}
			s.Present[id] = true
			for b := c.bookings; b != nil; b = b.next {
				s.Customers[id] = append(s.Customers[id], wl.Booking{Kind: b.kind, ID: b.id, Price: b.price})
			}
			return true
		})
		return nil
	})
	return s
}
