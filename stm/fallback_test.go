package stm_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hytm/hytm/fallback"
	"github.com/hytm/hytm/stm"
)

// Tests of the fallback issue: guaranteed progress (escalation to the
// irrevocable mode), inevitable transactions, and the per-site record of
// how long they held others back.

func fbScale(short, long int) int {
	if testing.Short() {
		return short
	}
	return long
}

// maxAttempts is the bound the fallback package promises: EscalateAfter
// aborted attempts, then one irrevocable attempt that cannot abort.
const maxAttempts = fallback.EscalateAfter + 1

// storm runs n goroutines calling body in Atomically until stop is closed,
// and returns a function that stops them and returns their commit count.
func storm(n int, body func(g int, tx *stm.Tx) error) (stop func() int64) {
	var commits atomic.Int64
	var quit atomic.Bool
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for !quit.Load() {
				if stm.Atomically(func(tx *stm.Tx) error { return body(g, tx) }) == nil {
					commits.Add(1)
				}
			}
		})
	}
	return func() int64 {
		quit.Store(true)
		wg.Wait()
		return commits.Load()
	}
}

// within fails the test if f does not return within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: not done after %v (something left locked?)", what, d)
	}
}

func TestFallbackStarvation(t *testing.T) {
	const n = 200
	vs := make([]*stm.Var[int], n)
	for i := range vs {
		vs[i] = stm.NewVar(0)
	}
	before := stm.ReadStats()
	stop := storm(2, func(g int, tx *stm.Tx) error {
		// Short writes spread over the same Vars, from both ends.
		for k := 0; k < 4; k++ {
			v := vs[(g*97+k*53+int(time.Now().UnixNano()))%n]
			v.Store(tx, v.Load(tx)+1)
		}
		return nil
	})
	rounds := fbScale(20, 100)
	worst := 0
	for range rounds {
		attempts := 0
		err := stm.Atomically(func(tx *stm.Tx) error {
			attempts++
			for i, v := range vs {
				v.Store(tx, v.Load(tx)+1)
				if i%10 == 0 {
					runtime.Gosched() // a slow, preempted long transaction: the storm gets in
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if attempts > maxAttempts {
			t.Fatalf("long transaction took %d attempts; the bound is EscalateAfter+1 = %d", attempts, maxAttempts)
		}
		worst = max(worst, attempts)
	}
	short := stop()
	sum := 0
	for _, v := range vs {
		sum += v.Peek()
	}
	if want := int(4*short) + n*rounds; sum != want {
		t.Fatalf("sum = %d, want %d (lost or duplicated updates)", sum, want)
	}
	after := stm.ReadStats()
	t.Logf("rounds %d, worst attempts %d (bound %d), short commits %d, escalations %d",
		rounds, worst, maxAttempts, short, after.Irrevocable-before.Irrevocable)
}

func TestFallbackLivelock(t *testing.T) {
	const g = 8
	shared := stm.NewVar(0)
	own := make([]*stm.Var[int], g)
	for i := range own {
		own[i] = stm.NewVar(0)
	}
	per := fbScale(300, 3000)
	var worst atomic.Int64
	var wg sync.WaitGroup
	for i := range g {
		wg.Go(func() {
			for range per {
				attempts := 0
				_ = stm.Atomically(func(tx *stm.Tx) error {
					attempts++
					s := 0
					for _, v := range own {
						s += v.Load(tx)
					}
					shared.Store(tx, shared.Load(tx)+1)
					own[i].Store(tx, own[i].Load(tx)+1)
					_ = s
					return nil
				})
				for {
					w := worst.Load()
					if int64(attempts) <= w || worst.CompareAndSwap(w, int64(attempts)) {
						break
					}
				}
			}
		})
	}
	within(t, 30*time.Second, "livelock", wg.Wait)
	if got := shared.Peek(); got != g*per {
		t.Fatalf("shared = %d, want %d", got, g*per)
	}
	for i, v := range own {
		if v.Peek() != per {
			t.Fatalf("own[%d] = %d, want %d", i, v.Peek(), per)
		}
	}
	if w := worst.Load(); w > maxAttempts {
		t.Fatalf("a transaction took %d attempts; the bound is %d", w, maxAttempts)
	}
	t.Logf("worst attempts %d (bound %d)", worst.Load(), maxAttempts)
}

func TestFallbackExactlyOnce(t *testing.T) {
	x, y, mine := stm.NewVar(0), stm.NewVar(0), stm.NewVar(0)
	stop := storm(2, func(g int, tx *stm.Tx) error {
		x.Store(tx, x.Load(tx)+1)
		y.Store(tx, y.Load(tx)+1)
		return nil
	})
	calls := fbScale(200, 2000)
	var effects, bodies atomic.Int64
	for range calls {
		err := stm.Atomically(func(tx *stm.Tx) error {
			bodies.Add(1)
			a := x.Load(tx) // read before: may be stale, Inevitable re-runs
			tx.Inevitable()
			effects.Add(1) // the I/O stand-in
			x.Store(tx, a+1)
			y.Store(tx, y.Load(tx)+1)
			mine.Store(tx, mine.Load(tx)+1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	n := stop()
	if effects.Load() != int64(calls) {
		t.Fatalf("side effect ran %d times for %d commits", effects.Load(), calls)
	}
	if mine.Peek() != calls {
		t.Fatalf("mine = %d, want %d", mine.Peek(), calls)
	}
	if want := int(n) + calls; x.Peek() != want || y.Peek() != want {
		t.Fatalf("x, y = %d, %d, want %d (lost updates)", x.Peek(), y.Peek(), want)
	}
	t.Logf("%d inevitable commits, %d body runs, %d storm commits", calls, bodies.Load(), n)
}

func TestFallbackExclusion(t *testing.T) {
	c := stm.NewVar(0)
	per := fbScale(300, 3000)
	var inside, overlaps atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range per {
				_ = stm.Atomically(func(tx *stm.Tx) error {
					tx.Inevitable()
					if inside.Add(1) > 1 {
						overlaps.Add(1)
					}
					runtime.Gosched()
					c.Store(tx, c.Load(tx)+1)
					inside.Add(-1)
					return nil
				})
			}
		})
	}
	within(t, 30*time.Second, "exclusion", wg.Wait)
	if overlaps.Load() != 0 {
		t.Fatalf("two transactions were inevitable at once %d times", overlaps.Load())
	}
	if c.Peek() != 2*per {
		t.Fatalf("c = %d, want %d", c.Peek(), 2*per)
	}
}

var errFallback = errors.New("fallback test error")

// escalatedBody returns a body that loses its first EscalateAfter attempts
// (another goroutine commits to x between its Load and its commit) and
// calls last in the attempt after, which runs irrevocable.
func escalatedBody(x *stm.Var[int], last func(tx *stm.Tx) error) (body func(*stm.Tx) error, attempts *int) {
	attempts = new(int)
	return func(tx *stm.Tx) error {
		*attempts++
		v := x.Load(tx)
		if *attempts > fallback.EscalateAfter {
			return last(tx)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = stm.Atomically(func(tx *stm.Tx) error { x.Store(tx, x.Load(tx)+1); return nil })
		}()
		<-done
		x.Store(tx, v+100)
		return nil
	}, attempts
}

func catchPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// afterwardsFree checks that nothing is locked: a writer of x commits
// promptly, and another transaction becomes inevitable.
func afterwardsFree(t *testing.T, what string, x *stm.Var[int]) {
	t.Helper()
	within(t, 5*time.Second, what+": writer afterwards", func() {
		_ = stm.Atomically(func(tx *stm.Tx) error { x.Store(tx, x.Load(tx)+1); return nil })
	})
	within(t, 5*time.Second, what+": Inevitable afterwards", func() {
		_ = stm.Atomically(func(tx *stm.Tx) error { tx.Inevitable(); x.Store(tx, x.Load(tx)+1); return nil })
	})
}

func TestFallbackNothingLocked(t *testing.T) {
	boom := "boom"
	t.Run("InevitablePanics", func(t *testing.T) {
		x := stm.NewVar(0)
		r := catchPanic(func() {
			_ = stm.Atomically(func(tx *stm.Tx) error {
				tx.Inevitable()
				x.Store(tx, 42)
				panic(boom)
			})
		})
		if r != boom {
			t.Fatalf("recovered %v, want %q", r, boom)
		}
		if x.Peek() != 0 {
			t.Fatalf("a panicking inevitable body committed x = %d", x.Peek())
		}
		afterwardsFree(t, "inevitable panic", x)
	})
	t.Run("InevitableErrors", func(t *testing.T) {
		x := stm.NewVar(0)
		err := stm.Atomically(func(tx *stm.Tx) error {
			tx.Inevitable()
			x.Store(tx, 42)
			return errFallback
		})
		if err != errFallback {
			t.Fatalf("err = %v", err)
		}
		afterwardsFree(t, "inevitable error", x)
	})
	for _, tc := range []struct {
		name string
		last func(tx *stm.Tx) error
	}{
		{"EscalatedPanics", func(*stm.Tx) error { panic(boom) }},
		{"EscalatedErrors", func(*stm.Tx) error { return errFallback }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := stm.NewVar(0)
			before := stm.ReadStats()
			body, attempts := escalatedBody(x, tc.last)
			var err error
			r := catchPanic(func() { err = stm.Atomically(body) })
			if r != nil && r != boom || r == nil && err != errFallback {
				t.Fatalf("recovered %v, err %v", r, err)
			}
			if *attempts != maxAttempts {
				t.Fatalf("%d attempts, want %d", *attempts, maxAttempts)
			}
			if d := stm.ReadStats().Irrevocable - before.Irrevocable; d < 1 {
				t.Fatalf("the last attempt did not escalate (irrevocable +%d)", d)
			}
			if x.Peek() != fallback.EscalateAfter {
				t.Fatalf("x = %d, want %d: only the interfering commits", x.Peek(), fallback.EscalateAfter)
			}
			afterwardsFree(t, tc.name, x)
		})
	}
}

func TestFallbackRetryInInevitablePanics(t *testing.T) {
	x := stm.NewVar(0)
	r := catchPanic(func() {
		_ = stm.Atomically(func(tx *stm.Tx) error {
			_ = x.Load(tx)
			tx.Inevitable()
			tx.Retry()
			return nil
		})
	})
	s, ok := r.(string)
	if !ok || !strings.HasPrefix(s, "stm:") {
		t.Fatalf("Retry in an inevitable transaction: recovered %#v, want a panic starting \"stm:\"", r)
	}
	afterwardsFree(t, "retry panic", x)
}

func TestFallbackInevitableErrorKeepsEffect(t *testing.T) {
	x, y := stm.NewVar(1), stm.NewVar(2)
	var effect atomic.Int64
	err := stm.Atomically(func(tx *stm.Tx) error {
		x.Store(tx, 10) // before Inevitable
		tx.Inevitable()
		effect.Add(1)
		y.Store(tx, 20) // after
		return errFallback
	})
	if err != errFallback {
		t.Fatalf("err = %v", err)
	}
	if x.Peek() != 1 || y.Peek() != 2 {
		t.Fatalf("x, y = %d, %d: an inevitable body that returned an error committed Stores", x.Peek(), y.Peek())
	}
	if effect.Load() != 1 {
		t.Fatalf("side effect ran %d times, want 1 (it stays done)", effect.Load())
	}
}

func TestIrrevocableSites(t *testing.T) {
	x := stm.NewVar(0)
	const hold = 50 * time.Millisecond
	started := make(chan struct{})
	sleeper := func(tx *stm.Tx) error {
		tx.Inevitable()
		close(started)
		time.Sleep(hold)
		x.Store(tx, x.Load(tx)+1)
		return nil
	}
	find := func(site string) (stm.IrrevocableSite, bool) {
		for _, s := range stm.IrrevocableSites() {
			if s.Site == site {
				return s, true
			}
		}
		return stm.IrrevocableSite{}, false
	}
	_, file, line, _ := runtime.Caller(0)
	site := fmt.Sprintf("%s:%d", file, line+6)
	before, _ := find(site)
	var wg sync.WaitGroup
	var writerTook time.Duration
	wg.Go(func() {
		_ = stm.Atomically(sleeper) // the site: line+6
	})
	<-started
	t0 := time.Now()
	_ = stm.Atomically(func(tx *stm.Tx) error { x.Store(tx, x.Load(tx)+1); return nil })
	writerTook = time.Since(t0)
	wg.Wait()
	after, ok := find(site)
	if !ok {
		t.Fatalf("no record for %s in %+v", site, stm.IrrevocableSites())
	}
	held, blocked := after.Held-before.Held, after.Blocked-before.Blocked
	t.Logf("site %s: count +%d, held +%v, blocked +%v (writer took %v)", site, after.Count-before.Count, held, blocked, writerTook)
	if after.Count-before.Count != 1 {
		t.Errorf("count +%d, want 1", after.Count-before.Count)
	}
	if held < hold*9/10 {
		t.Errorf("held %v, want >= ~%v", held, hold)
	}
	if blocked <= 0 {
		t.Errorf("blocked %v, want > 0: the writer committed while the token was held", blocked)
	}
	if x.Peek() != 2 {
		t.Errorf("x = %d, want 2", x.Peek())
	}
}
