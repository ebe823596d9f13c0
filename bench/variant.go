package bench

import (
	"expvar"
	"fmt"
	"slices"
	"strings"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/hytm/hytm/bench/internal/ds/anads"
	"github.com/hytm/hytm/bench/internal/ds/plainds"
	"github.com/hytm/hytm/bench/internal/ds/stmds"
	"github.com/hytm/hytm/bench/internal/ds/txdsds"
	"github.com/hytm/hytm/bench/internal/wl"
	"github.com/hytm/hytm/stm"
)

// Variant is one way of running the workloads: a synchronisation scheme
// with its constructors for each kind of workload.
type Variant struct {
	// Name identifies the variant on the command line and in results.
	Name string
	// Desc describes it in one line.
	Desc string
	// MaxGoroutines limits the goroutine count (1 for seq); 0 means none.
	MaxGoroutines int
	// TM reports whether operations are transactions that may abort and
	// re-run (the worker counts attempts).
	TM bool

	// NewSet returns an empty set of a kind ("list", "skiplist", "rbtree",
	// "hashset") sized for about size keys.
	NewSet func(kind string, size int) (wl.Set, error)
	// NewBank returns n accounts holding initial each.
	NewBank func(n, initial int) wl.Bank
	// NewTravel returns a vacation-lite manager with ids 1..n whose table
	// rows start as row(kind, id).
	NewTravel func(n int, row func(kind, id int) wl.Resource) wl.Travel
	// NewMap returns an empty int-to-int map; nil if the variant has none.
	NewMap func() wl.Map
	// NewAccounts returns n accounts for the interest workload; nil if the
	// variant has none.
	NewAccounts func(n int) wl.Accounts
	// Stats returns the TM's cumulative counters; nil if it has none.
	Stats func() TMStats
	// Only, if not empty, names the only workloads the variant runs.
	Only []string
}

// Runs reports whether v runs workload w: w is in v.Only (when set) and v
// has a constructor for w's kind.
func (v *Variant) Runs(w *Workload) bool {
	if len(v.Only) > 0 && !slices.Contains(v.Only, w.Name) {
		return false
	}
	switch w.kind {
	case kindSet:
		return v.NewSet != nil
	case kindBank:
		return v.NewBank != nil
	case kindTravel:
		return v.NewTravel != nil
	case kindMap:
		return v.NewMap != nil
	case kindInterest:
		return v.NewAccounts != nil
	}
	return false
}

// TMStats are cumulative TM counters: commits and aborted attempts by
// cause, and for a hybrid TM the hardware share.
type TMStats struct {
	Commits    uint64
	Aborts     map[string]uint64
	HWCommits  uint64
	HWAttempts uint64
}

// Sub returns s - t, counter by counter.
func (s TMStats) Sub(t TMStats) TMStats {
	d := TMStats{
		Commits:    s.Commits - t.Commits,
		HWCommits:  s.HWCommits - t.HWCommits,
		HWAttempts: s.HWAttempts - t.HWAttempts,
		Aborts:     map[string]uint64{},
	}
	for k, v := range s.Aborts {
		if n := v - t.Aborts[k]; n > 0 {
			d.Aborts[k] = n
		}
	}
	return d
}

func plainVariant(name, desc string, lock plainds.Lock, maxG int) *Variant {
	return &Variant{
		Name:          name,
		Desc:          desc,
		MaxGoroutines: maxG,
		NewSet: func(kind string, size int) (wl.Set, error) {
			return plainds.NewSet(kind, size, lock)
		},
		NewBank: func(n, initial int) wl.Bank { return plainds.NewBank(n, initial, lock) },
		NewTravel: func(n int, row func(kind, id int) wl.Resource) wl.Travel {
			return plainds.NewTravel(n, row, lock)
		},
		NewMap:      func() wl.Map { return newLockedMap(lock) },
		NewAccounts: func(n int) wl.Accounts { return newPlainAccounts(n, lock) },
	}
}

