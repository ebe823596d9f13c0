package tmtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// ld and rmw build the steps of a hand-made history: a Load of v that saw
// the version written by seen, and the same followed by a Store.
func ld(v, seen int) histOp  { return histOp{v: v, seen: seen} }
func rmw(v, seen int) histOp { return histOp{v: v, seen: seen, wrote: true} }

// committedTx builds a committed attempt.
func committedTx(id int, start, end int64, ops ...histOp) histTx {
	return histTx{id: id, committed: true, start: start, end: end, ops: ops}
}

// abortedTx builds an attempt that did not commit.
func abortedTx(id int, start, end int64, ops ...histOp) histTx {
	t := committedTx(id, start, end, ops...)
	t.committed = false
	return t
}

// TestCheckHistory feeds checkHistory hand-made histories, so that the
// checker itself is shown to find what it looks for, and to accept what it
// must accept.
func TestCheckHistory(t *testing.T) {
	for _, tc := range []struct {
		name  string
		txs   []histTx
		final []int
		// cycle lists the attempts the reported cycle must name, nil
		// if none is expected; errors is a substring of the first basic
		// rule violation, "" if none is expected.
		cycle  []string
		errors string
	}{
		{
			name: "Serial",
			txs: []histTx{
				committedTx(1, 1, 2, rmw(0, 0)),
				committedTx(2, 3, 4, ld(0, 1), rmw(1, 0)),
				committedTx(3, 5, 6, ld(0, 1), ld(1, 2)),
				committedTx(4, 7, 8, rmw(0, 1), rmw(1, 2)),
			},
			final: []int{4, 4},
		},
		{
			// Overlapping calls may serialize in any order that
			// reads-from allows: the reader sees neither write,
			// although both calls ended before it did.
			name: "ConcurrentSerializable",
			txs: []histTx{
				committedTx(1, 1, 4, rmw(0, 0)),
				committedTx(2, 2, 5, rmw(1, 0)),
				committedTx(3, 3, 6, ld(0, 0), ld(1, 0)),
				abortedTx(4, 3, 9, ld(0, 1)),
				committedTx(5, 3, 9, ld(0, 1), rmw(1, 2)),
			},
			final: []int{1, 5},
		},
		{
			// Scenario (b): each writer writes one Var; the readers see
			// the two writes in opposite orders. All calls overlap, so
			// the cycle is made of wr and rw edges only.
			name: "LongFork",
			txs: []histTx{
				committedTx(1, 1, 10, rmw(0, 0)),
				committedTx(2, 2, 11, rmw(1, 0)),
				committedTx(3, 3, 12, ld(0, 0), ld(1, 2)),
				committedTx(4, 4, 13, ld(1, 0), ld(0, 1)),
			},
			final: []int{1, 2},
			cycle: []string{"T1 ", "T2 ", "T3 ", "T4 "},
		},
		{
			// Scenario (a): T1 commits v0, then T2 starts and commits
			// v1; T3, open across both, sees v0 before T1 and v1 after
			// T2. Without the real-time order T2, T3, T1 would be a
			// valid serial order.
			name: "RealTime",
			txs: []histTx{
				committedTx(1, 1, 2, rmw(0, 0)),
				committedTx(2, 3, 4, rmw(1, 0)),
				committedTx(3, 0, 5, ld(0, 0), ld(1, 2)),
			},
			final: []int{1, 2},
			cycle: []string{"T1 ", "T2 ", "T3 ", "--rt T2-->"},
		},
		{
			// The same torn snapshot in an attempt that aborted: its
			// call's retry saw a consistent state, but opacity holds
			// the aborted attempt to the same rules.
			name: "RealTimeAborted",
			txs: []histTx{
				committedTx(1, 1, 2, rmw(0, 0)),
				committedTx(2, 3, 4, rmw(1, 0)),
				abortedTx(3, 0, 5, ld(0, 0), ld(1, 2)),
				committedTx(4, 0, 5, ld(0, 1), ld(1, 2)),
			},
			final: []int{1, 2},
			cycle: []string{"T1 ", "T2 ", "T3 ", "aborted"},
		},
		{
			name: "DirtyRead",
			txs: []histTx{
				abortedTx(1, 1, 4, rmw(0, 0)),
				committedTx(2, 2, 3, ld(0, 1)),
				committedTx(3, 1, 4, rmw(0, 0)),
			},
			final:  []int{3},
			errors: "read v0 = T1, a version no committed attempt wrote",
		},
		{
			name: "LostUpdate",
			txs: []histTx{
				committedTx(1, 1, 4, rmw(0, 0)),
				committedTx(2, 2, 5, rmw(0, 0)),
			},
			final:  []int{2},
			errors: "lost update on v0",
		},
		{
			name: "FinalState",
			txs: []histTx{
				committedTx(1, 1, 2, rmw(0, 0)),
				committedTx(2, 3, 4, rmw(0, 1)),
			},
			final:  []int{1},
			errors: "v0: final value T1, but the last committed version is T2's",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := checkHistory(tc.txs, tc.final)
			text := rep.String()
			t.Logf("report:\n%s", text)
			if tc.errors == "" {
				assert.Empty(t, rep.errors)
			} else if assert.NotEmpty(t, rep.errors) {
				assert.Contains(t, rep.errors[0], tc.errors)
			}
			if tc.cycle == nil {
				assert.Nil(t, rep.cycle, "reported a cycle in a serializable history")
				return
			}
			if assert.NotNil(t, rep.cycle, "found no cycle") {
				for _, want := range tc.cycle {
					assert.True(t, strings.Contains(text, want), "the cycle does not mention %q", want)
				}
			}
		})
	}
}
