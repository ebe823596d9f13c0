package bench

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/hytm/hytm/stm"
	"github.com/hytm/hytm/txds"
)

// Benchmarks of package txds against the usual non-transactional
// containers, in one run so that ratios are taken against same-run
// baselines. Run with -cpu 1,2 (goroutines = GOMAXPROCS, b.RunParallel):
//
//	go test -run X -bench 'Txds' -cpu 1,2 -count 5 ./bench
//
// TM rows report aborts/op (aborted attempts per operation) from
// stm.ReadStats.

// kvMap is the one-operation interface the Map benchmarks drive.
type kvMap interface {
	Load(k int) (int, bool)
	Store(k, v int)
}

type rwMap struct {
	mu sync.RWMutex
	m  map[int]int
}

func (m *rwMap) Load(k int) (int, bool) {
	m.mu.RLock()
	v, ok := m.m[k]
	m.mu.RUnlock()
	return v, ok
}

func (m *rwMap) Store(k, v int) {
	m.mu.Lock()
	m.m[k] = v
	m.mu.Unlock()
}

type syncMap struct{ m sync.Map }

func (m *syncMap) Load(k int) (int, bool) {
	v, ok := m.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(int), true
}

func (m *syncMap) Store(k, v int) { m.m.Store(k, v) }

// txdsMap runs each operation as its own stm transaction, explicitly.
type txdsMap struct{ m *txds.Map[int, int] }

func (m txdsMap) Load(k int) (v int, ok bool) {
	_ = stm.Atomically(func(tx *stm.Tx) error {
		v, ok = m.m.Get(tx, k)
		return nil
	})
	return v, ok
}

func (m txdsMap) Store(k, v int) {
	_ = stm.Atomically(func(tx *stm.Tx) error {
		m.m.Put(tx, k, v)
		return nil
	})
}

// floorMap is not a map: key k is the k-th word of an array, read and
// written with one atomic load or store. It is the least that any shared
// table can cost, so its row is the machine's floor for the mix: what the
// other rows lose from 1 to 2 goroutines beyond it is theirs, and what it
// loses itself (the cache lines that the Puts write moving between cores)
// no table can win back.
type floorMap struct{ v []atomic.Int64 }

func (m *floorMap) Load(k int) (int, bool) { return int(m.v[k].Load()), true }
func (m *floorMap) Store(k, v int)         { m.v[k].Store(int64(v)) }

var mapImpls = []struct {
	name string
	make func() kvMap
}{
	{"txds", func() kvMap { return txdsMap{txds.NewMap[int, int]()} }},
	{"rwmutex", func() kvMap { return &rwMap{m: map[int]int{}} }},
	{"syncmap", func() kvMap { return new(syncMap) }},
	{"xsync", func() kvMap { return xsync.NewMap[int, int]() }},
	{"floor", func() kvMap { return &floorMap{v: make([]atomic.Int64, 1<<20)} }},
}

// filled caches one filled map per implementation and size: filling a
// million keys takes a while.
var filled = map[string]kvMap{}

func filledMap(name string, mk func() kvMap, keys int) kvMap {
	id := fmt.Sprint(name, keys)
	if m, ok := filled[id]; ok {
		return m
	}
	m := mk()
	for k := range keys {
		m.Store(k, k)
	}
	filled[id] = m
	return m
}

// reportAborts adds aborts/op since before.
func reportAborts(b *testing.B, before stm.Stats) {
	after := stm.ReadStats()
	b.ReportMetric(float64(after.TotalAborts()-before.TotalAborts())/float64(b.N), "aborts/op")
}

// BenchmarkTxdsMap: random keys of [0, keys), get=100 (Get only), 90 (read-mostly) or
// 50 (write-heavy: half Puts of existing keys).
func BenchmarkTxdsMap(b *testing.B) {
	for _, keys := range []int{1000, 1000000} {
		for _, get := range []int{100, 90, 50} {
			for _, impl := range mapImpls {
				b.Run(fmt.Sprintf("keys=%d/get=%d/%s", keys, get, impl.name), func(b *testing.B) {
					m := filledMap(impl.name, impl.make, keys)
					before := stm.ReadStats()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						r := rand.New(rand.NewPCG(rand.Uint64(), 1))
						for pb.Next() {
							k := r.IntN(keys)
							if r.IntN(100) < get {
								m.Load(k)
							} else {
								m.Store(k, k+1)
							}
						}
					})
					b.StopTimer()
					reportAborts(b, before)
				})
			}
		}
	}
}

