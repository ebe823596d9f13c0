package tmtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/hytm/hytm/stm"
)

// This file is a history checker in the style of Adya's serialization graph.
// A hammer records every attempt of every transaction: which version of each
// Var it read and what it wrote, and the real-time interval of its Atomically
// call. checkHistory then builds the graph of the orders a strictly
// serializable (and opaque) TM must respect, and looks for a cycle.
//
// The recording makes the graph exact. Every Store is the second half of a
// read-modify-write and stores the attempt's own id, so the value a Load
// returns names the attempt that wrote it (reads-from), and the value a
// writer read before its Store names the version it overwrote, which chains
// each Var's committed writers into its version order. Aborted attempts are
// nodes too, read-only ones: opacity holds them to the same snapshot rules.

// histOp is one step of an attempt: a Load of Var v that returned seen (the
// id of the attempt that wrote it, 0 for the initial value), and whether the
// attempt then stored its own id into v.
type histOp struct {
	v     int
	seen  int
	wrote bool
}

// histTx is one attempt of a transaction body, a node of the history.
type histTx struct {
	id        int   // attempt id: the value its Stores write; ids are positive
	g, call   int   // the goroutine and its call number, for the report
	committed bool  // the last attempt of a call that returned nil
	start     int64 // real-time counter just before the Atomically call
	end       int64 // real-time counter just after it returned
	ops       []histOp
}

func (t *histTx) String() string {
	var b strings.Builder
	state := "aborted"
	if t.committed {
		state = "committed"
	}
	fmt.Fprintf(&b, "T%d (goroutine %d call %d, %s, interval [%d,%d]):", t.id, t.g, t.call, state, t.start, t.end)
	for i, o := range t.ops {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " r v%d=%s", o.v, txName(o.seen))
		if o.wrote {
			fmt.Fprintf(&b, " w v%d", o.v)
		}
	}
	return b.String()
}

// txName names the writer of a version.
func txName(id int) string {
	if id == 0 {
		return "init"
	}
	return fmt.Sprintf("T%d", id)
}

// histEdge is an edge of the serialization graph: from must come before to.
type histEdge struct {
	to   int    // node index
	kind string // "wr", "ww", "rw" or "rt"
	v    int    // the Var of a wr, ww or rw edge
}

// histReport is what checkHistory found: broken basic rules (reads of
// versions no committed attempt wrote, lost updates, a final state that is
// not the last version) and a cycle of the serialization graph, if any.
type histReport struct {
	errors []string
	cycle  []string // one line per transaction of the cycle, with the edge to the next
}

func (r histReport) ok() bool { return len(r.errors) == 0 && r.cycle == nil }

