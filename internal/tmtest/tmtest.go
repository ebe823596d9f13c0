// Package tmtest is the behaviour suite shared by hytm's transactional
// memories. The same tests run against package stm and against package
// hybrid (whose Tx and Var are aliases of stm's), so that both are held to one
// specification: opacity, serializability, read-only transactions that run
// once, Retry and OrElse, rollback on error and panic, flat nesting and the
// misuse panics. Beyond invariant-checking hammers, HistoryChecker records
// random histories, aborted attempts included, and checks them for strict
// serializability with a serialization graph (history.go).
//
// A package under test calls [Run] from an ordinary test:
//
//	func TestBehaviour(t *testing.T) {
//		tmtest.Run(t, tmtest.Impl{Name: "stm", Atomically: stm.Atomically, OrElse: stm.OrElse})
//	}
//
// The hammer tests run for a fixed time or a fixed count, both reduced under
// testing.Short. The whole suite is meant to stay well inside 20 s with
// -race -short and 60 s with -race on a 2-core machine.
//
// Bodies in this suite follow the rules for transaction bodies: they never
// recover, they call no testing.T method that stops the goroutine, and any
// side effect they have is either idempotent or counted on purpose.
package tmtest

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hytm/hytm/stm"
)

// Impl is one transactional memory under test. Vars are always made with
// stm.NewVar, which every implementation in hytm shares.
type Impl struct {
	// Name names the implementation in subtest names, such as "stm" or
	// "hybrid/emulate".
	Name string
	// Atomically runs a body as one transaction, with the contract of
	// stm.Atomically.
	Atomically func(func(*stm.Tx) error) error
	// OrElse composes alternatives, with the contract of stm.OrElse.
	OrElse func(...func(*stm.Tx) error) func(*stm.Tx) error
}

// Run runs the behaviour suite against impl, one subtest per rule, grouped
// under impl.Name. The subtests run one after another, never in parallel:
// several of them count goroutines or body runs.
func Run(t *testing.T, impl Impl) {
	t.Helper()
	if impl.Atomically == nil || impl.OrElse == nil {
		t.Fatalf("tmtest: Impl %q needs both Atomically and OrElse", impl.Name)
	}
	name := impl.Name
	if name == "" {
		name = "impl"
	}
	s := &suite{Impl: impl}
	t.Run(name, func(t *testing.T) {
		for _, tc := range []struct {
			name string
			fn   func(*testing.T)
		}{
			{"ReadYourWrites", s.testReadYourWrites},
			{"ErrorRollback", s.testErrorRollback},
			{"PanicRollback", s.testPanicRollback},
			{"FlatNesting", s.testFlatNesting},
			{"MisusePanics", s.testMisusePanics},
			{"LostUpdates", s.testLostUpdates},
			{"Bank", s.testBank},
			{"OpacityProbe", s.testOpacityProbe},
			{"WriteSkew", s.testWriteSkew},
			{"RealTimeSingleVar", s.testRealTimeSingleVar},
			{"LongFork", s.testLongFork},
			{"HistoryChecker", s.testHistoryChecker},
			{"ReadOnlyOnce", s.testReadOnlyOnce},
			{"RetryWakes", s.testRetryWakes},
			{"OrElseDiscards", s.testOrElseDiscards},
			{"Livelock", s.testLivelock},
			{"Starvation", s.testStarvation},
			{"Inevitable", s.testInevitable},
			{"Exits", s.testExits},
			{"AfterCommit", s.testAfterCommit},
		} {
			t.Run(tc.name, tc.fn)
		}
	})
}

// VerifyNone fails t if any goroutine is still running that is not a
// testing goroutine and not ignored by opts. The Retry and OrElse subtests
// call it, with goleak.IgnoreCurrent taken at their start, once their waiters
// have finished: a Retry waiter must not leave a goroutine behind.
func VerifyNone(t testing.TB, opts ...goleak.Option) {
	t.Helper()
	goleak.VerifyNone(t, opts...)
}

// suite carries the implementation into the subtests.
type suite struct {
	Impl
}

func (s *suite) atomically(fn func(*stm.Tx) error) error { return s.Atomically(fn) }

