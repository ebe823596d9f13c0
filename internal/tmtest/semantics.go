package tmtest

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/stm"
)

var (
	errBody  = errors.New("tmtest: body error")
	errInner = errors.New("tmtest: inner body error")
)

// boom is the value the panic tests throw; it is compared by identity.
type boom struct{ msg string }

// testReadYourWrites: a transaction sees its own Stores, and nobody else
// does before it commits.
func (s *suite) testReadYourWrites(t *testing.T) {
	t.Run("LoadAfterStore", func(t *testing.T) {
		x := stm.NewVar(1)
		name := stm.NewVar("a")
		type pair struct{ A, B int }
		p := stm.NewVar(pair{1, 2})
		var seen []int
		var seenName string
		var seenPair pair
		err := s.atomically(func(tx *stm.Tx) error {
			seen = seen[:0]
			seen = append(seen, x.Load(tx))
			x.Store(tx, 2)
			seen = append(seen, x.Load(tx))
			x.Store(tx, 3)
			x.Store(tx, 4) // the last Store wins
			seen = append(seen, x.Load(tx))
			name.Store(tx, name.Load(tx)+"b")
			name.Store(tx, name.Load(tx)+"c")
			seenName = name.Load(tx)
			p.Store(tx, pair{p.Load(tx).B, p.Load(tx).A})
			seenPair = p.Load(tx)
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2, 4}, seen)
		assert.Equal(t, "abc", seenName)
		assert.Equal(t, pair{2, 1}, seenPair)
		assert.Equal(t, 4, x.Peek())
		assert.Equal(t, "abc", name.Peek())
		assert.Equal(t, pair{2, 1}, p.Peek())
	})

	// The zero Var is ready to use: it holds the zero value, as a field of
	// a struct, and its first uses race safely (each goroutine's first
	// transaction on it may be the one that gives it its first version).
	t.Run("ZeroVarReady", func(t *testing.T) {
		type node struct {
			key   int
			count stm.Var[int]
			name  stm.Var[string]
		}
		n := &node{key: 1}
		require.Equal(t, 0, n.count.Peek())
		var got string
		require.NoError(t, s.atomically(func(tx *stm.Tx) error { got = n.name.Load(tx); return nil }))
		require.Equal(t, "", got)
		require.NoError(t, s.atomically(func(tx *stm.Tx) error { n.name.Store(tx, "a"); return nil }))
		require.Equal(t, "a", n.name.Peek())
		for range 20 {
			fresh := &node{}
			const g, each = 4, 50
			var wg sync.WaitGroup
			for range g {
				wg.Go(func() {
					for range each {
						_ = s.atomically(func(tx *stm.Tx) error {
							fresh.count.Store(tx, fresh.count.Load(tx)+1)
							return nil
						})
					}
				})
			}
			wg.Wait()
			require.Equal(t, g*each, fresh.count.Peek(), "an increment of a fresh zero Var was lost")
		}
	})

	t.Run("ManyIncrementsInOneTransaction", func(t *testing.T) {
		x := stm.NewVar(0)
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			for range 100 {
				x.Store(tx, x.Load(tx)+1)
			}
			return nil
		}))
		assert.Equal(t, 100, x.Peek())
	})

	// A Store is private until commit: Peek and a concurrent read-only
	// transaction both see the old value while the writer's body is still
	// running, and the reader does not wait for the writer.
	t.Run("PrivateUntilCommit", func(t *testing.T) {
		x := stm.NewVar(0)
		stored := make(chan struct{})
		readerDone := make(chan struct{})
		var storedOnce sync.Once
		var peekInBody, readerSaw, peekInReader int
		var readerBlocked bool
		go func() {
			defer close(readerDone)
			<-stored
			peekInReader = x.Peek()
			_ = s.atomically(func(tx *stm.Tx) error {
				readerSaw = x.Load(tx)
				return nil
			})
		}()
		err := s.atomically(func(tx *stm.Tx) error {
			x.Store(tx, 1)
			peekInBody = x.Peek()
			storedOnce.Do(func() { close(stored) })
			// Every run of this body waits for the reader, so no run can
			// commit before the reader has read.
			select {
			case <-readerDone:
			case <-time.After(patience):
				readerBlocked = true
			}
			return nil
		})
		require.NoError(t, err)
		require.False(t, readerBlocked, "a read-only transaction waited for a writer that had not committed")
		assert.Equal(t, 0, peekInBody, "Peek inside the writer saw its uncommitted Store")
		assert.Equal(t, 0, peekInReader, "Peek saw an uncommitted Store")
		assert.Equal(t, 0, readerSaw, "another transaction saw an uncommitted Store")
		assert.Equal(t, 1, x.Peek())
	})
}

