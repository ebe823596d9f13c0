package txds

import (
	"sync/atomic"

	"golang.org/x/sys/cpu"

	"github.com/hytm/hytm/stm"
)

// Queue is a transactional FIFO queue whose Puts from different goroutines
// do not conflict with each other, after the queue of PyPy's stmgc: each
// stripe (one per P, see stripe.go) has its own put list, and Gets merge
// the lists.
//
// # Order
//
// Every element gets a ticket from a counter of the queue when its Put runs
// (in the attempt that commits). Get and TryGet take the element with the
// smallest ticket among the elements whose Put committed before the Get's
// transaction began; an element whose Put commits while the Get runs may or
// may not be considered. Hence:
//
//   - the Puts of one goroutine come out in the order they were made, and so
//     do Puts in one transaction;
//   - if one Put's transaction returned before another's began (in the Go
//     memory model's sense), its element comes out first;
//   - Puts whose transactions overlap in time come out in the order of their
//     Put calls, unless a Get running at the same time passed over the
//     earlier one because it was not committed yet.
//
// So the Queue is linearizable as a FIFO queue when each operation is its
// own transaction (TestQueueLinearizable checks it). Inside larger
// transactions, a Get's choice between put lists is not validated: Gets do
// not conflict with Puts into other lists, at the cost that across lists
// FIFO order is real-time order, not serialization order.
//
// # Conflicts
//
// Puts to an unbounded Queue from goroutines on different Ps write different
// Vars and never conflict. A Put conflicts with a Get only when the Get
// reads the Put's list while it is empty or being emptied. Gets conflict
// with each other. A bounded Queue's Put reads the length (every list), so
// Puts to a bounded Queue conflict with every Put and Get that commits
// while they run: capacity is one global condition.
//
// A Queue must be made with [NewQueue]; use it through a pointer.
type Queue[T any] struct {
	stripes  []queueStripe[T]
	mask     uint32
	capacity int

	_      cpu.CacheLinePad
	ticket atomic.Uint64 // the last ticket given
	_      cpu.CacheLinePad
}

// Design notes.
//
// A stripe is a Michael-Scott list of Vars: head points at a sentinel node
// whose next is the first element, tail at the last node. Put writes the
// last node's next and tail; Get writes head and reads its sentinel's next.
// A non-empty stripe's producers and consumers therefore touch different
// Vars, except that a Get reads the next Var of the sentinel, which a Put
// writes when the stripe is empty.
//
// Each end carries a count (Puts at the tail, Gets at the head), so Len is
// the sum of tail.n - head.n and needs no shared Var.
//
// Get must look at every stripe to find the smallest ticket. Reading an
// empty stripe in the transaction would make every Get conflict with any
// Put into an empty stripe, so Get first reads the head (only Gets write
// it) and Peeks the tail's count (the latest committed one, recorded in no
// read set): a stripe whose latest tail count equals its head count is
// passed over without reading it. A Peek can only see more than the
// snapshot, so every element committed before the Get began is considered.
// When no stripe has an element, Get reads every tail in the transaction
// before it calls Retry (so that a Put wakes it), and TryGet does too before
// it reports empty (so that a writing transaction's "empty" is validated).
//
// A dequeued sentinel keeps its element's value alive until the next Get
// from its stripe.

type queueStripe[T any] struct {
	head *stm.Var[queueEnd[T]] // the sentinel; n = Gets taken from the stripe
	tail *stm.Var[queueEnd[T]] // the last node; n = Puts into the stripe
}

type queueEnd[T any] struct {
	node *queueNode[T]
	n    uint64
}

// queueNode is immutable once linked, except through its next Var.
type queueNode[T any] struct {
	ticket uint64
	val    T
	next   *stm.Var[*queueNode[T]]
}

// NewQueue returns an empty Queue. capacity 0 means unbounded; a Queue with
// capacity > 0 holds at most capacity elements, and Put Retries while it is
// full. A negative capacity panics.
func NewQueue[T any](capacity int) *Queue[T] {
	if capacity < 0 {
		panic("txds: NewQueue with a negative capacity")
	}
	n := stripeCount()
	q := &Queue[T]{stripes: make([]queueStripe[T], n), mask: uint32(n - 1), capacity: capacity}
	for i := range q.stripes {
		s := &queueNode[T]{next: stm.NewVar[*queueNode[T]](nil)}
		q.stripes[i] = queueStripe[T]{
			head: stm.NewVar(queueEnd[T]{node: s}),
			tail: stm.NewVar(queueEnd[T]{node: s}),
		}
	}
	return q
}