// scale picks the count for the current mode.
func scale(short, long int) int {
	if testing.Short() {
		return short
	}
	return long
}

// span picks the duration for the current mode.
func span(short, long time.Duration) time.Duration {
	if testing.Short() {
		return short
	}
	return long
}

// patience is how long a test waits for something that should take
// microseconds (a wake-up, a commit after a rollback) before declaring it
// stuck. It is generous because the race detector on a loaded 2-core machine
// can stall a goroutine for a long time.
const patience = 5 * time.Second

// settle is how long a test lets a goroutine reach a blocking point before
// checking that it stays blocked.
const settle = 20 * time.Millisecond

// waitDone waits for done to be closed or to deliver, and fails the test if
// it takes longer than d.
func waitDone(t *testing.T, done <-chan struct{}, d time.Duration, format string, args ...any) bool {
	t.Helper()
	select {
	case <-done:
		return true
	case <-time.After(d):
		t.Errorf("timed out after %v: "+format, append([]any{d}, args...)...)
		return false
	}
}

// eventually polls cond until it holds or d passes.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// stable waits until the counter has not moved for settle, and returns its
// value. It gives up after patience and returns the last value seen.
func stable(c *atomic.Int64) int64 {
	deadline := time.Now().Add(patience)
	last := c.Load()
	for time.Now().Before(deadline) {
		time.Sleep(settle)
		cur := c.Load()
		if cur == last {
			return cur
		}
		last = cur
	}
	return last
}

// catch runs f and returns the value it panicked with, if it did.
func catch(f func()) (r any, panicked bool) {
	defer func() {
		if panicked {
			r = recover()
		}
	}()
	panicked = true
	f()
	panicked = false
	return nil, false
}

// requireStmPanic fails the test unless f panics with a value whose text
// starts with "stm:".
func requireStmPanic(t *testing.T, what string, f func()) {
	t.Helper()
	r, panicked := catch(f)
	if !panicked {
		t.Errorf("%s: did not panic; want a panic starting with \"stm:\"", what)
		return
	}
	if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "stm:") {
		t.Errorf("%s: panicked with %q (%T); want a message starting with \"stm:\"", what, msg, r)
	}
}

// requireStmPanicSoon is requireStmPanic for an f that might block instead
// of panicking: f runs in its own goroutine, and the test fails if it has
// neither panicked nor returned within patience.
func requireStmPanicSoon(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	var r any
	var panicked bool
	go func() {
		defer close(done)
		r, panicked = catch(f)
	}()
	if !waitDone(t, done, patience, "%s: blocked instead of panicking", what) {
		return
	}
	if !panicked {
		t.Errorf("%s: did not panic; want a panic starting with \"stm:\"", what)
		return
	}
	if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "stm:") {
		t.Errorf("%s: panicked with %q (%T); want a message starting with \"stm:\"", what, msg, r)
	}
}

// commitsElsewhere runs body as a transaction in a fresh goroutine and
// fails the test unless it commits within patience. It shows that nothing is
// left locked by what the test did before.
func (s *suite) commitsElsewhere(t *testing.T, what string, body func(*stm.Tx) error) {
	t.Helper()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = s.atomically(body)
	}()
	if waitDone(t, done, patience, "%s: a transaction on the same Vars from another goroutine did not commit (something left locked?)", what) {
		if err != nil {
			t.Errorf("%s: transaction from another goroutine returned %v", what, err)
		}
	}
}

// gosched yields so that other goroutines run between two reads.
func gosched() { runtime.Gosched() }

// sum adds up the values of vs as seen by tx.
func sum(tx *stm.Tx, vs []*stm.Var[int], yieldAt int) int {
	total := 0
	for i, v := range vs {
		if i == yieldAt {
			gosched()
		}
		total += v.Load(tx)
	}
	return total
}

// newVars returns n Vars holding v.
func newVars(n, v int) []*stm.Var[int] {
	vs := make([]*stm.Var[int], n)
	for i := range vs {
		vs[i] = stm.NewVar(v)
	}
	return vs
}

// peekSum adds up the latest committed values of vs.
func peekSum(vs []*stm.Var[int]) int {
	total := 0
	for _, v := range vs {
		total += v.Peek()
	}
	return total
}
