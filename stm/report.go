package stm

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Conflict reports, after PyPy-STM's ("Detected conflict ... 0.047 sec lost").
//
// While reporting is on, every software attempt records where it was
// started (the Atomically call) and, for each Var it touches, the stack of
// its first Load and its first Store. A commit publishes, for each Var it
// writes, the stack of the Store that wrote it. An abort with a conflicting
// Var is then attributed to: the transaction's call site, the aborted
// attempt's access to that Var, the Store of the last commit that wrote it,
// the cause, and the wall time of the attempt (time lost). Hardware attempts
// (package hybrid) carry no address and are attributed to their call site
// and abort cause through recordHardwareAbort.
//
// Cost. With reporting off, Load's inline path is unchanged (begin leaves
// tx.state as before), and the slow paths (loadSlow, Store, begin, the
// commit install, recordAbort) test one package-level flag. With reporting
// on, tx.state stays txActive so every Load takes the slow path, and each first
// access to a Var in an attempt walks a few frames of the stack
// (runtime.Callers); see docs/diagnostics.md for the
// measured overhead.
//
// Attribution limits: the committing Store is the one published by the
// last software commit (or irrevocable commit) that wrote the Var before the
// abort was recorded; for CauseLocked the lock holder has not published yet,
// so the previous writer's Store is shown (usually the same line in a hot
// loop). Hardware commits publish nothing. Vars are keyed by address in a
// fixed-size table, so a collision or a recycled address can misattribute the
// committing Store, rarely.

// reportOn is the flag the hot paths test. reportGen counts the times
// reporting was turned on, so that state left from an earlier period is
// ignored.
var (
	reportOn  atomic.Bool
	reportGen atomic.Uint64
)

// accessDepth is the number of frames recorded at each access and at each
// transaction start.
const accessDepth = 16

// stackKey is a recorded stack (zero-padded).
type stackKey [accessDepth]uintptr

// stackRec is an interned stack with its lazily symbolized frames.
type stackRec struct {
	pcs    stackKey
	n      int
	frames atomic.Pointer[[]runtime.Frame] // user frames, stm/hybrid frames at the top removed
}

var stacks sync.Map // stackKey -> *stackRec

// intern returns the record for k. Stacks are few (one per access site and
// call path), so the map stays small.
func intern(k *stackKey, n int) *stackRec {
	if s, ok := stacks.Load(*k); ok {
		return s.(*stackRec)
	}
	s, _ := stacks.LoadOrStore(*k, &stackRec{pcs: *k, n: n})
	return s.(*stackRec)
}

// userFrames returns the stack's frames from the first one outside stm and
// hybrid (the user's access or call), down to the bottom.
func (s *stackRec) userFrames() []runtime.Frame {
	if s == nil {
		return nil
	}
	if f := s.frames.Load(); f != nil {
		return *f
	}
	var out []runtime.Frame
	frames := runtime.CallersFrames(s.pcs[:s.n])
	inUser := false
	for {
		f, more := frames.Next()
		if !inUser && (!internalFunc(f.Function) || strings.HasSuffix(f.File, "_test.go")) {
			inUser = true
		}
		if inUser {
			out = append(out, f)
		}
		if !more {
			break
		}
	}
	s.frames.Store(&out)
	return out
}

// internalFunc reports whether fn belongs to stm or hybrid or to the
// runtime's stack plumbing. (Their test files count as user code.)
func internalFunc(fn string) bool {
	return strings.HasPrefix(fn, stmPkg) || strings.HasPrefix(fn, hybridPkg) ||
		fn == "runtime.Callers"
}

// site returns "file:line" of the first user frame, or "unknown".
func (s *stackRec) site() string {
	fs := s.userFrames()
	if len(fs) == 0 {
		return "unknown"
	}
	return fs[0].File + ":" + strconv.Itoa(fs[0].Line)
}

// txReport is a transaction's reporting state, reused across attempts.
type txReport struct {
	gen      uint64    // reportGen when the attempt began
	start    int64     // attempt start, nanotime
	site     *stackRec // where the Atomically call was made
	accesses map[*varHeader]int32
	recs     []accessRec
}

type accessRec struct {
	load, store *stackRec
}

// reportBegin starts an attempt while reporting is on: Load's inline path is
// turned off for the attempt so that every Load is seen.
func (tx *Tx) reportBegin() {
	tx.state = txActive
	r := tx.rep
	if r == nil {
		r = &txReport{accesses: make(map[*varHeader]int32)}
		tx.rep = r
	}
	gen := reportGen.Load()
	if tx.attempt <= 1 || r.site == nil || r.gen != gen {
		var k stackKey
		n := runtime.Callers(3, k[:]) // skip Callers, reportBegin, begin
		r.site = intern(&k, n)
	}
	r.gen = gen
	clear(r.accesses)
	r.recs = r.recs[:0]
	r.start = nanotime()
}

