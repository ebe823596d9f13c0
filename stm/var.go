package stm

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"golang.org/x/sys/cpu"

	"github.com/hytm/hytm/internal/gcore"
)

// Meta word of a Var: seq<<metaShift | multi | locked.
//
//   - seq counts the commits that wrote the Var; validation compares it.
//   - locked is set by a writer between its lock and its unlock.
//   - multi is set with locked by every software writer: its commit is
//     stamped with a new clock value after it locks. Readers wait for such a
//     writer to finish, because its timestamp may already be inside their
//     snapshot (see docs/design.md, "Clock"). Trimming without a commit (the trim
//     queue, hwAfterCommit) takes locked alone: it installs nothing.
const (
	metaLocked = 1 << 0
	metaMulti  = 1 << 1
	metaShift  = 2
	metaLock   = metaLocked | metaMulti
	staleMeta  = ^uint64(0) // recorded for a read that did not see the newest version
)

// vnode is the type-independent header of a committed (or tentative) version.
// Once published through a head or prev pointer its ts never changes
// until the node is recycled, which happens only after no snapshot can reach
// it (internal/gcore).
//
// It is two words, so that a version of a value of up to 8 bytes takes 24:
// the chain's length, which trimming needs, is kept by the Var
// (varHeader.below), whose line a commit holds anyway, not by its head.
type vnode struct {
	ts   uint64
	prev atomic.Pointer[vnode]
}

// setPrevPrivate sets the prev pointer of a node that no other goroutine can
// reach: a tentative version before its head store publishes it, or a node
// cut from its chain below the horizon (internal/gcore). A plain store suffices
// there and avoids the full barrier of an atomic store on amd64; the head
// store (or the horizon's release/acquire chain) orders it for later readers.
func (n *vnode) setPrevPrivate(p *vnode) {
	*(**vnode)(unsafe.Pointer(&n.prev)) = p
}

// version is a vnode followed by its value; vnode must stay the first field
// so that a *vnode converts to a *version[T].
type version[T any] struct {
	vnode
	val T
}

// varHeader is the type-independent part of a Var: what readers and
// committers touch, kept small (the Retry wait list is allocated on demand).
// It is 40 bytes with no padding (a Var adds its inline copy of the value),
// so that Vars embedded in a user's node
// (the zero Var is ready to use) and Vars of a tree or list stay dense;
// TestVarSize checks the size. Two Vars may therefore share a cache line:
// a program whose goroutines write neighbouring Vars that they allocated
// one after another (a slice of per-worker counters) should put each in a
// struct padded to 64 bytes (see txds.Counter).
type varHeader struct {
	meta atomic.Uint64
	head atomic.Pointer[vnode] // nil until first use for the zero Var (init)

	// wq holds two counters that share a word to keep the header at 48
	// bytes: the registered Retry waiters (the low 31 bits, checked by
	// every commit: waiters) and the trim-queue flag (the top bit:
	// isQueued, setQueued). Each is changed with its own atomic add, or
	// or and, so neither disturbs the other.
	wq atomic.Uint32

	// below counts the versions under the head: the chain's length minus
	// one, 0 for a Var with one version or none (NewVar, Init and init
	// need not set it). Trim bookkeeping (link, trimLazily, trim): written
	// and read only under the Var's commit lock, or inside the RTM
	// transaction that commits the Var (hwCommitReal), so a plain field;
	// it fills the word wq leaves.
	below uint32

	side atomic.Pointer[varSide] // what few Vars need: allocated by the first Retry that waits on the Var, or its first trim-queue entry

	tkey atomic.Pointer[gcore.TypeKey] // node type, for the nursery; set before head
}

const (
	wqQueued  = 1 << 31
	wqWaiters = wqQueued - 1
)

// waiting reports whether Retry waiters are registered on h. seq-cst load:
// see installWrites.
func (h *varHeader) waiting() bool { return h.wq.Load()&wqWaiters != 0 }

