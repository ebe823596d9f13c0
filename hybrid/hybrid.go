package hybrid

import (
	"context"
	"unsafe"

	"github.com/hytm/hytm/htm"
	"github.com/hytm/hytm/internal/hwlink"
	"github.com/hytm/hytm/internal/hwtypes"
	"github.com/hytm/hytm/internal/policy"
	"github.com/hytm/hytm/stm"
)

// Var is a transactional variable holding a value of type T; it is
// [stm.Var], so Vars are shared freely between hybrid and stm transactions.
type Var[T any] = stm.Var[T]

// Tx is a running transaction, hardware or software; it is [stm.Tx].
type Tx = stm.Tx

// NewVar returns a Var holding v, as if committed before every transaction.
func NewVar[T any](v T) *Var[T] { return stm.NewVar(v) }

// OrElse returns a body that runs fns in order until one does not call
// Retry; see [stm.OrElse]. In a hardware attempt it moves the transaction to
// software first.
func OrElse(fns ...func(tx *Tx) error) func(tx *Tx) error { return stm.OrElse(fns...) }

// Execution mode, set once at init (or by tests between runs).
var (
	hwOn   bool         // hardware attempts are enabled
	hwMode hwtypes.Mode // how they run
	sites  policy.SiteTable
)

// trace, when set (tests), sees every aborted attempt and the decision.
var trace func(st htm.Status, a policy.Action)

func init() {
	switch {
	case htm.Emulated():
		setEmulator(htm.DefaultEmulator())
	case htm.Enabled() && hwlink.RealHardware():
		setHW(true, hwtypes.Real)
	}
}

// setHW sets the execution mode. Call it only while no transaction runs.
// With hardware on, stm's software transactions announce themselves, so
// that hardware commits tick the clock only when one is live.
func setHW(on bool, mode hwtypes.Mode) {
	hwOn, hwMode = on, mode
	hwlink.SetHardwareActive(on)
}

// setEmulator runs hardware attempts on e from now on (nil: software only).
// Call it only while no transaction runs.
func setEmulator(e *htm.Emulator) {
	hwlink.SetEmulator(e)
	setHW(e != nil, hwtypes.Emulated)
	sites.Reset()
}

// HardwareEnabled reports whether Atomically tries hardware attempts: the
// CPU's RTM (htm.Enabled, in a build with the real path) or the emulator
// (HYTM_HTM=emulate).
func HardwareEnabled() bool { return hwOn }

// Atomically runs fn as one transaction and returns its error, with the
// contract of [stm.Atomically]: fn may run more than once, its Stores become
// visible at once when it returns nil, and are discarded when it returns an
// error or panics; called inside a transaction it joins it (flat nesting).
//
// When hardware is enabled, fn first runs as a hardware attempt, under the
// policy of package internal/policy, and moves to software when hardware fails.
// Bodies that may run in hardware must follow the restrictions in the
// package documentation. When hardware is not enabled, Atomically is
// stm.Atomically behind one predictable branch.
func Atomically(fn func(tx *Tx) error) error {
	// A direct call behind a branch, not a call through a function
	// variable: escape analysis sees that neither callee keeps fn, so a
	// closure that captures locals stays on the caller's stack (an indirect
	// call made every such closure a heap allocation).
	if hwOn {
		if fn == nil {
			panic("hybrid: Atomically with a nil function")
		}
		return atomicallyHW(siteOf(fn), fn)
	}
	return stm.Atomically(fn)
}

// siteOf returns the call site that the hardware policy learns about: the
// body's code, the first word of the func value. It tells bodies apart as
// well as the caller's PC would (closures of one literal share it), costs a
// load instead of runtime.Callers, and stays distinct when every call goes
// through one wrapper. fn must not be nil.
func siteOf[F any](fn F) uintptr {
	return **(**uintptr)(unsafe.Pointer(&fn))
}

