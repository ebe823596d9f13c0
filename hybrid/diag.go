package hybrid

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/hytm/hytm/htm"
	"github.com/hytm/hytm/internal/hwlink"
	"github.com/hytm/hytm/stm"
)

// Conflict reports. These are package stm's (software and hardware
// transactions share one record); see [stm.EnableConflictReports] for what
// is recorded and what it costs.
//
// While reporting is on, each aborted software attempt is attributed to the
// Atomically call site, the attempt's Load or Store of the conflicting Var,
// the Store of the committing transaction that wrote it, the cause, and the
// attempt's wall time ("time lost"). Hardware aborts carry no address: they
// are attributed to the call site and the abort cause (capacity, conflict,
// explicit, other), with the attempt's wall time (for a lock found busy,
// including the wait for it).

// EnableConflictReports turns conflict reporting on or off, for hybrid and
// stm transactions alike. HYTM_REPORT=conflicts in the environment turns it
// on at start-up, with reports logged to slog.Default().
func EnableConflictReports(on bool) { stm.EnableConflictReports(on) }

// ConflictReportsEnabled reports whether conflict reporting is on.
func ConflictReportsEnabled() bool { return stm.ConflictReportsEnabled() }

// SetConflictLogger sets the slog logger that conflict reports go to (nil:
// none). Every abort is logged at slog.LevelDebug; the 1st, 2nd, 4th, 8th,
// ... abort of each kind at slog.LevelInfo.
func SetConflictLogger(l *slog.Logger) { stm.SetConflictLogger(l) }

// ConflictRecords returns the conflicts recorded so far, most time lost
// first.
func ConflictRecords() []stm.ConflictRecord { return stm.ConflictRecords() }

// ResetConflictReports forgets the conflicts recorded so far.
func ResetConflictReports() { stm.ResetConflictReports() }

// WriteConflictReport writes the summary of conflicts, ranked by time lost,
// and the irrevocable (inevitable) section: which call sites held other
// transactions back, and for how long.
//
//	Detected conflict (validate) in transaction at bank/bank.go:42:
//	  Load  bank/bank.go:47   (aborted transaction)
//	  Store bank/bank.go:51   (committing transaction)
//	1234 aborts, 0.047 s lost
//
//	Hardware abort (capacity) in transaction at bank/audit.go:30
//	12 aborts, 0.001 s lost
//
//	Forced inevitable at bank/log.go:10: 3 transactions blocked others for 0.150 s (held 0.200 s)
func WriteConflictReport(w io.Writer) error { return stm.WriteConflictReport(w) }

// WriteConflictProfile writes the conflicts as a gzipped pprof profile
// (sample types aborts/count and lost/nanoseconds, stacks of the
// conflicting accesses); see [stm.WriteConflictProfile].
func WriteConflictProfile(w io.Writer) error { return stm.WriteConflictProfile(w) }

// ConflictProfileHandler serves [WriteConflictProfile] over HTTP, for
//
//	http.Handle("/debug/hytm/conflicts", hybrid.ConflictProfileHandler())
//	go tool pprof -top http://localhost:6060/debug/hytm/conflicts
func ConflictProfileHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="hytm-conflicts.pb.gz"`)
		if err := WriteConflictProfile(w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}

// hwReportStart returns the start time of a hardware attempt while
// reporting is on, and 0 otherwise (one predictable branch).
func hwReportStart() int64 {
	if !stm.ConflictReportsEnabled() {
		return 0
	}
	return time.Now().UnixNano()
}

// reportHWAbort attributes an aborted hardware attempt started at t0.
//
//go:noinline
func reportHWAbort(st htm.Status, t0 int64) {
	hwlink.RecordHardwareAbort(hwCause(st), time.Duration(time.Now().UnixNano()-t0))
}

// hwCause classifies an abort status as the hardware counters do.
func hwCause(st htm.Status) string {
	switch {
	case st.Capacity():
		return "capacity"
	case st.Conflict() || st.Code() == htm.CodeNotHead:
		return "conflict"
	case st.Explicit():
		switch st.Code() {
		case htm.CodeLockBusy:
			return "explicit (lock busy)"
		case htm.CodeSoftware:
			return "explicit (needs software)"
		}
		return "explicit"
	}
	return "other"
}