// txdsVariant is a hytm TM variant (stm or hybrid, whose Tx is the same
// type) with the hand-built structures newSet, newBank and newTravel (from
// stmds or hybridds, the same code anacrolix runs) and the map workloads'
// txds.Map, which has no hand-built form here.
func txdsVariant(name, desc string, atomic txdsds.Atomically, newSet func(kind string, size int) (wl.Set, error),
	newBank func(n, initial int) wl.Bank, newTravel func(n int, row func(kind, id int) wl.Resource) wl.Travel,
	stats func() TMStats) *Variant {
	return &Variant{
		Name:      name,
		Desc:      desc,
		TM:        true,
		NewSet:    newSet,
		NewBank:   newBank,
		NewTravel: newTravel,
		NewMap:    func() wl.Map { return txdsds.NewMap(atomic) },
		NewAccounts: func(n int) wl.Accounts {
			return newTxAccounts(n, func(fn func(*stm.Tx) error) error { return atomic(fn) })
		},
		Stats: stats,
	}
}

// stmStats reads hytm's stm counters.
func stmStats() TMStats {
	st := stm.ReadStats()
	s := TMStats{Commits: st.Commits(), Aborts: map[string]uint64{}}
	for c, n := range st.Aborts {
		s.Aborts[c.String()] += n
	}
	return s
}

// variantOrder is the order of variants in plans, tables and charts.
var variantOrder = []string{"seq", "mutex", "rwmutex", "syncmap", "xsync", "stm", "stm-txds", "hybrid", "tasks", "anacrolix"}

var variants = map[string]*Variant{
	"seq":     plainVariant("seq", "plain Go, no synchronisation, 1 goroutine", plainds.None, 1),
	"mutex":   plainVariant("mutex", "plain Go behind one sync.Mutex", plainds.Mutex, 0),
	"rwmutex": plainVariant("rwmutex", "plain Go behind one sync.RWMutex (read-only operations share it)", plainds.RWMutex, 0),
	"stm": txdsVariant("stm", "hytm's multi-version software TM (maps: txds.Map)",
		stm.Atomically, stmds.NewSet, stmds.NewBank, stmds.NewTravel, stmStats),
	"stm-txds": {
		Name: "stm-txds",
		Desc: "hytm's stm with the hash set and vacation's tables in txds.Maps",
		TM:   true,
		NewSet: func(kind string, size int) (wl.Set, error) {
			if kind != "hashset" {
				return nil, fmt.Errorf("stm-txds has no %s", kind)
			}
			return txdsds.NewHashSet(stm.Atomically), nil
		},
		NewTravel: func(n int, row func(kind, id int) wl.Resource) wl.Travel {
			return txdsds.NewTravel(n, row, stm.Atomically)
		},
		Stats: stmStats,
		Only:  []string{"hashset", "vacation-low", "vacation-high"},
	},
	"syncmap": {
		Name:   "syncmap",
		Desc:   "sync.Map (map workloads only)",
		NewMap: func() wl.Map { return new(syncMapVariant) },
	},
	"xsync": {
		Name:   "xsync",
		Desc:   "github.com/puzpuzpuz/xsync/v4 Map (map workloads only)",
		NewMap: func() wl.Map { return xsyncMapVariant{xsync.NewMap[int, int]()} },
	},
	"anacrolix": {
		Name:      "anacrolix",
		Desc:      "github.com/anacrolix/stm v0.2.0",
		TM:        true,
		NewSet:    anads.NewSet,
		NewBank:   anads.NewBank,
		NewTravel: anads.NewTravel,
		Stats:     anacrolixStats,
	},
}

// anacrolixStats reads the counters anacrolix/stm v0.2.0 publishes in the
// expvar map "stm": commits, failed commits (validation failed at commit;
// the body re-runs) and retries (the body called Retry).
func anacrolixStats() TMStats {
	s := TMStats{Aborts: map[string]uint64{}}
	m, ok := expvar.Get("stm").(*expvar.Map)
	if !ok {
		return s
	}
	get := func(k string) uint64 {
		if v, ok := m.Get(k).(*expvar.Int); ok {
			return uint64(v.Value())
		}
		return 0
	}
	s.Commits = get("commits")
	s.Aborts["failed-commit"] = get("failed commits")
	s.Aborts["retry"] = get("retries")
	return s
}

// Variants returns the available variants in their canonical order.
func Variants() []*Variant {
	var vs []*Variant
	for _, name := range variantOrder {
		if v, ok := variants[name]; ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// LookupVariant returns the named variant.
func LookupVariant(name string) (*Variant, error) {
	if v, ok := variants[name]; ok {
		return v, nil
	}
	var names []string
	for _, v := range Variants() {
		names = append(names, v.Name)
	}
	if slices.Contains(variantOrder, name) {
		return nil, fmt.Errorf("variant %q is not built in yet (available: %s)", name, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("unknown variant %q (available: %s)", name, strings.Join(names, ", "))
}
