package bench

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hytm/hytm/bench/internal/wl"
)

// Params are the knobs of one workload instance.
type Params struct {
	// Update is the percentage of update operations of the set workloads
	// (half inserts, half removes); the others ignore it.
	Update int
	// Seed determines the initial contents and the workers' random streams.
	Seed uint64
}

// Instance is a workload set up under one variant, ready to run.
type Instance interface {
	// Worker returns the operation loop body for one goroutine: each call
	// performs one operation (one transaction). It is called once per
	// goroutine before the run starts.
	Worker(w *wl.Worker) func()
	// Check verifies the workload's invariants after the run, when no
	// worker is running; w is a fresh worker for the check's own operations.
	Check(w *wl.Worker) error
}

// Workload is one benchmark workload.
type Workload struct {
	// Name identifies the workload on the command line and in results.
	Name string
	// Desc describes it in one line.
	Desc string
	// Updates reports whether the workload takes an update ratio.
	Updates bool
	// New sets the workload up under variant v.
	New func(v *Variant, p Params) (Instance, error)
	// kind is the variant constructor the workload needs.
	kind workloadKind
}

// workloadKind says which Variant constructor a workload uses.
type workloadKind int

const (
	kindSet      workloadKind = iota // NewSet
	kindBank                         // NewBank
	kindTravel                       // NewTravel
	kindMap                          // NewMap
	kindInterest                     // NewAccounts
)

var workloads = []*Workload{
	setWorkload("list", "sorted linked list", 256),
	setWorkload("skiplist", "skip list", 4096),
	setWorkload("rbtree", "red-black tree", 4096),
	setWorkload("hashset", "hash set (1024 chained buckets; stm-txds: txds.Map)", 4096),
	{
		Name: "bank",
		Desc: fmt.Sprintf("%d accounts: transfers, plus 1%% read-only audits of every account", bankAccounts),
		New:  newBank,
		kind: kindBank,
	},
	vacationWorkload("vacation-low", vacationLow),
	vacationWorkload("vacation-high", vacationHigh),
	mapWorkload("map-read", 90),
	mapWorkload("map-write", 50),
	{
		Name: "interest",
		Desc: fmt.Sprintf("apply interest to %d of %d accounts per operation, one transaction each (tasks: as tasks of a pool)", interestBatch, interestAccounts),
		New:  newInterest,
		kind: kindInterest,
	},
}

// Workloads returns every workload in its canonical order.
func Workloads() []*Workload { return slices.Clone(workloads) }

// LookupWorkload returns the named workload.
func LookupWorkload(name string) (*Workload, error) {
	var names []string
	for _, w := range workloads {
		if w.Name == name {
			return w, nil
		}
		names = append(names, w.Name)
	}
	return nil, fmt.Errorf("unknown workload %q (available: %s)", name, strings.Join(names, ", "))
}

// ---- sets ----

// setWorkload is a Synchrobench-style set benchmark: size initial keys
// drawn from a key range of 2*size, then operations on random keys of that
// range, Update% of them updates (half inserts, half removes), the rest
// lookups.
func setWorkload(name, desc string, size int) *Workload {
	return &Workload{
		Name:    name,
		Desc:    fmt.Sprintf("%s, %d keys, key range %d", desc, size, 2*size),
		Updates: true,
		New: func(v *Variant, p Params) (Instance, error) {
			if p.Update < 0 || p.Update > 100 {
				return nil, fmt.Errorf("update ratio %d%% outside 0..100", p.Update)
			}
			s, err := v.NewSet(name, size)
			if err != nil {
				return nil, err
			}
			inst := &setInst{set: s, keyRange: 2 * size, update: p.Update, seed: p.Seed}
			inst.initial = make([]bool, inst.keyRange)
			w := wl.NewWorker(p.Seed)
			for n := 0; n < size; {
				k := w.Intn(inst.keyRange)
				if s.Insert(w, k) {
					inst.initial[k] = true
					n++
				}
			}
			return inst, nil
		},
	}
}

type setInst struct {
	set      wl.Set
	keyRange int
	update   int
	seed     uint64
	initial  []bool

	mu     sync.Mutex
	deltas [][]int32 // per worker: successful inserts minus removes, by key
}

func (s *setInst) Worker(w *wl.Worker) func() {
	d := make([]int32, s.keyRange)
	s.mu.Lock()
	s.deltas = append(s.deltas, d)
	s.mu.Unlock()
	set, keyRange, u := s.set, s.keyRange, s.update
	return func() {
		r := w.Intn(200) // u of 200 insert, u of 200 remove: u% updates
		k := w.Intn(keyRange)
		switch {
		case r < u:
			if set.Insert(w, k) {
				d[k]++
			}
		case r < 2*u:
			if set.Remove(w, k) {
				d[k]--
			}
		default:
			set.Contains(w, k)
		}
	}
}