// addWaiter registers (d = 1) or unregisters (d = -1) a Retry waiter.
// seq-cst add: pairs with the commit's waiting load (retry.go).
func (h *varHeader) addWaiter(d int32) { h.wq.Add(uint32(d)) }

// isQueued reports whether h is in the trim queue.
func (h *varHeader) isQueued() bool { return h.wq.Load()&wqQueued != 0 }

// setQueued sets the trim-queue flag and reports whether it was set.
func (h *varHeader) setQueued() bool { return h.wq.Or(wqQueued)&wqQueued != 0 }

// clearQueued clears the trim-queue flag.
func (h *varHeader) clearQueued() { h.wq.And(^uint32(wqQueued)) }

// waitList holds the transactions blocked in Retry on one Var.
type waitList struct {
	mu sync.Mutex
	ws []*waiter
}

// varSide holds what only some Vars need, allocated on first use so that
// the header stays at 48 bytes: the Retry wait list, and the Var's weak
// pointer for the trim queue. weak.Make costs a search of the span's
// specials, linear in the weak pointers made into it; Vars in one slice, or
// embedded in the nodes of one span, each have one, and making it again at
// each of a Var's queue entries cost a bank transfer over 1,024 Vars of a
// slice about a sixth of its time. So it is made once per Var and kept
// here (the side holds it weakly: the queue still lets a dropped Var go).
type varSide struct {
	waitList
	// self is h's weak pointer, set by h's first enqueueTrim. Only the
	// holder of h's queue flag reads or writes it (enqueueTrim wins the
	// flag with an atomic or; the flag is cleared with an atomic and
	// before anyone else can win it), so the flag's atomics order every
	// access.
	self weak.Pointer[varHeader]
}

// sideOf returns h's side, creating it if needed.
func (h *varHeader) sideOf() *varSide {
	if s := h.side.Load(); s != nil { // acquire: pairs with the CAS below
		return s
	}
	// acq-rel CAS: publishes the zeroed side; a loser uses the winner's.
	h.side.CompareAndSwap(nil, new(varSide))
	return h.side.Load()
}

// waitListOf returns h's wait list, creating it if needed.
func (h *varHeader) waitListOf() *waitList { return &h.sideOf().waitList }

// Var is a transactional variable holding a value of type T.
//
// A Var keeps a chain of immutable committed versions, newest first, each
// stamped with its commit timestamp. Transactions read it with [Var.Load] and
// write it with [Var.Store]; a Store creates a tentative version that only
// its transaction sees until commit.
//
// Values are copied in and out. If T holds pointers, slices or maps, the
// memory they refer to is not versioned: treat it as immutable once stored.
// Copy before you change it, and store the copy: append to a loaded slice
// may write into the backing array of a committed version that other
// transactions are reading (use append(slices.Clip(s), x) or slices.Clone),
// and a loaded map must be cloned (maps.Clone) before an insert.
//
// The zero Var is ready to use and holds the zero T, so a Var can be a
// field of a struct (a tree node, say) rather than a separate allocation,
// as a sync.Mutex can; [NewVar] makes one that holds another initial
// value. A Var must not be copied after first use.
type Var[T any] struct {
	_ noCopy
	h varHeader // first: a *varHeader converts to its *Var[T] (publishCur)
	// cur is a copy of the newest committed version's value, written only
	// while the Var's commit lock is held with the multi bit (link), so
	// that a read-only attempt reads it like a seqlock (Load), from the
	// Var's own lines, without loading the version node.
	cur T
}

// inlineReads says whether read-only attempts read Vars' inline copies
// (Var.cur). The read is a seqlock read: meta, then cur with plain loads,
// then meta again. That needs loads kept in program order, which amd64
// gives (TSO) and the compiler keeps (atomic loads are ordered with every
// other memory operation in its SSA), but not arm64, where a plain load may
// complete after a later acquire load. The race detector would report the
// plain loads racing with a commit's copy (a race the second meta load
// makes harmless), so race builds read the version nodes instead.
const inlineReads = runtime.GOARCH == "amd64" && !raceBuild

