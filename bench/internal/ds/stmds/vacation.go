package stmds

import (
	"github.com/hytm/hytm/bench/internal/wl"
	tm "github.com/hytm/hytm/stm"
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

// Manager is vacation-lite's reservation manager: STAMP vacation's car,
// flight and room tables and its customer table, as arrays indexed by id
// (1..n) instead of red-black trees. A table row with Total == 0 is absent;
// a nil customer is absent.
type Manager struct {
	tables    [wl.NumKinds][]*tm.Var[wl.Resource]
	customers []*tm.Var[*customer]
}

// NewManager returns a manager with n ids per table, every customer present
// with no reservation, and each table row set by row(kind, id).
func NewManager(n int, row func(kind, id int) wl.Resource) *Manager {
	m := &Manager{customers: make([]*tm.Var[*customer], n+1)}
	for k := range m.tables {
		m.tables[k] = make([]*tm.Var[wl.Resource], n+1)
		for id := range m.tables[k] {
			r := wl.Resource{}
			if id > 0 {
				r = row(k, id)
			}
			m.tables[k][id] = tm.NewVar(r)
		}
	}
	for id := range m.customers {
		var c *customer
		if id > 0 {
			c = &customer{}
		}
		m.customers[id] = tm.NewVar(c)
	}
	return m
}

// MakeReservation is STAMP's ACTION_MAKE_RESERVATION: it queries the rows
// (kinds[i], ids[i]), picks the most expensive present row of each kind,
// creates the customer if needed and reserves those rows for it. It reports
// whether any row was found.
func (m *Manager) MakeReservation(tx *tm.Tx, cust int, kinds, ids []int) bool {
	var maxPrice, maxID [wl.NumKinds]int
	found := false
	for i, k := range kinds {
		r := m.tables[k][ids[i]].Load(tx)
		if r.Total > 0 && (maxID[k] == 0 || r.Price > maxPrice[k]) {
			maxPrice[k], maxID[k] = r.Price, ids[i]
			found = true
		}
	}
	if !found {
		return false
	}
	if m.customers[cust].Load(tx) == nil {
		m.customers[cust].Store(tx, &customer{})
	}
	for k, id := range maxID {
		if id > 0 {
			m.reserve(tx, cust, k, id)
		}
	}
	return true
}

// reserve books row (k, id) for customer cust if it has a free unit and the
// customer does not hold it already.
func (m *Manager) reserve(tx *tm.Tx, cust, k, id int) bool {
	c := m.customers[cust].Load(tx)
	if c == nil {
		return false
	}
	r := m.tables[k][id].Load(tx)
	if r.Total == 0 || r.Used >= r.Total {
		return false
	}
	for b := c.bookings; b != nil; b = b.next {
		if b.kind == k && b.id == id {
			return false
		}
	}
	r.Used++
	m.tables[k][id].Store(tx, r)
	m.customers[cust].Store(tx, &customer{bookings: &booking{kind: k, id: id, price: r.Price, next: c.bookings}})
	return true
}

// DeleteCustomer is STAMP's ACTION_DELETE_CUSTOMER: if the customer exists,
// it releases all its reservations and removes it.
func (m *Manager) DeleteCustomer(tx *tm.Tx, cust int) bool {
	c := m.customers[cust].Load(tx)
	if c == nil {
		return false
	}
	for b := c.bookings; b != nil; b = b.next {
		r := m.tables[b.kind][b.id].Load(tx)
		r.Used--
		m.tables[b.kind][b.id].Store(tx, r)
	}
	m.customers[cust].Store(tx, nil)
	return true
}

// UpdateTables is STAMP's ACTION_UPDATE_TABLES: for each i it adds 100
// units to row (kinds[i], ids[i]) at prices[i], creating the row if absent,
// or removes 100 free units, deleting the row when none is left.
func (m *Manager) UpdateTables(tx *tm.Tx, kinds, ids []int, add []bool, prices []int) {
	for i, k := range kinds {
		r := m.tables[k][ids[i]].Load(tx)
		if add[i] {
			r.Total += 100
			r.Price = prices[i]
		} else {
			if r.Total-r.Used < 100 {
				continue
			}
			r.Total -= 100
			if r.Total == 0 {
				r = wl.Resource{}
			}
		}
		m.tables[k][ids[i]].Store(tx, r)
	}
}

// Snapshot copies the tables and the customers' reservations.
func (m *Manager) Snapshot(tx *tm.Tx) wl.TravelState {
	var s wl.TravelState
	for k := range m.tables {
		s.Tables[k] = make([]wl.Resource, len(m.tables[k]))
		for id := range m.tables[k] {
			s.Tables[k][id] = m.tables[k][id].Load(tx)
		}
	}
	s.Customers = make([][]wl.Booking, len(m.customers))
	s.Present = make([]bool, len(m.customers))
	for id := range m.customers {
		c := m.customers[id].Load(tx)
		if c == nil {
			continue
		}
		s.Present[id] = true
		for b := c.bookings; b != nil; b = b.next {
			s.Customers[id] = append(s.Customers[id], wl.Booking{Kind: b.kind, ID: b.id, Price: b.price})
		}
	}
	return s
}
