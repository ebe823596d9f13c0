package stm

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The software-live indicator: RH-NOrec clock avoidance for hardware
// commits.
//
// A hardware commit ticks the clock only for the sake of software
// snapshots that are live across it: a snapshot taken before the commit
// (rv = clock) must not see some of its versions and miss others, and the
// tick stamps them all above rv. With no software transaction live there is
// no such snapshot, so the commit may stamp its versions with the current
// clock value and leave the clock alone; every snapshot taken later loads
// the clock after the commit and sees all of its versions. Ticking put the
// clock line in the write set of every hardware commit, so that
// concurrent hardware commits conflicted on it and every software Pin aborted
// them (Matveev and Shavit's RH-NOrec makes the same observation).
//
// The indicator is a striped counter, SNZI-like: liveStripes counters, each
// on its own cache line. A software attempt adds 1 to the stripe of its
// worker in Tx.begin, before it pins its snapshot, and subtracts it in
// Tx.end (or earlier, when Retry releases the snapshot to sleep). A
// hardware commit reads every stripe and ticks if any is non-zero; if all
// are zero it stamps with clock.v.Load().
// Striping keeps software workers from all writing one line; the price is
// that a hardware commit reads liveStripes lines.
//
// Ordering, real RTM (hwCommitReal). The commit reads the stripes inside the
// hardware transaction, so the stripe lines are in its read set until XEND.
// Take a software attempt S and a commit H that read S's stripe as zero
// (every increment of a stripe is matched by a decrement of the same stripe,
// so zero means that every attempt that announced itself there before the
// read also withdrew before it). S's increment (a locked RMW) is either
// before that read, in which case S's decrement is too, and S ended, every
// read of its snapshot done (nothing of H was visible before XEND, so S saw
// none of it); or after XEND, in which
// case S's clock loads and reads all come after H took effect, rv is at
// least H's stamp (H read the clock, which could not move before XEND
// without aborting it), and S sees every version of H; or between the
// stripe read and XEND, which is a write to a line in H's read set: the CPU
// aborts H. So no snapshot sees part of H.
//
// Ordering, emulated (hwCommitEmu). Memory is real there, and the argument
// is Dekker's, on Go's sequentially consistent atomics: S does
// stripe.Add(+1), then loads the clock (Pin) and each Var's meta word; H does
// its lock CASes on every Var it writes (metaLock: the multi bit, which
// readers wait for), then loads the stripes. If H's load of S's stripe does
// not see S's increment (and S has not ended), the increment comes after the
// load in the total order of atomics, hence after H's locks, and so does
// every meta load of S: S finds each Var of H locked, and waits, or
// installed. Since H stamps all its versions with one value wv, S sees all of
// them (wv <= rv) or none (wv > rv); either way not a part. If the load sees
// the increment, H ticks as before. An S that ended before H's load read
// nothing of H after H's locks: a read of a Var that H had locked would
// have waited for H's unlock, which comes after the load.
//
// In both modes what the argument needs is that S's increment precede S's
// first read of a Var (its first meta load); the clock loads may come before
// or after it (S then sees all of H or none, by H's one stamp). Tx.begin
// increments before Pin, which is the natural place and leaves that freedom
// unused.
//
// The same argument covers a commit that writes one Var: it is skipped or
// ticked like any other (an unticked software single-Var commit once broke
// real-time order and serializability, docs/design.md, "Clock"; the difference here
// is that no snapshot is live across the skipping commit).
//
// Trimming. Versions stamped without a tick share the clock value with the
// ones before them and stay at or above the horizon until the clock moves;
// the hardware commit feeds the same maintenance
// as a software commit (hwMaintain), which ticks the clock with a CAS, outside
// any transaction, when the worker's chains stay long.
//
// Who announces. Every software attempt, from Tx.begin to Tx.end, read-only
// ones included: they all read through a snapshot. Irrevocable attempts read
// the newest versions and would not need it (while one holds the token no
// hardware attempt commits: real ones subscribe to irrev.active, emulated
// commits check it after their locks), but one that became irrevocable
// through Inevitable read from its snapshot first, and begin does not tell
// them apart; since Tx.end withdraws the announcement before it releases the
// token, an irrevocable attempt's announcement never makes a real hardware
// commit tick. Emulated hardware attempts (runHardware) pin a slot too, but
// only to keep the nodes they read from being recycled: they read the newest
// versions, not through rv, and other hardware commits are atomic for them
// through the emulator (its conflict detection, and EndWith, which makes a
// commit's decision and install one step for every emulated attempt). They
// do not announce; if they did, every hardware commit would tick
// while another hardware attempt ran. Peek pins a slot to copy one value and
// is not a snapshot.
//
// Cost. The indicator is off until package hybrid turns hardware attempts on
// (setHardwareActive); while off, Tx.begin and Tx.end pay one load and one
// predictable branch each, and stripe 0 holds a bias of 1, so that a
// hardware commit run while the indicator is off always ticks.

