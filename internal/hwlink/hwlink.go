// Package hwlink is the plumbing between package hybrid and package stm:
// the functions through which hybrid drives hardware attempts and learns
// about call sites (and one that package tasks uses, SetYield). They are stm's own unexported functions, declared here
// with go:linkname, so that they stay out of stm's documentation (which
// shows only what users call) while hybrid calls them directly.
//
// Why not function variables that stm fills in: escape analysis cannot see
// through a call of a function variable, so the body passed to it would
// escape, and every closure a user passes to hybrid.Atomically would be a
// heap allocation. A direct call of a declared function keeps the analysis
// exact; go:noescape records, for the two functions that take the body, what
// stm's implementation guarantees: it calls fn and keeps no reference to it.
// Each declaration must match stm's definition exactly (name, parameters,
// results); the stm side marks each with a one-argument go:linkname.
//
// The empty hwlink.s lets the compiler accept declarations without bodies.
package hwlink

import (
	"context"
	"time"
	_ "unsafe" // go:linkname

	"github.com/hytm/hytm/htm"
	"github.com/hytm/hytm/internal/hwtypes"
	"github.com/hytm/hytm/stm"
)

// RunHardware runs fn once as a hardware attempt in the given mode and
// reports how it ended: status htm.Started if it committed (err nil) or fn
// returned err with nothing written (readOnly: fn stored nothing); any other
// status if it aborted and nothing was written. It must not be called
// inside a transaction. See stm/hwaccess.go.
//
//go:noescape
//go:linkname RunHardware github.com/hytm/hytm/stm.runHardware
func RunHardware(fn func(tx *stm.Tx) error, mode hwtypes.Mode) (st htm.Status, readOnly bool, err error)

// AtomicallyWrote is stm.Atomically that also reports whether the committed
// attempt stored anything; inside a transaction it joins it and reports
// true. pc is the call site whose read-only mode the attempt uses (0: fn's
// own code pointer).
//
//go:noescape
//go:linkname AtomicallyWrote github.com/hytm/hytm/stm.atomicallyWrote
func AtomicallyWrote(pc uintptr, fn func(tx *stm.Tx) error) (wrote bool, err error)

// AtomicallyWroteContext is AtomicallyWrote with a context that ends Retry
// waits, as stm.AtomicallyContext. Its arguments escape (the transaction
// keeps the context while it runs).
//
//go:linkname AtomicallyWroteContext github.com/hytm/hytm/stm.atomicallyWroteContext
func AtomicallyWroteContext(ctx context.Context, pc uintptr, fn func(tx *stm.Tx) error) (wrote bool, err error)

// SetYield makes tx's running software attempt yield instead of waiting in
// Retry or becoming inevitable: the attempt ends, rolls back, and the
// Atomically call returns err. It lasts until the transaction ends; in a
// hardware attempt it does nothing. Package tasks sets it in the body of a
// block of tasks (tasks/ublocks.go). See stm/retry.go.
//
//go:linkname SetYield github.com/hytm/hytm/stm.setYield
func SetYield(tx *stm.Tx, err error)

// SetEmulator installs e as the emulator that Emulated attempts run on and
// that software commits announce their writes to; nil uninstalls it. Call
// it only while no transaction runs.
//
//go:linkname SetEmulator github.com/hytm/hytm/stm.setEmulator
func SetEmulator(e *htm.Emulator)

// SetHardwareActive turns on (or off) the software-live indicator that lets
// hardware commits skip the clock tick (stm/swlive.go). Call it only while
// no transaction runs.
//
//go:linkname SetHardwareActive github.com/hytm/hytm/stm.setHardwareActive
func SetHardwareActive(on bool)

// RecordHardwareAbort adds an aborted hardware attempt to the conflict
// reports (cause "capacity", "conflict", "explicit" or "other"; lost, its
// wall time). It does nothing while reporting is off.
//
//go:linkname RecordHardwareAbort github.com/hytm/hytm/stm.recordHardwareAbort
func RecordHardwareAbort(cause string, lost time.Duration)

// ReadHWStats returns the hardware-attempt counters, summed over stripes.
//
//go:linkname ReadHWStats github.com/hytm/hytm/stm.readHWStats
func ReadHWStats() hwtypes.Stats

// RealHardware reports whether this build contains the real RTM path
// (amd64, not purego, not under the race detector).
//
//go:linkname RealHardware github.com/hytm/hytm/stm.hasRealHardware
func RealHardware() bool

// OwnWrites asks for the cache lines that tx's software attempt's commit
// will touch (each written Var's line, exclusively, and its newest
// version's), with prefetches that change nothing, so that the commit later
// finds them here. Package tasks calls it before an ordered block waits for
// its turn. See stm/commit.go.
//
//go:linkname OwnWrites github.com/hytm/hytm/stm.ownWrites
func OwnWrites(tx *stm.Tx)

// OnInstalled has f run inside tx's commit right after the commit installs
// its versions, if tx's software attempt commits through stm's commitMulti
// and registered no commit hooks; otherwise f does not run. Package tasks passes
// an ordered block's turn on with it. See stm/commit.go.
//
//go:linkname OnInstalled github.com/hytm/hytm/stm.onInstalled
func OnInstalled(tx *stm.Tx, f func())
