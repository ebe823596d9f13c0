package tasks

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hytm/hytm/hybrid"
)

// TestOrderedBlockSizeRemembersFailure: in ordered mode, after a block of 9
// tasks ran again (a dependency 16 tasks back, which blocks of 9 meet every
// time), the block size halves and grows back by one task per 4*size
// blocks, but to 9 only after 64*8 more: 200 blocks that commit at their
// first run leave it at 8. Without Ordered the size grows past 9 as before
// (conflicts there come and go with the timing).
func TestOrderedBlockSizeRemembersFailure(t *testing.T) {
	for _, ordered := range []bool{true, false} {
		opts := []Option{Workers(2)}
		if ordered {
			opts = append(opts, Ordered())
		}
		p := New(opts...)
		p.blk.Store(9)
		p.blockFailed(9)
		if got := p.blk.Load(); got != 4 {
			t.Fatalf("ordered %v: after a failed block of 9, size %d, want 4", ordered, got)
		}
		for range 200 {
			p.blockCommitted()
		}
		got := p.blk.Load()
		if ordered && got != 8 {
			t.Errorf("ordered: after 200 good blocks, size %d, want 8 (not the 9 that failed)", got)
		}
		if !ordered && got <= 8 {
			t.Errorf("unordered: after 200 good blocks, size %d, want more than 8", got)
		}
	}
}

// TestStepAsideKeepsBlockSize: a speculative run that stepped aside (no
// conflict) raises doubt by one and leaves the block size alone; a conflict
// raises doubt by doubtFail and halves the size.
func TestStepAsideKeepsBlockSize(t *testing.T) {
	p := New(Workers(2), Ordered())
	p.blk.Store(16)
	p.stepAside()
	if d, b := p.doubt.Load(), p.blk.Load(); d != 1 || b != 16 {
		t.Fatalf("after a step-aside: doubt %d, size %d; want 1 and 16", d, b)
	}
	p.doubt.Add(doubtFail)
	p.blockFailed(16)
	if b := p.blk.Load(); b != 8 {
		t.Fatalf("after a conflict: size %d, want 8", b)
	}
}

// TestSpeculativeErrorIsAStepAside: in ordered mode a task whose body
// returns an error while it runs speculatively (its turn has not come: the
// task before it sleeps) is run again at its turn, where its error counts;
// its speculative run counts as a step-aside (doubt rises by one), not as a
// failed speculation (doubtFail).
func TestSpeculativeErrorIsAStepAside(t *testing.T) {
	p := New(Workers(2), Ordered())
	FixBlock(p, 1)
	errBoom := errors.New("boom")
	var specRuns atomic.Int32
	p.Add(func(tx *hybrid.Tx) error { time.Sleep(20 * time.Millisecond); return nil })
	p.Add(func(tx *hybrid.Tx) error { specRuns.Add(1); return errBoom })
	err := p.Run(context.Background())
	if !errors.Is(err, errBoom) {
		t.Fatalf("Run: %v, want the second task's error", err)
	}
	if specRuns.Load() < 2 {
		t.Skipf("the second task ran %d times: it never ran before its turn", specRuns.Load())
	}
	if d := p.doubt.Load(); d != 1 {
		t.Errorf("doubt %d after one speculative run that returned an error, want 1", d)
	}
}

// TestOrderedDoublingStopsShortOfFailure: in ordered mode, once a block of
// 16 ran again, the doubling at a later Run's start stops at 15 and stays
// there for 50 good blocks; a block of 6 that ran again (at most
// badDoubling: maybe a conflict by chance) does not hold the doubling back,
// which reaches maxOrderedBlock.
func TestOrderedDoublingStopsShortOfFailure(t *testing.T) {
	for _, c := range []struct{ failed, want int32 }{{16, 15}, {6, maxOrderedBlock}} {
		p := New(Workers(2), Ordered())
		p.blk.Store(c.failed)
		p.blockFailed(int(c.failed))
		// A new Run's start (Run resets these three).
		p.blk.Store(1)
		p.blkCeil.Store(p.maxBlk)
		p.blkGood.Store(0)
		for range 50 {
			p.blockCommitted()
		}
		if got := p.blk.Load(); got != c.want {
			t.Errorf("after a failed block of %d, 50 good blocks of the next Run: size %d, want %d", c.failed, got, c.want)
		}
	}
}
