package txds_test

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hytm/hytm/stm"
	"github.com/hytm/hytm/txds"
)

var errInsufficient = errors.New("insufficient funds")

// A transfer between two keys of a Map, and a Counter of transfers, in one
// transaction.
func Example() {
	accounts := txds.NewMap[string, int]()
	transfers := txds.NewCounter()
	accounts.Store("alice", 100)

	transfer := func(from, to string, amount int) error {
		return stm.Atomically(func(tx *stm.Tx) error {
			a, _ := accounts.Get(tx, from)
			if a < amount {
				return errInsufficient // rolls back
			}
			b, _ := accounts.Get(tx, to)
			accounts.Put(tx, from, a-amount)
			accounts.Put(tx, to, b+amount)
			transfers.Add(tx, 1)
			return nil
		})
	}
	fmt.Println(transfer("alice", "bob", 30))
	fmt.Println(transfer("bob", "carol", 50))
	a, _ := accounts.Load("alice")
	b, _ := accounts.Load("bob")
	fmt.Println(a, b, accounts.Size(), transfers.Value())
	// Output:
	// <nil>
	// insufficient funds
	// 70 30 2 1
}

func ExampleMap() {
	m := txds.NewMap[string, int]()
	_ = stm.Atomically(func(tx *stm.Tx) error {
		m.Put(tx, "a", 1)
		m.Put(tx, "b", 2)
		m.Delete(tx, "a")
		return nil
	})
	var sum int
	_ = stm.Atomically(func(tx *stm.Tx) error { // read-only: one snapshot
		sum = 0
		m.Range(tx, func(_ string, v int) bool { sum += v; return true })
		return nil
	})
	fmt.Println(m.Size(), sum)
	// Output: 1 2
}

func ExampleCounter() {
	c := txds.NewCounter()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				c.AddAtomically(1) // Adds on different Ps do not conflict
			}
		})
	}
	wg.Wait()
	fmt.Println(c.Value())
	// Output: 4000
}

func ExampleQueue() {
	q := txds.NewQueue[string](0)
	done := make(chan struct{})
	go func() {
		// Get waits (Retry) until a Put commits.
		for range 3 {
			fmt.Println(q.Dequeue())
		}
		close(done)
	}()
	for _, s := range []string{"one", "two", "three"} {
		q.Enqueue(s)
	}
	<-done
	// Output:
	// one
	// two
	// three
}

// A bounded Queue: Put waits while it is full; TryGet does not wait.
func ExampleNewQueue_bounded() {
	q := txds.NewQueue[int](2)
	q.Enqueue(1)
	q.Enqueue(2)
	_ = stm.Atomically(stm.OrElse(
		func(tx *stm.Tx) error { q.Put(tx, 3); return nil }, // full: retries
		func(tx *stm.Tx) error { fmt.Println("full"); return nil },
	))
	x, ok := q.TryDequeue()
	fmt.Println(x, ok, q.Cap())
	// Output:
	// full
	// 1 true 2
}

func ExampleSortedMap() {
	m := txds.NewSortedMap[int, string]()
	for i, s := range []string{"zero", "one", "two", "three", "four"} {
		m.Store(i, s)
	}
	_ = stm.Atomically(func(tx *stm.Tx) error { // read-only: never aborts
		m.Ascend(tx, 1, 4, func(k int, v string) bool {
			fmt.Println(k, v)
			return true
		})
		return nil
	})
	// Output:
	// 1 one
	// 2 two
	// 3 three
}
