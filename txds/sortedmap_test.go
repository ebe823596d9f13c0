package txds

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/hytm/hytm/stm"
)

// TestSortedMapModel checks SortedMap against a Go map with sorted keys:
// random Get, Put, Delete, Len and Ascend over random ranges, one per
// transaction or several in one, some rolled back.
func TestSortedMapModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := NewSortedMap[int, int]()
		model := map[int]int{}
		key := rapid.IntRange(-10, 60)
		op := func(t *rapid.T, tx *stm.Tx, want map[int]int) {
			k, v := key.Draw(t, "k"), rapid.Int().Draw(t, "v")
			if op := rapid.IntRange(0, 4).Draw(t, "op"); !kvStep(t, m, tx, want, op, k, v) {
				// op 4: Ascend over a random range, with a random limit.
				to := key.Draw(t, "to")
				limit := rapid.IntRange(1, 10).Draw(t, "limit")
				var got, exp []int
				m.Ascend(tx, k, to, func(k, v int) bool {
					if want[k] != v {
						t.Fatalf("Ascend: %d = %d, want %d", k, v, want[k])
					}
					got = append(got, k)
					return len(got) < limit
				})
				for _, x := range slices.Sorted(maps.Keys(want)) {
					if x >= k && x < to && len(exp) < limit {
						exp = append(exp, x)
					}
				}
				if !slices.Equal(got, exp) {
					t.Fatalf("Ascend(%d, %d) limit %d = %v, want %v", k, to, limit, got, exp)
				}
			}
		}
		actions := kvBatches(&model, op)
		actions[""] = func(t *rapid.T) {
			var keys []int
			atomically(t, func(tx *stm.Tx) error {
				keys = keys[:0]
				m.Ascend(tx, -1000, 1000, func(k, _ int) bool { keys = append(keys, k); return true })
				return nil
			})
			if want := slices.Sorted(maps.Keys(model)); !slices.Equal(keys, want) {
				t.Fatalf("keys = %v, want %v", keys, want)
			}
		}
		t.Repeat(actions)
	})
}

// TestSortedMapAscendReadOnly: writers insert and delete keys in pairs
// (k and k+1000 together) while read-only Ascends check that each sees one
// state (every key's partner present, count == Len) and that each body ran
// exactly once: they never abort.
func TestSortedMapAscendReadOnly(t *testing.T) {
	m := NewSortedMap[int, int]()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				k := (i*37 + w*500) % 1000
				atomically(t, func(tx *stm.Tx) error {
					if m.Delete(tx, k) {
						m.Delete(tx, k+1000)
					} else {
						m.Put(tx, k, i)
						m.Put(tx, k+1000, i)
					}
					return nil
				})
			}
		})
	}
	readers := scale(2000)
	var runs atomic.Int64
	for range readers {
		var low, high map[int]int
		var n int
		atomically(t, func(tx *stm.Tx) error {
			runs.Add(1)
			low, high = map[int]int{}, map[int]int{}
			m.Ascend(tx, 0, 2000, func(k, v int) bool {
				if k < 1000 {
					low[k] = v
				} else {
					high[k-1000] = v
				}
				return true
			})
			n = m.Len(tx)
			return nil
		})
		if !maps.Equal(low, high) || n != len(low)+len(high) {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("Ascend saw an inconsistent state: %d low, %d high keys, Len %d", len(low), len(high), n)
		}
	}
	stop.Store(true)
	wg.Wait()
	if r := runs.Load(); r != int64(readers) {
		t.Errorf("read-only bodies ran %d times for %d transactions", r, readers)
	}
}

// TestSortedMapConcurrent: 4 goroutines insert disjoint key sets
// (interleaved in key order) and delete half of them; the result is exact.
func TestSortedMapConcurrent(t *testing.T) {
	m := NewSortedMap[int, int]()
	n := scale(4000)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range n {
				m.Store(i*4+w, i)
			}
			for i := 0; i < n; i += 2 {
				if !m.Remove(i*4 + w) {
					t.Errorf("Remove(%d) = false", i*4+w)
				}
			}
		})
	}
	wg.Wait()
	var keys []int
	atomically(t, func(tx *stm.Tx) error {
		keys = keys[:0]
		m.Ascend(tx, 0, 1<<30, func(k, _ int) bool { keys = append(keys, k); return true })
		return nil
	})
	var want []int
	for k := range n * 4 {
		if (k/4)%2 == 1 {
			want = append(want, k)
		}
	}
	if !slices.Equal(keys, want) || m.Size() != len(want) {
		t.Fatalf("got %d keys (Size %d), want %d", len(keys), m.Size(), len(want))
	}
}

func TestSortedMapMisuse(t *testing.T) {
	var m *SortedMap[int, int]
	mustPanic(t, "txds: nil SortedMap", func() { m.Store(1, 1) })
	mustPanic(t, "txds: SortedMap not made with NewSortedMap", func() { new(SortedMap[int, int]).Size() })
}
