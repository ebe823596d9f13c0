package hybrid

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/htm"
)

// TestValueAndContext runs AtomicallyValue and AtomicallyContext in
// software and on the emulator (hardware first): values come from the
// committed attempt, errors roll back, Retry waits end with the context,
// and each AtomicallyValue call site is its own site for the hardware
// policy (the wrapper closure must not merge them).
func TestValueAndContext(t *testing.T) {
	run := func(t *testing.T) {
		x := NewVar(1)
		for i := range 50 {
			got, err := AtomicallyValue(func(tx *Tx) (int, error) {
				v := x.Load(tx) + 1
				x.Store(tx, v)
				return v, nil
			})
			require.NoError(t, err)
			require.Equal(t, i+2, got)
		}
		errNo := errors.New("no")
		got, err := AtomicallyValue(func(tx *Tx) (int, error) { x.Store(tx, 0); return 9, errNo })
		require.ErrorIs(t, err, errNo)
		require.Zero(t, got)
		require.Equal(t, 51, x.Peek())

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		gate := NewVar(0)
		err = AtomicallyContext(ctx, func(tx *Tx) error {
			x.Store(tx, -1)
			Check(tx, gate.Load(tx) > 0)
			return nil
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 51, x.Peek(), "a cancelled transaction committed")

		require.NoError(t, AtomicallyContext(context.Background(), func(tx *Tx) error {
			require.True(t, CompareAndSwap(tx, x, 51, 52))
			return nil
		}))
		require.Equal(t, 52, x.Peek())
	}
	t.Run("software-or-default", run)
	t.Run("emulated", func(t *testing.T) {
		e := htm.NewEmulator(htm.EmuConfig{Seed: 3})
		withEmulator(t, e, func() {
			run(t)
			s := e.Stats()
			if s.Commits == 0 {
				t.Errorf("no emulated hardware commit through AtomicallyValue: %+v", s)
			}
			// Two AtomicallyValue call sites, two sites.
			if sites.Lookup(siteOf(func(tx *Tx) (int, error) { return 0, nil })) ==
				sites.Lookup(siteOf(func(tx *Tx) (bool, error) { return false, nil })) {
				t.Error("distinct AtomicallyValue bodies share one hardware-policy site")
			}
		})
	})
}
