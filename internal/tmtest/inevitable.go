package tmtest

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/stm"
)

// inevitabler is the fallback issue's (*stm.Tx).Inevitable. The suite calls
// it through an interface so that it compiles before the method exists, and
// skips these tests until it does.
type inevitabler interface{ Inevitable() }

func inevitable(tx *stm.Tx) { any(tx).(inevitabler).Inevitable() }

// testInevitable: an inevitable transaction's side effects happen exactly
// once, at most one transaction is inevitable at a time, Retry in one panics,
// an error commits none of its Stores, and a panic leaves nothing locked.
func (s *suite) testInevitable(t *testing.T) {
	if _, ok := any((*stm.Tx)(nil)).(inevitabler); !ok {
		t.Skip("stm.Tx has no Inevitable method yet")
	}

	t.Run("ExactlyOnce", func(t *testing.T) {
		x, mine := stm.NewVar(0), stm.NewVar(0)
		calls := scale(50, 500)
		var effects, storm atomic.Int64
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for !stop.Load() {
					_ = s.atomically(func(tx *stm.Tx) error {
						x.Store(tx, x.Load(tx)+1)
						return nil
					})
					storm.Add(1)
				}
			})
		}
		require.True(t, eventually(patience, func() bool { return storm.Load() > 100 }), "the writer storm did not get going")
		for range calls {
			require.NoError(t, s.atomically(func(tx *stm.Tx) error {
				v := x.Load(tx)
				inevitable(tx)
				effects.Add(1) // the I/O stand-in
				gosched()      // give the storm every chance to conflict
				x.Store(tx, v+1)
				mine.Store(tx, mine.Load(tx)+1)
				return nil
			}))
		}
		stop.Store(true)
		wg.Wait()
		assert.Equal(t, int64(calls), effects.Load(), "an inevitable body ran past Inevitable more than once")
		assert.Equal(t, calls, mine.Peek())
		assert.Equal(t, int(storm.Load())+calls, x.Peek(), "lost updates")
	})

	t.Run("Exclusion", func(t *testing.T) {
		c := stm.NewVar(0)
		per := scale(50, 500)
		var inside, overlaps atomic.Int64
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				<-start
				for range per {
					_ = s.atomically(func(tx *stm.Tx) error {
						inevitable(tx)
						if inside.Add(1) > 1 {
							overlaps.Add(1)
						}
						for range 3 {
							gosched()
						}
						c.Store(tx, c.Load(tx)+1)
						inside.Add(-1)
						return nil
					})
				}
			})
		}
		close(start)
		wg.Wait()
		assert.Zero(t, overlaps.Load(), "two transactions were inevitable at once")
		assert.Equal(t, 2*per, c.Peek())
	})

	t.Run("RetryPanics", func(t *testing.T) {
		x := stm.NewVar(0)
		requireStmPanicSoon(t, "Retry in an inevitable transaction", func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				x.Store(tx, 1)
				inevitable(tx)
				tx.Retry()
				return nil
			})
		})
		assert.Equal(t, 0, x.Peek())
		s.commitsElsewhere(t, "after Retry panicked in an inevitable transaction", func(tx *stm.Tx) error {
			inevitable(tx)
			x.Store(tx, 2)
			return nil
		})
		assert.Equal(t, 2, x.Peek())
	})

	t.Run("ErrorCommitsNothing", func(t *testing.T) {
		x := stm.NewVar(0)
		var effects atomic.Int64
		err := s.atomically(func(tx *stm.Tx) error {
			inevitable(tx)
			effects.Add(1)
			x.Store(tx, 5)
			return errBody
		})
		require.ErrorIs(t, err, errBody)
		assert.Equal(t, int64(1), effects.Load())
		assert.Equal(t, 0, x.Peek(), "an inevitable transaction that returned an error committed its Store")
		s.commitsElsewhere(t, "after an inevitable transaction returned an error", func(tx *stm.Tx) error {
			inevitable(tx)
			x.Store(tx, 6)
			return nil
		})
	})

	t.Run("PanicUnlocks", func(t *testing.T) {
		x := stm.NewVar(0)
		want := &boom{"inevitable"}
		r, panicked := catch(func() {
			_ = s.atomically(func(tx *stm.Tx) error {
				inevitable(tx)
				x.Store(tx, 1)
				panic(want)
			})
		})
		require.True(t, panicked)
		require.Equal(t, any(want), r)
		assert.Equal(t, 0, x.Peek())
		s.commitsElsewhere(t, "a writer after an inevitable panic", func(tx *stm.Tx) error {
			x.Store(tx, x.Load(tx)+2)
			return nil
		})
		s.commitsElsewhere(t, "an inevitable transaction after an inevitable panic", func(tx *stm.Tx) error {
			inevitable(tx)
			x.Store(tx, x.Load(tx)+3)
			return nil
		})
		assert.Equal(t, 5, x.Peek())
	})
}
