package policy

import (
	"sync/atomic"

	"github.com/hytm/hytm/htm"
)

// Hybrid execution policy.
//
// A read-write transaction first runs as a hardware attempt (when hardware
// or the emulator is enabled). How each abort status is handled, and why:
//
//   - Capacity: the read or write set does not fit, and will not fit next
//     time either; retrying only burns the attempt again. Go to software at
//     once, and teach the call site (SiteTable): its next 2^k transactions
//     skip hardware, k starting at HWSkipMinShift and growing by one on each
//     capacity abort up to HWSkipMaxShift, and decaying by one on every
//     hardware commit from the site. A site whose transactions never fit thus
//     costs one wasted attempt per 4096 transactions; a site that fits again
//     returns to hardware within 2^k transactions.
//   - Conflict (and the retry hint, and a failed version check CodeNotHead):
//     another thread touched the same data; the next attempt likely fits.
//     Retry in hardware up to HWConflictRetries times, with short randomized
//     backoff (the Backoff type), then go to software, whose multi-version
//     snapshots do not abort readers. Three is what glibc's lock elision and
//     most RTM studies settle on: beyond it the success rate of one more
//     attempt drops below that of the software path.
//   - Explicit CodeLockBusy (0xff): a software commit or an irrevocable
//     transaction held what the attempt subscribes to. The attempt's caller
//     has waited until it was free; retry in hardware without charging the
//     attempt, at most HWLockBusyWaits times (bounding the rare case of a
//     site that keeps meeting software commits).
//   - Explicit CodeSoftware (0xfe): the body needs software (Retry, OrElse,
//     Inevitable, nested Atomically, an empty node supply). Go to software at
//     once; it is not the site's capacity, so the site does not learn.
//   - A site whose hardware attempt committed without a Store is taken to
//     be read-only, and runs in software for a while (Site.ReadOnly).
//   - Anything else (status 0: an interrupt, a fault, an instruction RTM does
//     not allow, a spurious abort; debug; other explicit codes): go to
//     software. Such aborts are usually transient, but they are also what a
//     system call or an allocation in the body produces, which repeats.

const (
	// HWConflictRetries is how many conflict aborts a transaction retries in
	// hardware before it moves to software.
	HWConflictRetries = 3
	// HWLockBusyWaits bounds the lock-busy waits of one transaction.
	HWLockBusyWaits = 16
	// HWSkipMinShift is log2 of the number of transactions a site skips
	// hardware for after its first capacity abort (16).
	HWSkipMinShift = 4
	// HWSkipMaxShift caps the skip length at 2^12 = 4096 transactions.
	HWSkipMaxShift = 12
	// HWSites is the size of the call-site table; sites whose return PCs
	// hash alike share an entry, which only blurs their learning.
	HWSites = 1024
)

// Action is what the hybrid does after an aborted hardware attempt.
type Action uint8

const (
	// Hardware retries in hardware (after a conflict; back off first).
	Hardware Action = iota + 1
	// HardwareNoCharge retries in hardware after a lock-busy wait.
	HardwareNoCharge
	// Software runs the transaction in software.
	Software
	// SoftwareCapacity runs it in software and teaches the site.
	SoftwareCapacity
)

// String returns the action's name, as used in traces and reports.
func (a Action) String() string {
	switch a {
	case Hardware:
		return "hardware"
	case HardwareNoCharge:
		return "hardware-nocharge"
	case Software:
		return "software"
	case SoftwareCapacity:
		return "software-capacity"
	}
	return "action?"
}

// HWAttempts tracks the hardware attempts of one transaction. The zero value
// is ready for its first abort.
type HWAttempts struct {
	Conflicts int // conflict aborts so far
	Waits     int // lock-busy waits so far
}

