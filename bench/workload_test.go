package bench

import (
	"errors"
	"testing"
	"time"
)

// TestInvariants runs every workload under every variant briefly, with
// several goroutines where the variant allows, and checks the workload's
// invariants: set contents against the reference implied by the successful
// operations plus the structure's own rules, bank totals (in every audit
// and at the end), vacation consistency.
func TestInvariants(t *testing.T) {
	collectBeforeRuns = false
	t.Cleanup(func() { collectBeforeRuns = true })
	d := 20 * time.Millisecond
	if testing.Short() {
		d = 5 * time.Millisecond
	}
	for _, w := range Workloads() {
		updates := []int{-1}
		if w.Updates {
			updates = []int{0, 10, 50}
			if testing.Short() {
				updates = []int{50}
			}
		}
		for _, v := range Variants() {
			for _, u := range updates {
				for _, g := range []int{1, 3} {
					c := Config{Workload: w.Name, Variant: v.Name, Goroutines: g, Update: u, Duration: d, Seed: 42}
					t.Run(c.Label(), func(t *testing.T) {
						t.Parallel()
						r, err := Run(c)
						if errors.Is(err, ErrSkipped) {
							t.Skip("variant runs one goroutine only")
						}
						if err != nil {
							t.Fatal(err)
						}
						if r.Check != "ok" {
							t.Fatalf("invariant: %s", r.Check)
						}
						if r.Ops == 0 {
							t.Fatal("no operation completed")
						}
						if w.Name == "bank" && v.Name == "stm" && r.ROAborts != 0 {
							t.Errorf("%d aborted audits; read-only transactions must never abort", r.ROAborts)
						}
					})
				}
			}
		}
	}
}
