package bench

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hytm/hytm/bench/internal/wl"
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
							t.Skip("variant runs one goroutine only, or not this workload")
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

// TestVariantRuns checks which variants run the map workloads and the
// txds-only rows: sync.Map and xsync run only the maps, stm-txds only the
// hash set and vacation, anacrolix no map and no interest, tasks only
// interest.
func TestVariantRuns(t *testing.T) {
	want := map[string][]string{
		"syncmap":   {"map-read", "map-write"},
		"xsync":     {"map-read", "map-write"},
		"stm-txds":  {"hashset", "vacation-low", "vacation-high"},
		"anacrolix": {"list", "skiplist", "rbtree", "hashset", "bank", "vacation-low", "vacation-high"},
		"tasks":     {"interest"},
	}
	for _, v := range Variants() {
		var got []string
		for _, w := range Workloads() {
			if v.Runs(w) {
				got = append(got, w.Name)
			}
		}
		exp, ok := want[v.Name]
		if ok && !slices.Equal(got, exp) {
			t.Errorf("%s runs %v, want %v", v.Name, got, exp)
		}
		if !ok && len(got) != len(workloads) {
			t.Errorf("%s runs %v, want every workload", v.Name, got)
		}
	}
}

// brokenMap wraps a map and corrupts it in one of three ways.
type brokenMap struct {
	wl.Map
	how string
}

func (b *brokenMap) Put(w *wl.Worker, k, v int) {
	switch b.how {
	case "lost": // every Put after the initial contents is dropped
		if v/mapKeys != 0 {
			return
		}
	case "misplaced": // Puts land one key further on
		if v/mapKeys != 0 {
			k = (k + 1) % mapKeys
		}
	case "stale": // the first value written at each key sticks
		if got, _ := b.Map.Get(w, k); got/mapKeys != 0 {
			return
		}
	}
	b.Map.Put(w, k, v)
}

// TestMapCheckFails checks that the map workload's check catches lost,
// misplaced and stale Puts, and passes the same run on a sound map.
func TestMapCheckFails(t *testing.T) {
	v, err := LookupVariant("mutex")
	if err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"", "lost", "misplaced", "stale"} {
		bv := *v
		bv.NewMap = func() wl.Map { return &brokenMap{Map: v.NewMap(), how: how} }
		w, _ := LookupWorkload("map-write")
		inst, err := w.New(&bv, Params{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		ops := []func(){}
		for i := range 2 {
			ops = append(ops, inst.Worker(wl.NewWorker(uint64(i+2))))
		}
		for range 5000 {
			for _, op := range ops {
				op()
			}
		}
		err = inst.Check(wl.NewWorker(9))
		if how == "" && err != nil {
			t.Errorf("sound map: %v", err)
		}
		if how != "" && err == nil {
			t.Errorf("%s Puts: check passed", how)
		}
	}
}

// skippingAccounts drops the interest of one account in every batch.
type skippingAccounts struct{ wl.Accounts }

func (s skippingAccounts) Interest(w *wl.Worker, lo, hi int) { s.Accounts.Interest(w, lo, hi-1) }

// TestInterestCheckFails checks that the interest workload's check catches
// a lost application, and passes the same run on sound accounts, under
// the tasks pool.
func TestInterestCheckFails(t *testing.T) {
	v, err := LookupVariant("tasks")
	if err != nil {
		t.Fatal(err)
	}
	for _, broken := range []bool{false, true} {
		bv := *v
		if broken {
			bv.NewAccounts = func(n int) wl.Accounts { return skippingAccounts{v.NewAccounts(n)} }
		}
		w, _ := LookupWorkload("interest")
		inst, err := w.New(&bv, Params{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		op := inst.Worker(wl.NewWorker(2))
		for range 20 {
			op()
		}
		err = inst.Check(wl.NewWorker(9))
		if !broken && err != nil {
			t.Errorf("sound accounts: %v", err)
		}
		if broken && err == nil {
			t.Error("lost applications: check passed")
		}
	}
}
