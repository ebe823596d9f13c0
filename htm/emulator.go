package htm

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// Emulator design.
//
// The emulator models the abort decisions of a best-effort HTM; it does not
// buffer or apply data. The hybrid layer keeps its own write buffer and
// reports every cache line it reads or writes (Read, Write) before it
// performs the access, and software commits announce the lines they write
// (SoftwareWrite) and, for strong isolation, read (SoftwareRead).
//
// Conflicts are tracked in a striped table of (line, transaction, read/write)
// entries. A transaction registers a line the first time it reads or writes
// it; later accesses to a line it already holds only look at its private
// line set and take no lock. Registration dooms every other live transaction
// that holds the line in a conflicting mode: the requester wins, as on Intel
// parts. A doomed transaction learns of it at its next call, which returns
// conflict|retry, exactly as a real transaction would find itself rolled back
// to XBEGIN. The only exception is a transaction that is committing
// (EndWith's apply is running): it can no longer abort, so a conflicting
// emulated requester aborts instead, and a conflicting software access waits
// until apply returns, which keeps the commit atomic.
//
// Spurious aborts are decided at Begin from a PRNG seeded by (Seed, number of
// Begins so far), so a given seed and call sequence reproduces them exactly.

// Emulator defaults, modelled on Haswell: the write set lives in the 32 KiB
// L1D (512 lines of 64 bytes); the read set spills to a larger structure.
const (
	DefaultMaxWriteLines = 512
	DefaultMaxReadLines  = 4096
)

// LineShift is log2 of the cache-line size the emulator tracks: addresses
// addr and addr' are on the same line when addr>>LineShift == addr'>>LineShift.
const LineShift = 6

// spuriousWindow bounds how many Read/Write calls a transaction chosen for a
// spurious abort survives; see EmuConfig.SpuriousRate.
const spuriousWindow = 32

// EmuConfig configures an [Emulator]. The zero value is valid: seed 0, the
// default capacities, no spurious aborts.
type EmuConfig struct {
	// Seed seeds the spurious-abort PRNG. Equal seeds and equal call
	// sequences give equal aborts.
	Seed uint64
	// MaxWriteLines is the largest number of distinct 64-byte lines a
	// transaction may write; writing one more aborts it with capacity.
	// Zero means DefaultMaxWriteLines (512); a negative value means no limit.
	MaxWriteLines int
	// MaxReadLines is the largest number of distinct lines a transaction
	// may read without writing them first; reading one more aborts it with
	// capacity. Zero means DefaultMaxReadLines (4096); negative, no limit.
	MaxReadLines int
	// SpuriousRate is the probability, in [0, 1], that a transaction is
	// chosen at Begin for a spurious abort (an interrupt, a page fault, an
	// eviction). Half of the chosen transactions abort at Begin; the other
	// half abort at their k-th Read or Write call, k uniform in [1, 32], or
	// at End if they make fewer calls. Other aborts that come first win.
	SpuriousRate float64
	// SpuriousRetry gives spurious aborts the retry bit (status 0x2);
	// otherwise their status is 0, as an interrupt's is.
	SpuriousRetry bool
}

// EmuStats counts what an [Emulator] did. Every transaction that Begin
// returned ends as exactly one of Commits, Explicit, Conflict, Capacity or
// Spurious; spurious aborts at Begin count in Begins and Spurious too.
type EmuStats struct {
	Begins   uint64 // calls of Begin
	Commits  uint64 // transactions that committed
	Explicit uint64 // explicit aborts (EmuTx.Abort)
	Conflict uint64 // conflict aborts, by another transaction or software
	Capacity uint64 // capacity aborts
	Spurious uint64 // injected spurious aborts
	Doomed   uint64 // transactions doomed by SoftwareWrite or SoftwareRead
}

// Emulator emulates a best-effort hardware TM, for hosts without TSX and for
// deterministic tests. It reports the same [Status] bits as RTM:
// [StatusCapacity] when a set overflows, conflict|retry ([StatusConflict]
// and [StatusRetry]) when a conflicting access dooms a transaction, [ExplicitStatus](code) for
// explicit aborts, and 0 or [StatusRetry] for spurious ones. It never sets
// the debug or nested bits: emulated transactions do not nest (each Begin
// starts an independent transaction).
//
// An Emulator is safe for concurrent use; each [EmuTx] belongs to the
// goroutine that began it. Emulated transactions conflict with each other and
// with the software accesses announced through [Emulator.SoftwareWrite] and
// [Emulator.SoftwareRead], with cache-line granularity ([LineShift]).
// Create one with [NewEmulator]; the zero value is not usable.
type Emulator struct {
	cfg        EmuConfig
	maxW, maxR int // effective limits, math.MaxInt for none
	spurious   Status

	begins atomic.Uint64 // Begin calls so far; also the PRNG stream index
	live   atomic.Int64  // transactions registered (begun and not cleaned up)

	commits, explicit, conflict, capacity, spuriousN, doomed atomic.Uint64

	stripes []stripe
	bufs    sync.Pool // *lineSet
}

