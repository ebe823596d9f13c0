// Command vgcheck checks, under valgrind, that htm.Begin executes XBEGIN and
// gets the abort status valgrind gives every transaction: 0x8, capacity.
// ci/valgrind-htm.sh builds it and runs it with HYTM_HTM=force. Run on a
// CPU without RTM outside valgrind it dies of SIGILL, which is the point:
// the script fails unless valgrind, not the CPU, ran the instruction.
//
// It prints "vgcheck: ok: ..." and exits 0 when every check passes, and
// exits 1 otherwise.
package main

import (
	"fmt"
	"os"

	"github.com/hytm/hytm/htm"
)

func main() {
	fail := false
	check := func(ok bool, format string, args ...any) {
		if !ok {
			fail = true
			fmt.Fprintf(os.Stderr, "vgcheck: FAIL: "+format+"\n", args...)
		}
	}
	check(htm.CurrentMode() == htm.ModeForce, "mode %v, want force (set HYTM_HTM=force)", htm.CurrentMode())
	check(htm.Enabled(), "Enabled() = false in force mode")
	if fail {
		os.Exit(1)
	}
	fmt.Printf("vgcheck: %s\n", htm.Info())

	// Outside a transaction XTEST reports false.
	check(!htm.Test(), "Test() outside a transaction = true")

	const runs = 10
	var st htm.Status
	for i := range runs {
		st = htm.Begin()
		if st == htm.Started {
			htm.End()
			check(false, "run %d: Begin returned started: valgrind ran a transaction?", i)
			break
		}
		check(st == htm.StatusCapacity && st.Capacity() && !st.Retry() && !st.Explicit(),
			"run %d: Begin returned %v (%#x), want capacity (0x8)", i, st, uint32(st))
	}
	// An abort outside a transaction is a no-op.
	htm.AbortLockBusy()
	if fail {
		os.Exit(1)
	}
	fmt.Printf("vgcheck: ok: %d Begin calls returned %v (%#x); no illegal-instruction fault\n", runs, st, uint32(st))
}