// testErrorRollback: an error return rolls back every Store and is returned
// to the caller; nothing stays locked.
func (s *suite) testErrorRollback(t *testing.T) {
	t.Run("StoresRolledBack", func(t *testing.T) {
		a, b := stm.NewVar(10), stm.NewVar(20)
		c := stm.NewVar("keep")
		err := s.atomically(func(tx *stm.Tx) error {
			a.Store(tx, a.Load(tx)+1)
			b.Store(tx, 99)
			c.Store(tx, "lost")
			if a.Load(tx) != 11 || b.Load(tx) != 99 {
				return errors.New("tmtest: read-your-writes failed before the error")
			}
			return fmt.Errorf("wrapped: %w", errBody)
		})
		require.ErrorIs(t, err, errBody)
		assert.Equal(t, 10, a.Peek())
		assert.Equal(t, 20, b.Peek())
		assert.Equal(t, "keep", c.Peek())
		s.commitsElsewhere(t, "after an error rollback", func(tx *stm.Tx) error {
			a.Store(tx, a.Load(tx)+2)
			b.Store(tx, b.Load(tx)+2)
			c.Store(tx, "kept")
			return nil
		})
		assert.Equal(t, 12, a.Peek())
		assert.Equal(t, 22, b.Peek())
		assert.Equal(t, "kept", c.Peek())
	})

	t.Run("ReadOnlyError", func(t *testing.T) {
		a := stm.NewVar(1)
		err := s.atomically(func(tx *stm.Tx) error {
			if a.Load(tx) == 1 {
				return errBody
			}
			return nil
		})
		require.ErrorIs(t, err, errBody)
		s.commitsElsewhere(t, "after a read-only error", func(tx *stm.Tx) error {
			a.Store(tx, 2)
			return nil
		})
		assert.Equal(t, 2, a.Peek())
	})

	// Many rollbacks in a row, including ones whose Vars another goroutine
	// is writing, leave the Vars usable.
	t.Run("Repeated", func(t *testing.T) {
		vs := newVars(8, 0)
		n := scale(200, 2000)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = s.atomically(func(tx *stm.Tx) error {
					vs[7].Store(tx, vs[7].Load(tx)+1)
					return nil
				})
			}
		})
		var wrongErr int
		for i := range n {
			err := s.atomically(func(tx *stm.Tx) error {
				for j, v := range vs {
					if j <= i%len(vs) {
						v.Store(tx, v.Load(tx)+1)
					}
				}
				return errBody
			})
			if !errors.Is(err, errBody) {
				wrongErr++
			}
		}
		close(stop)
		wg.Wait()
		assert.Zero(t, wrongErr, "Atomically did not return the body's error")
		for j := range 7 {
			assert.Zero(t, vs[j].Peek(), "Var %d kept a rolled-back Store", j)
		}
		s.commitsElsewhere(t, "after repeated error rollbacks", func(tx *stm.Tx) error {
			for _, v := range vs {
				v.Store(tx, v.Load(tx)+1)
			}
			return nil
		})
		assert.Equal(t, 1, vs[0].Peek())
	})
}