// inlineMax is the largest value, in bytes, that read-only attempts read
// from a Var's inline copy; larger values are read from the version node,
// and commits do not copy them (typeKeyFor leaves Publish nil). Copying a
// larger value twice (out of cur, then to the caller) cost more than the
// version node's line saved: a Get in a txds.Map, whose slots hold 40
// bytes, took 4.4-4.9x an RWMutex map's instead of 3.9-4.1x.
const inlineMax = 16

// curOffset and valOffset are where a Var's inline copy and a version's
// value start, for the values up to inlineMax bytes whose alignment is at
// most 8 (typeKeyFor checks): the varHeader, and the vnode header.
const (
	curOffset = unsafe.Sizeof(varHeader{})
	valOffset = unsafe.Sizeof(vnode{})
)

// publishCur copies the value of version node n into the inline copy of
// the Var[T] whose header is h. Commits call it through the type key
// (gcore.TypeKey.Publish) while they hold h's lock with the multi bit, or
// inside a hardware transaction (link).
func publishCur[T any](h, n unsafe.Pointer) {
	(*Var[T])(h).cur = (*version[T])(n).val
}

// noCopy lets go vet's copylocks check flag copies of Vars and Txs.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

var typeKeys sync.Map // reflect.Type -> *gcore.TypeKey

// typeKeyCache is a direct-mapped cache in front of typeKeys, indexed by
// the address of T's type descriptor: a hit is two loads and a compare,
// where the sync.Map lookup hashes the reflect.Type interface (about 300
// instructions of each NewVar and Init, which a red-black tree's insert
// calls twice). Entries are immutable; a collision only costs a lookup.
var typeKeyCache [64]atomic.Pointer[typeKeyEntry]

type typeKeyEntry struct {
	t unsafe.Pointer // the type descriptor: reflect.Type's data word
	k *gcore.TypeKey
}

// typeKeyFor returns the node type key of version[T]: its size, for the
// byte bounds of internal/gcore, and, if T holds pointers, clearVals[T], so that
// free nodes in nurseries and depots keep none of the user's data alive.
func typeKeyFor[T any]() *gcore.TypeKey {
	t := reflect.TypeFor[T]()
	tp := (*[2]unsafe.Pointer)(unsafe.Pointer(&t))[1]
	c := &typeKeyCache[uintptr(tp)/64%uintptr(len(typeKeyCache))]
	// acquire: pairs with the store below, which publishes the entry.
	if e := c.Load(); e != nil && e.t == tp {
		return e.k
	}
	k := typeKeySlow[T](t)
	c.Store(&typeKeyEntry{t: tp, k: k}) // seq-cst store: publishes the entry
	return k
}

// typeKeySlow is typeKeyFor's lookup in typeKeys, which makes the key
// on the type's first use.
func typeKeySlow[T any](t reflect.Type) *gcore.TypeKey {
	if k, ok := typeKeys.Load(t); ok {
		return k.(*gcore.TypeKey)
	}
	var clr func([]unsafe.Pointer)
	if hasPointers(t) {
		clr = clearVals[T]
	}
	nk := gcore.NewTypeKeyOf(t.String(), unsafe.Sizeof(version[T]{}), clr)
	nk.Zero = unsafe.Pointer(&(&sharedZero[T]{}).v.vnode) // init
	if sz := unsafe.Sizeof(*new(T)); sz <= inlineMax {
		nk.Publish = publishCur[T]
		if !hasPointers(t) && unsafe.Offsetof(Var[T]{}.cur) == curOffset && unsafe.Offsetof(version[T]{}.val) == valOffset {
			switch sz {
			case 1, 2, 4, 8, 16:
				nk.PublishRaw = uint8(sz)
			}
		}
	}
	k, _ := typeKeys.LoadOrStore(t, nk)
	return k.(*gcore.TypeKey)
}

// clearVals zeroes the values of version[T] nodes that no snapshot can
// reach any more (internal/gcore calls it when a nursery keeps them).
func clearVals[T any](ps []unsafe.Pointer) {
	var zero T
	for _, p := range ps {
		(*version[T])(p).val = zero
	}
}

