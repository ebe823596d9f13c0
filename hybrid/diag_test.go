package hybrid

import (
	"bytes"
	"encoding/json"
	"expvar"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/hytm/hytm/htm"
)

func nextLine() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", filepath.Base(file), line+1)
}

func TestHardwareAbortReport(t *testing.T) {
	e := htm.NewEmulator(htm.EmuConfig{Seed: 3, SpuriousRate: 1})
	withEmulator(t, e, func() {
		ResetConflictReports()
		EnableConflictReports(true)
		defer EnableConflictReports(false)
		v := NewVar(0)
		incr := func(tx *Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
		var site string
		for range 3 { // the first call runs in software while its site learns that it writes
			site = nextLine()
			if err := Atomically(incr); err != nil {
				t.Fatal(err)
			}
		}
		var found bool
		for _, r := range ConflictRecords() {
			if r.Hardware && r.Cause == "other" && strings.HasSuffix(r.Site, "/"+site) && r.Aborts >= 1 && r.Lost > 0 {
				found = true
			}
		}
		if !found {
			t.Fatalf("no hardware abort at %s: %+v", site, ConflictRecords())
		}
		var out bytes.Buffer
		if err := WriteConflictReport(&out); err != nil {
			t.Fatal(err)
		}
		t.Logf("report:\n%s", out.String())
		if want := "Hardware abort (other) in transaction at hybrid/" + site; !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}

		// The profile, over HTTP, parses and holds the site.
		rec := httptest.NewRecorder()
		ConflictProfileHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/hytm/conflicts", nil))
		p, err := profile.Parse(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		ok := false
		for _, s := range p.Sample {
			l := s.Location[0].Line[0]
			if fmt.Sprintf("%s:%d", filepath.Base(l.Function.Filename), l.Line) == site && s.Label["hardware"] != nil {
				ok = true
			}
		}
		if !ok {
			t.Errorf("profile lacks a hardware sample at %s:\n%s", site, p)
		}
	})
}

func TestHWCause(t *testing.T) {
	for _, c := range []struct {
		st   htm.Status
		want string
	}{
		{htm.StatusCapacity, "capacity"},
		{htm.StatusConflict | htm.StatusRetry, "conflict"},
		{htm.ExplicitStatus(htm.CodeNotHead), "conflict"},
		{htm.ExplicitStatus(htm.CodeLockBusy), "explicit (lock busy)"},
		{htm.ExplicitStatus(htm.CodeSoftware), "explicit (needs software)"},
		{htm.ExplicitStatus(1), "explicit"},
		{0, "other"},
	} {
		if got := hwCause(c.st); got != c.want {
			t.Errorf("hwCause(%v) = %q, want %q", c.st, got, c.want)
		}
	}
}

func TestExpvar(t *testing.T) {
	publishExpvar() // a second publish must not panic
	v := expvar.Get("hytm")
	if v == nil {
		t.Fatal(`expvar "hytm" not published`)
	}
	x := NewVar(0)
	for range 10 {
		_ = Atomically(func(tx *Tx) error { x.Store(tx, x.Load(tx)+1); return nil })
	}
	var got struct {
		Commits map[string]uint64
		Aborts  struct {
			Hardware map[string]uint64
			Software map[string]uint64
		}
		HardwareAttempts *uint64 `json:"hardware_attempts"`
		ClockTicks       *uint64 `json:"hardware_clock_ticks"`
		ClockSkips       *uint64 `json:"hardware_clock_skips"`
	}
	if err := json.Unmarshal([]byte(v.String()), &got); err != nil {
		t.Fatalf("%v in %s", err, v.String())
	}
	t.Logf("hytm = %s", v.String())
	if n := got.Commits["hardware"] + got.Commits["software"] + got.Commits["irrevocable"]; n < 10 {
		t.Errorf("commits %v: want >= 10", got.Commits)
	}
	for _, k := range []string{"software_read_only", "software_single_var", "software_multi_var"} {
		if _, ok := got.Commits[k]; !ok {
			t.Errorf("commits lack %q", k)
		}
	}
	for _, k := range []string{"locked", "validate", "stale", "irrevocable"} {
		if _, ok := got.Aborts.Software[k]; !ok {
			t.Errorf("software aborts lack %q", k)
		}
	}
	for _, k := range []string{"capacity", "conflict", "explicit", "other"} {
		if _, ok := got.Aborts.Hardware[k]; !ok {
			t.Errorf("hardware aborts lack %q", k)
		}
	}
	if got.HardwareAttempts == nil {
		t.Error("no hardware_attempts")
	}
	if got.ClockTicks == nil || got.ClockSkips == nil {
		t.Error("no hardware_clock_ticks or hardware_clock_skips")
	}
}
