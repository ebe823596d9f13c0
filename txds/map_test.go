package txds

import (
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"pgregory.net/rapid"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/stm"
)

var errRollback = errors.New("rollback")

// weak hashes force the trie's rare paths: equal hashes (chains above the
// last level) and hashes that agree on every digit but the last (splits all
// the way down, chains at the last level).
var testHashes = map[string]func(int) uint64{
	"maphash":   nil,
	"equal8":    func(k int) uint64 { return uint64(k & 7) },
	"lastdigit": func(k int) uint64 { return uint64(k&3) << 60 },
	"mixed":     func(k int) uint64 { return uint64(k%5) | uint64(k%3)<<56 },
	// two root slots (the low 8 bits), then the key's own bits: splits
	// right below the 256-slot root
	"rootpair": func(k int) uint64 { return uint64(k&1) | uint64(k)<<8 },
}

// TestMapModel checks Map against a Go map: random Get, Put, Delete, Len
// and Range, one per transaction or several in one, some rolled back.
func TestMapModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		hname := rapid.SampledFrom([]string{"maphash", "equal8", "lastdigit", "mixed", "rootpair"}).Draw(t, "hash")
		m := NewMap[int, int]()
		m.testHash = testHashes[hname]
		model := map[int]int{}
		key := rapid.IntRange(-5, 40)
		// op applies one random operation to m in tx and to want.
		op := func(t *rapid.T, tx *stm.Tx, want map[int]int) {
			k, v := key.Draw(t, "k"), rapid.Int().Draw(t, "v")
			kvStep(t, m, tx, want, rapid.IntRange(0, 3).Draw(t, "op"), k, v)
		}
		actions := kvBatches(&model, op)
		actions[""] = func(t *rapid.T) {
			got := map[int]int{}
			var n int
			atomically(t, func(tx *stm.Tx) error {
				clear(got)
				m.Range(tx, func(k, v int) bool { got[k] = v; return true })
				n = m.Len(tx)
				return nil
			})
			if !maps.Equal(got, model) || n != len(model) {
				t.Fatalf("Range = %v, Len = %d; want %v", got, n, model)
			}
		}
		t.Repeat(actions)
	})
}

// TestMapRangeSnapshot moves value between keys (the total stays 0) and
// inserts and deletes keys while read-only Ranges check that each sees one
// state: total 0, and as many keys as Len.
func TestMapRangeSnapshot(t *testing.T) {
	m := NewMap[int, int]()
	const keys = 64
	for k := range keys {
		m.Store(k, 0)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				a, b := (i*7+w)%keys, (i*13+w*5+1)%keys
				atomically(t, func(tx *stm.Tx) error {
					x, _ := m.Get(tx, a)
					y, _ := m.Get(tx, b)
					m.Put(tx, a, x-1)
					m.Put(tx, b, y+1)
					// a key of value 0 beyond the fixed ones comes and goes
					if !m.Delete(tx, keys+w) {
						m.Put(tx, keys+w, 0)
					}
					return nil
				})
			}
		})
	}
	for range scale(3000) {
		var sum, n, l int
		atomically(t, func(tx *stm.Tx) error {
			sum, n = 0, 0
			m.Range(tx, func(_, v int) bool { sum += v; n++; return true })
			l = m.Len(tx)
			return nil
		})
		if sum != 0 || n != l || n < keys {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("Range saw sum %d over %d keys, Len %d", sum, n, l)
		}
	}
	stop.Store(true)
	wg.Wait()
}

// TestMapDistinctKeysNoConflict: two goroutines Put distinct keys (new ones
// and updates) into a map of 4,096 keys; at most 1 abort per 1,000 commits.
func TestMapDistinctKeysNoConflict(t *testing.T) {
	m := NewMap[int, int]()
	for k := range 4096 {
		m.Store(k, k)
	}
	n := scale(50000)
	aborts, commits := abortRate(t, 2, func(id int) {
		for i := range n {
			k := i*2 + id // disjoint between the goroutines
			if i%2 == 0 {
				k = 1<<20 + k // new keys
			} else {
				k %= 4096 // updates
			}
			m.Store(k, i)
		}
	})
	checkAbortRate(t, "Map.Put of distinct keys from 2 goroutines", aborts, commits)
	if got, want := m.Size(), 4096+n; got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
}

// TestMapHybrid runs Map operations in hybrid transactions.
func TestMapHybrid(t *testing.T) {
	m := NewMap[string, int]()
	for i := range 100 {
		_ = hybrid.Atomically(func(tx *hybrid.Tx) error {
			v, _ := m.Get(tx, "k")
			m.Put(tx, "k", v+1)
			m.Put(tx, "x"+string(rune('a'+i%26)), i)
			return nil
		})
	}
	if v, _ := m.Load("k"); v != 100 || m.Size() != 27 {
		t.Errorf("k = %d, Size = %d; want 100, 27", v, m.Size())
	}
}

func TestMapMisuse(t *testing.T) {
	var nilMap *Map[int, int]
	mustPanic(t, "txds: nil Map", func() { nilMap.Store(1, 1) })
	mustPanic(t, "txds: nil Map", func() { nilMap.Size() })
	mustPanic(t, "txds: Map not made with NewMap", func() { new(Map[int, int]).Load(1) })

	m := NewMap[any, int]()
	m.Store(1, 1)
	m.Store("x", 2)
	mustPanic(t, "txds: key []int is not hashable", func() { m.Store([]int{1}, 3) })
	// Inside a transaction that already wrote: the panic rolls it back, and
	// the map is unchanged.
	mustPanic(t, "txds: key map[int]int is not hashable", func() {
		_ = stm.Atomically(func(tx *stm.Tx) error {
			m.Put(tx, 2, 2)
			m.Put(tx, map[int]int{}, 3)
			return nil
		})
	})
	if n := m.Size(); n != 2 {
		t.Errorf("Size = %d after the panics, want 2", n)
	}
	if _, ok := m.Load(2); ok {
		t.Error("a Put before the panic survived")
	}
}

// TestSlotVarSize: a slot is one cache line, so that the slots of a node
// (an allocation aligned to 64 bytes) never share or straddle a line.
func TestSlotVarSize(t *testing.T) {
	if got := unsafe.Sizeof(slotVar[int, int]{}); got != 64 {
		t.Fatalf("unsafe.Sizeof(slotVar) = %d, want 64", got)
	}
	if got := unsafe.Sizeof(mapNode[string, []byte]{}); got != 64*mapFanout {
		t.Fatalf("unsafe.Sizeof(mapNode) = %d, want %d", got, 64*mapFanout)
	}
}