// Check compares the set with the reference implied by the initial
// contents and every worker's successful inserts and removes, then checks
// the structure's own invariants.
func (s *setInst) Check(w *wl.Worker) error {
	want := make([]bool, s.keyRange)
	for k := range want {
		n := int32(0)
		if s.initial[k] {
			n = 1
		}
		for _, d := range s.deltas {
			n += d[k]
		}
		if n != 0 && n != 1 {
			return fmt.Errorf("key %d: net %d successful inserts", k, n)
		}
		want[k] = n == 1
	}
	got := make([]bool, s.keyRange)
	for _, k := range s.set.Keys(w) {
		if k < 0 || k >= s.keyRange {
			return fmt.Errorf("key %d outside the key range", k)
		}
		got[k] = true
	}
	for k := range want {
		if got[k] != want[k] {
			return fmt.Errorf("key %d: present=%v, want %v", k, got[k], want[k])
		}
	}
	return s.set.Check(w)
}

// ---- bank ----

const (
	bankAccounts = 1024
	bankInitial  = 1000
)

type bankInst struct {
	bank  wl.Bank
	total int
}

func newBank(v *Variant, p Params) (Instance, error) {
	return &bankInst{bank: v.NewBank(bankAccounts, bankInitial), total: bankAccounts * bankInitial}, nil
}

func (b *bankInst) Worker(w *wl.Worker) func() {
	bank, total := b.bank, b.total
	return func() {
		if w.Intn(100) == 0 {
			sum := bank.Audit(w)
			w.ROOps++
			if sum != total && w.Err == nil {
				w.Err = fmt.Errorf("audit saw total %d, want %d", sum, total)
			}
			return
		}
		from := w.Intn(bankAccounts)
		to := w.Intn(bankAccounts - 1)
		if to >= from {
			to++
		}
		bank.Transfer(w, from, to, 1+w.Intn(10))
	}
}

func (b *bankInst) Check(w *wl.Worker) error {
	sum := 0
	for _, x := range b.bank.Balances(w) {
		sum += x
	}
	if sum != b.total {
		return fmt.Errorf("bank total %d, want %d", sum, b.total)
	}
	return nil
}

// ---- vacation-lite ----

// vacationParams are STAMP vacation's client settings: Queries per task
// (-n), the queried share of the relations in percent (-q) and the share of
// reservation tasks in percent (-u).
type vacationParams struct {
	Queries, QueryPct, UserPct int
}

var (
	vacationLow  = vacationParams{Queries: 2, QueryPct: 90, UserPct: 98}
	vacationHigh = vacationParams{Queries: 4, QueryPct: 60, UserPct: 90}
)

// vacationRelations is the number of ids per table. STAMP uses 2^20 and a
// fixed number of tasks, four per relation, so customers hold a few
// reservations each; a timed run at a few hundred thousand tasks per second
// needs enough relations to stay in that regime (customer lists grow with
// tasks per relation, and reserve scans them).
const vacationRelations = 1 << 16

func vacationWorkload(name string, vp vacationParams) *Workload {
	return &Workload{
		Name: name,
		kind: kindTravel,
		Desc: fmt.Sprintf("vacation-lite, %d relations, STAMP -n%d -q%d -u%d",
			vacationRelations, vp.Queries, vp.QueryPct, vp.UserPct),
		New: func(v *Variant, p Params) (Instance, error) {
			init := wl.NewWorker(p.Seed)
			row := func(kind, id int) wl.Resource {
				return wl.Resource{Total: (init.Intn(5) + 1) * 100, Price: init.Intn(5)*10 + 50}
			}
			return &vacationInst{
				travel: v.NewTravel(vacationRelations, row),
				vp:     vp,
				rng:    vacationRelations * vp.QueryPct / 100,
			}, nil
		},
	}
}

type vacationInst struct {
	travel wl.Travel
	vp     vacationParams
	rng    int // query range: ids 1..rng
}

func (v *vacationInst) Worker(w *wl.Worker) func() {
	n := v.vp.Queries
	kinds, ids := make([]int, n), make([]int, n)
	add, prices := make([]bool, n), make([]int, n)
	travel, rng, userPct := v.travel, v.rng, v.vp.UserPct
	return func() {
		r := w.Intn(100)
		switch {
		case r < userPct:
			q := w.Intn(n) + 1
			cust := w.Intn(rng) + 1
			for i := range q {
				kinds[i] = w.Intn(wl.NumKinds)
				ids[i] = w.Intn(rng) + 1
			}
			travel.MakeReservation(w, cust, kinds[:q], ids[:q])
		case r&1 == 1:
			travel.DeleteCustomer(w, w.Intn(rng)+1)
		default:
			q := w.Intn(n) + 1
			for i := range q {
				kinds[i] = w.Intn(wl.NumKinds)
				ids[i] = w.Intn(rng) + 1
				add[i] = w.Intn(2) == 0
				prices[i] = (w.Intn(5)+1)*10 + 50
			}
			travel.UpdateTables(w, kinds[:q], ids[:q], add[:q], prices[:q])
		}
	}
}