// testPanicRollback: a panic rolls back every Store, is re-panicked in the
// caller with the same value, and leaves nothing locked.
func (s *suite) testPanicRollback(t *testing.T) {
	t.Run("StoresRolledBack", func(t *testing.T) {
		a, b := stm.NewVar(10), stm.NewVar(20)
		want := &boom{"write then panic"}
		r, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				a.Store(tx, a.Load(tx)+1)
				b.Store(tx, 99)
				panic(want)
			})
		})
		require.True(t, panicked, "Atomically swallowed the body's panic")
		require.Equal(t, any(want), r, "the caller did not get the body's panic value")
		assert.Same(t, want, r.(*boom))
		assert.Equal(t, 10, a.Peek())
		assert.Equal(t, 20, b.Peek())
		s.commitsElsewhere(t, "after a panic rollback", func(tx *stm.Tx) error {
			a.Store(tx, a.Load(tx)+2)
			b.Store(tx, b.Load(tx)+2)
			return nil
		})
		assert.Equal(t, 12, a.Peek())
		assert.Equal(t, 22, b.Peek())
	})

	t.Run("ErrorValue", func(t *testing.T) {
		a := stm.NewVar(1)
		r, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				a.Store(tx, 2)
				panic(fmt.Errorf("wrapped: %w", errBody))
			})
		})
		require.True(t, panicked)
		err, ok := r.(error)
		require.True(t, ok, "panic value %T is not the body's error", r)
		require.ErrorIs(t, err, errBody)
		assert.Equal(t, 1, a.Peek())
	})

	t.Run("ReadOnlyPanic", func(t *testing.T) {
		a := stm.NewVar(1)
		want := &boom{"read then panic"}
		r, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				_ = a.Load(tx)
				panic(want)
			})
		})
		require.True(t, panicked)
		require.Equal(t, any(want), r)
		s.commitsElsewhere(t, "after a read-only panic", func(tx *stm.Tx) error {
			a.Store(tx, 2)
			return nil
		})
		assert.Equal(t, 2, a.Peek())
	})

	// Runtime errors from the body, not only explicit panics, roll back.
	t.Run("RuntimeError", func(t *testing.T) {
		a := stm.NewVar(1)
		var m map[string]int
		r, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				a.Store(tx, 2)
				m["x"] = a.Load(tx) // assignment to entry in nil map
				return nil
			})
		})
		require.True(t, panicked)
		_, isRuntime := r.(interface{ RuntimeError() })
		assert.True(t, isRuntime, "re-panicked value %T (%v) is not the runtime error", r, r)
		assert.Equal(t, 1, a.Peek())
		s.commitsElsewhere(t, "after a runtime error", func(tx *stm.Tx) error {
			a.Store(tx, 3)
			return nil
		})
	})

	// runtime.Goexit in a body (t.FailNow called from one, say) ends the
	// goroutine without a panic value to re-panic; the transaction must
	// still roll back and release what it holds.
	t.Run("Goexit", func(t *testing.T) {
		a := stm.NewVar(1)
		done := make(chan struct{})
		returned := false
		go func() {
			defer close(done)
			_ = s.atomically(func(tx *stm.Tx) error {
				a.Store(tx, 2)
				runtime.Goexit()
				return nil
			})
			returned = true
		}()
		<-done
		require.False(t, returned, "Atomically returned after runtime.Goexit in its body")
		assert.Equal(t, 1, a.Peek())
		s.commitsElsewhere(t, "after runtime.Goexit in a body", func(tx *stm.Tx) error {
			a.Store(tx, a.Load(tx)+2)
			return nil
		})
		assert.Equal(t, 3, a.Peek())
	})

	t.Run("Repeated", func(t *testing.T) {
		vs := newVars(4, 0)
		n := scale(100, 1000)
		lost := 0
		for i := range n {
			want := &boom{"repeated"}
			r, _ := catch(func() {
				_ = s.atomically(func(tx *stm.Tx) error {
					for j, v := range vs {
						if j <= i%len(vs) {
							v.Store(tx, v.Load(tx)+1)
						}
					}
					panic(want)
				})
			})
			if r != any(want) {
				lost++
			}
		}
		assert.Zero(t, lost, "the panic value was lost or replaced")
		assert.Zero(t, peekSum(vs), "a Store survived a panic")
		s.commitsElsewhere(t, "after repeated panics", func(tx *stm.Tx) error {
			for _, v := range vs {
				v.Store(tx, v.Load(tx)+1)
			}
			return nil
		})
		assert.Equal(t, len(vs), peekSum(vs))
	})
}