// reportAccess records the first Load or Store of h in the attempt.
func (tx *Tx) reportAccess(h *varHeader, store bool) {
	r := tx.rep
	if r == nil || tx.hw != nil || r.gen != reportGen.Load() {
		return // reporting turned on mid-attempt, or a hardware attempt
	}
	i, ok := r.accesses[h]
	if !ok {
		i = int32(len(r.recs))
		r.recs = append(r.recs, accessRec{})
		r.accesses[h] = i
	}
	a := &r.recs[i]
	if (store && a.store != nil) || (!store && a.load != nil) {
		return
	}
	var k stackKey
	n := runtime.Callers(3, k[:]) // skip Callers, reportAccess, loadSlow/Store
	s := intern(&k, n)
	if store {
		a.store = s
	} else {
		a.load = s
	}
}

// reportCommit publishes the Store stacks of a commit that will install.
func (tx *Tx) reportCommit() {
	r := tx.rep
	if r == nil || r.gen != reportGen.Load() {
		return
	}
	for i := range tx.writes {
		h := tx.writes[i].h
		if j, ok := r.accesses[h]; ok && r.recs[j].store != nil {
			publishWriter(h, r.recs[j].store)
		}
	}
}

// writers maps a Var to the Store stack of its last reported commit: a
// fixed-size, lock-free table indexed by address hash (collisions overwrite).
const writersSize = 1 << 14

var writers [writersSize]struct {
	id atomic.Uintptr
	st atomic.Pointer[stackRec]
}

func writerSlot(h *varHeader) int {
	return int((uint64(uintptr(unsafe.Pointer(h))) * 0x9E3779B97F4A7C15) >> (64 - 14))
}

func publishWriter(h *varHeader, s *stackRec) {
	e := &writers[writerSlot(h)]
	if e.st.Load() == s && e.id.Load() == uintptr(unsafe.Pointer(h)) {
		return // unchanged: keep the line shared
	}
	e.id.Store(0)
	e.st.Store(s)
	e.id.Store(uintptr(unsafe.Pointer(h)))
}

func lastWriter(h *varHeader) *stackRec {
	e := &writers[writerSlot(h)]
	s := e.st.Load()
	if e.id.Load() != uintptr(unsafe.Pointer(h)) {
		return nil
	}
	return s
}

// reportAbort attributes an aborted software attempt.
func (tx *Tx) reportAbort(cause Cause, h *varHeader) {
	r := tx.rep
	if r == nil || r.site == nil || r.gen != reportGen.Load() {
		return
	}
	lost := time.Duration(nanotime() - r.start)
	k := conflictKey{txn: r.site, cause: cause.String()}
	if h != nil {
		if i, ok := r.accesses[h]; ok {
			a := r.recs[i]
			switch {
			case a.store != nil && (cause == CauseLocked || a.load == nil):
				k.access, k.store = a.store, true
			default:
				k.access = a.load
			}
		}
		k.writer = lastWriter(h)
	}
	record(k, lost)
}

// recordHardwareAbort attributes an aborted hardware attempt to the caller of
// the hybrid Atomically call on the current stack and to cause ("capacity",
// "conflict", "explicit", "other"), with lost the attempt's wall time. It is
// meant for package hybrid, and does nothing while reporting is off.
//
//go:linkname recordHardwareAbort
func recordHardwareAbort(cause string, lost time.Duration) {
	if !reportOn.Load() {
		return
	}
	var k stackKey
	n := runtime.Callers(2, k[:])
	record(conflictKey{txn: intern(&k, n), cause: cause, hardware: true}, lost)
}

// conflictKey identifies one kind of conflict in the summary.
type conflictKey struct {
	txn      *stackRec // Atomically call
	cause    string
	access   *stackRec // the aborted attempt's Load or Store of the Var (nil: none or unknown)
	store    bool      // access is a Store
	writer   *stackRec // the committing transaction's Store (nil: unknown)
	hardware bool
}

type conflictAgg struct {
	count atomic.Uint64
	lost  atomic.Int64 // ns
}

var conflicts struct {
	mu sync.Mutex
	m  map[conflictKey]*conflictAgg
}