// liveStripeBits is log2 of the number of stripes: 8 lines for a hardware
// commit to read, enough that software workers seldom share one.
const liveStripeBits = 3

const liveStripes = 1 << liveStripeBits

// liveStripe is one counter of the indicator, on a cache line of its own.
type liveStripe struct {
	n atomic.Int64 // software attempts announced here and not yet ended (+ the bias, on stripe 0)
	_ cpu.CacheLinePad
}

var swLive struct {
	_ cpu.CacheLinePad
	// on makes software attempts announce themselves. Read by every
	// Tx.begin; written only by setHardwareActive, while no transaction
	// runs, so its line stays shared in every cache.
	on atomic.Bool
	_  cpu.CacheLinePad
	// stripe is written by software attempts, read by hardware commits.
	stripe [liveStripes]liveStripe
}

func init() {
	// The bias: off, the indicator reads "live", so hardware commits tick.
	swLive.stripe[0].n.Store(1)
}

// setHardwareActive tells package stm whether hardware attempts
// (runHardware) run alongside software transactions.
//
// While on, every software transaction announces itself, from its start to
// its end, in a striped counter that hardware commits read: a
// hardware commit that finds no software transaction live stamps its
// versions with the current clock value instead of ticking the global clock
// (the RH-NOrec idea), so that hardware commits do not all write one cache
// line. While off (the default), software transactions pay one predictable
// branch at start and end, and every hardware commit ticks.
//
// Package hybrid calls it when it turns hardware attempts on or off. Call it
// only while no transaction runs: a transaction that started while it was
// off is not announced.
//
//go:linkname setHardwareActive
func setHardwareActive(on bool) {
	if swLive.on.Load() == on {
		return
	}
	if on {
		// Announce from now on, then drop the bias. Both are seq-cst; with
		// no transaction running their order only matters to a misuse, and
		// this one errs towards ticking.
		swLive.on.Store(true)
		swLive.stripe[0].n.Add(-1)
	} else {
		// Restore the bias, then stop announcing (same reasoning).
		swLive.stripe[0].n.Add(1)
		swLive.on.Store(false)
	}
}

// liveEnter announces the software attempt about to start on w. Tx.begin
// calls it before it pins its snapshot. While the indicator is off it is
// one load of a read-mostly flag and a predictable branch (inlined).
func (w *worker) liveEnter() {
	// Plain load on amd64 and arm64 (atomic only for the race detector and
	// for the memory model): on changes only while no transaction runs.
	if swLive.on.Load() {
		w.liveEnterSlow()
	}
}

//go:noinline
func (w *worker) liveEnterSlow() {
	// Fibonacci hash of the worker's address: workers are large objects, so
	// their low address bits say little.
	s := &swLive.stripe[uint64(uintptr(unsafe.Pointer(w)))*0x9E3779B97F4A7C15>>(64-liveStripeBits)].n
	// seq-cst RMW, before the clock loads of Slot.Pin and every meta load of
	// the attempt: pairs with the stripe loads of swLiveAny (Dekker; see the
	// note above). In real RTM it is also the write that aborts a hardware
	// commit that read this stripe and has not reached XEND.
	s.Add(1)
	w.live = s
	w.tx.endWork = true
}

// liveLeave withdraws w's announcement, if it made one. Tx.end calls it
// after the attempt's last read; waitForChange calls it when it releases the
// snapshot to sleep in Retry (Tx.end then finds nothing to withdraw).
func (w *worker) liveLeave() {
	if w.live != nil {
		w.liveLeaveSlow()
	}
}

//go:noinline
func (w *worker) liveLeaveSlow() {
	// seq-cst RMW, after every read of the attempt's snapshot (program
	// order): a hardware commit whose stripe load sees it ordered after
	// those reads, which saw nothing of the commit (see the note above).
	w.live.Add(-1)
	w.live = nil
}

// swLiveAny reports whether a software attempt may be live: whether any
// stripe, the bias included, is non-zero. A hardware commit calls
// it inside the hardware transaction (real) or after taking its locks
// (emulated). It stops at the first non-zero stripe: the commit then ticks,
// and the other stripes need not be in its read set.
func swLiveAny() bool {
	for i := range swLive.stripe {
		// seq-cst load: pairs with the Add in liveEnterSlow (Dekker, after
		// the emulated commit's lock CASes); in real RTM it puts the stripe
		// line in the transaction's read set until XEND.
		if swLive.stripe[i].n.Load() != 0 {
			return true
		}
	}
	return false
}