// hasPointers reports whether values of type t hold pointers (which a free
// node must not keep).
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true // pointers, strings, slices, maps, channels, funcs, interfaces
}

// NewVar returns a Var holding v, as if committed before every transaction.
func NewVar[T any](v T) *Var[T] {
	x := &Var[T]{cur: v}
	x.h.tkey.Store(typeKeyFor[T]())
	n := &version[T]{val: v}
	x.h.head.Store(&n.vnode)
	return x
}

// Init sets the value of a zero Var that no transaction has used yet, as
// [NewVar] does for a Var it allocates: for a Var embedded in a struct
// (a node the caller has just made, before any other goroutine can reach
// it) that must not start at the zero value. It panics if the Var has been
// used or initialized.
func (v *Var[T]) Init(x T) {
	if v == nil {
		panic("stm: Init of a nil Var")
	}
	// seq-cst CAS: a Var that a transaction read has its key already
	// (unwritten), and one that it wrote has its head.
	if v.h.head.Load() != nil || !v.h.tkey.CompareAndSwap(nil, typeKeyFor[T]()) {
		panic("stm: Init of a Var already in use")
	}
	// The inline copy before the version: no other goroutine reaches the
	// Var yet (read-only attempts would read it without looking at head).
	v.cur = x
	// acq-rel CAS: publishes the first version, as init does.
	if !v.h.head.CompareAndSwap(nil, &(&version[T]{val: x}).vnode) {
		panic("stm: Init of a Var already in use")
	}
}

// sharedZero holds a type's shared zero node (init) on cache lines of its
// own: the nodes that commits write are allocated from the same size
// classes, and a neighbour on its line would make every read of it a miss
// (and abort hardware attempts that read it).
type sharedZero[T any] struct {
	_ cpu.CacheLinePad
	v version[T]
	_ cpu.CacheLinePad
}

// init gives a zero Var its first version, holding the zero T, stamped 0
// (committed before every transaction, as NewVar's): the type's shared
// zero node (TypeKey.Zero), which every zero Var of the type links below
// its first written version, so that a first Store allocates nothing.
// The shared node is never written after typeKeyFor made it (link only
// points the new version at it; trims stop at it and never give it to a
// nursery: recycle, recycleLast), and it counts as a node in the Var's
// chain length (varHeader.below) like any other. Racing first uses agree: the type key
// is the same for every caller, and one CAS installs the version.
func (v *Var[T]) init() {
	k := v.h.tkey.Load()
	if k == nil {
		// seq-cst CAS: the key is set before any head is published.
		v.h.tkey.CompareAndSwap(nil, typeKeyFor[T]())
		k = v.h.tkey.Load()
	}
	// acq-rel CAS: publishes the zero version (and the key before it).
	v.h.head.CompareAndSwap(nil, (*vnode)(k.Zero))
}

// hwInit is init inside a hardware attempt: it reports false, and does
// nothing, when the type has no key yet (typeKeyFor would allocate one,
// which a hardware attempt must not do). Otherwise init's two CASes
// allocate nothing (the shared zero node), and they are part of the
// attempt: an RTM abort undoes them, and a commit makes them visible with
// its versions, so a software reader finds the head still nil (the zero
// value, unwritten) or the chain that ends at the zero node. (An emulated
// attempt writes real memory: an abort leaves the zero node linked, as a
// software attempt that aborts after its first Store does.)
func (v *Var[T]) hwInit() bool {
	k := v.h.tkey.Load()
	if k == nil {
		t, ok := typeKeys.Load(reflect.TypeFor[T]())
		if !ok {
			return false
		}
		k = t.(*gcore.TypeKey)
		// CAS, as init's: the key before any head. Inside RTM it is a
		// write of the attempt (undone by an abort); emulated, a real one.
		v.h.tkey.CompareAndSwap(nil, k)
		k = v.h.tkey.Load()
	}
	// CAS, as init's: publishes the shared zero node (with the attempt's
	// commit, inside RTM) after the key.
	v.h.head.CompareAndSwap(nil, (*vnode)(k.Zero))
	return true
}