const stripeBits = 10

// stripe holds the entries of the lines that hash to it.
type stripe struct {
	mu   sync.Mutex
	ents []entry
	_    [64 - 8 - 24]byte // one stripe per cache line
}

type entry struct {
	line  uintptr
	tx    *EmuTx
	flags uint8 // flagRead, flagWrite
}

const (
	flagRead  uint8 = 1
	flagWrite uint8 = 2
)

// NewEmulator returns an emulator configured by cfg. It panics if
// cfg.SpuriousRate is not within [0, 1].
func NewEmulator(cfg EmuConfig) *Emulator {
	if !(cfg.SpuriousRate >= 0 && cfg.SpuriousRate <= 1) {
		panic(fmt.Sprintf("htm: EmuConfig.SpuriousRate %v not in [0, 1]", cfg.SpuriousRate))
	}
	e := &Emulator{
		cfg:     cfg,
		maxW:    limit(cfg.MaxWriteLines, DefaultMaxWriteLines),
		maxR:    limit(cfg.MaxReadLines, DefaultMaxReadLines),
		stripes: make([]stripe, 1<<stripeBits),
	}
	if cfg.SpuriousRetry {
		e.spurious = StatusRetry
	}
	e.bufs.New = func() any { return newLineSet() }
	return e
}

func limit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return math.MaxInt
	}
	return v
}

// Config returns the configuration the emulator was created with (with zero
// limits still zero), for example to log its seed.
func (e *Emulator) Config() EmuConfig { return e.cfg }

// Environment variables read by DefaultEmulator.
const (
	EnvEmuSeed     = "HYTM_EMU_SEED"     // uint64, decimal or 0x-prefixed hex; default 1
	EnvEmuSpurious = "HYTM_EMU_SPURIOUS" // spurious-abort rate in [0, 1]; default 0.01
)

var defaultEmulator = sync.OnceValue(func() *Emulator {
	return NewEmulator(emuConfigFromEnv(os.Getenv(EnvEmuSeed), os.Getenv(EnvEmuSpurious), os.Stderr))
})

// emuConfigFromEnv builds DefaultEmulator's configuration; invalid values
// are reported on w and replaced by the defaults.
func emuConfigFromEnv(seed, rate string, w interface{ Write([]byte) (int, error) }) EmuConfig {
	cfg := EmuConfig{Seed: 1, SpuriousRate: 0.01}
	if seed != "" {
		if v, err := strconv.ParseUint(seed, 0, 64); err == nil {
			cfg.Seed = v
		} else {
			fmt.Fprintf(w, "htm: invalid %s value %q: want an unsigned integer; using %d\n", EnvEmuSeed, seed, cfg.Seed)
		}
	}
	if rate != "" {
		if v, err := strconv.ParseFloat(rate, 64); err == nil && v >= 0 && v <= 1 {
			cfg.SpuriousRate = v
		} else {
			fmt.Fprintf(w, "htm: invalid %s value %q: want a rate in [0, 1]; using %v\n", EnvEmuSpurious, rate, cfg.SpuriousRate)
		}
	}
	return cfg
}

// DefaultEmulator returns the process-wide emulator that the hybrid layer
// uses when HYTM_HTM=emulate ([ModeEmulate]). It is created on first use
// with the default capacities, Seed from HYTM_EMU_SEED (default 1) and
// SpuriousRate from HYTM_EMU_SPURIOUS (default 0.01); an invalid value is
// reported on standard error and replaced by its default.
func DefaultEmulator() *Emulator { return defaultEmulator() }

// Stats returns the emulator's counters. Counters are read one by one, so
// under concurrency the snapshot is not atomic.
func (e *Emulator) Stats() EmuStats {
	return EmuStats{
		Begins:   e.begins.Load(),
		Commits:  e.commits.Load(),
		Explicit: e.explicit.Load(),
		Conflict: e.conflict.Load(),
		Capacity: e.capacity.Load(),
		Spurious: e.spuriousN.Load(),
		Doomed:   e.doomed.Load(),
	}
}