// testFlatNesting: Atomically inside a body joins the outer transaction.
func (s *suite) testFlatNesting(t *testing.T) {
	t.Run("CommitsWithOuter", func(t *testing.T) {
		a, b := stm.NewVar(0), stm.NewVar(0)
		var innerSawA, outerSawB, peekBAfterInner int
		err := s.atomically(func(tx *stm.Tx) error {
			a.Store(tx, 1)
			if err := s.atomically(func(tx *stm.Tx) error {
				innerSawA = a.Load(tx)
				b.Store(tx, 2)
				return nil
			}); err != nil {
				return err
			}
			outerSawB = b.Load(tx)
			peekBAfterInner = b.Peek()
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 1, innerSawA, "the inner body did not see the outer's Store")
		assert.Equal(t, 2, outerSawB, "the outer body did not see the inner's Store")
		assert.Equal(t, 0, peekBAfterInner, "the inner Atomically committed on its own")
		assert.Equal(t, 1, a.Peek())
		assert.Equal(t, 2, b.Peek())
	})

	t.Run("RollsBackWithOuter", func(t *testing.T) {
		a, b := stm.NewVar(0), stm.NewVar(0)
		var innerErr error
		err := s.atomically(func(tx *stm.Tx) error {
			a.Store(tx, 1)
			innerErr = s.atomically(func(tx *stm.Tx) error {
				b.Store(tx, 2)
				return nil
			})
			return errBody
		})
		require.ErrorIs(t, err, errBody)
		require.NoError(t, innerErr)
		assert.Equal(t, 0, a.Peek())
		assert.Equal(t, 0, b.Peek(), "the inner body's Store survived the outer's rollback")
		s.commitsElsewhere(t, "after a nested rollback", func(tx *stm.Tx) error {
			a.Store(tx, 3)
			b.Store(tx, 3)
			return nil
		})
	})

	// Only Atomically on the same goroutine joins: one called from a
	// goroutine that the body starts is a transaction of its own.
	t.Run("OtherGoroutineIsSeparate", func(t *testing.T) {
		a, b := stm.NewVar(0), stm.NewVar(0)
		var innerErr error
		var stuck bool
		err := s.atomically(func(tx *stm.Tx) error {
			a.Store(tx, 1)
			done := make(chan struct{})
			go func() {
				defer close(done)
				innerErr = s.atomically(func(tx *stm.Tx) error {
					b.Store(tx, b.Load(tx)+1)
					return nil
				})
			}()
			select {
			case <-done:
			case <-time.After(patience):
				stuck = true
			}
			return errBody
		})
		require.ErrorIs(t, err, errBody)
		require.False(t, stuck, "Atomically in a goroutine started by a body did not return")
		require.NoError(t, innerErr)
		assert.Equal(t, 0, a.Peek())
		assert.Positive(t, b.Peek(), "a transaction on another goroutine was rolled back with the body that started it")
	})

	t.Run("InnerErrorPropagates", func(t *testing.T) {
		a, b := stm.NewVar(0), stm.NewVar(0)
		var innerErr error
		err := s.atomically(func(tx *stm.Tx) error {
			a.Store(tx, 1)
			innerErr = s.atomically(func(tx *stm.Tx) error {
				b.Store(tx, 2)
				return errInner
			})
			return innerErr
		})
		require.ErrorIs(t, innerErr, errInner, "the inner Atomically did not return its body's error")
		require.ErrorIs(t, err, errInner)
		assert.Equal(t, 0, a.Peek())
		assert.Equal(t, 0, b.Peek())
	})

	t.Run("InnerPanic", func(t *testing.T) {
		a, b := stm.NewVar(0), stm.NewVar(0)
		want := &boom{"inner"}
		r, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				a.Store(tx, 1)
				return s.atomically(func(tx *stm.Tx) error {
					b.Store(tx, 2)
					panic(want)
				})
			})
		})
		require.True(t, panicked)
		require.Equal(t, any(want), r)
		assert.Equal(t, 0, a.Peek())
		assert.Equal(t, 0, b.Peek())
		s.commitsElsewhere(t, "after a nested panic", func(tx *stm.Tx) error {
			a.Store(tx, 3)
			b.Store(tx, 3)
			return nil
		})
	})

	// Retry in the inner body retries the whole transaction: the outer body
	// runs again once a Var read by either has changed, and its Stores from
	// the retried run are gone.
	t.Run("InnerRetry", func(t *testing.T) {
		gate, out, runs := stm.NewVar(0), stm.NewVar(0), stm.NewVar(0)
		var bodyRuns atomic.Int64
		done := make(chan struct{})
		var err error
		go func() {
			defer close(done)
			err = s.atomically(func(tx *stm.Tx) error {
				bodyRuns.Add(1)
				out.Store(tx, out.Load(tx)+1)
				runs.Store(tx, runs.Load(tx)+1)
				return s.atomically(func(tx *stm.Tx) error {
					if gate.Load(tx) == 0 {
						tx.Retry()
					}
					return nil
				})
			})
		}()
		require.True(t, eventually(patience, func() bool { return bodyRuns.Load() >= 1 }))
		stable(&bodyRuns)
		select {
		case <-done:
			t.Fatal("Retry in a nested Atomically did not block the transaction")
		default:
		}
		assert.Equal(t, 0, out.Peek(), "a retried transaction committed its Stores")
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			gate.Store(tx, 1)
			return nil
		}))
		if waitDone(t, done, patience, "Retry in a nested Atomically was not woken") {
			require.NoError(t, err)
			assert.Equal(t, 1, out.Peek(), "Stores from retried runs were kept")
			assert.Equal(t, 1, runs.Peek())
		}
	})
}