// record adds one abort and logs it.
func record(k conflictKey, lost time.Duration) {
	conflicts.mu.Lock()
	a := conflicts.m[k]
	if a == nil {
		if conflicts.m == nil {
			conflicts.m = make(map[conflictKey]*conflictAgg)
		}
		a = new(conflictAgg)
		conflicts.m[k] = a
	}
	conflicts.mu.Unlock()
	n := a.count.Add(1)
	total := a.lost.Add(int64(lost))
	logConflict(k, n, time.Duration(total), lost)
}

// The conflict logger. Every abort is a record at slog.LevelDebug; the 1st,
// 2nd, 4th, 8th, ... abort of each kind is at slog.LevelInfo, so that an
// Info logger sees every kind of conflict without being flooded.
var (
	conflictLog   atomic.Pointer[slog.Logger]
	logSet        atomic.Bool // SetConflictLogger was called
	logFromEnvDef atomic.Bool // HYTM_REPORT=conflicts: use slog.Default()
)

// SetConflictLogger sets the logger that conflict reports go to; nil turns
// logging off (the summary is still collected while reporting is on). The
// default is slog.Default() (as it is when a report is logged) when
// HYTM_REPORT=conflicts is set, and none otherwise.
func SetConflictLogger(l *slog.Logger) {
	conflictLog.Store(l)
	logSet.Store(true)
}

func conflictLogger() *slog.Logger {
	if logSet.Load() {
		return conflictLog.Load()
	}
	if logFromEnvDef.Load() {
		return slog.Default()
	}
	return nil
}

func logConflict(k conflictKey, n uint64, total, lost time.Duration) {
	l := conflictLogger()
	if l == nil {
		return
	}
	level := slog.LevelDebug
	if n&(n-1) == 0 {
		level = slog.LevelInfo
	}
	ctx := context.Background()
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("transaction", k.txn.site()),
		slog.String("cause", k.cause),
	}
	if k.hardware {
		attrs = append(attrs, slog.Bool("hardware", true))
	} else {
		if k.access != nil {
			kind := "load"
			if k.store {
				kind = "store"
			}
			attrs = append(attrs, slog.String(kind, k.access.site()))
		}
		if k.writer != nil {
			attrs = append(attrs, slog.String("committed_store", k.writer.site()))
		}
	}
	attrs = append(attrs,
		slog.Duration("lost", lost),
		slog.Uint64("aborts", n),
		slog.Duration("total_lost", total))
	l.LogAttrs(ctx, level, "hytm: detected conflict", attrs...)
}

// EnableConflictReports turns conflict reporting on or off. It may be called
// at any time; attempts already running when it is turned on are not
// reported. HYTM_REPORT=conflicts in the environment turns it on at start-up.
func EnableConflictReports(on bool) {
	reportMu.Lock()
	defer reportMu.Unlock()
	if on && !reportOn.Load() {
		reportGen.Add(1)
	}
	reportOn.Store(on)
}

var reportMu sync.Mutex

// ConflictReportsEnabled reports whether conflict reporting is on.
func ConflictReportsEnabled() bool { return reportOn.Load() }

// ResetConflictReports forgets the conflicts recorded so far.
func ResetConflictReports() {
	conflicts.mu.Lock()
	conflicts.m = nil
	conflicts.mu.Unlock()
}

func init() {
	for _, w := range strings.Split(os.Getenv("HYTM_REPORT"), ",") {
		if strings.TrimSpace(w) == "conflicts" {
			logFromEnvDef.Store(true)
			EnableConflictReports(true)
		}
	}
}

var nanoBase = time.Now()

// nanotime is a monotonic clock in ns (never 0 after start-up).
func nanotime() int64 { return int64(time.Since(nanoBase)) + 1 }

// ConflictRecord is one line of the conflict summary: the aborts of one
// kind, from one call site.
type ConflictRecord struct {
	// Site is "file:line" of the Atomically call ("unknown" if the stack
	// could not be walked).
	Site string
	// Cause is the abort cause: a [Cause] name for software attempts
	// (validate, locked, stale, irrevocable); capacity, conflict, explicit
	// or other for hardware attempts.
	Cause string
	// Hardware is set for aborted hardware attempts, which carry no Var.
	Hardware bool
	// Access is "file:line" of the aborted attempt's first Load (or, for
	// CauseLocked and Vars only written, Store) of the conflicting Var;
	// AccessKind is "Load" or "Store". Both are empty when unknown.
	Access, AccessKind string
	// Writer is "file:line" of the Store, in the last transaction that
	// committed the conflicting Var, that wrote it; empty when unknown.
	Writer string
	// Aborts counts the aborted attempts and Lost sums their wall time.
	Aborts uint64
	Lost   time.Duration
}