// BenchmarkTxdsMapGetRatio measures the Get target on one goroutine: Gets
// of random keys of a 1,000-key map, each in its own transaction,
// alternating in rounds of 4,096 with the same Gets on a
// sync.RWMutex-guarded Go map, so that both see the same moment of a noisy
// machine. It reports x-rwmutex, the txds time over the rwmutex time.
func BenchmarkTxdsMapGetRatio(b *testing.B) {
	const keys, round = 1000, 4096
	tm := filledMap("txds", mapImpls[0].make, keys)
	rw := filledMap("rwmutex", mapImpls[1].make, keys)
	r := rand.New(rand.NewPCG(1, 2))
	ks := make([]int, round)
	var tTM, tRW time.Duration
	var sink int
	for b.Loop() {
		for i := range ks {
			ks[i] = r.IntN(keys)
		}
		t0 := time.Now()
		for _, k := range ks {
			v, _ := tm.Load(k)
			sink += v
		}
		t1 := time.Now()
		for _, k := range ks {
			v, _ := rw.Load(k)
			sink += v
		}
		tTM += t1.Sub(t0)
		tRW += time.Since(t1)
	}
	if sink == 0 {
		b.Fatal("no key found")
	}
	b.ReportMetric(float64(tTM.Nanoseconds())/float64(b.N*round), "ns/get")
	b.ReportMetric(float64(tRW.Nanoseconds())/float64(b.N*round), "rwmutex-ns/get")
	b.ReportMetric(tTM.Seconds()/tRW.Seconds(), "x-rwmutex")
}

// BenchmarkTxdsMapPutDistinct: each goroutine inserts keys of its own into
// a map that starts with 4,096 keys; reports aborts per 1,000 commits.
func BenchmarkTxdsMapPutDistinct(b *testing.B) {
	m := txds.NewMap[int, int]()
	for k := range 4096 {
		m.Store(k, k)
	}
	var gid atomic.Int64
	before := stm.ReadStats()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(gid.Add(1))
		for i := 0; pb.Next(); i++ {
			m.Store(g<<40|i, i)
		}
	})
	b.StopTimer()
	after := stm.ReadStats()
	b.ReportMetric(1000*float64(after.TotalAborts()-before.TotalAborts())/float64(after.Commits()-before.Commits()), "aborts/1000commits")
}

// BenchmarkTxdsCounter: Add(1) from every goroutine.
func BenchmarkTxdsCounter(b *testing.B) {
	b.Run("txds", func(b *testing.B) {
		c := txds.NewCounter()
		before := stm.ReadStats()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = stm.Atomically(func(tx *stm.Tx) error { c.Add(tx, 1); return nil })
			}
		})
		b.StopTimer()
		reportAborts(b, before)
		if c.Value() != int64(b.N) {
			b.Fatalf("Value = %d, want %d", c.Value(), b.N)
		}
	})
	b.Run("atomic", func(b *testing.B) {
		var c atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Add(1)
			}
		})
	})
	b.Run("xsync", func(b *testing.B) {
		c := xsync.NewCounter()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Add(1)
			}
		})
	})
}

// BenchmarkTxdsQueue: producers=2 goroutines put b.N elements in all while
// one consumer gets them; the consumer checks that nothing is lost or
// duplicated and that each producer's elements come in order. ns/op is wall
// time per element.
func BenchmarkTxdsQueue(b *testing.B) {
	type item struct{ p, i int }
	run := func(b *testing.B, put func(item), get func() item) {
		const producers = 2
		var wg sync.WaitGroup
		for p := range producers {
			wg.Go(func() {
				for i := p; i < b.N; i += producers {
					put(item{p, i})
				}
			})
		}
		next := [producers]int{0, 1}
		for range b.N {
			x := get()
			if x.i != next[x.p] {
				b.Fatalf("producer %d: got %d, want %d", x.p, x.i, next[x.p])
			}
			next[x.p] += producers
		}
		wg.Wait()
	}
	b.Run("txds", func(b *testing.B) {
		q := txds.NewQueue[item](0)
		before := stm.ReadStats()
		run(b, q.Enqueue, q.Dequeue)
		reportAborts(b, before)
	})
	b.Run("chan", func(b *testing.B) {
		ch := make(chan item, 1024)
		run(b, func(x item) { ch <- x }, func() item { return <-ch })
	})
}