// testMisusePanics: using a Tx after its transaction ended, a nil Var and
// Retry outside a transaction all panic with a message that starts "stm:".
func (s *suite) testMisusePanics(t *testing.T) {
	t.Run("TxAfterCommit", func(t *testing.T) {
		x := stm.NewVar(1)
		var leaked *stm.Tx
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			leaked = tx
			x.Store(tx, 2)
			return nil
		}))
		require.NotNil(t, leaked)
		requireStmPanic(t, "Load with a Tx after commit", func() { x.Load(leaked) })
		requireStmPanic(t, "Store with a Tx after commit", func() { x.Store(leaked, 3) })
		requireStmPanic(t, "Retry with a Tx after commit (outside any transaction)", func() { leaked.Retry() })
		assert.Equal(t, 2, x.Peek(), "a Store through an ended Tx took effect")
	})

	t.Run("TxAfterError", func(t *testing.T) {
		x := stm.NewVar(1)
		var leaked *stm.Tx
		err := s.atomically(func(tx *stm.Tx) error {
			leaked = tx
			x.Store(tx, 2)
			return errBody
		})
		require.ErrorIs(t, err, errBody)
		requireStmPanic(t, "Load with a Tx after rollback", func() { x.Load(leaked) })
		requireStmPanic(t, "Store with a Tx after rollback", func() { x.Store(leaked, 3) })
		requireStmPanic(t, "Retry with a Tx after rollback", func() { leaked.Retry() })
		assert.Equal(t, 1, x.Peek())
	})

	t.Run("TxAfterPanic", func(t *testing.T) {
		x := stm.NewVar(1)
		var leaked *stm.Tx
		_, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				leaked = tx
				panic(&boom{"leak"})
			})
		})
		require.True(t, panicked)
		requireStmPanic(t, "Load with a Tx after a panic", func() { x.Load(leaked) })
		requireStmPanic(t, "Store with a Tx after a panic", func() { x.Store(leaked, 3) })
		assert.Equal(t, 1, x.Peek())
	})

	// A Tx from an ended transaction, used inside a later transaction on the
	// same goroutine, is still stale. (If the implementation recycles Tx
	// values and hands the same pointer to the new transaction, the misuse
	// cannot be told apart from a proper use; the check is skipped then.)
	t.Run("StaleTxInsideLaterTransaction", func(t *testing.T) {
		x, y := stm.NewVar(1), stm.NewVar(1)
		var stale *stm.Tx
		require.NoError(t, s.atomically(func(tx *stm.Tx) error {
			stale = tx
			x.Store(tx, 2)
			return nil
		}))
		var same bool
		r, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				same = tx == stale
				if same {
					return nil
				}
				y.Store(tx, 5)
				x.Store(stale, 3)
				return nil
			})
		})
		if same {
			t.Log("the implementation reuses Tx values across transactions; stale use inside a later transaction is undetectable")
			return
		}
		require.True(t, panicked, "Store through a stale Tx inside another transaction did not panic")
		assert.True(t, strings.HasPrefix(fmt.Sprint(r), "stm:"), "panic %q does not start with \"stm:\"", r)
		assert.Equal(t, 2, x.Peek(), "a Store through a stale Tx took effect")
		assert.Equal(t, 1, y.Peek(), "a transaction that panicked committed")
	})

	t.Run("NilVar", func(t *testing.T) {
		var nv *stm.Var[int]
		other := stm.NewVar(0)
		requireStmPanic(t, "Load of a nil Var", func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				other.Store(tx, 1)
				_ = nv.Load(tx)
				return nil
			})
		})
		requireStmPanic(t, "Store to a nil Var", func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				other.Store(tx, 1)
				nv.Store(tx, 1)
				return nil
			})
		})
		requireStmPanic(t, "Peek of a nil Var", func() { _ = nv.Peek() })
		assert.Equal(t, 0, other.Peek(), "a transaction that panicked on a nil Var committed")
		s.commitsElsewhere(t, "after nil-Var panics", func(tx *stm.Tx) error {
			other.Store(tx, 2)
			return nil
		})
	})

	// Atomically(nil) and OrElse with a nil branch panic with a clear
	// message (the package's prefix: stm's, or hybrid's for its own check).
	t.Run("NilFunc", func(t *testing.T) {
		for what, f := range map[string]func(){
			"Atomically(nil)": func() { _ = s.atomically(nil) },
			"OrElse(nil)":     func() { _ = s.OrElse(nil) },
			"nested Atomically(nil)": func() {
				_ = s.atomically(func(tx *stm.Tx) error { return s.atomically(nil) })
			},
		} {
			r, panicked := catch(f)
			msg := fmt.Sprint(r)
			if !panicked || !(strings.HasPrefix(msg, "stm: ") || strings.HasPrefix(msg, "hybrid: ")) {
				t.Errorf("%s: panicked %v with %q; want a message starting with the package name", what, panicked, msg)
			}
		}
	})

	// A *Tx used from a goroutine other than the one running its body: a
	// Store from there would be applied by the owner's commit with no
	// synchronisation (a data race only -race sees). It must panic at once
	// and change nothing.
	t.Run("ForeignGoroutine", func(t *testing.T) {
		x, y := stm.NewVar(0), stm.NewVar(0)
		var foreign []any
		err := s.atomically(func(tx *stm.Tx) error {
			foreign = foreign[:0]
			for _, f := range []func(){
				func() { x.Store(tx, 1) },
				func() { y.Store(tx, y.Load(tx)+1) },
			} {
				done := make(chan any, 1)
				go func() {
					r, _ := catch(f)
					done <- r
				}()
				foreign = append(foreign, <-done)
			}
			return nil
		})
		require.NoError(t, err)
		for i, r := range foreign {
			assert.True(t, strings.HasPrefix(fmt.Sprint(r), "stm: transaction used from another goroutine"),
				"use %d of a Tx from another goroutine: panic %v", i, r)
		}
		assert.Equal(t, 0, x.Peek(), "a Store from another goroutine committed")
		assert.Equal(t, 0, y.Peek(), "a Store from another goroutine committed")
	})
}
