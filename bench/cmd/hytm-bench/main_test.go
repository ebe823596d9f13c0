package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hytm/hytm/bench"
)

// TestMain lets the -htm test run this test binary as the command itself.
func TestMain(m *testing.M) {
	if os.Getenv("HYTM_BENCH_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestRun runs a short suite into a temporary folder and checks the outputs:
// the table, a CSV that parses with one row per run, the JSON report,
// PNG charts that decode, and RESULTS.md with its charts beside it.
func TestRun(t *testing.T) {
	out := t.TempDir()
	md := filepath.Join(t.TempDir(), "RESULTS.md")
	var stdout, stderr bytes.Buffer
	args := []string{"-duration", "10ms", "-workloads", "hashset,bank", "-update", "10,50",
		"-variants", "seq,mutex,stm", "-g", "1,2", "-count", "2", "-out", out, "-results", md}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	for _, want := range []string{"CPU: ", "HTM: ", "hashset update=10%", "bank:", "tx/s", "p99.9",
		"wrote 3 charts, results.csv and results.json to " + out + "\n", "wrote " + md + "\n"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, &stdout)
		}
	}
	if !strings.Contains(stderr.String(), "100%") {
		t.Errorf("no progress bar on stderr:\n%s", &stderr)
	}

	// 3 groups (hashset at 10 and 50%, bank) x (seq at 1 + mutex, stm at 1, 2).
	const wantRows = 3 * 5
	f, err := os.Open(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	if len(rows) != 1+wantRows {
		t.Fatalf("CSV has %d rows, want %d plus the header", len(rows)-1, wantRows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"workload", "variant", "goroutines", "tx_per_s", "speedup_vs_seq", "aborts_per_commit",
		"aborts_by_cause", "latency_p50_ns", "latency_p99_ns", "latency_p999_ns", "check"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("CSV lacks column %q: %v", h, rows[0])
		}
	}
	for _, row := range rows[1:] {
		if x, err := strconv.ParseFloat(row[col["tx_per_s"]], 64); err != nil || x <= 0 {
			t.Errorf("row %v: tx_per_s %q", row, row[col["tx_per_s"]])
		}
		if row[col["runs"]] != "2" {
			t.Errorf("row %v: runs %q, want 2", row, row[col["runs"]])
		}
		if row[col["check"]] != "ok" {
			t.Errorf("row %v: check %q", row, row[col["check"]])
		}
		if _, err := strconv.ParseFloat(row[col["speedup_vs_seq"]], 64); err != nil {
			t.Errorf("row %v: speedup_vs_seq %q", row, row[col["speedup_vs_seq"]])
		}
		if x, err := strconv.ParseFloat(row[col["latency_p999_ns"]], 64); err != nil || x <= 0 {
			t.Errorf("row %v: latency_p999_ns %q", row, row[col["latency_p999_ns"]])
		}
	}

	var rep bench.Report
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if len(rep.Results) != wantRows || rep.Machine.GoVersion == "" {
		t.Errorf("JSON: %d results, machine %+v", len(rep.Results), rep.Machine)
	}
	for _, r := range rep.Results {
		if l := r.Latency; l == nil || l.Samples == 0 || !(l.P50 <= l.P99 && l.P99 <= l.P999) {
			t.Errorf("JSON: %s/%s/g=%d latency %+v", r.Workload, r.Variant, r.Goroutines, l)
		}
	}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if len([]rune(l)) > 120 {
			t.Errorf("stdout line of %d characters: %q", len([]rune(l)), l)
		}
	}

	for _, dir := range []string{out, filepath.Join(filepath.Dir(md), bench.ResultsDir)} {
		for _, name := range []string{"hashset-u10.png", "hashset-u50.png", "bank.png"} {
			decodePNG(t, filepath.Join(dir, name))
		}
	}
	text, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\]\((results/[^)]+\.png)\)`).FindAllStringSubmatch(string(text), -1) {
		decodePNG(t, filepath.Join(filepath.Dir(md), m[1]))
	}
	for _, want := range []string{"go1.", "## Targets", "## Reading", "bank", "| p99.9 |", "**Latency at 2 goroutines.**"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("RESULTS.md lacks %q", want)
		}
	}
}

func decodePNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("%s: %v image", path, b)
	}
}

// TestUsageErrors checks that bad command lines exit with status 2 and a
// one-line message, without running anything.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-duration", "soon"},
		{"-duration", "-1s"},
		{"-workloads", "btree"},
		{"-variants", "tl2"},
		{"-htm", "maybe"},
		{"-g", "0"},
		{"-g", "two"},
		{"-update", "120"},
		{"-count", "0"},
		{"-nosuchflag"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append(args, "-out", t.TempDir()), &stdout, &stderr)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if msg := stderr.String(); strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "hytm-bench: ") {
			t.Errorf("%v: stderr %q, want one line", args, msg)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: stdout %q", args, &stdout)
		}
	}
}

// TestHTMFlag runs the command (this test binary, through TestMain) with
// -htm=off and checks that it re-executed itself with HYTM_HTM=off.
func TestHTMFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a subprocess")
	}
	cmd := exec.Command(os.Args[0], "-htm=off", "-workloads", "hashset", "-variants", "stm",
		"-update", "10", "-g", "1", "-duration", "5ms", "-progress=false", "-out", t.TempDir())
	cmd.Env = append(os.Environ(), "HYTM_BENCH_TEST_MAIN=1", "HYTM_HTM=", "HYTM_BENCH_REEXEC=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "HYTM_HTM mode: off") {
		t.Errorf("mode not off after -htm=off:\n%s", out)
	}
}

// TestResultsOnly checks that -results without -out writes the charts and
// data only beside the report, and says so in one line.
func TestResultsOnly(t *testing.T) {
	t.Chdir(t.TempDir())
	var stdout, stderr bytes.Buffer
	args := []string{"-duration", "5ms", "-workloads", "bank", "-variants", "mutex", "-g", "1",
		"-progress=false", "-results", filepath.Join("rep", "RESULTS.md")}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, &stdout, &stderr)
	}
	if _, err := os.Stat(defaultOut); !os.IsNotExist(err) {
		t.Errorf("%s written besides the report's folder (%v)", defaultOut, err)
	}
	decodePNG(t, filepath.Join("rep", "results", "bank.png"))
	want := "wrote 1 chart, results.csv and results.json to " + filepath.Join("rep", "results") + "\n"
	if !strings.Contains(stdout.String(), want) || strings.Count(stdout.String(), "wrote ") != 2 || strings.Count(stdout.String(), want) != 1 {
		t.Errorf("stdout lacks %q or has more wrote lines:\n%s", want, &stdout)
	}
}

// TestOutNotWritable checks that an -out that cannot be written fails at
// once, before the first run, with a message that names it.
func TestOutNotWritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-out", filepath.Join(file, "sub")},
		{"-out", file},
		{"-results", filepath.Join(file, "RESULTS.md"), "-out", t.TempDir()},
	} {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := run(append(args, "-duration", "1s", "-workloads", "vacation-low", "-progress=false"), &stdout, &stderr)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		if el := time.Since(start); el > 500*time.Millisecond {
			t.Errorf("%v: failed after %v: it ran something first", args, el)
		}
		if msg := stderr.String(); !strings.Contains(msg, "output folder") || !strings.Contains(msg, file) {
			t.Errorf("%v: stderr %q", args, msg)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: stdout %q", args, &stdout)
		}
	}
}

// TestETA checks the progress bar's estimate of the time left.
func TestETA(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		elapsed, done, total, want time.Duration
	}{
		{0, 0, 100 * s, 100 * s},           // nothing done: the plan's estimate
		{20 * s, 20 * s, 100 * s, 80 * s},  // on estimate
		{40 * s, 20 * s, 100 * s, 160 * s}, // twice as slow after a fifth: twice the rest
		{20 * s, 10 * s, 100 * s, 135 * s}, // twice as slow after a tenth: half trusted
		{10 * s, 20 * s, 100 * s, 40 * s},  // faster
		{100 * s, 100 * s, 100 * s, 0},     // done
		{110 * s, 100*s + s, 100 * s, 0},   // past the estimate
	} {
		if got := etaLeft(c.elapsed, c.done, c.total); got != c.want {
			t.Errorf("etaLeft(%v, %v, %v) = %v, want %v", c.elapsed, c.done, c.total, got, c.want)
		}
	}
}
