package txds

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/hytm/hytm/stm"
)

// TestQueueModel checks Queue against a slice on one goroutine, where the
// order is exact FIFO: Put, TryGet, Len, one per transaction or several in
// one, some rolled back, on bounded and unbounded queues.
func TestQueueModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		capacity := rapid.SampledFrom([]int{0, 1, 3}).Draw(t, "capacity")
		q := NewQueue[int](capacity)
		var model []int
		next := 0
		op := func(t *rapid.T, tx *stm.Tx, want *[]int) {
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				if capacity > 0 && len(*want) >= capacity {
					return // would Retry
				}
				q.Put(tx, next)
				*want = append(*want, next)
				next++
			case 1:
				x, ok := q.TryGet(tx)
				if ok != (len(*want) > 0) || ok && x != (*want)[0] {
					t.Fatalf("TryGet = %d, %v; want head of %v", x, ok, *want)
				}
				if ok {
					*want = (*want)[1:]
				}
			case 2:
				if n := q.Len(tx); n != len(*want) {
					t.Fatalf("Len = %d, want %d", n, len(*want))
				}
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"one": func(t *rapid.T) {
				atomically(t, func(tx *stm.Tx) error { op(t, tx, &model); return nil })
			},
			"several": func(t *rapid.T) {
				n := rapid.IntRange(1, 5).Draw(t, "n")
				rollback := rapid.Bool().Draw(t, "rollback")
				want := slices.Clone(model)
				_ = stm.Atomically(func(tx *stm.Tx) error {
					for range n {
						op(t, tx, &want)
					}
					if rollback {
						return errRollback
					}
					return nil
				})
				if !rollback {
					model = want
				}
			},
			"": func(t *rapid.T) {
				var n int
				atomically(t, func(tx *stm.Tx) error { n = q.Len(tx); return nil })
				if n != len(model) {
					t.Fatalf("Len = %d, want %d", n, len(model))
				}
			},
		})
	})
}

// TestQueueProducersConsumer: 2 producers and 1 consumer; nothing is lost or
// duplicated, each producer's elements come out in order, and Puts abort at
// most once per 1,000. Other tests and packages running at the same time
// deschedule committers that hold locks, which only adds aborts; so the
// rate gets up to three runs, and one that meets it shows that Puts do not
// conflict (a Queue whose Puts conflicted fails all three). Every run's
// elements are checked.
func TestQueueProducersConsumer(t *testing.T) {
	for run := 1; ; run++ {
		aborts, commits := queueProducersConsumer(t)
		if run == 3 || aborts*1000 <= commits {
			checkAbortRate(t, "Queue with 2 producers and 1 consumer", aborts, commits)
			return
		}
		t.Logf("run %d: %d aborts / %d commits; running again", run, aborts, commits)
	}
}

func queueProducersConsumer(t *testing.T) (aborts, commits uint64) {
	type item struct{ p, i int }
	q := NewQueue[item](0)
	n := scale(50000)
	var got []item
	aborts, commits = abortRate(t, 3, func(id int) {
		if id < 2 {
			for i := range n {
				q.Enqueue(item{id, i})
			}
			return
		}
		for range 2 * n {
			got = append(got, q.Dequeue())
		}
	})
	next := [2]int{}
	for _, x := range got {
		if x.i != next[x.p] {
			t.Fatalf("producer %d: got element %d, want %d (lost, duplicated or out of order)", x.p, x.i, next[x.p])
		}
		next[x.p]++
	}
	if x, ok := q.TryDequeue(); ok {
		t.Errorf("left over: %v", x)
	}
	return aborts, commits
}

