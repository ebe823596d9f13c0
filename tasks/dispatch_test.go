package tasks_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

func feed(n int) <-chan int {
	ch := make(chan int, n)
	for i := range n {
		ch <- i
	}
	close(ch)
	return ch
}

// TestDispatcherHandlesEveryEventOnce: handlers on one Var conflict; every
// event's transaction commits once and its reply hook runs once.
func TestDispatcherHandlesEveryEventOnce(t *testing.T) {
	n := scale(2000, 20000)
	sum := hybrid.NewVar(0)
	var replies, runs atomic.Int64
	d := tasks.NewDispatcher(func(tx *hybrid.Tx, e int) error {
		runs.Add(1)
		sum.Store(tx, sum.Load(tx)+e)
		tx.AfterCommit(func() { replies.Add(1) })
		return nil
	}, tasks.Workers(4))
	require.NoError(t, d.Serve(context.Background(), tasks.FromChannel(feed(n))))
	assert.Equal(t, n*(n-1)/2, sum.Peek())
	assert.Equal(t, int64(n), replies.Load(), "replies != events (%d handler runs)", runs.Load())
}

// TestDispatcherErrors: handler errors roll back and come back with the
// event index; StopOnError stops taking events.
func TestDispatcherErrors(t *testing.T) {
	bad := errors.New("bad event")
	x := hybrid.NewVar(0)
	handle := func(tx *hybrid.Tx, e int) error {
		x.Store(tx, x.Load(tx)+1)
		if e%10 == 9 {
			return bad
		}
		return nil
	}
	err := tasks.NewDispatcher(handle, tasks.Workers(2)).Serve(context.Background(), tasks.FromChannel(feed(100)))
	require.ErrorIs(t, err, bad)
	assert.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 10)
	assert.Equal(t, 90, x.Peek())

	x = hybrid.NewVar(0)
	ch := make(chan int) // unbuffered, never closed: only StopOnError ends Serve
	stopFeed := make(chan struct{})
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for i := 0; ; i++ {
			select {
			case ch <- i:
			case <-stopFeed:
				return
			}
		}
	}()
	defer func() { close(stopFeed); <-fed }()
	err = tasks.NewDispatcher(handle, tasks.Workers(1), tasks.StopOnError()).Serve(context.Background(), tasks.FromChannel(ch))
	var te *tasks.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 9, te.Task)
	assert.Equal(t, 9, x.Peek(), "events after the failing one were handled")
}

// TestDispatcherPanicAndCancel: a handler panic is raised by Serve after
// everything stopped; cancelling the context ends Serve with ctx.Err().
func TestDispatcherPanicAndCancel(t *testing.T) {
	d := tasks.NewDispatcher(func(tx *hybrid.Tx, e int) error {
		if e == 3 {
			panicInTask()
		}
		return nil
	}, tasks.Workers(2))
	r, panicked := catch(func() { _ = d.Serve(context.Background(), tasks.FromChannel(feed(10))) })
	require.True(t, panicked)
	pe := r.(*tasks.PanicError)
	assert.Equal(t, 3, pe.Task)
	assert.Contains(t, string(pe.Stack), "panicInTask")

	ctx, cancel := context.WithCancel(context.Background())
	never := make(chan int)
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, tasks.FromChannel(never)) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
}

// TestServeCancelDropsFewEvents: once ctx is done, Serve lets the running
// handlers finish and drops the events taken but not started: at most one
// more than the workers (Serve's buffer and the one its reader holds). The
// source here never runs dry, and both workers are held in handlers when
// ctx ends.
func TestServeCancelDropsFewEvents(t *testing.T) {
	const workers = 2
	var taken, handled atomic.Int64
	started := make(chan struct{}, 64)
	release := make(chan struct{})
	d := tasks.NewDispatcher(func(tx *hybrid.Tx, e int) error {
		tx.AfterCommit(func() { handled.Add(1) })
		select {
		case started <- struct{}{}:
		default:
		}
		<-release // reads no Var: a body that waits changes nothing
		return nil
	}, tasks.Workers(workers))
	next := func(ctx context.Context) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return int(taken.Add(1)), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, next) }()
	for range workers {
		<-started
	}
	deadline := time.Now().Add(5 * time.Second)
	for taken.Load() < workers+workers+1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the reader fills the buffer and blocks
	}
	cancel()
	close(release)
	require.ErrorIs(t, <-done, context.Canceled)
	require.GreaterOrEqual(t, handled.Load(), int64(workers), "the running handlers finished")
	t.Logf("taken %d, handled %d", taken.Load(), handled.Load())
	require.LessOrEqual(t, taken.Load()-handled.Load(), int64(workers+1), "events taken but never handled")
}