// String describes the Var for debugging; it does not read the value.
func (v *Var[T]) String() string {
	return fmt.Sprintf("stm.Var[%s]@%p", reflect.TypeFor[T](), v)
}

func nodeVal[T any](n *vnode) T {
	return (*version[T])(unsafe.Pointer(n)).val
}

// Load returns the Var's value in tx's snapshot, or tx's own tentative value
// if tx stored one.
//
// Load never aborts and never blocks on a running transaction. It may wait a
// few hundred nanoseconds for a commit that is installing versions inside
// tx's snapshot.
func (v *Var[T]) Load(tx *Tx) T {
	// Fast path: a read-only attempt (site.go) reading a Var whose newest
	// version is inside the snapshot and that no commit is installing. It
	// records nothing.
	if tx != nil && v != nil && tx.state == txRO {
		// The inline copy: readCur, written out here (through readCur's
		// three results the compiler materialises and tests a flag, which
		// cost Read16 about a fifth). Keep the two in step.
		if inlineReads && unsafe.Sizeof(v.cur) <= inlineMax {
			m := v.h.meta.Load() // acquire; after the snapshot's clock load
			// The type key (acquire) only tells a zero Var that no
			// transaction has used, whose first read is the slow path's
			// (unwritten sets the key), from any other. A Var with a key
			// and no version yet holds the zero T in cur.
			if m&metaMulti == 0 && m>>metaShift <= tx.rv && v.h.tkey.Load() != nil {
				if testHooks {
					inlineReadPause() // testhooks_on.go: a commit may land here
				}
				x := v.cur
				if v.h.meta.Load()|metaLocked == m|metaLocked { // acquire: after the copy's loads
					return x
				}
			}
			// Not the version node's fast path below: it fails whenever
			// this one did (a commit installing, or stamped after rv), and
			// on a Var other cores commit to, each extra load of its line
			// is a miss that widens the window for the next commit.
			return v.loadSlower(tx)
		}
		if v.h.meta.Load()&metaMulti == 0 { // acquire; after the snapshot's clock load
			if n := v.h.head.Load(); n != nil && n.ts <= tx.rv { // acquire: pairs with commit's head store
				return (*version[T])(unsafe.Pointer(n)).val
			}
		}
	}
	return v.loadSlow(tx)
}

// readCur reads the Var's inline copy (Var.cur) for a snapshot rv, as a
// seqlock: a meta word without the multi bit whose sequence is at most rv
// says that the newest version is inside the snapshot (a commit sets the
// sequence to at least its stamp, nextMeta), and the same meta word after
// the copy, but for the locked bit (a trim, which installs nothing), says
// that no commit wrote cur meanwhile. It returns the copy and the meta word
// with the locked bit cleared (what a read log records), or ok false: the
// caller reads the version chain.
func (v *Var[T]) readCur(rv uint64) (x T, m uint64, ok bool) {
	if !inlineReads || unsafe.Sizeof(v.cur) > inlineMax {
		return x, 0, false
	}
	m = v.h.meta.Load() // acquire; after the snapshot's clock load
	// The type key (acquire) only tells a zero Var that no transaction has
	// used, whose first read is the slow path's, from any other (see Load).
	if m&metaMulti != 0 || m>>metaShift > rv || v.h.tkey.Load() == nil {
		return x, 0, false
	}
	if testHooks {
		inlineReadPause() // testhooks_on.go: a commit may land here
	}
	x = v.cur
	if v.h.meta.Load()|metaLocked != m|metaLocked { // acquire: after the copy's loads
		return x, 0, false
	}
	return x, m &^ metaLocked, true
}

