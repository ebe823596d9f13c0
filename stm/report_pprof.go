package stm

import (
	"io"
	"os"
	"runtime"
	"time"

	"github.com/google/pprof/profile"
)

// WriteConflictProfile writes the conflicts recorded while reporting was on
// as a gzipped pprof profile. Each sample is one kind of abort with two
// values, ("aborts", "count") and ("lost", "nanoseconds", the default), and
// the stack of the conflicting access in the aborted attempt: its Load or
// Store of the Var, as recorded (16 frames) when it was made, from the
// user's line down. Aborts without a Var (hardware attempts, yielding to an
// irrevocable transaction) carry the stack of the Atomically call. Labels
// name the cause, the transaction's site and the committing Store, so
//
//	go tool pprof -top conflicts.pb.gz
//	go tool pprof -tagfocus=cause=validate -top conflicts.pb.gz
//
// list the hot conflict sites. The locations are symbolized here, so pprof
// needs no binary.
//
// Why it is not a runtime/pprof named profile: a runtime/pprof custom
// profile (pprof.NewProfile) holds one count per live object, each with the
// stack of the goroutine that called Add at the moment it called it. It has
// no second value (time lost) and cannot take a recorded stack: an abort is
// detected at commit, far from the access that conflicted. Registering one
// would lose both values that matter, so the profile is served by this
// function instead (hybrid.ConflictProfileHandler serves it over HTTP, for
// go tool pprof http://host/...).
func WriteConflictProfile(w io.Writer) error {
	return ConflictProfile().Write(w)
}

// ConflictProfile returns the profile that [WriteConflictProfile] writes.
func ConflictProfile() *profile.Profile {
	exe, _ := os.Executable()
	m := &profile.Mapping{ID: 1, File: exe, HasFunctions: true, HasFilenames: true, HasLineNumbers: true}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "aborts", Unit: "count"},
			{Type: "lost", Unit: "nanoseconds"},
		},
		DefaultSampleType: "lost",
		PeriodType:        &profile.ValueType{Type: "aborts", Unit: "count"},
		Period:            1,
		TimeNanos:         time.Now().UnixNano(),
		Mapping:           []*profile.Mapping{m},
	}
	type fkey struct{ name, file string }
	type lkey struct {
		fkey
		line int
	}
	funcs := map[fkey]*profile.Function{}
	locs := map[lkey]*profile.Location{}
	location := func(f runtime.Frame) *profile.Location {
		name := f.Function
		if name == "" {
			name = "?"
		}
		lk := lkey{fkey{name, f.File}, f.Line}
		if l := locs[lk]; l != nil {
			return l
		}
		fn := funcs[lk.fkey]
		if fn == nil {
			fn = &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name, Filename: f.File}
			funcs[lk.fkey] = fn
			p.Function = append(p.Function, fn)
		}
		// One location per (function, line): frames come symbolized and
		// inlining already expanded, so each location has one line.
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Address: uint64(f.PC),
			Line: []profile.Line{{Function: fn, Line: int64(f.Line)}}}
		locs[lk] = l
		p.Location = append(p.Location, l)
		return l
	}
	for _, c := range snapshotConflicts() {
		st := c.k.access
		if st == nil {
			st = c.k.txn
		}
		frames := st.userFrames()
		if len(frames) == 0 {
			frames = []runtime.Frame{{Function: "unknown"}}
		}
		s := &profile.Sample{Value: []int64{int64(c.aborts), int64(c.lost)}}
		for _, f := range frames {
			s.Location = append(s.Location, location(f))
		}
		s.Label = map[string][]string{
			"cause":       {c.k.cause},
			"transaction": {shortSite(c.k.txn.site())},
		}
		if c.k.hardware {
			s.Label["hardware"] = []string{"true"}
		}
		if c.k.writer != nil {
			s.Label["committing_store"] = []string{shortSite(c.k.writer.site())}
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}