// splitmix64 is Steele, Lea and Flood's SplitMix64 finaliser.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Begin starts an emulated transaction. It returns the transaction and
// [Started], or nil and a spurious abort status (0 or [StatusRetry]) when
// the PRNG chose this transaction to abort at once.
func (e *Emulator) Begin() (*EmuTx, Status) {
	n := e.begins.Add(1)
	t := &EmuTx{e: e}
	if e.cfg.SpuriousRate > 0 {
		r := splitmix64(e.cfg.Seed ^ splitmix64(n))
		if float64(r>>11)*0x1p-53 < e.cfg.SpuriousRate {
			r = splitmix64(r)
			if r&1 == 0 {
				e.spuriousN.Add(1)
				return nil, e.spurious
			}
			t.fuse = 1 + int32(r>>1%spuriousWindow)
		}
	}
	t.set = e.bufs.Get().(*lineSet)
	e.live.Add(1)
	return t, Started
}

// EmuTx is one emulated transaction, begun by [Emulator.Begin]. Its methods
// must be called by the goroutine that began it. Each method returns
// [Started] while the transaction is alive; the first non-Started status
// ends it, and further calls return the same status. A committed EmuTx
// ([EmuTx.End] returned Started) must not be used again: its methods panic.
//
// A transaction must be ended, by End, EndWith, Abort or any call that
// returns an abort status. One that is dropped while alive keeps its lines
// and goes on dooming the transactions that touch them, so code that may
// panic between Begin and End should Abort in a deferred call.
type EmuTx struct {
	e *Emulator
	// state is 0 while alive; otherwise phase<<32 | status. Other
	// goroutines write it only to doom the transaction (CAS from 0).
	state atomic.Uint64
	fuse  int32 // Read/Write calls left before a spurious abort; 0 = none

	// Owned by the transaction's goroutine.
	set           *lineSet // lines held; nil once finished
	reads, writes int      // distinct lines read (not written), written
}

const (
	phaseDoomed     = 1 << 32
	phaseCommitting = 2 << 32
	phaseDead       = 3 << 32
	phaseMask       = 3 << 32
)

// doomConflict is the status a doomed transaction reports.
const doomConflict = StatusConflict | StatusRetry

// doom marks t doomed with conflict|retry. It reports false when t is
// committing and can no longer abort; true otherwise (including when t was
// already doomed or finished).
func (t *EmuTx) doom() bool {
	if t.state.CompareAndSwap(0, phaseDoomed|uint64(doomConflict)) {
		return true
	}
	return t.state.Load()&phaseMask != phaseCommitting
}

// Read reports that the transaction reads the line holding addr, before the
// read is performed. It returns [Started] if the transaction is still alive:
// from then on, a write of that line by another emulated transaction or by
// [Emulator.SoftwareWrite] dooms it. Otherwise it returns the abort status
// and the transaction is over: [StatusCapacity] when the line would make the
// read set exceed MaxReadLines, conflict|retry when a conflicting access
// doomed it, or a spurious abort.
//
// Reading a line that another live transaction has written dooms that
// transaction (the requester wins).
func (t *EmuTx) Read(addr uintptr) Status { return t.access(addr>>LineShift, flagRead) }

// Write reports that the transaction writes the line holding addr, like
// [EmuTx.Read]; the capacity limit is MaxWriteLines. Writing a line that
// another live transaction has read or written dooms that transaction.
func (t *EmuTx) Write(addr uintptr) Status { return t.access(addr>>LineShift, flagWrite) }

func (t *EmuTx) access(line uintptr, f uint8) Status {
	if s := t.state.Load(); s != 0 {
		return t.fail(s)
	}
	if t.fuse > 0 {
		t.fuse--
		if t.fuse == 0 {
			return t.finish(t.e.spurious, &t.e.spuriousN)
		}
	}
	set := t.set
	i, have := set.find(line)
	if have&(f|flagWrite) != 0 {
		return Started // held already, in this mode or a stronger one
	}
	if f == flagRead {
		if t.reads >= t.e.maxR {
			return t.finish(StatusCapacity, &t.e.capacity)
		}
	} else if t.writes >= t.e.maxW {
		return t.finish(StatusCapacity, &t.e.capacity)
	}

	s := t.e.stripe(line)
	s.mu.Lock()
	self := -1
	for j := range s.ents {
		en := &s.ents[j]
		if en.line != line {
			continue
		}
		if en.tx == t {
			self = j
			continue
		}
		if (f|en.flags)&flagWrite == 0 {
			continue // read after read
		}
		if !en.tx.doom() {
			// en.tx is committing: it is past its serialisation point
			// and can no longer abort. Its reads are no longer
			// protected, but its writes are being applied, so a
			// conflicting requester must abort instead.
			if en.flags&flagWrite != 0 {
				s.mu.Unlock()
				t.state.Store(phaseDoomed | uint64(doomConflict))
				return t.fail(t.state.Load())
			}
		}
	}
	if self >= 0 {
		s.ents[self].flags |= f
	} else {
		s.ents = append(s.ents, entry{line: line, tx: t, flags: f})
	}
	s.mu.Unlock()

	if f == flagRead {
		t.reads++
	} else {
		t.writes++
	}
	set.add(i, line, have|f)
	return Started
}

