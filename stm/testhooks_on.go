//go:build hytm_hooks

package stm

// testHooks is on: tests built with the hytm_hooks tag (CI runs them) stop a
// goroutine at a chosen step of a fast path, to play an interleaving that
// a hammer test would hit too rarely.
const testHooks = true

// inlineReadPauseFn, if set, runs inside Load's inline read between its
// first meta load and its copy of Var.cur. Tests set it while no
// transaction runs.
var inlineReadPauseFn func()

func inlineReadPause() {
	if f := inlineReadPauseFn; f != nil {
		f()
	}
}

// unwrittenPauseFn, if set, runs inside unwritten between the caller's
// load of a nil head and unwritten's load of meta.
var unwrittenPauseFn func()

func unwrittenPause() {
	if f := unwrittenPauseFn; f != nil {
		f()
	}
}

// afterTrimPauseFn, if set, runs inside afterTrim at each round of its wait
// for a trim's lock to go.
var afterTrimPauseFn func()

func afterTrimPause() {
	if f := afterTrimPauseFn; f != nil {
		f()
	}
}
