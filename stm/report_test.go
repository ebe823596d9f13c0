package stm_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/hytm/hytm/stm"
)

// here returns "report_test.go:N" for the line it is called on.
func here() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", filepath.Base(file), line)
}

func lineAfter(site string, d int) string {
	var f string
	var n int
	fmt.Sscanf(strings.Replace(site, ":", " ", 1), "%s %d", &f, &n)
	return fmt.Sprintf("%s:%d", f, n+d)
}

// reportMu serializes the tests that turn reporting on (it is global).
var reportMu sync.Mutex

func withReports(t *testing.T) *bytes.Buffer {
	t.Helper()
	reportMu.Lock()
	var buf bytes.Buffer
	var mu sync.Mutex
	stm.ResetConflictReports()
	stm.SetConflictLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	stm.EnableConflictReports(true)
	t.Cleanup(func() {
		stm.EnableConflictReports(false)
		stm.SetConflictLogger(nil)
		reportMu.Unlock()
	})
	return &buf
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// provokeValidate makes one transaction Load v at a known line, stall until
// another commits a Store to v at a known line, and then Store another Var,
// so that its commit fails validation on v. It returns the three sites.
func provokeValidate(t *testing.T, rounds int) (txSite, loadSite, storeSite string) {
	v := stm.NewVar(0)
	other := stm.NewVar(0)
	for range rounds {
		loaded := make(chan struct{})
		committed := make(chan struct{})
		go func() {
			<-loaded
			_ = stm.Atomically(func(tx *stm.Tx) error {
				storeSite = lineAfter(here(), 1)
				v.Store(tx, v.Peek()+1)
				return nil
			})
			close(committed)
		}()
		attempt := 0
		txSite = lineAfter(here(), 1)
		err := stm.Atomically(func(tx *stm.Tx) error {
			attempt++
			loadSite = lineAfter(here(), 1)
			x := v.Load(tx)
			if attempt == 1 {
				close(loaded)
				<-committed
				time.Sleep(time.Millisecond) // make the time lost visible
			}
			other.Store(tx, x+1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if attempt < 2 {
			t.Fatalf("the transaction did not abort (attempts %d)", attempt)
		}
	}
	return txSite, loadSite, storeSite
}

func TestConflictReportNamesBothLines(t *testing.T) {
	logBuf := withReports(t)
	txSite, loadSite, storeSite := provokeValidate(t, 3)

	var found *stm.ConflictRecord
	recs := stm.ConflictRecords()
	for i, r := range recs {
		if r.Cause == "validate" && strings.HasSuffix(r.Access, "/"+loadSite) {
			found = &recs[i]
		}
	}
	if found == nil {
		t.Fatalf("no validate record at %s: %+v", loadSite, recs)
	}
	if found.AccessKind != "Load" || !strings.HasSuffix(found.Writer, "/"+storeSite) || !strings.HasSuffix(found.Site, "/"+txSite) {
		t.Errorf("record %+v, want Load %s, Store %s, site %s", *found, loadSite, storeSite, txSite)
	}
	if found.Aborts < 3 || found.Lost < 3*time.Millisecond {
		t.Errorf("record %+v: want >= 3 aborts and >= 3ms lost", *found)
	}

	var out bytes.Buffer
	if err := stm.WriteConflictReport(&out); err != nil {
		t.Fatal(err)
	}
	rep := out.String()
	t.Logf("report:\n%s", rep)
	for _, want := range []string{
		"Detected conflict (validate) in transaction at stm/" + txSite + ":",
		"  Load  stm/" + loadSite + "   (aborted transaction)",
		"  Store stm/" + storeSite + "   (committing transaction)",
		" s lost",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	logs := logBuf.String()
	if !strings.Contains(logs, "hytm: detected conflict") || !strings.Contains(logs, loadSite) || !strings.Contains(logs, storeSite) {
		t.Errorf("log lacks the conflict:\n%s", logs)
	}
}

func TestConflictProfile(t *testing.T) {
	withReports(t)
	_, loadSite, _ := provokeValidate(t, 2)
	var buf bytes.Buffer
	if err := stm.WriteConflictProfile(&buf); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if len(p.SampleType) != 2 || p.SampleType[0].Type != "aborts" || p.SampleType[1].Unit != "nanoseconds" {
		t.Fatalf("sample types %v", p.SampleType)
	}
	ok := false
	for _, s := range p.Sample {
		leaf := s.Location[0].Line[0]
		site := fmt.Sprintf("%s:%d", filepath.Base(leaf.Function.Filename), leaf.Line)
		if site == loadSite && s.Value[0] >= 2 && s.Value[1] > 0 && s.Label["cause"][0] == "validate" {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("no sample with leaf %s:\n%s", loadSite, p)
	}

	// go tool pprof -top shows the Load's line.
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		t.Skip("go tool not available")
	}
	f := filepath.Join(t.TempDir(), "conflicts.pb.gz")
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(gobin, "tool", "pprof", "-top", "-lines", f).CombinedOutput()
	if err != nil {
		t.Skipf("go tool pprof: %v\n%s", err, out)
	}
	t.Logf("go tool pprof -top -lines:\n%s", out)
	if !strings.Contains(string(out), loadSite) {
		t.Errorf("pprof -top lacks %s", loadSite)
	}
}

func TestInevitableBlockedReport(t *testing.T) {
	withReports(t)
	w := stm.NewVar(0)
	u := stm.NewVar(0)
	in := make(chan struct{})
	var once sync.Once
	done := make(chan struct{})
	var site string
	go func() {
		defer close(done)
		site = lineAfter(here(), 1)
		_ = stm.Atomically(func(tx *stm.Tx) error {
			tx.Inevitable()
			once.Do(func() { close(in) })
			time.Sleep(50 * time.Millisecond)
			w.Store(tx, 1)
			return nil
		})
	}()
	<-in
	// A writer commits while the inevitable transaction sleeps: it waits.
	_ = stm.Atomically(func(tx *stm.Tx) error { u.Store(tx, u.Load(tx)+1); return nil })
	<-done
	var got *stm.IrrevocableSite
	for _, s := range stm.IrrevocableSites() {
		if strings.HasSuffix(s.Site, "/"+site) {
			got = &s
		}
	}
	if got == nil {
		t.Fatalf("no irrevocable site %s in %+v", site, stm.IrrevocableSites())
	}
	if got.Blocked < 45*time.Millisecond || got.Count < 1 {
		t.Errorf("site %+v: want blocked >= 45ms", *got)
	}
	var out bytes.Buffer
	_ = stm.WriteConflictReport(&out)
	t.Logf("report:\n%s", out.String())
	if !strings.Contains(out.String(), "Forced inevitable at stm/"+site+": ") {
		t.Errorf("report lacks the inevitable site %s", site)
	}
	if !strings.Contains(out.String(), "(irrevocable) in transaction at") {
		t.Errorf("report lacks the yield to the irrevocable transaction")
	}
}

// TestConflictReportEnv checks HYTM_REPORT=conflicts in a child process:
// reporting is on at start-up and reports go to slog.Default (stderr).
func TestConflictReportEnv(t *testing.T) {
	if os.Getenv("HYTM_REPORT_CHILD") != "" {
		if !stm.ConflictReportsEnabled() {
			fmt.Println("reporting off")
			os.Exit(1)
		}
		provokeValidate(t, 1)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConflictReportEnv$", "-test.v")
	cmd.Env = append(os.Environ(), "HYTM_REPORT=conflicts", "HYTM_REPORT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "hytm: detected conflict") || !strings.Contains(string(out), "cause=validate") {
		t.Errorf("child output lacks the logged conflict:\n%s", out)
	}
}

func TestConflictReportOffRecordsNothing(t *testing.T) {
	reportMu.Lock()
	defer reportMu.Unlock()
	stm.ResetConflictReports()
	provokeValidate(t, 1)
	if recs := stm.ConflictRecords(); len(recs) != 0 {
		t.Errorf("reporting off recorded %+v", recs)
	}
}

// BenchmarkIncr1Report measures Incr1 with conflict reporting off and on in
// one run (uncontended: the cost of recording sites, not of aborts).
func BenchmarkIncr1Report(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			reportMu.Lock()
			defer reportMu.Unlock()
			stm.EnableConflictReports(on)
			defer stm.EnableConflictReports(false)
			v := stm.NewVar(0)
			incr := func(tx *stm.Tx) error { v.Store(tx, v.Load(tx)+1); return nil }
			b.ReportAllocs()
			for b.Loop() {
				_ = stm.Atomically(incr)
			}
		})
	}
}

// BenchmarkRead16Report is Read16 with reporting off and on.
func BenchmarkRead16Report(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			reportMu.Lock()
			defer reportMu.Unlock()
			stm.EnableConflictReports(on)
			defer stm.EnableConflictReports(false)
			vs := make([]*stm.Var[int], 16)
			for i := range vs {
				vs[i] = stm.NewVar(i)
			}
			read := func(tx *stm.Tx) error {
				s := 0
				for _, v := range vs {
					s += v.Load(tx)
				}
				_ = s
				return nil
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = stm.Atomically(read)
			}
		})
	}
}
