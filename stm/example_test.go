package stm_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hytm/hytm/stm"
)

var errInsufficientFunds = errors.New("insufficient funds")

// transfer moves amount from one account to another, or returns an error and
// changes nothing.
func transfer(from, to *stm.Var[int], amount int) error {
	return stm.Atomically(func(tx *stm.Tx) error {
		balance := from.Load(tx)
		if balance < amount {
			return errInsufficientFunds
		}
		from.Store(tx, balance-amount)
		to.Store(tx, to.Load(tx)+amount)
		return nil
	})
}

// A bank transfer: both balances change, or neither does.
func Example() {
	alice, bob := stm.NewVar(100), stm.NewVar(20)

	fmt.Println(transfer(alice, bob, 30))
	fmt.Println(transfer(bob, alice, 500))

	// A read-only transaction sees one consistent snapshot of both.
	var total int
	_ = stm.Atomically(func(tx *stm.Tx) error {
		total = alice.Load(tx) + bob.Load(tx)
		return nil
	})
	fmt.Println(alice.Peek(), bob.Peek(), total)
	// Output:
	// <nil>
	// insufficient funds
	// 70 50 120
}

func ExampleAtomically() {
	counter := stm.NewVar(0)
	log := stm.NewVar([]string(nil))

	// A nil return commits every Store.
	_ = stm.Atomically(func(tx *stm.Tx) error {
		counter.Store(tx, counter.Load(tx)+1)
		// Values are immutable once stored: Clip makes append copy the
		// slice instead of writing into a committed version's array.
		log.Store(tx, append(slices.Clip(log.Load(tx)), "incremented"))
		return nil
	})

	// An error rolls every Store back and is returned.
	err := stm.Atomically(func(tx *stm.Tx) error {
		counter.Store(tx, 100)
		return errors.New("changed my mind")
	})

	fmt.Println(counter.Peek(), log.Peek(), err)
	// Output: 1 [incremented] changed my mind
}

func ExampleOrElse() {
	stock := stm.NewVar(0) // nothing left in the main store
	backorders := stm.NewVar(0)
	reserved := stm.NewVar(0)

	fromStock := func(tx *stm.Tx) error {
		reserved.Store(tx, reserved.Load(tx)+1) // discarded if this branch retries
		n := stock.Load(tx)
		if n == 0 {
			tx.Retry()
		}
		stock.Store(tx, n-1)
		return nil
	}
	backorder := func(tx *stm.Tx) error {
		backorders.Store(tx, backorders.Load(tx)+1)
		return nil
	}

	_ = stm.Atomically(stm.OrElse(fromStock, backorder))
	fmt.Println("reserved:", reserved.Peek(), "backorders:", backorders.Peek())
	// Output: reserved: 0 backorders: 1
}

func ExampleTx_Retry() {
	mailbox := stm.NewVar("")
	received := make(chan string)

	go func() {
		var msg string
		_ = stm.Atomically(func(tx *stm.Tx) error {
			msg = mailbox.Load(tx)
			if msg == "" {
				tx.Retry() // sleep until mailbox changes
			}
			mailbox.Store(tx, "")
			return nil
		})
		received <- msg
	}()

	_ = stm.Atomically(func(tx *stm.Tx) error {
		mailbox.Store(tx, "hello")
		return nil
	})
	fmt.Println(<-received)
	fmt.Printf("mailbox now %q\n", mailbox.Peek())
	// Output:
	// hello
	// mailbox now ""
}

func ExampleVar_Peek() {
	hits := stm.NewVar(0)
	for range 3 {
		_ = stm.Atomically(func(tx *stm.Tx) error {
			hits.Store(tx, hits.Load(tx)+1)
			return nil
		})
	}
	// Peek reads the latest committed value without a transaction, for
	// monitoring and tests. Two Peeks are not one snapshot.
	fmt.Println(hits.Peek())
	// Output: 3
}

func ExampleAtomicallyValue() {
	nextID := stm.NewVar(41)
	// The body may run more than once; only the committed attempt's value is
	// returned, so there is no captured variable to reset.
	id, err := stm.AtomicallyValue(func(tx *stm.Tx) (int, error) {
		id := nextID.Load(tx) + 1
		nextID.Store(tx, id)
		return id, nil
	})
	fmt.Println(id, err)
	// Output: 42 <nil>
}

func ExampleAtomicallyContext() {
	jobs := stm.NewVar(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	// Wait for a job, but not for ever: the Retry wait ends with the context.
	err := stm.AtomicallyContext(ctx, func(tx *stm.Tx) error {
		n := jobs.Load(tx)
		stm.Check(tx, n > 0)
		jobs.Store(tx, n-1)
		return nil
	})
	fmt.Println(err)
	// Output: context deadline exceeded
}

func ExampleVar_Swap() {
	state := stm.NewVar("idle")
	var old string
	_ = stm.Atomically(func(tx *stm.Tx) error {
		old = state.Swap(tx, "running")
		return nil
	})
	fmt.Println(old, state.Peek())
	// Output: idle running
}

func ExampleVar_Modify() {
	hits := stm.NewVar(1)
	_ = stm.Atomically(func(tx *stm.Tx) error {
		hits.Modify(tx, func(n int) int { return n * 10 })
		return nil
	})
	fmt.Println(hits.Peek())
	// Output: 10
}

func ExampleCompareAndSwap() {
	owner := stm.NewVar("")
	claim := func(who string) bool {
		ok, _ := stm.AtomicallyValue(func(tx *stm.Tx) (bool, error) {
			return stm.CompareAndSwap(tx, owner, "", who), nil
		})
		return ok
	}
	fmt.Println(claim("alice"), claim("bob"), owner.Peek())
	// Output: true false alice
}

func ExampleCheck() {
	ready := stm.NewVar(false)
	done := make(chan string)
	go func() {
		// Blocks until ready is true: Check retries, and the transaction
		// sleeps until a Var it read changes.
		_ = stm.Atomically(func(tx *stm.Tx) error {
			stm.Check(tx, ready.Load(tx))
			return nil
		})
		done <- "ready"
	}()
	_ = stm.Atomically(func(tx *stm.Tx) error { ready.Store(tx, true); return nil })
	fmt.Println(<-done)
	// Output: ready
}

// A Var can be a field of a struct: the zero Var holds the zero value and
// is ready to use, and Init gives a fresh one another first value, so a
// node and its Vars are one allocation.
func ExampleVar_Init() {
	type node struct {
		key   int
		count stm.Var[int]    // starts at 0
		next  stm.Var[*int]   // starts at nil
		label stm.Var[string] // starts at "new", set by Init below
	}
	n := &node{key: 7}
	n.label.Init("new") // before any other goroutine can reach n
	_ = stm.Atomically(func(tx *stm.Tx) error {
		n.count.Store(tx, n.count.Load(tx)+1)
		return nil
	})
	fmt.Println(n.count.Peek(), n.next.Peek() == nil, n.label.Peek())
	// Output: 1 true new
}