// Check returns [Started] if the transaction is still alive, or its abort
// status, ending it, if another access doomed it. It does not count as an
// access. The hybrid layer can call it after loading a value to know that
// the value is consistent with everything read so far, as a real
// transaction's would be.
func (t *EmuTx) Check() Status {
	if s := t.state.Load(); s != 0 {
		return t.fail(s)
	}
	return Started
}

// Abort ends the transaction with an explicit abort carrying code, as XABORT
// would, and returns [ExplicitStatus](code). If the transaction was already
// doomed it returns that abort status instead, as a real transaction would
// have aborted before reaching XABORT.
//
// Abort on a transaction that already ended does nothing and returns its
// final status ([Started] if it committed), so a deferred Abort is a safe
// way to end a transaction on every path.
func (t *EmuTx) Abort(code uint8) Status {
	if s := t.state.Load(); s != 0 {
		if s == phaseDead|uint64(Started) {
			return Started
		}
		return t.fail(s)
	}
	return t.finish(ExplicitStatus(code), &t.e.explicit)
}

// End commits the transaction and returns [Started], or returns the abort
// status if the transaction was doomed or due a spurious abort. Either way
// the transaction is over.
func (t *EmuTx) End() Status { return t.EndWith(nil) }

// EndWith is [EmuTx.End] that runs apply, if not nil, after the transaction
// can no longer abort and before it releases its lines. While apply runs,
// an emulated access that conflicts with one of the transaction's written
// lines aborts the requester instead, so other emulated transactions see
// either none or all of apply's writes to those lines, as with a real
// commit, and [Emulator.SoftwareWrite] and [Emulator.SoftwareRead] of those
// lines wait until apply returns. apply is where the hybrid layer writes back
// its buffered values; it must not call SoftwareWrite, SoftwareRead or
// SoftwareStore on the transaction's own lines, nor wait for a goroutine
// that may be blocked in them. If apply panics, the transaction is
// released and the panic propagates.
func (t *EmuTx) EndWith(apply func()) Status {
	if s := t.state.Load(); s != 0 {
		return t.fail(s)
	}
	if t.fuse > 0 {
		return t.finish(t.e.spurious, &t.e.spuriousN)
	}
	if !t.state.CompareAndSwap(0, phaseCommitting) {
		return t.fail(t.state.Load())
	}
	if apply != nil {
		defer t.release(Started)
		apply()
		t.e.commits.Add(1)
		return Started
	}
	t.release(Started)
	t.e.commits.Add(1)
	return Started
}

// fail handles a non-zero state: it ends a doomed transaction, repeats the
// status of an aborted one, and panics on a committed one.
func (t *EmuTx) fail(s uint64) Status {
	switch s & phaseMask {
	case phaseDoomed:
		return t.finish(Status(s), &t.e.conflict)
	case phaseDead:
		if st := Status(s); st != Started {
			return st
		}
	}
	panic("htm: EmuTx used after End")
}

// finish ends the transaction with status st and counts it in n.
func (t *EmuTx) finish(st Status, n *atomic.Uint64) Status {
	n.Add(1)
	t.release(st)
	return st
}

// release removes t's entries from the stripes, recycles its line set and
// records the final status.
func (t *EmuTx) release(st Status) {
	set := t.set
	t.set = nil
	for _, line := range set.lines {
		s := t.e.stripe(line)
		s.mu.Lock()
		for j := 0; j < len(s.ents); j++ {
			if s.ents[j].tx == t && s.ents[j].line == line {
				last := len(s.ents) - 1
				s.ents[j] = s.ents[last]
				s.ents[last] = entry{}
				s.ents = s.ents[:last]
				break
			}
		}
		s.mu.Unlock()
	}
	t.state.Store(phaseDead | uint64(st))
	t.e.live.Add(-1)
	set.reset()
	t.e.bufs.Put(set)
}

func (e *Emulator) stripe(line uintptr) *stripe {
	return &e.stripes[uint64(line)*0x9e3779b97f4a7c15>>(64-stripeBits)]
}