func (v *Var[T]) loadSlow(tx *Tx) T {
	// Logged fast path: an active software transaction with no writes yet,
	// reading a Var whose newest version is inside the snapshot. Its read
	// entry has no node when the inline copy was read (readLatest, the
	// entry's only reader in software, loads the head instead).
	if tx != nil && tx.state == txFast && v != nil {
		if inlineReads && unsafe.Sizeof(v.cur) <= inlineMax {
			if x, m, ok := v.readCur(tx.rv); ok {
				tx.reads = append(tx.reads, readEntry{h: &v.h, meta: m})
				return x
			}
			return v.loadSlower(tx) // as in Load: the node's fast path would fail too
		}
		m := v.h.meta.Load() // acquire; after the snapshot's clock load
		if m&metaMulti == 0 {
			n := v.h.head.Load()           // acquire: pairs with the head store in commit
			if n != nil && n.ts <= tx.rv { // nil: a zero Var (loadSlow panics)
				tx.reads = append(tx.reads, readEntry{h: &v.h, meta: m &^ metaLocked, node: n})
				return nodeVal[T](n)
			}
		}
	}
	return v.loadSlower(tx)
}

func (v *Var[T]) loadSlower(tx *Tx) T {
	tx.checkLive()
	if v == nil {
		panic("stm: Load of a nil Var")
	}
	if v.h.head.Load() == nil {
		// A zero Var that no transaction has written: its value is the
		// zero T, which it can give without a version (unwritten).
		var zero T
		switch {
		case tx.hw != nil:
			// hwLoad reads it (init may make the type key, which
			// allocates: not inside a hardware attempt), unless an RTM
			// attempt finds it still unwritten.
			if hwLoadUnwritten(tx, &v.h) {
				return zero
			}
		case tx.unwritten(&v.h, typeKeyFor[T]):
			return zero
		default:
			v.init()
		}
	}
	if tx.state == txRO {
		return nodeVal[T](tx.readNodeRO(&v.h))
	}
	if tx.hw != nil {
		return hwLoad(tx, v)
	}
	if reportOn.Load() {
		tx.reportAccess(&v.h, false) // report.go
	}
	if len(tx.writes) > 0 {
		if i := tx.findWrite(&v.h); i >= 0 {
			return nodeVal[T](tx.writes[i].node)
		}
	}
	if !tx.irrevocable {
		// The inline copy, as in loadSlow's logged fast path: after the
		// attempt's first write, a read of another Var touches the Var's
		// line (which its commit locks, if it writes it) instead of the
		// version node's, which the core that committed it last holds.
		if x, m, ok := v.readCur(tx.rv); ok {
			if !tx.unlogged { // unlogged: its commit cannot validate (site.go)
				tx.reads = append(tx.reads, readEntry{h: &v.h, meta: m})
			}
			return x
		}
	}
	return nodeVal[T](tx.readNode(&v.h))
}

// Store sets the Var's value in tx. Other transactions see it only after tx
// commits; if tx aborts, returns an error or panics, the value is discarded.
func (v *Var[T]) Store(tx *Tx, x T) {
	// Fast path: the attempt's first Store, in software (txFast means
	// active, no hardware attempt, no reporting and no write yet, so there
	// is no entry to find).
	if tx != nil && tx.state == txFast && v != nil && !tx.stale {
		v.storeNew(tx, x)
		return
	}
	v.storeSlow(tx, x)
}

func (v *Var[T]) storeSlow(tx *Tx, x T) {
	tx.checkLive() // and storeNew the goroutine
	if v == nil {
		panic("stm: Store to a nil Var")
	}
	if v.h.head.Load() == nil {
		if tx.hw == nil {
			v.init()
		} else if !v.hwInit() {
			hwNeedsSoftware(tx) // init would make the type key (allocates): not inside a hardware attempt
		}
	}
	if tx.state == txRO {
		// The attempt's first Store, in read-only mode: go on unlogged
		// (site.go).
		tx.unlogged = true
		v.storeNew(tx, x)
		return
	}
	if tx.hw != nil {
		hwStore(tx, v, x)
		return
	}
	if reportOn.Load() {
		tx.reportAccess(&v.h, true) // report.go
	}
	if i := tx.findWrite(&v.h); i >= tx.spLen {
		// Already written at this savepoint depth: the node is private.
		(*version[T])(unsafe.Pointer(tx.writes[i].node)).val = x
		return
	}
	if tx.stale {
		// A read already missed a newer version: this writer cannot commit.
		tx.abort(CauseStale, tx.staleVar)
	}
	v.storeNew(tx, x)
}