// Next returns what to do after an attempt that aborted with st.
func (a *HWAttempts) Next(st htm.Status) Action {
	switch {
	case st.Capacity():
		return SoftwareCapacity
	case st.Explicit():
		switch st.Code() {
		case htm.CodeLockBusy:
			if a.Waits < HWLockBusyWaits {
				a.Waits++
				return HardwareNoCharge
			}
			return Software
		case htm.CodeNotHead:
			return a.conflict()
		}
		return Software
	case st.Conflict() || st.Retry():
		return a.conflict()
	}
	return Software
}

func (a *HWAttempts) conflict() Action {
	if a.Conflicts < HWConflictRetries {
		a.Conflicts++
		return Hardware
	}
	return Software
}

// Site is what the policy learned about one call site.
type Site struct {
	// writes is set once a transaction from the site has been seen to
	// Store. Until then the site runs in software: a read-only body on the
	// multi-version STM runs exactly once, while a hardware attempt could be
	// aborted by a writer and run it again.
	writes atomic.Bool
	skip   atomic.Int32  // transactions left to run in software
	shift  atomic.Uint32 // log2 of the next skip length, 0 after decay
	skips  atomic.Uint64 // transactions sent to software by this entry
	_      [44]byte      // one site per cache line
}

// SiteTable maps call sites (return PCs) to what the policy learned about
// them. The zero value is ready; it is safe for concurrent use. Updates are
// racy on purpose (plain load-then-store): a lost update only shortens or
// lengthens one skip.
type SiteTable struct {
	sites [HWSites]Site
}

// Lookup returns the entry for the call site pc.
func (t *SiteTable) Lookup(pc uintptr) *Site {
	return &t.sites[uint64(pc)*0x9E3779B97F4A7C15>>(64-10)%HWSites]
}

// Reset forgets everything learned (for tests).
func (t *SiteTable) Reset() {
	for i := range t.sites {
		t.sites[i].writes.Store(false)
		t.sites[i].skip.Store(0)
		t.sites[i].shift.Store(0)
		t.sites[i].skips.Store(0)
	}
}

// UseHardware reports whether the next transaction from the site should try
// hardware; if not, it counts the skip.
func (s *Site) UseHardware() bool {
	if !s.writes.Load() {
		return false // not known to write: software, learning (see Learn)
	}
	if s.skip.Load() <= 0 {
		return true
	}
	s.skip.Add(-1)
	s.skips.Add(1)
	return false
}

// Capacity records a capacity abort: the site skips hardware for its next
// 2^k transactions.
func (s *Site) Capacity() {
	k := s.shift.Load() + 1
	if k < HWSkipMinShift {
		k = HWSkipMinShift
	}
	if k > HWSkipMaxShift {
		k = HWSkipMaxShift
	}
	s.shift.Store(k)
	s.skip.Store(1 << k)
}

// ReadOnly records a hardware commit of a body that stored nothing: the
// site's next 2^HWSkipMaxShift transactions run in software, whose
// multi-version snapshots never abort a read-only transaction (so its body
// runs once), while a hardware attempt could be aborted by writers and rerun
// it. After the skip the site tries hardware once more, in case it writes.
func (s *Site) ReadOnly() {
	s.writes.Store(false)
	s.skip.Store(1 << HWSkipMaxShift)
}

// Learn records a software commit of a transaction from the site, and
// whether it stored anything. The first Store seen makes the site eligible
// for hardware. It writes the shared entry only when that changes.
func (s *Site) Learn(wrote bool) {
	if wrote && !s.writes.Load() {
		s.writes.Store(true)
	}
}

// Committed records a hardware commit: the next skip will be shorter. It
// writes only while there is something to decay.
func (s *Site) Committed() {
	if k := s.shift.Load(); k > 0 {
		s.shift.Store(k - 1)
	}
}

// Skips returns the number of transactions the table sent to software
// without a hardware attempt, summed over its entries.
func (t *SiteTable) Skips() uint64 {
	var n uint64
	for i := range t.sites {
		n += t.sites[i].skips.Load()
	}
	return n
}

// Skipping reports how many transactions the site still skips hardware for.
func (s *Site) Skipping() int { return int(s.skip.Load()) }