// SoftwareWrite announces a non-transactional write of the line holding
// addr, such as a software commit's write-back: every live emulated
// transaction that read or wrote the line is doomed, as the coherence
// traffic of a real store would abort it, and SoftwareWrite waits until no
// committing transaction ([EmuTx.EndWith]) holds the line. It costs one
// atomic load when no emulated transaction is live.
//
// A real store and its coherence traffic are one event; here they are two
// calls, so the caller's protocol must cover the gap. The one the hybrid
// layer uses: emulated transactions Read the commit-lock word first and
// abort if it is held; a software commit stores the lock word and then
// announces it with SoftwareWrite, which dooms or waits out every emulated
// transaction that saw the lock free; the lines written while the lock is
// held may be announced before or after their stores. Without such a
// protocol, use [Emulator.SoftwareStore].
func (e *Emulator) SoftwareWrite(addr uintptr) {
	if e.live.Load() == 0 {
		return
	}
	e.software(addr>>LineShift, flagRead|flagWrite, nil)
}

// SoftwareRead announces a non-transactional read of the line holding addr:
// every live emulated transaction that wrote the line is doomed (strong
// isolation), and SoftwareRead waits until no committing transaction has the
// line in its write set, so a load that follows sees all or none of that
// transaction's writes. Call it before the load.
func (e *Emulator) SoftwareRead(addr uintptr) {
	if e.live.Load() == 0 {
		return
	}
	e.software(addr>>LineShift, flagWrite, nil)
}

// SoftwareStore performs store, a non-transactional write of the line
// holding addr, atomically with its announcement: it dooms the live
// emulated transactions that read or wrote the line, waits out committing
// ones, and runs store while no emulated transaction can register the line.
// Transactions that register the line afterwards see the stored value. store
// must be short and must not call the emulator.
func (e *Emulator) SoftwareStore(addr uintptr, store func()) {
	e.software(addr>>LineShift, flagRead|flagWrite, store)
}

// software dooms the live transactions holding line in a mode in victims,
// waits until no committing transaction holds it in such a mode, and runs
// fn, if not nil, before releasing the stripe.
func (e *Emulator) software(line uintptr, victims uint8, fn func()) {
	s := e.stripe(line)
	for {
		s.mu.Lock()
		busy := false
		for j := range s.ents {
			en := &s.ents[j]
			if en.line != line || en.flags&victims == 0 {
				continue
			}
			if en.tx.state.CompareAndSwap(0, phaseDoomed|uint64(doomConflict)) {
				e.doomed.Add(1)
			} else if en.tx.state.Load()&phaseMask == phaseCommitting {
				// Past its serialisation point: this access must
				// come after its write-back.
				busy = true
			}
		}
		if !busy {
			if fn != nil {
				fn()
			}
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		runtime.Gosched()
	}
}

// lineSet is a transaction's private set of lines: open addressing on
// line+1 (0 marks an empty slot), with the lines also kept in insertion
// order for release.
type lineSet struct {
	keys  []uintptr
	flags []uint8
	lines []uintptr
}

const lineSetMin = 64

func newLineSet() *lineSet {
	return &lineSet{keys: make([]uintptr, lineSetMin), flags: make([]uint8, lineSetMin)}
}

func (s *lineSet) slot(line uintptr) int {
	return int(uint64(line) * 0x9e3779b97f4a7c15 >> 32 & uint64(len(s.keys)-1))
}

// find returns the slot of line and its flags, or the empty slot where it
// would go and 0.
func (s *lineSet) find(line uintptr) (int, uint8) {
	k := line + 1
	mask := len(s.keys) - 1
	for i := s.slot(line); ; i = (i + 1) & mask {
		switch s.keys[i] {
		case k:
			return i, s.flags[i]
		case 0:
			return i, 0
		}
	}
}

// add sets the flags of line, which find returned at slot i.
func (s *lineSet) add(i int, line uintptr, f uint8) {
	if s.keys[i] != 0 {
		s.flags[i] = f
		return
	}
	s.keys[i] = line + 1
	s.flags[i] = f
	s.lines = append(s.lines, line)
	if 2*len(s.lines) > len(s.keys) {
		s.grow()
	}
}

func (s *lineSet) grow() {
	old, oldf := s.keys, s.flags
	s.keys = make([]uintptr, 2*len(old))
	s.flags = make([]uint8, 2*len(old))
	for j, k := range old {
		if k != 0 {
			i, _ := s.find(k - 1)
			s.keys[i], s.flags[i] = k, oldf[j]
		}
	}
}

// reset empties the set, shrinking tables that a big transaction grew.
func (s *lineSet) reset() {
	if len(s.keys) > 8*lineSetMin {
		*s = *newLineSet()
		return
	}
	clear(s.keys)
	clear(s.flags)
	s.lines = s.lines[:0]
}
