package gcore

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// These tests share the package-level slot registry and cached horizon, so
// none of them runs in parallel with another. testClock returns a clock that
// starts above every horizon computed so far, because the cached horizon only
// moves forward.
func testClock() *atomic.Uint64 {
	c := new(atomic.Uint64)
	c.Store(CachedHorizon() + 1000)
	return c
}

func TestSlotPinUnpinHorizon(t *testing.T) {
	clock := testClock()
	base := clock.Load()
	a, b := NewSlot(), NewSlot()
	defer a.Release()
	defer b.Release()
	if a.Snapshot() != Idle || b.Snapshot() != Idle {
		t.Fatal("new slot is not idle")
	}
	if h := Horizon(base); h != base {
		t.Fatalf("horizon with no pinned slot = %d, want now = %d", h, base)
	}
	if CachedHorizon() != base {
		t.Fatalf("cached horizon %d, want %d", CachedHorizon(), base)
	}

	rv := a.Pin(clock)
	if rv != base || a.Snapshot() != base {
		t.Fatalf("pin returned %d, announced %d, want %d", rv, a.Snapshot(), base)
	}
	clock.Add(10)
	if h := Horizon(clock.Load()); h != base {
		t.Fatalf("horizon %d, want the pinned snapshot %d", h, base)
	}
	rb := b.Pin(clock)
	if rb != base+10 {
		t.Fatalf("second pin %d, want %d", rb, base+10)
	}
	clock.Add(10)
	if h := Horizon(clock.Load()); h != base {
		t.Fatalf("horizon %d, want the oldest snapshot %d", h, base)
	}
	// Repin moves a forward: the horizon follows to b's snapshot.
	a.Repin(base + 15)
	if a.Snapshot() != base+15 {
		t.Fatalf("repin: announced %d", a.Snapshot())
	}
	if h := Horizon(clock.Load()); h != base+10 {
		t.Fatalf("horizon after repin %d, want %d", h, base+10)
	}
	b.Unpin()
	if b.Snapshot() != Idle {
		t.Fatal("unpinned slot is not idle")
	}
	if h := Horizon(clock.Load()); h != base+15 {
		t.Fatalf("horizon after unpin %d, want %d", h, base+15)
	}
	a.Unpin()
	now := clock.Load()
	if h := Horizon(now); h != now {
		t.Fatalf("horizon with all idle %d, want now %d", h, now)
	}
	// The cache never moves back, even if a slow scanner reports an older
	// horizon; the return value is still that scanner's own result.
	if h := Horizon(base); h != base {
		t.Fatalf("Horizon(%d) = %d", base, h)
	}
	if CachedHorizon() != now {
		t.Fatalf("cached horizon moved back to %d, want %d", CachedHorizon(), now)
	}
}

func TestNewSlotReusesReleased(t *testing.T) {
	s := NewSlot()
	n := Slots()
	s.Pin(testClock())
	s.Release()
	if s.Snapshot() != Idle {
		t.Fatal("released slot is not idle")
	}
	s2 := NewSlot()
	defer s2.Release()
	if s2 != s {
		t.Fatal("NewSlot did not reuse the released slot")
	}
	if Slots() != n {
		t.Fatalf("slot count grew from %d to %d", n, Slots())
	}
}

type owner struct{ _ [64]byte }

