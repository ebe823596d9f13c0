// Command hwprobe is the measuring half of ci/hw-report.sh. It prints, as
// Markdown, what the HTM layer decided on this machine and, with -measure,
// how small transactions fare through package hybrid: for each workload the
// time per transaction and the hardware counters of hybrid.ReadStats
// (attempts, commits, commit rate, aborts by cause, software fallbacks).
//
// With -decide it prints one line and exits 0 when hardware attempts are
// enabled (real RTM, or the emulator under HYTM_HTM=emulate) and 3 when not,
// so that the script can branch on it.
//
// Timings come from the wall clock over many transactions; they are a
// report, not a test, and are labelled with the HTM mode they ran under.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/hytm/hytm/htm"
	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/internal/hwlink"
)

func main() {
	decide := flag.Bool("decide", false, "print the HTM decision and exit 0 if hardware attempts are on, 3 if not")
	measure := flag.Bool("measure", false, "run the small-transaction workloads and print their figures")
	n := flag.Int("n", 200000, "transactions per workload and goroutine")
	flag.Parse()

	if *decide {
		fmt.Printf("%s (%s)\n", mode(), htm.Info())
		if !hybrid.HardwareEnabled() {
			os.Exit(3)
		}
		return
	}
	fmt.Printf("- HTM: %s\n- mode: %s\n- GOMAXPROCS: %d\n- hardware attempts in hybrid: %v\n",
		htm.Info(), mode(), runtime.GOMAXPROCS(0), hybrid.HardwareEnabled())
	if *measure {
		measureAll(*n)
	}
}

// mode names where hardware attempts run, for every label of the report.
func mode() string {
	switch {
	case htm.Emulated():
		return "emulated (HYTM_HTM=emulate: figures are the emulator's, not a CPU's)"
	case htm.Enabled() && hwlink.RealHardware():
		return "real RTM"
	case htm.Enabled():
		return "RTM detected, but this build has no RTM path (race or purego build)"
	default:
		return "software only"
	}
}

// workload is one row of the table: body builds the transaction body of
// goroutine g.
type workload struct {
	name string
	g    int
	body func(g int) func(tx *hybrid.Tx) error
}

func measureAll(n int) {
	procs := runtime.GOMAXPROCS(0)
	single := hybrid.NewVar(0)
	vs := make([]*hybrid.Var[int], 16)
	for i := range vs {
		vs[i] = hybrid.NewVar(i)
	}
	const accounts = 1000
	bank := make([]*hybrid.Var[int], accounts)
	for i := range bank {
		bank[i] = hybrid.NewVar(100)
	}
	transfer := func(g int) func(tx *hybrid.Tx) error {
		i := g * 7919
		return func(tx *hybrid.Tx) error {
			i++
			a, b := bank[i%accounts], bank[(i*31+g+1)%accounts]
			if a == b {
				return nil
			}
			a.Store(tx, a.Load(tx)-1)
			b.Store(tx, b.Load(tx)+1)
			return nil
		}
	}
	rows := []workload{
		{"Incr1 (one Var, read and write)", 1, func(int) func(tx *hybrid.Tx) error {
			return func(tx *hybrid.Tx) error { single.Store(tx, single.Load(tx)+1); return nil }
		}},
		{"Read16 (read-only, 16 Vars)", 1, func(int) func(tx *hybrid.Tx) error {
			return func(tx *hybrid.Tx) error {
				s := 0
				for _, v := range vs {
					s += v.Load(tx)
				}
				_ = s
				return nil
			}
		}},
		{"Transfer (2 of 1,000 Vars)", 1, transfer},
	}
	for g := 2; g <= procs; g *= 2 {
		rows = append(rows, workload{fmt.Sprintf("Transfer (2 of 1,000 Vars), %d goroutines", g), g, transfer})
	}

	fmt.Printf("\n| workload (%s) | ns/tx | hw attempts/tx | hw commit rate | aborts: capacity / conflict / explicit / other | software commits/tx |\n", shortMode())
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	for _, w := range rows {
		before := hybrid.ReadStats()
		t0 := time.Now()
		var wg sync.WaitGroup
		for g := range w.g {
			body := w.body(g)
			wg.Go(func() {
				for range n {
					if err := hybrid.Atomically(body); err != nil {
						panic(err)
					}
				}
			})
		}
		wg.Wait()
		el := time.Since(t0)
		after := hybrid.ReadStats()
		total := float64(n * w.g)
		att := after.HardwareAttempts - before.HardwareAttempts
		com := after.HardwareCommits - before.HardwareCommits
		ab := after.HardwareAborts
		ab0 := before.HardwareAborts
		rate := "-"
		if att > 0 {
			rate = fmt.Sprintf("%.1f%%", 100*float64(com)/float64(att))
		}
		sw := (after.SoftwareCommits + after.IrrevocableCommits) - (before.SoftwareCommits + before.IrrevocableCommits)
		fmt.Printf("| %s | %.1f | %.3f | %s | %d / %d / %d / %d | %.3f |\n",
			w.name, float64(el.Nanoseconds())*float64(w.g)/total, float64(att)/total, rate,
			ab.Capacity-ab0.Capacity, ab.Conflict-ab0.Conflict, ab.Explicit-ab0.Explicit, ab.Other-ab0.Other,
			float64(sw)/total)
	}
	sum := 0
	_ = hybrid.Atomically(func(tx *hybrid.Tx) error {
		sum = 0
		for _, v := range bank {
			sum += v.Load(tx)
		}
		return nil
	})
	if sum != 100*accounts {
		fmt.Printf("\n**hwprobe: FAIL: bank total %d, want %d**\n", sum, 100*accounts)
		os.Exit(1)
	}
	fmt.Printf("\nBank total after the transfers: %d (conserved).\n", sum)
}

func shortMode() string {
	switch {
	case htm.Emulated():
		return "emulated"
	case htm.Enabled() && hwlink.RealHardware():
		return "real RTM"
	default:
		return "software"
	}
}
