package tasks

import (
	"context"
	"errors"
	"io"
	"runtime/debug"
	"sync"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/stm"
)

// A Dispatcher handles events on several worker goroutines, each call of
// its handler one transaction: the PyPy-STM talk's multithreaded reactor,
//
//	while True: event = queue.get(); with atomic: handle(event)
//
// Handlers written as if they ran one at a time stay correct, because each
// handle(tx, event) is atomic and the handlers' effects are those of some
// serial order. A handler replies, or does any other I/O, in a commit hook
// ([stm.Tx.AfterCommit]): it runs once, after the commit, outside the
// transaction. Make one with [NewDispatcher].
type Dispatcher[E any] struct {
	handle func(tx *hybrid.Tx, e E) error
	cfg    config
}

// NewDispatcher returns a Dispatcher that runs handle for every event, on
// [Workers] goroutines (default GOMAXPROCS), stopping at the first error
// with [StopOnError]. [Ordered] does not apply to events and panics, as does
// a nil handle.
func NewDispatcher[E any](handle func(tx *hybrid.Tx, e E) error, opts ...Option) *Dispatcher[E] {
	if handle == nil {
		panic("tasks: NewDispatcher with a nil handler")
	}
	d := &Dispatcher[E]{handle: handle, cfg: newConfig(opts)}
	if d.cfg.ordered {
		panic("tasks: NewDispatcher does not take Ordered (events have no order to keep)")
	}
	return d
}

// FromChannel returns a source for [Dispatcher.Serve] that takes events
// from ch; it reports io.EOF once ch is closed and drained.
func FromChannel[E any](ch <-chan E) func(ctx context.Context) (E, error) {
	return func(ctx context.Context) (E, error) {
		select {
		case e, ok := <-ch:
			if !ok {
				return e, io.EOF
			}
			return e, nil
		case <-ctx.Done():
			var zero E
			return zero, ctx.Err()
		}
	}
}

// Serve takes events from next and handles each one in its own transaction
// on the dispatcher's workers, until next returns an error or ctx is done.
// After next returns an error (io.EOF or another) it handles every event
// already taken; once ctx is done or the dispatcher stopped (a panic,
// StopOnError), it lets the handlers that are running finish and drops the
// events taken but not yet started (at most one more than the workers:
// those in Serve's buffer and the one the reader holds), as a stopped
// Pool drops its unstarted tasks: a source of
// resources (connections) should let the handler own them only once it
// runs. Serve returns once the workers and the goroutine calling next have
// exited.
//
// next must return once ctx is done (FromChannel's source does; a source
// that blocks in a listener's Accept needs the listener closed, for
// example by context.AfterFunc). An io.EOF from next ends Serve normally.
//
// Serve returns nil after io.EOF if every handler committed; otherwise
// ctx.Err() (if ctx ended it), next's error (other than io.EOF), and the
// handlers' errors, each a [*TaskError] with the event's index in the order
// events were taken, joined by errors.Join. A handler's error rolls its
// transaction back; the dispatcher goes on, unless [StopOnError]. Every
// handler error is kept until Serve returns. A panic in a handler stops the
// dispatcher, and Serve raises it again, once everything has exited, as a
// [*PanicError].
func (d *Dispatcher[E]) Serve(ctx context.Context, next func(ctx context.Context) (E, error)) error {
	if next == nil {
		panic("tasks: Serve with a nil source")
	}
	if stm.InTransaction() {
		panic("tasks: Serve inside a transaction")
	}
	outer := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type item struct {
		e E
		i int
	}
	events := make(chan item, d.cfg.workers)
	var (
		mu      sync.Mutex
		errs    []error
		pe      *PanicError
		srcErr  error
		wg      sync.WaitGroup
		reading = make(chan struct{})
	)
	// The reader: the one goroutine that calls next.
	go func() {
		defer close(reading)
		defer close(events)
		for i := 0; ; i++ {
			e, err := next(ctx)
			if err != nil {
				if !errors.Is(err, io.EOF) && ctx.Err() == nil {
					mu.Lock()
					srcErr = err
					mu.Unlock()
				}
				return
			}
			select {
			case events <- item{e, i}:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Add(d.cfg.workers)
	for range d.cfg.workers {
		go func() {
			normal := false
			defer func() {
				if !normal {
					cancel() // runtime.Goexit in a handler: stop, or the reader would block
				}
				wg.Done()
			}()
			for it := range events {
				if ctx.Err() != nil {
					continue // drain: stopped
				}
				err, p := d.handleOne(it.e, it.i)
				if p != nil || err != nil {
					mu.Lock()
					if p != nil && pe == nil {
						pe = p
					}
					if err != nil {
						errs = append(errs, &TaskError{Task: it.i, Err: err})
					}
					mu.Unlock()
					if p != nil || d.cfg.stopOnError {
						cancel()
					}
				}
			}
			normal = true
		}()
	}
	wg.Wait()
	cancel()
	<-reading
	if pe != nil {
		panic(pe)
	}
	var out []error
	if err := outer.Err(); err != nil {
		out = append(out, err)
	}
	if srcErr != nil {
		out = append(out, srcErr)
	}
	return errors.Join(append(out, errs...)...)
}

// handleOne runs the handler for one event as a transaction, turning a
// panic into a *PanicError.
func (d *Dispatcher[E]) handleOne(e E, i int) (err error, pe *PanicError) {
	returned := false
	defer func() {
		if !returned {
			if r := recover(); r != nil {
				pe = &PanicError{Task: i, Value: r, Stack: debug.Stack()}
			}
		}
	}()
	err = hybrid.Atomically(func(tx *hybrid.Tx) error { return d.handle(tx, e) })
	returned = true
	return err, nil
}
