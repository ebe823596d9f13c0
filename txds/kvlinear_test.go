package txds

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/hytm/hytm/stm"
)

// Linearizability of the key-value containers from several goroutines:
// small histories of one-key operations and of a two-key move (one
// transaction that deletes a key and puts its value under another), checked
// with porcupine against a map of kvKeys keys. A move that a reader could
// see half done, or a Put lost to a concurrent move, fails the check.

const kvKeys = 3

// kvState is the model: the value of each key, and whether it is present.
type kvState struct {
	val [kvKeys]int
	has [kvKeys]bool
}

type kvOp uint8

const (
	kvPut kvOp = iota
	kvGet
	kvDelete
	kvMove // Get k; if present, Delete k and Put its value under k2
	kvLen
)

type kvInput struct {
	op    kvOp
	k, k2 int
	v     int
}

type kvOutput struct {
	v  int
	ok bool
	n  int
}

var kvModel = porcupine.Model{
	Init: func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(kvState), input.(kvInput), output.(kvOutput)
		switch in.op {
		case kvPut:
			s.val[in.k], s.has[in.k] = in.v, true
			return true, s
		case kvGet:
			if !s.has[in.k] {
				return !out.ok, s
			}
			return out.ok && out.v == s.val[in.k], s
		case kvDelete:
			ok := s.has[in.k]
			s.has[in.k], s.val[in.k] = false, 0
			return out.ok == ok, s
		case kvMove:
			if !s.has[in.k] {
				return !out.ok, s
			}
			v := s.val[in.k]
			s.has[in.k], s.val[in.k] = false, 0
			s.val[in.k2], s.has[in.k2] = v, true
			return out.ok && out.v == v, s
		default: // kvLen
			n := 0
			for _, h := range s.has {
				if h {
					n++
				}
			}
			return out.n == n, s
		}
	},
	Equal: func(a, b any) bool { return a.(kvState) == b.(kvState) },
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		return fmt.Sprintf("%d(k%d,k%d,%d) -> %+v", in.op, in.k, in.k2, in.v, out)
	},
}

// kvTx is the transactional interface that Map and SortedMap share.
type kvTx interface {
	Get(tx *stm.Tx, k int) (int, bool)
	Put(tx *stm.Tx, k, v int)
	Delete(tx *stm.Tx, k int) bool
	Len(tx *stm.Tx) int
}

// kvApply runs one operation as its own transaction.
func kvApply(m kvTx, in kvInput) (out kvOutput) {
	err := stm.Atomically(func(tx *stm.Tx) error {
		out = kvOutput{}
		switch in.op {
		case kvPut:
			m.Put(tx, in.k, in.v)
		case kvGet:
			out.v, out.ok = m.Get(tx, in.k)
		case kvDelete:
			out.ok = m.Delete(tx, in.k)
		case kvMove:
			if out.v, out.ok = m.Get(tx, in.k); out.ok {
				m.Delete(tx, in.k)
				m.Put(tx, in.k2, out.v)
			}
		case kvLen:
			out.n = m.Len(tx)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

// checkKVLinearizable checks histories (checkLinearizable) of random
// operations on fresh containers from mk.
func checkKVLinearizable(t *testing.T, mk func(round int) kvTx) {
	checkLinearizable(t, kvModel, func(round int) func(c, i int) (any, any) {
		m := mk(round)
		rngs := make([]*rand.Rand, 3)
		for c := range rngs {
			rngs[c] = rand.New(rand.NewPCG(uint64(round), uint64(c)))
		}
		return func(c, i int) (any, any) {
			rng := rngs[c] // client c's own: clients run concurrently
			in := kvInput{op: kvOp(rng.IntN(5)), k: rng.IntN(kvKeys), v: c*100 + i + 1}
			in.k2 = (in.k + 1 + rng.IntN(kvKeys-1)) % kvKeys
			return in, kvApply(m, in)
		}
	})
}

// TestMapLinearizable: Map, with maphash and with hashes that put every key
// in one slot's collision list or split them below the root.
func TestMapLinearizable(t *testing.T) {
	hashes := []string{"maphash", "equal8", "lastdigit", "rootpair"}
	checkKVLinearizable(t, func(round int) kvTx {
		m := NewMap[int, int]()
		m.testHash = testHashes[hashes[round%len(hashes)]]
		return m
	})
}

// TestSortedMapLinearizable: SortedMap, the same histories.
func TestSortedMapLinearizable(t *testing.T) {
	checkKVLinearizable(t, func(int) kvTx { return NewSortedMap[int, int]() })
}

// TestKVModelRejects: the checker above can fail: it rejects a history in
// which a Get, after a move returned, still finds the moved key.
func TestKVModelRejects(t *testing.T) {
	ops := []porcupine.Operation{
		{ClientId: 0, Input: kvInput{op: kvPut, k: 0, v: 7}, Output: kvOutput{}, Call: 0, Return: 1},
		{ClientId: 0, Input: kvInput{op: kvMove, k: 0, k2: 1}, Output: kvOutput{v: 7, ok: true}, Call: 2, Return: 3},
		{ClientId: 1, Input: kvInput{op: kvGet, k: 0}, Output: kvOutput{v: 7, ok: true}, Call: 4, Return: 5},
	}
	if porcupine.CheckOperations(kvModel, ops) {
		t.Fatal("porcupine accepted a Get that saw a key after its move returned")
	}
}

// counterInput is a Counter operation: add n (a transaction that Loads and
// then Adds when capped is set, the "if Load < limit, Add" of Counter's
// doc), or Load.
type counterInput struct {
	add    bool
	n      int64
	capped bool
}

// counterModel: an int64; a capped add applies only while the value is
// below counterCap, and reports whether it applied.
var counterModel = porcupine.Model{
	Init: func() any { return int64(0) },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(int64), input.(counterInput), output.(kvOutput)
		switch {
		case !in.add:
			return int64(out.v) == s, s
		case in.capped:
			if s < counterCap {
				return out.ok, s + in.n
			}
			return !out.ok, s
		default:
			return true, s + in.n
		}
	},
	DescribeOperation: func(input, output any) string {
		return fmt.Sprintf("%+v -> %+v", input, output)
	},
}

const counterCap = 20

// TestCounterLinearizable: Adds, capped Adds (Load, then Add only below a
// cap, in one transaction) and Loads of a Counter from 3 goroutines; a
// capped Add that read a stale sum, or a Load that summed stripes from
// different moments, fails the check.
func TestCounterLinearizable(t *testing.T) {
	checkLinearizable(t, counterModel, func(round int) func(c, i int) (any, any) {
		ctr := NewCounter()
		rngs := make([]*rand.Rand, 3)
		for c := range rngs {
			rngs[c] = rand.New(rand.NewPCG(uint64(round), uint64(c)+10))
		}
		return func(c, i int) (any, any) {
			rng := rngs[c]
			in := counterInput{add: rng.IntN(3) != 0, n: int64(1 + rng.IntN(5)), capped: rng.IntN(2) == 0}
			var out kvOutput
			if !in.add {
				out.v = int(ctr.Value())
				return in, out
			}
			err := stm.Atomically(func(tx *stm.Tx) error {
				out.ok = !in.capped || ctr.Load(tx) < counterCap
				if out.ok {
					ctr.Add(tx, in.n)
				}
				return nil
			})
			if err != nil {
				panic(err)
			}
			return in, out
		}
	})
}
