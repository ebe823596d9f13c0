package stm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/hytm/hytm/internal/gcore"
)

// Nursery sweeps. A goroutine keeps its worker, and so its nursery, between
// transactions (active.go), and a goroutine that exits leaves both behind
// until a later goroutine inherits its table entry, which may never happen.
// So free nodes are let go from the outside:
//
//   - once per GC cycle, the nurseries of workers that ran no transaction
//     since the previous cycle are flushed, and the depots that no worker
//     took a list from since then are drained (gcore.TypeKey.Age);
//   - TrimAll flushes the nursery of every worker that is idle at the time,
//     and drains every depot;
//   - a pooled worker is flushed when it goes back to the pool (putWorker),
//     so that the pool never holds free nodes nor the room they reserve
//     against gcore.MaxKeptBytes.
//
// Flushing another goroutine's nursery is safe by gcore.Slot.Hold: a worker
// touches its nursery only while its slot is pinned (transactions, the trim
// queue, hardware attempts), and a pin waits for a Hold on its slot to end.

// workers is every worker made, as weak pointers: a pooled worker that the
// sync.Pool let go is collected as before.
var workers struct {
	mu  sync.Mutex
	all []weak.Pointer[worker]
}

var sweepsOnce sync.Once

// gcSweeps counts the per-GC-cycle sweeps done (for tests).
var gcSweeps atomic.Uint64

// registerWorker adds w to the sweeps, and starts the per-GC-cycle sweep
// with the first worker.
func registerWorker(w *worker) {
	workers.mu.Lock()
	workers.all = append(workers.all, weak.Make(w))
	workers.mu.Unlock()
	sweepsOnce.Do(armSweep)
}

// gcTick is an object made only to be collected: its cleanup runs once per
// GC cycle (it holds a pointer, so the tiny allocator never batches it with
// a live object).
type gcTick struct{ _ *int }

// armSweep arranges for sweepIdle to run after the next GC cycle, and
// again after every later one.
func armSweep() {
	runtime.AddCleanup(new(gcTick), func(int) {
		sweepIdle(true)
		gcSweeps.Add(1)
		armSweep()
	}, 0)
}

// sweepIdle flushes the nurseries of idle workers: with aged, of those idle
// since the previous sweepIdle(true) (and drains the depots unused since
// then); without, of every worker idle now. It returns the number of nodes
// let go.
func sweepIdle(aged bool) int {
	workers.mu.Lock()
	live := make([]*worker, 0, len(workers.all))
	keep := workers.all[:0]
	for _, wp := range workers.all {
		if w := wp.Value(); w != nil {
			live = append(live, w)
			keep = append(keep, wp)
		}
	}
	clear(workers.all[len(keep):])
	workers.all = keep
	workers.mu.Unlock()
	n := 0
	for _, w := range live {
		if w.slot.Hold(aged) {
			n += w.nursery.Flush()
			w.slot.Unhold()
		}
	}
	if aged {
		typeKeys.Range(func(_, k any) bool {
			k.(*gcore.TypeKey).Age()
			return true
		})
	}
	return n
}
