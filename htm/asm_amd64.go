//go:build amd64 && !purego

package htm

// asmAvailable reports whether this build contains the RTM instructions.
const asmAvailable = true

// noAsmReason is empty: the instructions are compiled in.
const noAsmReason = ""

// Begin starts a hardware transaction (XBEGIN). It returns [Started] when the
// transaction began; the caller then runs transactionally until [End] commits
// it or the transaction aborts. On an abort, memory and registers roll back
// and Begin returns a second time, with the abort [Status] that the CPU left
// in EAX. The usual shape is:
//
//	if st := htm.Begin(); st == htm.Started {
//		// transactional: plain loads and stores only
//		htm.End()
//	} else {
//		// aborted: st says why; take the fallback
//	}
//
// Begin raises SIGILL on a CPU without RTM: call it only when [Enabled]
// reports true. See the package documentation for what may run between Begin
// and End.
func Begin() Status

// End commits the current transaction (XEND). Called outside a transaction it
// raises a general-protection fault, which kills the program: call it only
// after [Begin] returned [Started]. Like Begin it raises SIGILL on a CPU
// without RTM.
func End()

// Test reports whether the processor is executing a hardware transaction
// (XTEST). It raises SIGILL on a CPU without RTM.
func Test() bool

// AbortLockBusy aborts the current transaction with [CodeLockBusy] (XABORT
// 0xff). Inside a transaction it does not return: [Begin] returns the abort
// status instead. Outside a transaction it does nothing. It raises SIGILL on
// a CPU without RTM.
func AbortLockBusy()

// AbortSoftware aborts the current transaction with [CodeSoftware] (XABORT
// 0xfe): the transaction needs the software path. See [AbortLockBusy].
func AbortSoftware()

// AbortNotHead aborts the current transaction with [CodeNotHead] (XABORT
// 0xfd): a version check failed. See [AbortLockBusy].
func AbortNotHead()
