// Package hybrid is hytm's public transactional memory: write code as if it
// were single-threaded, wrap each critical piece in Atomically, and it runs
// correctly on every core. Small transactions run as hardware transactions
// (Intel RTM) when the CPU allows it, and everything else runs on the
// multi-version software TM of package stm. Both kinds run at the same time
// on the same Vars.
//
//	from, to := hybrid.NewVar(100), hybrid.NewVar(0)
//	err := hybrid.Atomically(func(tx *hybrid.Tx) error {
//		b := from.Load(tx)
//		if b < 30 {
//			return errInsufficient // rolls back every Store, returned as is
//		}
//		from.Store(tx, b-30)
//		to.Store(tx, to.Load(tx)+30)
//		return nil // commits
//	})
//
// The names are stm's (Var, Tx, NewVar, Atomically, AtomicallyValue,
// AtomicallyContext, OrElse, Check, and the Load, Store, Swap, Modify and
// Retry methods), and Var and Tx are aliases of stm's types, so switching
// between the two is one import, and Vars may be shared between hybrid and
// stm transactions. Everything the stm package documentation says about
// bodies (they may run more than once; errors and panics roll back; values
// are immutable once stored) holds here.
//
// # Guarantees, in Go memory-model terms
//
// Every committed transaction, hardware or software, appears to take effect
// at a single point between the start and the return of its Atomically call,
// and commits form one total order consistent with real time. A committing
// Atomically call is synchronized before every transaction that observes one
// of its Stores, as an Unlock is synchronized before the Lock that follows
// it: whatever happened before the committing call returned happens before
// the observing body continues. Aborted attempts never leak Stores. Every
// body, hardware or software, only ever reads values from one consistent
// committed state (opacity), so it may rely on invariants that span Vars.
//
// # Restrictions for hardware bodies
//
// A body that may run in hardware must behave like any stm body (no side
// effects beyond Loads and Stores, no recover of transaction panics), and in
// addition should avoid what RTM cannot do — it then simply runs in software,
// but every attempt that tries hardware first is wasted:
//
//   - system calls, I/O, channel operations, locks, time.Now, and anything
//     that may block or enter the scheduler;
//   - allocation (new, make, append beyond capacity, maps, closures that
//     escape, interface conversions of non-pointer values, fmt);
//   - deep recursion (beyond the stack reserved before XBEGIN, 16 KiB);
//   - panics (a panic in a hardware body aborts the attempt; the body is run
//     again in software, where the panic propagates);
//   - touching more data than the L1 cache holds (capacity aborts).
//
// # When hardware is used
//
// Hardware attempts are enabled when htm.Enabled() reports true (RTM
// detected, or HYTM_HTM=force) in a build with the real path (not under the
// race detector), or when HYTM_HTM=emulate selects htm's emulator, which runs
// the same policy and access rules on any CPU so that CI exercises them.
// Otherwise [Atomically] is stm.Atomically behind one predictable branch.
//
// The policy (internal/policy/hwpolicy.go, where the defaults are
// justified): a transaction first runs in hardware. A capacity abort sends
// it to software at once, and its call site skips hardware for a while; a
// conflict is retried in hardware up to three times with backoff; a lock held
// by a software commit (explicit abort 0xff) is waited for outside the
// transaction and retried without charge; Retry, OrElse, Inevitable and
// nested Atomically abort with 0xfe and continue in software; anything else
// goes to software.
//
// # Why mixed execution is correct
//
// Software transactions are those of package stm: opaque snapshots taken
// from a global clock, commits that lock their write set, stamp (tick the
// clock), validate their reads by the Vars' meta words
// and install new versions. Hardware attempts follow four rules, written next
// to the software ones in stm/hwaccess.go:
//
//  1. Eager subscription. An attempt reads the irrevocable token at its start
//     and each Var's meta word before its value, at the first access, and
//     aborts (0xff) if a software commit holds it. A software commit that
//     locks or writes such a Var later is a write to a line in the attempt's
//     read set, so the attempt aborts: it never observes a commit half
//     installed, and it never commits after a software commit that
//     invalidated one of its reads. Lazy subscription (checking the lock only
//     at commit) would let a hardware body see half of a software commit, and
//     is not used.
//  2. No version is overwritten. A hardware Store links a new version node,
//     taken from a per-worker supply, in front of the chain; the versions that
//     software snapshots read stay as they are. Hardware bodies never call the
//     allocator: an empty supply aborts with 0xfe.
//  3. Consistent stamps. A hardware commit stamps its versions and bumps the
//     meta sequence of every Var it writes inside the hardware transaction. It
//     reads a striped counter in which
//     every software transaction announces itself from its start to its end,
//     with an atomic add at each (the RH-NOrec idea). If a stripe is
//     non-zero, the commit writes clock+1 to the clock in the same hardware
//     transaction: a software snapshot loads the clock either before the
//     commit (and skips all its versions, stamped above its snapshot) or
//     after (and sees all of them). If every stripe is zero, it stamps with
//     the current clock and leaves the clock alone: the stripes stay in its
//     read set, so a software transaction that announces itself before XEND
//     aborts it, and one that announces itself later reads after XEND and
//     sees all of its versions or, if its snapshot is older than their one
//     stamp, none. Either way hardware commits are atomic for software
//     readers, and with no software transaction live a hardware commit
//     writes no shared line but its Vars'. Software validation sees the
//     bumped sequence numbers, so a software writer that read a Var a
//     hardware commit wrote aborts. Read-only hardware commits never write
//     the clock; [Stats] counts the writing ones that ticked it and those
//     that skipped the tick.
//  4. Stack before XBEGIN. The goroutine's stack is grown before XBEGIN, so
//     that a stack-growth check inside a body cannot abort every attempt of a
//     site with a bogus capacity abort.
//
// Serializability follows: every transaction, hardware or software, takes
// effect at one point — a software commit at its lock-validate-install
// step (made atomic for readers by its locks and the clock tick), a hardware
// commit at XEND. Opacity follows for hardware bodies from rule 1 (they only
// ever see committed, fully installed state, and abort as soon as it
// changes), and for software bodies from stm's snapshots and rules 2-3.
//
// In emulated mode memory is not rolled back, so the attempt buffers its
// writes, records each read with its meta word, revalidates its reads
// whenever the clock moved (a software commit ticks before
// installing), asks the emulator after every read whether a conflicting
// access doomed it, and commits through stm's software protocol inside
// EmuTx.EndWith: the emulator's commit decision and the install are one step
// for every other emulated attempt, and stm's locks and validation keep the
// data correct for software transactions. The emulated commit reads the
// stripes after taking its write locks, and a software transaction announces
// itself before its first read (Dekker, on Go's sequentially consistent
// atomics): either the commit sees the announcement and ticks, or the
// transaction reads behind the locks, waiting for them or seeing the
// installed versions, all stamped alike. Emulated attempts do not announce
// themselves: they read the newest versions, and other hardware commits are
// atomic for them through the emulator.
//
// # Not yet done
//
// The real-RTM path, the RH-NOrec clock avoidance included, is exercised in
// CI only under valgrind, where every XBEGIN aborts; the avoidance's tests
// run on the emulator.
package hybrid
