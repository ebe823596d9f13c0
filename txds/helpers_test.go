package txds

import (
	"maps"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"pgregory.net/rapid"

	"github.com/hytm/hytm/stm"
)

// atomically runs fn as a transaction that must succeed.
func atomically(t interface {
	Helper()
	Fatalf(string, ...any)
}, fn func(tx *stm.Tx) error) {
	t.Helper()
	if err := stm.Atomically(fn); err != nil {
		t.Fatalf("Atomically: %v", err)
	}
}

// scale returns n, or n/10 under -short.
func scale(n int) int {
	if testing.Short() {
		return max(n/10, 1)
	}
	return n
}

// abortRate runs fn on g goroutines at once, with GOMAXPROCS at least g, and
// returns the aborts and commits of the software TM while they ran.
func abortRate(t *testing.T, g int, fn func(id int)) (aborts, commits uint64) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(g, runtime.GOMAXPROCS(0))))
	before := stm.ReadStats()
	var wg sync.WaitGroup
	for id := range g {
		wg.Go(func() { fn(id) })
	}
	wg.Wait()
	after := stm.ReadStats()
	return after.TotalAborts() - before.TotalAborts(), after.Commits() - before.Commits()
}

// checkAbortRate fails t if more than 1 attempt per 1,000 commits aborted
// (30 under the race detector: race_test.go).
func checkAbortRate(t *testing.T, what string, aborts, commits uint64) {
	t.Helper()
	t.Logf("%s: %d aborts / %d commits", what, aborts, commits)
	limit := uint64(1) // per 1,000
	if raceEnabled {
		limit = 30 // see race_test.go
	}
	if commits == 0 || aborts*1000 > limit*commits {
		t.Errorf("%s: %d aborts in %d commits, want at most %d per 1,000", what, aborts, commits, limit)
	}
}

func mustPanic(t *testing.T, prefix string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		s, _ := r.(string)
		if len(s) < len(prefix) || s[:len(prefix)] != prefix {
			t.Errorf("panic %v, want one starting %q", r, prefix)
		}
	}()
	fn()
}

// kvMap is what Map[int, int] and SortedMap[int, int] share, for the
// reference-model tests.
type kvMap interface {
	Get(tx *stm.Tx, k int) (int, bool)
	Put(tx *stm.Tx, k, v int)
	Delete(tx *stm.Tx, k int) bool
	Len(tx *stm.Tx) int
}

// kvStep applies operation op (0 Get, 1 Put, 2 Delete, 3 Len) on key k,
// value v to m in tx and to the model want, failing t on a mismatch. It
// reports false for any other op, which the caller handles.
func kvStep(t *rapid.T, m kvMap, tx *stm.Tx, want map[int]int, op, k, v int) bool {
	switch op {
	case 0:
		got, ok := m.Get(tx, k)
		w, wok := want[k]
		if got != w || ok != wok {
			t.Fatalf("Get(%d) = %d, %v; want %d, %v", k, got, ok, w, wok)
		}
	case 1:
		m.Put(tx, k, v)
		want[k] = v
	case 2:
		_, wok := want[k]
		if ok := m.Delete(tx, k); ok != wok {
			t.Fatalf("Delete(%d) = %v, want %v", k, ok, wok)
		}
		delete(want, k)
	case 3:
		if n := m.Len(tx); n != len(want) {
			t.Fatalf("Len = %d, want %d", n, len(want))
		}
	default:
		return false
	}
	return true
}

// kvBatches returns rapid's "one" and "several" actions over op: one
// operation per transaction, or several in one transaction that is rolled
// back at random; *model follows what committed.
func kvBatches(model *map[int]int, op func(t *rapid.T, tx *stm.Tx, want map[int]int)) map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"one": func(t *rapid.T) {
			atomically(t, func(tx *stm.Tx) error { op(t, tx, *model); return nil })
		},
		"several": func(t *rapid.T) {
			n := rapid.IntRange(1, 6).Draw(t, "n")
			rollback := rapid.Bool().Draw(t, "rollback")
			want := maps.Clone(*model)
			err := stm.Atomically(func(tx *stm.Tx) error {
				for range n {
					op(t, tx, want)
				}
				if rollback {
					return errRollback
				}
				return nil
			})
			if rollback != (err != nil) {
				t.Fatalf("Atomically = %v", err)
			}
			if !rollback {
				*model = want
			}
		},
	}
}

// checkLinearizable records scale(200) rounds of histories, each from 3
// goroutines that run 8 operations: start(round) prepares the round and
// returns op, which runs client c's i-th operation and returns its input
// and output. It checks every history with porcupine against model.
func checkLinearizable(t *testing.T, model porcupine.Model, start func(round int) func(c, i int) (in, out any)) {
	t.Helper()
	t0 := time.Now()
	now := func() int64 { return int64(time.Since(t0)) }
	for round := range scale(200) {
		op := start(round)
		var mu sync.Mutex
		var ops []porcupine.Operation
		var wg sync.WaitGroup
		for c := range 3 {
			wg.Go(func() {
				for i := range 8 {
					call := now()
					in, out := op(c, i)
					ret := now()
					mu.Lock()
					ops = append(ops, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if !porcupine.CheckOperations(model, ops) {
			t.Fatalf("round %d: history not linearizable: %+v", round, ops)
		}
	}
}