// ready makes sure a zero Var has its first version (init); it costs one
// load once it has.
func (v *Var[T]) ready() {
	if v.h.head.Load() == nil { // acquire: pairs with init's CAS
		v.init()
	}
}

// storeNew adds a tentative version holding x to tx's write log.
func (v *Var[T]) storeNew(tx *Tx, x T) {
	// The first Store of an attempt comes here from Store's fast path, which
	// checks neither: give a zero Var its first version, and catch a Tx used
	// from another goroutine before it corrupts the log (a compare and a
	// one-instruction call).
	v.ready()
	tx.checkGoroutine()
	// Ask now, as a store would, for the two lines this Var's commit will
	// write: the Var's own (its lock CAS, inline copy and unlock) and that
	// of its newest version, below which the commit cuts (trimLazily). The
	// transfers, when another core holds the lines, then overlap the rest
	// of the body instead of waiting in the commit, one locked instruction
	// after another. Hints only (prefetch_amd64.s): they never fault and
	// change nothing. Measured in interleaved rounds, with two more calls
	// per Store: a pool of two workers applying interest, 103-122 to 76-95
	// ns per task; bank on one goroutine 152 to 135 ns an operation (in
	// go test; within the noise in hytm-bench).
	prefetchw(unsafe.Pointer(&v.h.meta))
	prefetchw(unsafe.Pointer(v.h.head.Load()))
	var n *version[T]
	var p unsafe.Pointer
	if nurseryEnabled {
		if p = tx.w.nursery.Pop(v.h.tkey.Load()); p == nil {
			p = tx.w.nursery.Get(v.h.tkey.Load())
		}
	}
	if p != nil {
		n = (*version[T])(p)
		n.ts = 0
		n.setPrevPrivate(nil)
	} else {
		n = new(version[T])
	}
	n.val = x
	tx.addWrite(&v.h, &n.vnode)
}

// Peek returns the latest committed value without a transaction. It is
// meant for monitoring and tests: two Peeks are not a consistent snapshot.
func (v *Var[T]) Peek() T {
	if v == nil {
		panic("stm: Peek of a nil Var")
	}
	if inlineReads && unsafe.Sizeof(v.cur) <= inlineMax {
		// The inline copy, as a seqlock (readCur without the snapshot):
		// no worker, no pin. A meta word without the multi bit says that
		// no commit is installing, and cur holds the newest committed
		// value (a commit copies it there before its unlock, a release
		// store that this acquire load pairs with); the same word after
		// the copy, but for the locked bit (a trim, which installs
		// nothing), says that no commit wrote cur meanwhile. A zero Var
		// that no transaction has written holds the zero T there. Queue's
		// TryGet peeks each stripe's tail: the pooled worker and the pin
		// cost about 160 instructions a Peek.
		for round := 0; ; round++ {
			m := v.h.meta.Load() // acquire
			if m&metaMulti == 0 {
				if testHooks {
					inlineReadPause() // testhooks_on.go: a commit may start here
				}
				x := v.cur
				if v.h.meta.Load()|metaLocked == m|metaLocked { // acquire: after the copy's loads
					return x
				}
			}
			spinWait(round)
		}
	}
	v.ready()
	w := getWorker()
	// Pin so that the node cannot be recycled while we copy its value, and
	// wait, as a reader does, for a commit that is installing: one that
	// ticked before the pin may install above the head we would load, and
	// once the horizon passes its stamp, trimming may recycle that head
	// (it keeps only the newest version below the horizon). After the wait
	// the head is at least the newest version stamped at or below the pin,
	// which trimming keeps while the pin holds.
	w.slot.Pin(&clock.v)
	for round := 0; v.h.meta.Load()&metaMulti != 0; round++ { // acquire
		spinWait(round)
	}
	x := nodeVal[T](v.h.head.Load()) // acquire: pairs with commit's head store
	w.slot.Unpin()
	putWorker(w)
	return x
}
