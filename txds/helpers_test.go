package txds

import (
	"runtime"
	"sync"
	"testing"

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