// TestQueueRealTimeOrder: a Put that returned before another began comes
// out first, whatever stripes they used.
func TestQueueRealTimeOrder(t *testing.T) {
	q := NewQueue[int](0)
	var wg sync.WaitGroup
	order := make(chan int, 100)
	for i := range 100 {
		// Each Put runs on a fresh goroutine (on any P), after the previous
		// one returned.
		wg.Go(func() { q.Enqueue(i); order <- i })
		wg.Wait()
	}
	close(order)
	for i := range 100 {
		if x := q.Dequeue(); x != i {
			t.Fatalf("Dequeue = %d, want %d", x, i)
		}
	}
}

type queueInput struct {
	put bool
	x   int
}

type queueOutput struct {
	x  int
	ok bool
}

// queueModel is a FIFO queue of ints for porcupine; the state is an
// immutable slice.
var queueModel = porcupine.Model{
	Init: func() any { return []int(nil) },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.([]int), input.(queueInput), output.(queueOutput)
		if in.put {
			return true, append(slices.Clip(s), in.x)
		}
		if len(s) == 0 {
			return !out.ok, s
		}
		return out.ok && out.x == s[0], s[1:]
	},
	Equal: func(a, b any) bool { return slices.Equal(a.([]int), b.([]int)) },
}

// TestQueueLinearizable records small histories of Enqueue and TryDequeue
// from 3 goroutines and checks them with porcupine against a FIFO queue.
func TestQueueLinearizable(t *testing.T) {
	checkLinearizable(t, queueModel, func(int) func(c, i int) (any, any) {
		q := NewQueue[int](0)
		return func(c, i int) (any, any) {
			in := queueInput{put: (i+c)%3 != 0, x: c*100 + i}
			var out queueOutput
			if in.put {
				q.Enqueue(in.x)
			} else {
				out.x, out.ok = q.TryDequeue()
			}
			return in, out
		}
	})
}

// TestQueueModelRejects: the checker above can fail: it rejects a history
// where a later Put comes out first.
func TestQueueModelRejects(t *testing.T) {
	ops := []porcupine.Operation{
		{ClientId: 0, Input: queueInput{put: true, x: 1}, Output: queueOutput{}, Call: 0, Return: 1},
		{ClientId: 0, Input: queueInput{put: true, x: 2}, Output: queueOutput{}, Call: 2, Return: 3},
		{ClientId: 1, Input: queueInput{}, Output: queueOutput{x: 2, ok: true}, Call: 4, Return: 5},
	}
	if porcupine.CheckOperations(queueModel, ops) {
		t.Fatal("porcupine accepted an out-of-order history")
	}
}

// TestQueueBlocking: Get waits while empty, a bounded Put while full; each
// wakes when the other side commits, and no goroutine is left behind.
func TestQueueBlocking(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	q := NewQueue[int](2)
	got := make(chan int)
	go func() { got <- q.Dequeue() }()
	time.Sleep(10 * time.Millisecond)
	q.Enqueue(1)
	if x := <-got; x != 1 {
		t.Fatalf("Dequeue = %d, want 1", x)
	}
	q.Enqueue(2)
	q.Enqueue(3)
	done := make(chan struct{})
	go func() { q.Enqueue(4); close(done) }()
	select {
	case <-done:
		t.Fatal("Put into a full bounded Queue did not wait")
	case <-time.After(10 * time.Millisecond):
	}
	if x := q.Dequeue(); x != 2 {
		t.Fatalf("Dequeue = %d, want 2", x)
	}
	<-done
	if x, y := q.Dequeue(), q.Dequeue(); x != 3 || y != 4 {
		t.Fatalf("Dequeue = %d, %d; want 3, 4", x, y)
	}
}

func TestQueueMisuse(t *testing.T) {
	var q *Queue[int]
	mustPanic(t, "txds: nil Queue", func() { q.Enqueue(1) })
	mustPanic(t, "txds: nil Queue", func() { q.TryDequeue() })
	mustPanic(t, "txds: Queue not made with NewQueue", func() { new(Queue[int]).TryDequeue() })
	mustPanic(t, "txds: NewQueue with a negative capacity", func() { NewQueue[int](-1) })
}