type rawConflict struct {
	k      conflictKey
	aborts uint64
	lost   time.Duration
}

func snapshotConflicts() []rawConflict {
	conflicts.mu.Lock()
	out := make([]rawConflict, 0, len(conflicts.m))
	for k, a := range conflicts.m {
		out = append(out, rawConflict{k: k, aborts: a.count.Load(), lost: time.Duration(a.lost.Load())})
	}
	conflicts.mu.Unlock()
	return out
}

// ConflictRecords returns the conflicts recorded while reporting was on,
// most time lost first.
func ConflictRecords() []ConflictRecord {
	type key struct {
		site, cause, access, kind, writer string
		hw                                bool
	}
	idx := map[key]int{}
	var out []ConflictRecord
	for _, c := range snapshotConflicts() {
		r := ConflictRecord{Site: c.k.txn.site(), Cause: c.k.cause, Hardware: c.k.hardware}
		if c.k.access != nil {
			r.Access, r.AccessKind = c.k.access.site(), "Load"
			if c.k.store {
				r.AccessKind = "Store"
			}
		}
		if c.k.writer != nil {
			r.Writer = c.k.writer.site()
		}
		kk := key{r.Site, r.Cause, r.Access, r.AccessKind, r.Writer, r.Hardware}
		if i, ok := idx[kk]; ok {
			out[i].Aborts += c.aborts
			out[i].Lost += c.lost
			continue
		}
		r.Aborts, r.Lost = c.aborts, c.lost
		idx[kk] = len(out)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Lost != out[j].Lost {
			return out[i].Lost > out[j].Lost
		}
		if out[i].Aborts != out[j].Aborts {
			return out[i].Aborts > out[j].Aborts
		}
		return out[i].Site+out[i].Access < out[j].Site+out[j].Access
	})
	return out
}

// shortSite shortens "/path/to/pkg/file.go:42" to "pkg/file.go:42".
func shortSite(site string) string {
	i := strings.LastIndexByte(site, '/')
	if i < 0 {
		return site
	}
	if j := strings.LastIndexByte(site[:i], '/'); j >= 0 {
		return site[j+1:]
	}
	return site
}

// WriteConflictReport writes the summary of the conflicts recorded while
// reporting was on, most time lost first, in PyPy-STM's style with Go
// file:line, followed by the irrevocable section from [IrrevocableSites]:
//
//	Detected conflict (validate) in transaction at bank/bank.go:42:
//	  Load  bank/bank.go:47   (aborted transaction)
//	  Store bank/bank.go:51   (committing transaction)
//	1234 aborts, 0.047 s lost
//
//	Forced inevitable at bank/audit.go:10: 3 transactions blocked others for 0.150 s (held 0.200 s)
func WriteConflictReport(w io.Writer) error {
	var b strings.Builder
	recs := ConflictRecords()
	if len(recs) == 0 {
		if reportOn.Load() {
			b.WriteString("No conflicts recorded.\n")
		} else {
			b.WriteString("No conflicts recorded (reporting is off: HYTM_REPORT=conflicts or EnableConflictReports).\n")
		}
	}
	for i, r := range recs {
		if i > 0 {
			b.WriteByte('\n')
		}
		if r.Hardware {
			fmt.Fprintf(&b, "Hardware abort (%s) in transaction at %s\n", r.Cause, shortSite(r.Site))
		} else {
			fmt.Fprintf(&b, "Detected conflict (%s) in transaction at %s:\n", r.Cause, shortSite(r.Site))
			if r.Access != "" {
				fmt.Fprintf(&b, "  %-5s %s   (aborted transaction)\n", r.AccessKind, shortSite(r.Access))
			}
			if r.Writer != "" {
				fmt.Fprintf(&b, "  %-5s %s   (committing transaction)\n", "Store", shortSite(r.Writer))
			} else if r.Cause == CauseIrrevocable.String() {
				b.WriteString("  (yielded to an irrevocable transaction)\n")
			}
		}
		fmt.Fprintf(&b, "%d aborts, %.3f s lost\n", r.Aborts, r.Lost.Seconds())
	}
	if irr := IrrevocableSites(); len(irr) > 0 {
		b.WriteByte('\n')
		sort.SliceStable(irr, func(i, j int) bool { return irr[i].Blocked > irr[j].Blocked })
		for _, s := range irr {
			fmt.Fprintf(&b, "Forced inevitable at %s: %d transactions blocked others for %.3f s (held %.3f s)\n",
				shortSite(s.Site), s.Count, s.Blocked.Seconds(), s.Held.Seconds())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