func (q *Queue[T]) check() {
	if q == nil {
		panic("txds: nil Queue")
	}
	if q.stripes == nil {
		panic("txds: Queue not made with NewQueue")
	}
}

// Cap returns the Queue's capacity, 0 if unbounded.
func (q *Queue[T]) Cap() int {
	q.check()
	return q.capacity
}

// Put appends x in tx. On a bounded Queue that is full in tx's snapshot it
// calls tx.Retry: the transaction waits until a Get commits.
func (q *Queue[T]) Put(tx *stm.Tx, x T) {
	q.check()
	if q.capacity > 0 && q.Len(tx) >= q.capacity {
		tx.Retry()
	}
	s := &q.stripes[stripeHint()&q.mask]
	t := s.tail.Load(tx)
	// The ticket orders x after every element whose Put committed before
	// this attempt began, including the one t points at. relaxed would do:
	// it needs only uniqueness and the order of this goroutine's calls.
	nd := &queueNode[T]{ticket: q.ticket.Add(1), val: x, next: stm.NewVar[*queueNode[T]](nil)}
	t.node.next.Store(tx, nd)
	s.tail.Store(tx, queueEnd[T]{node: nd, n: t.n + 1})
}

// TryGet removes and returns the first element in tx, or reports false if
// the Queue is empty in tx's snapshot.
func (q *Queue[T]) TryGet(tx *stm.Tx) (T, bool) {
	q.check()
	best := -1
	var bestHead queueEnd[T]
	var first *queueNode[T]
	for i := range q.stripes {
		s := &q.stripes[i]
		h := s.head.Load(tx)
		if s.tail.Peek().n == h.n {
			continue // empty in the latest committed state: not read (see notes)
		}
		f := h.node.next.Load(tx)
		if f != nil && (first == nil || f.ticket < first.ticket) {
			best, bestHead, first = i, h, f
		}
	}
	if first == nil {
		// Empty, as far as the Peeks saw: read the tails in tx, so that the
		// answer is validated and a Retry waits for a Put.
		for i := range q.stripes {
			s := &q.stripes[i]
			if s.tail.Load(tx).n != s.head.Load(tx).n {
				// committed after the Peek and inside the snapshot: rare;
				// take it.
				h := s.head.Load(tx)
				if f := h.node.next.Load(tx); f != nil && (first == nil || f.ticket < first.ticket) {
					best, bestHead, first = i, h, f
				}
			}
		}
		if first == nil {
			var zero T
			return zero, false
		}
	}
	q.stripes[best].head.Store(tx, queueEnd[T]{node: first, n: bestHead.n + 1})
	return first.val, true
}

// Get removes and returns the first element in tx. While the Queue is empty
// in tx's snapshot it calls tx.Retry: the transaction waits until a Put
// commits.
func (q *Queue[T]) Get(tx *stm.Tx) T {
	x, ok := q.TryGet(tx)
	if !ok {
		tx.Retry()
	}
	return x
}

// Len returns the number of elements in tx's snapshot (with tx's own Puts
// and Gets). It reads every list, so a writing transaction that calls it
// conflicts with concurrent Puts and Gets.
func (q *Queue[T]) Len(tx *stm.Tx) int {
	q.check()
	var n uint64
	for i := range q.stripes {
		s := &q.stripes[i]
		n += s.tail.Load(tx).n - s.head.Load(tx).n
	}
	return int(n)
}

// Enqueue appends x in a transaction of its own (joining the caller's if
// called inside one): the one-operation form of [Queue.Put]. On a full
// bounded Queue it blocks until there is room.
func (q *Queue[T]) Enqueue(x T) {
	q.check()
	_ = stm.Atomically(func(tx *stm.Tx) error {
		q.Put(tx, x)
		return nil
	})
}

// Dequeue removes and returns the first element in a transaction of its own
// (joining the caller's if called inside one), blocking while the Queue is
// empty: the one-operation form of [Queue.Get].
func (q *Queue[T]) Dequeue() (x T) {
	q.check()
	_ = stm.Atomically(func(tx *stm.Tx) error {
		x = q.Get(tx)
		return nil
	})
	return x
}

// TryDequeue removes and returns the first element in a transaction of its
// own (joining the caller's if called inside one), or reports false if the
// Queue is empty: the one-operation form of [Queue.TryGet].
func (q *Queue[T]) TryDequeue() (x T, ok bool) {
	q.check()
	_ = stm.Atomically(func(tx *stm.Tx) error {
		x, ok = q.TryGet(tx)
		return nil
	})
	return x, ok
}