// Check is STAMP vacation's consistency check: every row has
// 0 <= Used <= Total, Used equals the number of customers holding it, an
// absent row is zero, and no customer holds a row twice or exists without
// being present.
func (v *vacationInst) Check(w *wl.Worker) error {
	s := v.travel.Snapshot(w)
	var held [wl.NumKinds][]int
	for k := range held {
		held[k] = make([]int, len(s.Tables[k]))
	}
	for id, bs := range s.Customers {
		if len(bs) > 0 && !s.Present[id] {
			return fmt.Errorf("absent customer %d holds %d reservations", id, len(bs))
		}
		seen := map[[2]int]bool{}
		for _, b := range bs {
			key := [2]int{b.Kind, b.ID}
			if seen[key] {
				return fmt.Errorf("customer %d holds kind %d id %d twice", id, b.Kind, b.ID)
			}
			seen[key] = true
			held[b.Kind][b.ID]++
		}
	}
	for k := range s.Tables {
		for id, r := range s.Tables[k] {
			if r.Used < 0 || r.Used > r.Total {
				return fmt.Errorf("kind %d id %d: used %d of %d", k, id, r.Used, r.Total)
			}
			if r.Used != held[k][id] {
				return fmt.Errorf("kind %d id %d: used %d, customers hold %d", k, id, r.Used, held[k][id])
			}
			if r.Total == 0 && r != (wl.Resource{}) {
				return fmt.Errorf("kind %d id %d: absent row %+v", k, id, r)
			}
		}
	}
	return nil
}

// ---- map ----

// mapKeys is the map workloads' key count: keys 0..mapKeys-1, all present
// from the start.
const mapKeys = 1000

// mapWriters bounds the goroutines of a map workload (the writer's index
// is part of every value written).
const mapWriters = 1 << 10

// mapWorkload is a concurrent-map mix over mapKeys keys: getPct% Gets, the
// rest Puts, of random keys. Every value written names its key, its writer
// and the writer's count of Puts, so that Gets and the final check can tell
// where each value came from.
func mapWorkload(name string, getPct int) *Workload {
	return &Workload{
		Name: name,
		Desc: fmt.Sprintf("map, %d keys: %d%% Get, %d%% Put", mapKeys, getPct, 100-getPct),
		kind: kindMap,
		New: func(v *Variant, p Params) (Instance, error) {
			m := v.NewMap()
			w := wl.NewWorker(p.Seed)
			for k := range mapKeys {
				m.Put(w, k, mapValue(k, 0, 0))
			}
			return &mapInst{m: m, getPct: getPct}, nil
		},
	}
}

// mapValue encodes the value that writer (1-based; 0 for the initial
// contents) stores at key with its seq-th Put.
func mapValue(key, writer, seq int) int {
	return key + mapKeys*(writer+mapWriters*seq)
}

type mapInst struct {
	m      wl.Map
	getPct int

	mu    sync.Mutex
	lasts [][]int // per writer: the last value it put at each key, 0 if none
}

func (m *mapInst) Worker(w *wl.Worker) func() {
	last := make([]int, mapKeys)
	m.mu.Lock()
	m.lasts = append(m.lasts, last)
	writer := len(m.lasts)
	m.mu.Unlock()
	if writer >= mapWriters {
		panic(fmt.Sprintf("bench: map workload with more than %d goroutines", mapWriters-1))
	}
	mp, getPct, seq := m.m, m.getPct, 0
	return func() {
		k := w.Intn(mapKeys)
		if w.Intn(100) < getPct {
			v, ok := mp.Get(w, k)
			if (!ok || v%mapKeys != k) && w.Err == nil {
				w.Err = fmt.Errorf("Get(%d) = %d, %v: want a value written at key %d", k, v, ok, k)
			}
			return
		}
		seq++
		v := mapValue(k, writer, seq)
		mp.Put(w, k, v)
		last[k] = v
	}
}

// Check verifies that the map holds exactly the keys 0..mapKeys-1 and that
// each holds the last value some writer put there (the initial value only
// if no writer put one): a lost or misplaced Put fails it.
func (m *mapInst) Check(w *wl.Worker) error {
	c := m.m.Contents(w)
	if len(c) != mapKeys {
		return fmt.Errorf("map holds %d keys, want %d", len(c), mapKeys)
	}
	for k := range mapKeys {
		v, ok := c[k]
		if !ok {
			return fmt.Errorf("key %d missing", k)
		}
		if v%mapKeys != k {
			return fmt.Errorf("key %d holds %d, a value written at key %d", k, v, v%mapKeys)
		}
		writer := v / mapKeys % mapWriters
		if writer == 0 {
			if v != mapValue(k, 0, 0) {
				return fmt.Errorf("key %d holds %d, not its initial value", k, v)
			}
			for i, last := range m.lasts {
				if last[k] != 0 {
					return fmt.Errorf("key %d holds its initial value, but writer %d put %d there", k, i+1, last[k])
				}
			}
			continue
		}
		if writer > len(m.lasts) || m.lasts[writer-1][k] != v {
			return fmt.Errorf("key %d holds %d, not the last value its writer put there", k, v)
		}
	}
	return nil
}
