// Package htm is the hardware layer of hytm: Intel RTM (Restricted
// Transactional Memory) instructions, their detection, the decoding of abort
// statuses, and an emulator of best-effort HTM for machines without TSX.
//
// It provides mechanism only. When to try hardware, how often to retry, and
// how a hardware transaction subscribes to the software TM's commit lock are
// decided by the hybrid layer above.
//
// # Instructions
//
// [Begin] (XBEGIN), [End] (XEND), [Test] (XTEST), and one explicit-abort
// function per abort code ([AbortLockBusy], [AbortSoftware],
// [AbortNotHead]; XABORT takes an 8-bit immediate) are NOSPLIT assembly
// leaves on amd64. Builds for other architectures, and builds with the
// purego tag, contain pure-Go stand-ins: [Supported] and [Enabled] report
// false, Begin, End and the aborts panic with "htm: RTM not supported", and
// Test reports false.
//
// # Detection and HYTM_HTM
//
// [Supported] is true only when CPUID reports RTM, RTM_ALWAYS_ABORT is clear,
// the CPU is not a Haswell with the TSX erratum, and at least half of 1,000
// empty self-test transactions commit (RTM disabled through MSR TSX_CTRL
// aborts them all without faulting). [Info] says why, in words.
//
// The environment variable HYTM_HTM, read once at package initialisation,
// selects the [Mode]:
//
//	auto     (default) use RTM when Supported
//	off      never execute an RTM instruction
//	emulate  run the hardware path on DefaultEmulator instead
//	force    execute RTM instructions whatever CPUID says: for valgrind,
//	         which runs XBEGIN as an immediate capacity abort (status 0x8),
//	         and for testing. On a CPU without RTM (every AMD CPU, most
//	         Intel client CPUs since 2021) the first Begin raises SIGILL
//	         and the program crashes.
//
// Any other value is reported on standard error and treated as off.
// [Enabled] reports whether the RTM instructions may run.
//
// # What is safe
//
// Calling Begin, End, Test or an abort function on a CPU without RTM raises
// SIGILL (XBEGIN and XTEST are illegal instructions there, for example on
// AMD EPYC): gate every call on [Enabled]. End outside a transaction raises
// a general-protection fault. The explicit aborts outside a transaction do
// nothing.
//
// Between a Begin that returned [Started] and its End, the goroutine runs
// transactionally: any abort rolls memory and registers back and makes Begin
// return again with the abort status. Go code there must be straight-line
// loads, stores and arithmetic on memory that is already allocated and
// touched. These abort the transaction, so they are wasted work but not
// unsafe:
//   - heap allocation, stack growth (morestack), write-barrier buffer
//     flushes, map growth;
//   - system calls, I/O, channel operations, mutex slow paths, PAUSE
//     (spin loops), CPUID;
//   - defer and panic (a panic that unwinds past Begin's caller loses the
//     transaction's writes, which never committed);
//   - page faults, including the first touch of a page;
//   - signals and interrupts, including the runtime's asynchronous
//     preemption (SIGURG, about every 10 ms of running);
//   - race-detector instrumentation (build HTM code paths with !race).
//
// These are not safe:
//   - calling End without a started transaction;
//   - acting on inconsistent data inside a transaction that has not yet
//     subscribed to the software commit lock (lazy subscription): a
//     software write-back seen half done can send a "zombie" transaction
//     anywhere, and the hardware commits whatever it wrote. Subscribe right
//     after Begin;
//   - blocking, or anything whose effects outlive an abort (there are no
//     escape actions).
//
// Hardware transactions are best effort: a transaction may abort every time
// (capacity, a hyperthread sibling, interrupts), so every use needs a
// software fallback.
//
// # Status
//
// [Status] decodes what Begin returns: [Started], or the abort bits
// (explicit with a code, retry, conflict, capacity, debug, nested), with
// status 0 meaning an unclassified abort such as an interrupt.
//
// # Emulator
//
// [Emulator] models a best-effort HTM deterministically under a seed: write
// and read sets bounded in 64-byte lines (512 and 4,096 by default), spurious
// aborts at a configured rate, explicit aborts, and conflicts with other
// emulated transactions and with software accesses, reported with the same
// Status bits as RTM. It holds no data: the caller buffers its writes and
// reports each line it reads or writes ([EmuTx.Read], [EmuTx.Write]), and
// software commits announce the lines they write ([Emulator.SoftwareWrite]).
package htm
