//go:build !hytm_hooks

package stm

// testHooks is on only in builds with the hytm_hooks tag, whose tests stop
// a goroutine at a chosen step of a fast path (hooks_on.go); in every other
// build the calls below compile to nothing.
const testHooks = false

// inlineReadPause is called by Load's inline read between its first meta
// load and its copy of Var.cur.
func inlineReadPause() {}

// unwrittenPause is called by unwritten between the caller's load of a nil
// head and unwritten's load of meta.
func unwrittenPause() {}

// afterTrimPause is called by afterTrim at each round of its wait for a
// trim's lock to go.
func afterTrimPause() {}
