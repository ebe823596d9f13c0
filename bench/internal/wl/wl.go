// Package wl holds what the workloads and the variants share: the per-goroutine
// [Worker] and the interfaces a variant implements for each kind of workload.
//
// Every method of [Set], [Bank] and [Travel] is one atomic operation: a
// transaction for the TM variants, a critical section for the lock variants,
// a plain call for seq.
package wl

// Worker is one benchmark goroutine's private state: its random number
// generator and its counters. A Worker must not be shared between goroutines.
type Worker struct {
	rng uint64

	// Ops counts completed operations (committed transactions).
	Ops uint64
	// Attempts counts executions of transaction bodies, so Attempts-Ops is
	// the number of aborted attempts. Lock variants count one per operation.
	Attempts uint64
	// ROAttempts and ROOps count the attempts and completions of the long
	// read-only operations (bank audits).
	ROAttempts, ROOps uint64
	// Err records the first invariant violation the worker observed while
	// running (for example, an audit that saw a wrong total).
	Err error

	_ [64]byte // keep workers' hot counters on separate cache lines
}

// NewWorker returns a Worker whose random stream is determined by seed.
func NewWorker(seed uint64) *Worker {
	w := &Worker{rng: seed*0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D}
	if w.rng == 0 {
		w.rng = 1
	}
	return w
}

// Uint64 returns the next pseudo-random number (xorshift64*).
func (w *Worker) Uint64() uint64 {
	x := w.rng
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	w.rng = x
	return x * 0x2545F4914F6CDD1D
}

// Intn returns a pseudo-random number in [0, n). n must be positive.
func (w *Worker) Intn(n int) int {
	return int((w.Uint64() >> 32) * uint64(n) >> 32)
}

// Set is an integer set. Keys returns the contents in increasing order and
// Check verifies the structure's own invariants (order, balance, links); both
// are meant for a quiescent set.
type Set interface {
	Insert(w *Worker, key int) bool
	Remove(w *Worker, key int) bool
	Contains(w *Worker, key int) bool
	Keys(w *Worker) []int
	Check(w *Worker) error
}

// Bank is an array of accounts. Transfer moves amount from one account to
// another; Audit sums all balances in one long read-only operation; Balances
// returns every balance (quiescent use).
type Bank interface {
	Transfer(w *Worker, from, to, amount int)
	Audit(w *Worker) int
	Balances(w *Worker) []int
}

// Reservation kinds of the vacation workload.
const (
	Car = iota
	Flight
	Room
	NumKinds
)

// Travel is the vacation-lite reservation system: STAMP vacation's three
// client actions over car, flight and room tables and a customer table.
// Ids are in [1, relations]. Snapshot returns the whole state for the
// consistency check (quiescent use).
type Travel interface {
	MakeReservation(w *Worker, customer int, kinds, ids []int) bool
	DeleteCustomer(w *Worker, customer int) bool
	UpdateTables(w *Worker, kinds, ids []int, add []bool, prices []int)
	Snapshot(w *Worker) TravelState
}

// Resource is one row of a car, flight or room table. Total == 0 means the
// row is absent.
type Resource struct {
	Total, Used, Price int
}

// Booking is one reservation held by a customer.
type Booking struct {
	Kind, ID, Price int
}

// TravelState is a copy of a Travel's tables: Tables[kind][id] and
// Customers[id] (nil when the customer does not exist; index 0 unused).
type TravelState struct {
	Tables    [NumKinds][]Resource
	Customers [][]Booking
	Present   []bool
}

// Map is an int-to-int map. Get and Put are one atomic operation each;
// Contents returns every entry (quiescent use).
type Map interface {
	Get(w *Worker, key int) (int, bool)
	Put(w *Worker, key, value int)
	Contents(w *Worker) map[int]int
}

// Accounts are balances to which the interest workload applies interest:
// Interest applies Step once to each account in [lo, hi), each account in
// its own atomic operation (the accounts of one call may be updated in
// parallel, in any order); Balances returns every balance (quiescent use).
type Accounts interface {
	Interest(w *Worker, lo, hi int)
	Balances(w *Worker) []int
}

// Step is one application of interest to a balance. Applied k times it
// gives the same balance whatever the interleaving, so that a check needs
// only each account's count of applications; it stays below 1,000,003.
func Step(b int) int { return (b*101 + 7) % 1_000_003 }