func (r histReport) String() string {
	var b strings.Builder
	for _, e := range r.errors {
		b.WriteString(e)
		b.WriteString("\n")
	}
	if r.cycle != nil {
		fmt.Fprintf(&b, "serialization graph cycle of %d transactions (wr: reads from; ww: overwrites; "+
			"rw: read the version the next one overwrote; rt: ended before the next one started):\n", len(r.cycle))
		for _, l := range r.cycle {
			b.WriteString("  ")
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
	return b.String()
}

// maxHistErrors bounds the basic-rule violations a report lists.
const maxHistErrors = 10

// checkHistory checks a history of attempts over Vars numbered from 0.
// final, if not nil, holds each Var's value after the run. Edges:
//
//   - wr: the writer of a version precedes every attempt that read it;
//   - ww: each committed writer of a Var precedes the next one, the one that
//     read its version before overwriting it;
//   - rw: an attempt that read a version precedes the writer of the next
//     version of that Var (the anti-dependency);
//   - rt: an attempt whose call ended precedes every attempt whose call
//     started later (strict serializability).
//
// The real-time order has a quadratic number of pairs, so it goes through a
// chain of virtual nodes, one per end event in counter order: each attempt
// points to its end event's node, each event node to the next, and the last
// event node before an attempt's start points to it. A path through event
// nodes from T1 to T2 exists exactly when T1 ended before T2 started, so the
// graph has the same cycles as with every rt edge, with O(n) edges.
func checkHistory(txs []histTx, final []int) histReport {
	var rep histReport
	fail := func(format string, args ...any) {
		if len(rep.errors) < maxHistErrors {
			rep.errors = append(rep.errors, fmt.Sprintf(format, args...))
		} else if len(rep.errors) == maxHistErrors {
			rep.errors = append(rep.errors, "... (more)")
		}
	}
	n := len(txs)
	index := make(map[int]int, n) // attempt id -> node
	for i := range txs {
		if txs[i].id <= 0 {
			fail("T%d: attempt ids must be positive", txs[i].id)
			return rep
		}
		if _, dup := index[txs[i].id]; dup {
			fail("T%d: duplicate attempt id", txs[i].id)
			return rep
		}
		index[txs[i].id] = i
	}
	// wrote reports whether the committed attempt id wrote Var v.
	wrote := func(id, v int) bool {
		i, ok := index[id]
		if !ok || !txs[i].committed {
			return false
		}
		for _, o := range txs[i].ops {
			if o.v == v && o.wrote {
				return true
			}
		}
		return false
	}

	// Version order: next[v][p] is the committed writer that overwrote
	// version p of Var v (the one that read p before its Store).
	next := map[int]map[int]int{}
	writers := map[int]int{} // committed writes per Var
	for _, t := range txs {
		if !t.committed {
			continue
		}
		for _, o := range t.ops {
			if !o.wrote {
				continue
			}
			if next[o.v] == nil {
				next[o.v] = map[int]int{}
			}
			if w, dup := next[o.v][o.seen]; dup {
				fail("lost update on v%d: T%d and T%d both committed overwriting %s's version",
					o.v, w, t.id, txName(o.seen))
				continue
			}
			next[o.v][o.seen] = t.id
			writers[o.v]++
		}
	}
	for v, nx := range next {
		last, count := 0, 0
		for w, ok := nx[0]; ok; w, ok = nx[w] {
			last = w
			count++
			if count > writers[v] {
				break // cannot happen: ids are unique
			}
		}
		if count != writers[v] {
			fail("v%d: %d committed writes, but only %d chain back to the initial version", v, writers[v], count)
		}
		if final != nil && v < len(final) && final[v] != last {
			fail("v%d: final value %s, but the last committed version is %s's", v, txName(final[v]), txName(last))
		}
	}
	for v := range final {
		if _, ok := next[v]; !ok && final[v] != 0 {
			fail("v%d: final value %s, but no committed attempt wrote it", v, txName(final[v]))
		}
	}

	// Nodes 0..n-1 are attempts; n..2n-1 are the end events, in counter
	// order.
	adj := make([][]histEdge, 2*n)
	add := func(from, to int, kind string, v int) {
		if from != to {
			adj[from] = append(adj[from], histEdge{to: to, kind: kind, v: v})
		}
	}
	for i, t := range txs {
		for _, o := range t.ops {
			if o.seen != 0 && o.seen != t.id {
				if !wrote(o.seen, o.v) {
					fail("%v: read v%d = %s, a version no committed attempt wrote to v%d", &txs[i], o.v, txName(o.seen), o.v)
					continue
				}
				add(index[o.seen], i, "wr", o.v)
			}
			if o.wrote && t.committed {
				if o.seen != 0 {
					add(index[o.seen], i, "ww", o.v)
				}
			} else if w, ok := next[o.v][o.seen]; ok {
				// An aborted attempt's Stores are discarded: it is a
				// reader of what it loaded.
				add(i, index[w], "rw", o.v)
			}
		}
	}
	byEnd := make([]int, n)
	for i := range byEnd {
		byEnd[i] = i
	}
	sort.Slice(byEnd, func(a, b int) bool { return txs[byEnd[a]].end < txs[byEnd[b]].end })
	for k, i := range byEnd {
		add(i, n+k, "rt", 0)
		if k+1 < n {
			add(n+k, n+k+1, "rt", 0)
		}
	}
	for i, t := range txs {
		// The last end event strictly before t's start.
		k := sort.Search(n, func(k int) bool { return txs[byEnd[k]].end >= t.start }) - 1
		if k >= 0 {
			add(n+k, i, "rt", 0)
		}
	}

	cyc := findCycle(adj, n)
	if cyc == nil {
		return rep
	}
	// Describe the cycle by its attempts, folding runs of event nodes into
	// one rt edge.
	for j, node := range cyc {
		if node >= n {
			continue
		}
		edge := ""
		for k := 1; k <= len(cyc); k++ {
			to := cyc[(j+k)%len(cyc)]
			if to < n {
				edge = edgeLabel(adj[node], cyc[(j+1)%len(cyc)], txs[to].id)
				break
			}
		}
		rep.cycle = append(rep.cycle, fmt.Sprintf("%v  --%s-->", &txs[node], edge))
	}
	return rep
}

// edgeLabel names the edge from a node to its successor on a cycle, which
// leads to attempt id (through event nodes if it is an rt edge).
func edgeLabel(out []histEdge, succ, id int) string {
	for _, e := range out {
		if e.to == succ {
			if e.kind == "rt" {
				return fmt.Sprintf("rt T%d", id)
			}
			return fmt.Sprintf("%s v%d T%d", e.kind, e.v, id)
		}
	}
	return "?"
}

// findCycle returns a short cycle of the graph as a list of nodes, or nil if
// it is acyclic. It finds the strongly connected components (Tarjan,
// iteratively: the event chain makes paths as long as the graph), and in the
// first one that is not a single node it returns the shortest cycle through
// one of its first few attempt nodes (those below real; event nodes make
// cycles longer without making them clearer).
func findCycle(adj [][]histEdge, real int) []int {
	n := len(adj)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	comp := make([]int, n)
	for i := range index {
		index[i] = -1
		comp[i] = -1
	}
	var stack []int
	next := 0
	ncomp := 0
	var found []int // nodes of the first nontrivial component
	type frame struct{ v, e int }
	for root := 0; root < n && found == nil; root++ {
		if index[root] >= 0 {
			continue
		}
		calls := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(calls) > 0 && found == nil {
			f := &calls[len(calls)-1]
			if f.e < len(adj[f.v]) {
				w := adj[f.v][f.e].to
				f.e++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					calls = append(calls, frame{w, 0})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				u := calls[len(calls)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] != index[v] {
				continue
			}
			var members []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp[w] = ncomp
				members = append(members, w)
				if w == v {
					break
				}
			}
			if len(members) > 1 {
				found = members
			}
			ncomp++
		}
	}
	if found == nil {
		return nil
	}
	c := comp[found[0]]
	var best []int
	tried := 0
	for _, s := range found {
		if s >= real || tried == 20 {
			continue
		}
		tried++
		if cyc := shortestCycle(adj, comp, c, s); cyc != nil && (best == nil || len(cyc) < len(best)) {
			best = cyc
		}
	}
	if best == nil {
		best = shortestCycle(adj, comp, c, found[0])
	}
	return best
}

// shortestCycle returns the shortest cycle through s within component c,
// by breadth-first search from s back to s.
func shortestCycle(adj [][]histEdge, comp []int, c, s int) []int {
	parent := map[int]int{s: -1}
	queue := []int{s}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, e := range adj[u] {
			w := e.to
			if comp[w] != c {
				continue
			}
			if w == s {
				var cyc []int
				for x := u; x != -1; x = parent[x] {
					cyc = append(cyc, x)
				}
				slices.Reverse(cyc)
				return cyc
			}
			if _, seen := parent[w]; !seen {
				parent[w] = u
				queue = append(queue, w)
			}
		}
	}
	return nil
}

// testHistoryChecker: four goroutines run many small random transactions on
// six Vars (read-only ones, single-Var read-modify-writes, and multi-Var
// read-modify-writes that read every Var they write), sometimes yielding or
// spinning between two steps so that snapshots stay open while others
// commit. Every attempt is recorded, and checkHistory requires the whole
// history, aborted attempts included, to be strictly serializable: reads
// from committed writers only, no lost update, and no cycle among the
// reads-from, version, anti-dependency and real-time orders. It catches any
// snapshot that is not one point in time between commits (a read-only
// transaction accepting, Var by Var, versions committed after it began, say),
// which the invariant-based hammers can miss.
func (s *suite) testHistoryChecker(t *testing.T) {
	const goroutines, nvars = 4, 6
	calls := scale(2000, 10000) // per goroutine
	vs := newVars(nvars, 0)
	seed := uint64(time.Now().UnixNano())
	var now atomic.Int64 // the real-time counter
	var ids atomic.Int64 // attempt ids
	hist := make([][]histTx, goroutines)
	var unexpected atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		rng := rand.New(rand.NewPCG(seed, uint64(g)))
		wg.Go(func() {
			type step struct {
				v            int
				write        bool
				pause, yield bool
			}
			for c := range calls {
				// The shape of the transaction: 40% read-only (1 to 4
				// Vars), 40% single-Var read-modify-write, 20% multi-Var
				// (2 to 4 Vars, writing a nonempty subset of them). A
				// third of the steps pause after their Load: a Gosched
				// (a quarter of those) or a 2µs spin.
				width, writes := 1+rng.IntN(4), 0
				switch r := rng.IntN(10); {
				case r < 4:
				case r < 8:
					width, writes = 1, 1
				default:
					width = 2 + rng.IntN(3)
					writes = 1 + rng.IntN(width)
				}
				write := make([]bool, width)
				for _, i := range rng.Perm(width)[:writes] {
					write[i] = true
				}
				steps := make([]step, width)
				for i, v := range rng.Perm(nvars)[:width] {
					steps[i] = step{v: v, write: write[i], pause: rng.IntN(3) == 0, yield: rng.IntN(4) == 0}
				}
				var attempts []*histTx
				start := now.Add(1)
				err := s.atomically(func(tx *stm.Tx) error {
					a := &histTx{id: int(ids.Add(1)), g: g, call: c}
					attempts = append(attempts, a)
					for _, st := range steps {
						seen := vs[st.v].Load(tx)
						a.ops = append(a.ops, histOp{v: st.v, seen: seen})
						if st.write {
							vs[st.v].Store(tx, a.id)
							a.ops[len(a.ops)-1].wrote = true
						}
						switch {
						case st.pause && st.yield:
							gosched()
						case st.pause:
							spin(2 * time.Microsecond)
						}
					}
					return nil
				})
				end := now.Add(1)
				if err != nil {
					unexpected.Add(1)
				}
				for i, a := range attempts {
					a.start, a.end = start, end
					a.committed = err == nil && i == len(attempts)-1
					hist[g] = append(hist[g], *a)
				}
			}
		})
	}
	wg.Wait()

	var txs []histTx
	committed := 0
	for _, h := range hist {
		for _, a := range h {
			if a.committed {
				committed++
			}
		}
		txs = append(txs, h...)
	}
	final := make([]int, nvars)
	for i, v := range vs {
		final[i] = v.Peek()
	}
	checkStart := time.Now()
	rep := checkHistory(txs, final)
	t.Logf("seed %d: %d calls, %d attempts (%d aborted), checked in %v",
		seed, goroutines*calls, len(txs), len(txs)-committed, time.Since(checkStart))
	assert.Zero(t, unexpected.Load(), "Atomically returned an error the body did not return")
	if !rep.ok() {
		t.Errorf("the history is not strictly serializable (opaque):\n%s", rep)
	}
}
