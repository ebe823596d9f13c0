package htm_test

import (
	"fmt"

	"github.com/hytm/hytm/htm"
)

// Decoding the status that Begin returns.
func ExampleStatus() {
	for _, st := range []htm.Status{
		htm.Started,
		htm.StatusCapacity,
		htm.StatusConflict | htm.StatusRetry,
		htm.ExplicitStatus(htm.CodeLockBusy),
		0,
	} {
		switch {
		case st == htm.Started:
			fmt.Println(st, "-> running transactionally")
		case st.Explicit() && st.Code() == htm.CodeLockBusy:
			fmt.Println(st, "-> wait for the lock, retry in hardware")
		case st.Capacity():
			fmt.Println(st, "-> too big: take the software path")
		case st.Retry() || st == 0:
			fmt.Println(st, "-> transient: retry")
		}
	}
	// Output:
	// started -> running transactionally
	// capacity -> too big: take the software path
	// retry|conflict -> transient: retry
	// explicit(0xff) -> wait for the lock, retry in hardware
	// other(0) -> transient: retry
}

// The shape of a hardware transaction with a software fallback. Begin runs
// only when Enabled reports true; elsewhere it would raise SIGILL.
func ExampleBegin() {
	var counter uint64
	add := func() {
		if htm.Enabled() {
			for try := 0; try < 3; try++ {
				st := htm.Begin()
				if st == htm.Started {
					counter++ // plain loads and stores only
					htm.End()
					return
				}
				if !st.Retry() {
					break // capacity, explicit, ...: hardware will not help
				}
			}
		}
		counter++ // the software path (a lock, an STM transaction)
	}
	add()
	fmt.Println(counter)
	// Output: 1
}

// Two emulated transactions conflict: the second one writes a line the
// first has read, so the first aborts with conflict|retry at its next call,
// as it would on Intel hardware (the requester wins).
func ExampleEmulator() {
	e := htm.NewEmulator(htm.EmuConfig{Seed: 1, MaxWriteLines: 2})

	// Addresses of two variables on different cache lines; real code passes
	// uintptr(unsafe.Pointer(&v)).
	const ax, ay = 0x1000, 0x2000

	t1, _ := e.Begin()
	t2, _ := e.Begin()
	fmt.Println("t1 reads x:", t1.Read(ax))
	fmt.Println("t2 writes x:", t2.Write(ax))
	fmt.Println("t1 reads y:", t1.Read(ay))
	fmt.Println("t2 commits:", t2.End())

	// Capacity: a third written line exceeds MaxWriteLines.
	t3, _ := e.Begin()
	t3.Write(0x3000)
	t3.Write(0x4000)
	fmt.Println("t3 writes a third line:", t3.Write(0x5000))

	// A software commit announces its writes.
	t4, _ := e.Begin()
	t4.Read(ay)
	e.SoftwareWrite(ay)
	fmt.Println("t4 ends:", t4.End())

	fmt.Printf("%+v\n", e.Stats())
	// Output:
	// t1 reads x: started
	// t2 writes x: started
	// t1 reads y: retry|conflict
	// t2 commits: started
	// t3 writes a third line: capacity
	// t4 ends: retry|conflict
	// {Begins:4 Commits:1 Explicit:0 Conflict:2 Capacity:1 Spurious:0 Doomed:1}
}

// Deterministic spurious aborts: the same seed and calls give the same
// statuses.
func ExampleEmuConfig() {
	run := func(seed uint64) (out []htm.Status) {
		e := htm.NewEmulator(htm.EmuConfig{Seed: seed, SpuriousRate: 0.5, SpuriousRetry: true})
		for range 8 {
			tx, st := e.Begin()
			if st == htm.Started {
				st = tx.End()
			}
			out = append(out, st)
		}
		return out
	}
	fmt.Println(fmt.Sprint(run(42)) == fmt.Sprint(run(42)))
	// Output: true
}

func ExampleInfo() {
	// Prints, for example, "RTM not present (AMD EPYC)" or
	// "RTM available: 98% of self-test transactions committed".
	fmt.Println(htm.Info())
}