// AtomicallyValue runs fn as one transaction, hardware first, and returns
// the value fn returned in the attempt that committed; see
// [stm.AtomicallyValue].
func AtomicallyValue[T any](fn func(tx *Tx) (T, error)) (T, error) {
	if !hwOn {
		return stm.AtomicallyValue(fn)
	}
	if fn == nil {
		panic("hybrid: AtomicallyValue with a nil function")
	}
	var out T
	err := atomicallyHW(siteOf(fn), func(tx *Tx) error {
		v, err := fn(tx)
		out = v
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// AtomicallyContext is [Atomically] with a context that ends Retry waits,
// hardware first; see [stm.AtomicallyContext]. A hardware attempt never
// waits (Retry moves the transaction to software), so ctx matters only
// once it runs in software.
func AtomicallyContext(ctx context.Context, fn func(tx *Tx) error) error {
	if !hwOn {
		return stm.AtomicallyContext(ctx, fn)
	}
	if fn == nil {
		panic("hybrid: AtomicallyContext with a nil function")
	}
	if ctx == nil {
		panic("hybrid: AtomicallyContext with a nil context")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return atomicallyHWContext(ctx, siteOf(fn), fn)
}

// CompareAndSwap stores new in v if v holds old, in tx; see
// [stm.CompareAndSwap].
func CompareAndSwap[T comparable](tx *Tx, v *Var[T], old, new T) bool {
	return stm.CompareAndSwap(tx, v, old, new)
}

// Check retries the transaction unless cond holds; see [stm.Check].
func Check(tx *Tx, cond bool) { stm.Check(tx, cond) }

// atomicallyHW runs fn hardware first, for call site pc, and in software
// when hardware fails. Neither it nor anything it calls keeps fn (the
// declarations in internal/hwlink say so), so a closure passed to
// Atomically stays on its caller's stack.
//
//go:noinline
func atomicallyHW(pc uintptr, fn func(tx *Tx) error) error {
	if stm.InTransaction() {
		return stm.Atomically(fn) // joins the running transaction
	}
	site := sites.Lookup(pc)
	if !site.UseHardware() {
		wrote, err := hwlink.AtomicallyWrote(pc, fn)
		site.Learn(wrote)
		return err
	}
	if done, err := hardware(site, pc, fn); done {
		return err
	}
	return stm.Atomically(fn)
}

// atomicallyHWContext is atomicallyHW with a context that ends the
// software attempts' Retry waits. It is a function of its own because the
// context path lets fn escape (the transaction keeps ctx while it runs,
// and a function that may store one argument is assumed to store all):
// sharing the code with atomicallyHW would make every Atomically body
// escape.
//
//go:noinline
func atomicallyHWContext(ctx context.Context, pc uintptr, fn func(tx *Tx) error) error {
	if stm.InTransaction() {
		return stm.Atomically(fn) // joins the running transaction
	}
	site := sites.Lookup(pc)
	if !site.UseHardware() {
		wrote, err := hwlink.AtomicallyWroteContext(ctx, pc, fn)
		site.Learn(wrote)
		return err
	}
	if done, err := hardware(site, pc, fn); done {
		return err
	}
	return stm.AtomicallyContext(ctx, fn)
}

// hardware runs fn's hardware attempts under the policy of package
// fallback. It reports done with fn's result when an attempt committed (or
// returned fn's error), and not done when fn must now run in software.
func hardware(site *policy.Site, pc uintptr, fn func(tx *Tx) error) (done bool, err error) {
	var a policy.HWAttempts
	var b policy.Backoff
	b.Seed(uint64(pc))
	for {
		t0 := hwReportStart() // diag.go: 0 unless conflict reporting is on
		st, readOnly, err := hwlink.RunHardware(fn, hwMode)
		if st == htm.Started {
			if readOnly {
				site.ReadOnly()
			} else {
				site.Committed()
			}
			return true, err
		}
		if t0 != 0 {
			reportHWAbort(st, t0)
		}
		act := a.Next(st)
		if trace != nil {
			trace(st, act)
		}
		switch act {
		case policy.Hardware:
			b.Wait(a.Conflicts)
		case policy.HardwareNoCharge:
			// RunHardware already waited for the lock.
		case policy.SoftwareCapacity:
			site.Capacity()
			return false, nil
		default:
			return false, nil
		}
	}
}