func TestNewSlotForReleasedAfterOwnerCollected(t *testing.T) {
	clock := testClock()
	o := new(owner)
	s := NewSlotFor(o)
	rv := s.Pin(clock) // a worker that died pinned must not hold the horizon
	runtime.KeepAlive(o)
	o = nil
	if h := Horizon(clock.Load() + 5); h != rv {
		t.Fatalf("horizon %d, want the pinned %d", h, rv)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Snapshot() != Idle {
		if time.Now().After(deadline) {
			t.Fatal("slot not released 5s after its owner became unreachable")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if h := Horizon(clock.Load() + 5); h != clock.Load()+5 {
		t.Fatalf("horizon %d still held after the owner was collected", h)
	}
	// The cleanup put it on the free list (after marking it idle): poll
	// briefly for the list append, then it is the next slot handed out.
	n := Slots()
	for {
		s2 := NewSlot()
		if s2 == s {
			s2.Release()
			break
		}
		s2.Release() // not ours (lists are LIFO, so this should not happen)
		if time.Now().After(deadline) {
			t.Fatal("collected owner's slot never reached the free list")
		}
		time.Sleep(time.Millisecond)
	}
	if Slots() != n {
		t.Fatalf("slot count grew from %d to %d", n, Slots())
	}
}

// TestHorizonHammer: pinners pin, check, unpin; scanners compute the horizon
// concurrently while the clock moves. No horizon any scanner publishes may
// exceed a snapshot that is pinned at the time the pinner looks.
func TestHorizonHammer(t *testing.T) {
	clock := testClock()
	const pinners, scanners = 4, 2
	iters := 20000
	if testing.Short() {
		iters = 3000
	}
	var stop atomic.Bool
	var bad atomic.Int64
	var wg, sg sync.WaitGroup
	for range scanners {
		sg.Add(1)
		go func() {
			defer sg.Done()
			for !stop.Load() {
				Horizon(clock.Load())
				clock.Add(1)
			}
		}()
	}
	for range pinners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := NewSlot()
			defer s.Release()
			for i := range iters {
				rv := s.Pin(clock)
				if s.Snapshot() > rv {
					bad.Add(1)
				}
				for range 4 {
					if h := CachedHorizon(); h > rv {
						t.Errorf("cached horizon %d > pinned snapshot %d", h, rv)
						bad.Add(1)
					}
					if h := Horizon(clock.Load()); h > rv {
						t.Errorf("horizon %d > pinned snapshot %d", h, rv)
						bad.Add(1)
					}
				}
				if i%3 == 0 {
					s.Repin(clock.Load()) // forward only
					if h := CachedHorizon(); h > s.Snapshot() {
						bad.Add(1)
					}
				}
				s.Unpin()
				if bad.Load() > 10 {
					return
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	sg.Wait()
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d horizon violations", n)
	}
}

func TestNursery(t *testing.T) {
	var n Nursery // zero value ready
	k1, k2 := NewTypeKey("a"), NewTypeKey("b")
	if p := n.Get(k1); p != nil {
		t.Fatal("empty nursery returned a node")
	}
	x, y := new(int64), new(int64)
	n.Put(k1, unsafe.Pointer(x))
	n.Put(k1, unsafe.Pointer(y))
	if n.Len(k1) != 2 || n.Len(k2) != 0 {
		t.Fatalf("Len = %d, %d", n.Len(k1), n.Len(k2))
	}
	if p := n.Get(k2); p != nil {
		t.Fatal("Get returned a node of another type")
	}
	if p := n.Get(k1); p != unsafe.Pointer(y) {
		t.Fatal("Get is not LIFO")
	}
	if p := n.Get(k1); p != unsafe.Pointer(x) {
		t.Fatal("second Get")
	}
	if p := n.Get(k1); p != nil {
		t.Fatal("drained nursery returned a node")
	}
	if n.Reused != 2 || n.Recycled != 2 || n.Dropped != 0 {
		t.Fatalf("stats %d/%d/%d", n.Reused, n.Recycled, n.Dropped)
	}

	// A full list goes to the type's depot, and the nursery goes on with an
	// empty one.
	for range MaxFree + 10 {
		n.Put(k2, unsafe.Pointer(new(int64)))
	}
	if n.Len(k2) != 10 || n.Dropped != 0 || n.Recycled != 2+MaxFree+10 || n.Exchanged != 1 || k2.DepotLen() != 1 {
		t.Fatalf("after overfill: Len %d, Dropped %d, Recycled %d, Exchanged %d, depot %d",
			n.Len(k2), n.Dropped, n.Recycled, n.Exchanged, k2.DepotLen())
	}
	// Another worker, with nothing of its own, takes the full list instead
	// of allocating.
	var other Nursery
	if other.Get(k2) == nil || other.Len(k2) != MaxFree-1 || other.Exchanged != 1 || k2.DepotLen() != 0 {
		t.Fatalf("take from depot: Len %d, Exchanged %d, depot %d", other.Len(k2), other.Exchanged, k2.DepotLen())
	}
	// DepotMags bounds the depot; beyond it nodes are dropped to the Go GC.
	k3 := NewTypeKey("k3")
	var big Nursery
	for range (DepotMags+1)*MaxFree + 5 {
		big.Put(k3, unsafe.Pointer(new(int64)))
	}
	if k3.DepotLen() != DepotMags || big.Len(k3) != MaxFree || big.Dropped != 5 {
		t.Fatalf("depot bound: depot %d, Len %d, Dropped %d", k3.DepotLen(), big.Len(k3), big.Dropped)
	}
	k3.Drain()
	if k3.DepotLen() != 0 {
		t.Fatal("Drain left lists")
	}

	// More types than the inline lists hold.
	keys := make([]*TypeKey, 10)
	ptrs := make([]*int64, 10)
	for i := range keys {
		keys[i] = NewTypeKey("k")
		ptrs[i] = new(int64)
		n.Put(keys[i], unsafe.Pointer(ptrs[i]))
	}
	for i := range keys {
		if n.Len(keys[i]) != 1 || n.Get(keys[i]) != unsafe.Pointer(ptrs[i]) {
			t.Fatalf("type %d: wrong node", i)
		}
	}

	// Accounting: every Put is Recycled or Dropped; every non-nil Get is Reused.
	puts := uint64(2 + MaxFree + 10 + 10)
	if n.Recycled+n.Dropped != puts {
		t.Fatalf("Recycled %d + Dropped %d != Puts %d", n.Recycled, n.Dropped, puts)
	}
	if n.Reused != 2+10 {
		t.Fatalf("Reused %d", n.Reused)
	}
}

// TestNurseryPush: Push, Put's inlinable fast path, keeps a node only where
// Put would keep it without more work: the first list, of the node's type,
// with room inside its reservation, for a type whose nodes need no
// clearing. Otherwise it reports false and keeps nothing, so that the
// caller's Put reserves, trades with the depot or clears.
func TestNurseryPush(t *testing.T) {
	var n Nursery
	k := NewTypeKeyOf("pushNode", 8, nil)
	x := unsafe.Pointer(new(int64))
	if n.Push(k, x) {
		t.Fatal("Push kept a node in a nursery with no list yet")
	}
	n.Put(k, x) // makes the list and reserves a chunk
	if n.Get(k) != x {
		t.Fatal("Get after Put")
	}
	room := n.inline[0].quota
	if room == 0 {
		t.Fatal("no reservation left after Put and Get")
	}
	for i := range room {
		if !n.Push(k, unsafe.Pointer(new(int64))) {
			t.Fatalf("Push %d of %d refused within the reservation", i, room)
		}
	}
	if n.Push(k, unsafe.Pointer(new(int64))) {
		t.Fatal("Push kept a node beyond the list's reservation")
	}
	if n.Len(k) != room || n.Recycled != uint64(1+room) {
		t.Fatalf("Len %d, Recycled %d; want %d and %d", n.Len(k), n.Recycled, room, 1+room)
	}
	if y := unsafe.Pointer(new(int64)); n.Push(NewTypeKeyOf("other", 8, nil), y) {
		t.Fatal("Push kept a node of a type that is not the first list's")
	}

	kc := NewTypeKeyOf("valNode", unsafe.Sizeof(valNode{}), clearValNodes)
	var c Nursery
	c.Put(kc, unsafe.Pointer(&valNode{}))
	a := &valNode{val: new([64]byte)}
	if c.Push(kc, unsafe.Pointer(a)) || a.val == nil {
		t.Fatal("Push took a node that needs clearing")
	}
	n.Flush()
	c.Flush()
}

func TestNurseryNoAllocs(t *testing.T) {
	var n Nursery
	k := NewTypeKey("x")
	p := unsafe.Pointer(new(int64))
	n.Put(k, p) // first use allocates the list
	if a := testing.AllocsPerRun(1000, func() {
		q := n.Get(k)
		n.Put(k, q)
	}); a != 0 {
		t.Fatalf("Get+Put allocates %v times", a)
	}
}

type valNode struct {
	next *valNode
	val  *[64]byte
}

func clearValNodes(ps []unsafe.Pointer) {
	for _, p := range ps {
		(*valNode)(p).val = nil
	}
}

// TestNurseryClearsKeptNodes: a key made with a clear function has every
// node a nursery keeps (Put, PutAll) cleared, so that a free node keeps no
// user data alive, and Put and Get still allocate nothing.
func TestNurseryClearsKeptNodes(t *testing.T) {
	k := NewTypeKeyOf("valNode", unsafe.Sizeof(valNode{}), clearValNodes)
	var n Nursery
	a := &valNode{val: new([64]byte)}
	n.Put(k, unsafe.Pointer(a))
	if a.val != nil {
		t.Fatal("Put kept a node without clearing it")
	}
	batch := make([]*valNode, 10)
	ps := make([]unsafe.Pointer, len(batch))
	for i := range batch {
		batch[i] = &valNode{val: new([64]byte)}
		ps[i] = unsafe.Pointer(batch[i])
	}
	n.Shelf(k).PutAll(ps)
	for i, x := range batch {
		if x.val != nil {
			t.Fatalf("PutAll kept node %d without clearing it", i)
		}
	}
	n.Flush()
	p := unsafe.Pointer(&valNode{})
	n.Put(k, p)
	if a := testing.AllocsPerRun(1000, func() { n.Put(k, n.Get(k)) }); a != 0 {
		t.Fatalf("Get+Put with a clear function allocates %v times", a)
	}
	n.Flush()
}

// TestNurseryByteBounds: a key of known node size keeps at most ListBytes
// per list, reserves room against MaxKeptBytes as its lists fill (a chunk
// at a time; a full list takes its reservation to the depot), and Flush,
// Drain and a Get that finds nothing to reuse give it back.
func TestNurseryByteBounds(t *testing.T) {
	const size = 1024
	k := NewTypeKeyOf("1KiB", size, nil)
	per := ListBytes / size
	if k.PerList() != per {
		t.Fatalf("PerList %d, want %d", k.PerList(), per)
	}
	if got := NewTypeKeyOf("small", 8, nil).PerList(); got != MaxFree {
		t.Fatalf("PerList of 8-byte nodes %d, want MaxFree", got)
	}
	if got := NewTypeKeyOf("huge", 1<<20, nil).PerList(); got != 1 {
		t.Fatalf("PerList of 1 MiB nodes %d, want 1", got)
	}
	base := KeptBytes()
	var n Nursery
	for range per + 1 {
		n.Put(k, unsafe.Pointer(new([size]byte)))
	}
	if n.Len(k) != 1 || k.DepotLen() != 1 || n.Dropped != 0 {
		t.Fatalf("after %d Puts: Len %d, depot %d, Dropped %d", per+1, n.Len(k), k.DepotLen(), n.Dropped)
	}
	chunk := max(1, per/4)
	if got, want := KeptBytes()-base, int64((per+chunk)*size); got != want {
		t.Fatalf("reserved %d B, want %d (a full list in the depot and a chunk)", got, want)
	}
	if c := n.Flush(); c != 1 || n.Len(k) != 0 {
		t.Fatalf("Flush let go of %d, Len %d", c, n.Len(k))
	}
	if got := KeptBytes() - base; got != int64(per*size) {
		t.Fatalf("after Flush reserved %d B, want the depot's %d", got, per*size)
	}
	// Another nursery takes the full list with its reservation, empties
	// it, and gives the room back when it finds nothing more to reuse.
	var other Nursery
	for range per {
		if other.Get(k) == nil {
			t.Fatal("the depot's list was not taken")
		}
	}
	if other.Get(k) != nil || KeptBytes() != base {
		t.Fatalf("after emptying the list: reserved %d B more than at the start", KeptBytes()-base)
	}
	n.Put(k, unsafe.Pointer(new([size]byte)))
	k.Drain()
	n.Flush()
	if KeptBytes() != base {
		t.Fatalf("after Drain and Flush reserved %d B more than at the start", KeptBytes()-base)
	}
}

// TestMaxKeptBytes: beyond MaxKeptBytes of reserved room, process-wide,
// nurseries keep no more nodes: Put drops them to the Go GC.
func TestMaxKeptBytes(t *testing.T) {
	const size = 256 << 10
	k := NewTypeKeyOf("256KiB", size, nil)
	room := int((MaxKeptBytes - KeptBytes()) / size)
	ns := make([]Nursery, room+2)
	for i := range ns {
		ns[i].Put(k, unsafe.Pointer(new([size]byte)))
	}
	kept, dropped := 0, 0
	for i := range ns {
		kept += ns[i].Len(k)
		dropped += int(ns[i].Dropped)
	}
	if kept != room || dropped != 2 || KeptBytes() > MaxKeptBytes {
		t.Fatalf("kept %d (room for %d), dropped %d, reserved %d B", kept, room, dropped, KeptBytes())
	}
	for i := range ns {
		ns[i].Flush()
	}
}

// TestTypeKeyAge: Age drains a depot that no nursery took a list from since
// the previous Age, and keeps one in use.
func TestTypeKeyAge(t *testing.T) {
	k := NewTypeKeyOf("aged", 64, nil)
	fill := func() {
		var n Nursery
		for range 2*k.PerList() + 1 {
			n.Put(k, unsafe.Pointer(new([64]byte)))
		}
		n.Flush()
	}
	// take looks at nfull without the lock: it must follow the depot.
	counted := func(step string) {
		t.Helper()
		if got := k.nfull.Load(); int(got) != k.DepotLen() {
			t.Fatalf("%s: nfull %d, depot %d", step, got, k.DepotLen())
		}
	}
	fill()
	if k.DepotLen() != 2 {
		t.Fatalf("depot %d", k.DepotLen())
	}
	counted("give")
	var taker Nursery
	taker.Get(k) // takes a list
	counted("take")
	if k.Age() || k.DepotLen() != 1 {
		t.Fatalf("Age drained a depot in use (depot %d)", k.DepotLen())
	}
	if !k.Age() || k.DepotLen() != 0 {
		t.Fatalf("Age kept a depot unused since the previous Age (depot %d)", k.DepotLen())
	}
	counted("drain")
	taker.Flush()
}

// TestSlotHold: Hold(true) succeeds only on a slot that an earlier
// Hold(true) found idle and that was not pinned since; Hold(false) on any
// idle slot; neither on a pinned one; and a Pin waits until Unhold.
func TestSlotHold(t *testing.T) {
	var clock atomic.Uint64
	clock.Store(5)
	s := NewSlot()
	defer s.Release()
	if s.Hold(true) {
		t.Fatal("Hold(true) on a slot used since the last sweep")
	}
	if !s.Hold(true) {
		t.Fatal("Hold(true) on an aged idle slot failed")
	}
	pinned := make(chan struct{})
	go func() {
		s.Pin(&clock)
		close(pinned)
	}()
	select {
	case <-pinned:
		t.Fatal("Pin went on while the slot was held")
	case <-time.After(20 * time.Millisecond):
	}
	s.Unhold()
	<-pinned
	if s.Hold(false) {
		t.Fatal("Hold(false) on a pinned slot")
	}
	s.Unpin()
	if s.Hold(true) {
		t.Fatal("Hold(true) on a slot pinned since the last sweep")
	}
	if !s.Hold(true) {
		t.Fatal("Hold(true) on a slot left idle since the last Hold(true) failed")
	}
	s.Unhold()
	if !s.Hold(false) {
		t.Fatal("Hold(false) on an idle slot failed")
	}
	s.Unhold()
}

// TestSlotHoldHammer: an owner that touches its private state only while
// pinned, and holders that touch it only while holding, never overlap. Run
// it with -race: an overlap is a data race on the state.
func TestSlotHoldHammer(t *testing.T) {
	var clock atomic.Uint64
	clock.Store(1)
	s := NewSlot()
	defer s.Release()
	var state, inside int // the owner's private state; inside: who is in
	var bad atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			s.Pin(&clock)
			if inside != 0 {
				bad.Add(1)
			}
			inside = 1
			state++
			inside = 0
			s.Unpin()
		}
	})
	for g := range 2 {
		wg.Go(func() {
			for !stop.Load() {
				if s.Hold(g == 0) {
					if inside != 0 {
						bad.Add(1)
					}
					inside = 2
					state = 0
					inside = 0
					s.Unhold()
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d overlaps", bad.Load())
	}
}
