// Command hytm-bench runs hytm's benchmark suite: Synchrobench-style sets
// (linked list, skip list, red-black tree, hash set), a bank with long
// read-only audits, vacation-lite and two map mixes, under the variants
// seq, mutex, rwmutex, stm, hybrid (when built in) and anacrolix
// (anacrolix/stm v0.2.0), plus stm-txds (hash set and vacation on package
// txds) and syncmap and xsync (the map workloads only). It prints the hardware it found, a progress bar and a table per
// workload of throughput, aborts and latency percentiles per variant and
// goroutine count, and writes results.csv, results.json and a PNG chart per
// workload to -out (default bench-results/ in the current directory; with
// -results, the results/ folder beside the report).
//
// From the repository root (go.work makes the bench module part of the
// workspace):
//
//	go run ./bench/cmd/hytm-bench
//	go run ./bench/cmd/hytm-bench -workloads rbtree,bank -variants stm,mutex -duration 1s
//	go run ./bench/cmd/hytm-bench -htm=off -variants stm,hybrid
//	go run ./bench/cmd/hytm-bench -count 3 -duration 300ms -results bench/RESULTS.md -progress=false
//
// The default suite takes about a minute on two cores. -htm sets HYTM_HTM,
// which the htm package reads once at start-up, by re-executing the
// command with it.
// A bad flag value or an unknown workload or variant exits with status 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hytm/hytm/bench"
	"github.com/hytm/hytm/htm"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// reexecEnv marks a process started by the -htm re-execution, so that it
// never re-executes again.
const reexecEnv = "HYTM_BENCH_REEXEC"

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stdout, stderr io.Writer) int {
	err := runErr(args, stdout, stderr)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "hytm-bench:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func runErr(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hytm-bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		workloads = fs.String("workloads", "all", "comma-separated `workloads`: list, skiplist, rbtree, hashset, bank, vacation-low, vacation-high, map-read, map-write, interest")
		variants  = fs.String("variants", "all", "comma-separated `variants`: seq, mutex, rwmutex, syncmap, xsync, stm, stm-txds, hybrid, tasks, anacrolix")
		duration  = fs.Duration("duration", bench.DefaultDuration, "measuring `time` of each run")
		gflag     = fs.String("g", "", "comma-separated goroutine `counts` (default 1, 2, 4, ... up to GOMAXPROCS)")
		update    = fs.String("update", "0,10,50", "comma-separated update `percentages` of the set workloads")
		htmMode   = fs.String("htm", "", "HTM `mode` for the hybrid variant: auto, off or emulate (sets HYTM_HTM; default: as the environment says)")
		out       = fs.String("out", defaultOut, "output `directory` for results.csv, results.json and the charts (default with -results: results/ beside the report)")
		results   = fs.String("results", "", "also write a Markdown report to this `file` (e.g. bench/RESULTS.md); its charts and data go to results/ beside it")
		causes    = fs.Bool("causes", false, "add the aborts per commit by cause to the tables (always in the CSV and JSON)")
		latency   = fs.Bool("latency", true, "sample operation latencies (p50, p99, p99.9)")
		seed      = fs.Uint64("seed", 1, "random `seed`")
		count     = fs.Int("count", 1, "run each configuration `n` times, in rounds, and keep the median")
		progress  = fs.Bool("progress", true, "show a progress bar on standard error")
	)
	fs.Usage = func() {} // errors are reported in one line below
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "usage: hytm-bench [flags]\n\n")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	outSet := false
	fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })

	if *htmMode != "" {
		switch *htmMode {
		case "auto", "off", "emulate":
		default:
			return usageError{fmt.Sprintf("invalid -htm %q: want auto, off or emulate", *htmMode)}
		}
		if cur := htm.CurrentMode().String(); cur != *htmMode {
			if os.Getenv(reexecEnv) != "" {
				return fmt.Errorf("-htm=%s: HYTM_HTM=%s did not take effect (mode %s)", *htmMode, *htmMode, cur)
			}
			return reexec(*htmMode)
		}
	}

	gs, err := bench.ParseInts(*gflag)
	if err != nil {
		return usageError{"invalid -g: " + err.Error()}
	}
	us, err := bench.ParseInts(*update)
	if err != nil {
		return usageError{"invalid -update: " + err.Error()}
	}
	if *count < 1 {
		return usageError{fmt.Sprintf("invalid -count %d: must be at least 1", *count)}
	}
	if *duration <= 0 {
		return usageError{fmt.Sprintf("invalid -duration %v: must be positive", *duration)}
	}
	plan, err := bench.NewPlan(bench.PlanOptions{
		Workloads:  bench.ParseNames(*workloads),
		Variants:   bench.ParseNames(*variants),
		Goroutines: gs,
		Updates:    us,
		Duration:   *duration,
		Seed:       *seed,
		Count:      *count,
		NoLatency:  !*latency,
	})
	if err != nil {
		return usageError{err.Error()}
	}

	// Check the output folders before running anything.
	outDir := *out
	if *results != "" {
		resDir := filepath.Join(filepath.Dir(*results), bench.ResultsDir)
		if !outSet {
			outDir = resDir
		}
		if err := checkWritable(resDir); err != nil {
			return err
		}
		if err := checkWritable(filepath.Dir(*results)); err != nil {
			return err
		}
	}
	if err := checkWritable(outDir); err != nil {
		return err
	}

	m := bench.ThisMachine()
	fmt.Fprintf(stdout, "hytm-bench  %s\n", m.Date.Format(time.RFC3339))
	fmt.Fprintf(stdout, "CPU: %s, %d cores, GOMAXPROCS %d, %s/%s, %s\n", m.CPU, m.Cores, m.GOMAXPROCS, m.OS, m.Arch, m.GoVersion)
	fmt.Fprintf(stdout, "HTM: %s [HYTM_HTM mode: %s]\n", m.HTM, m.HTMMode)
	if m.Revision != "" {
		fmt.Fprintf(stdout, "library: %s\n", m.Revision)
	}
	fmt.Fprintf(stdout, "plan: %d runs of %v, about %v\n\n", len(plan), *duration, roundETA(plan.Estimate()))

	bar := newProgressBar(stderr, plan, *progress)
	rs, err := bench.RunSuite(plan, bar.start)
	bar.finish()
	if err != nil {
		return err
	}
	bench.WriteTable(stdout, rs, bench.TableOptions{Causes: *causes})
	disturbed, maxLoad := 0, 0.0
	for _, r := range rs {
		if r.OtherLoad >= bench.QuietLoad {
			disturbed++
			maxLoad = max(maxLoad, r.OtherLoad)
		}
	}
	if disturbed > 0 {
		fmt.Fprintf(stdout, "\nnote: %d of %d results ran beside other processes (up to %.1f cores busy): their figures are suspect\n",
			disturbed, len(rs), maxLoad)
	}

	rep := bench.Report{Machine: m, Command: commandLine(args), Duration: duration.Seconds(), Results: rs}
	fmt.Fprintln(stdout)
	if *results != "" {
		charts, err := bench.WriteResultsMarkdown(*results, rep)
		if err != nil {
			return err
		}
		resDir := filepath.Join(filepath.Dir(*results), bench.ResultsDir)
		fmt.Fprintln(stdout, wroteLine(len(charts), resDir))
		fmt.Fprintf(stdout, "wrote %s\n", *results)
		if filepath.Clean(outDir) == filepath.Clean(resDir) {
			outDir = ""
		}
	}
	if outDir != "" {
		charts, err := bench.WriteOutputs(outDir, rep)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, wroteLine(len(charts), outDir))
	}
	for _, r := range rs {
		if r.Check != "ok" {
			return fmt.Errorf("%s/%s/g=%d: invariant violated: %s", r.Workload, r.Variant, r.Goroutines, r.Check)
		}
	}
	return nil
}

// defaultOut is the default output folder, relative to the current
// directory (ignored by git at the repository root).
const defaultOut = "bench-results"

// roundETA rounds an estimate for printing: to the second below two
// minutes, to ten seconds above.
func roundETA(d time.Duration) time.Duration {
	if d < 2*time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Second)
}

func commandLine(args []string) string {
	return strings.Join(append([]string{"hytm-bench"}, args...), " ")
}

// wroteLine reports what WriteOutputs wrote into dir, in one short line.
func wroteLine(charts int, dir string) string {
	noun := "charts"
	if charts == 1 {
		noun = "chart"
	}
	return fmt.Sprintf("wrote %d %s, results.csv and results.json to %s", charts, noun, dir)
}

// checkWritable creates dir if needed and checks that a file can be
// created in it, so that a bad -out or -results fails before the runs.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	f, err := os.CreateTemp(dir, ".hytm-bench-*")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// reexec re-runs the command with HYTM_HTM=mode: the htm package reads the
// variable once, at initialisation, so it cannot change in this process.
func reexec(mode string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("-htm: cannot find the executable to re-run: %v", err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, htm.EnvMode+"=") && !strings.HasPrefix(kv, reexecEnv+"=") {
			env = append(env, kv)
		}
	}
	env = append(env, htm.EnvMode+"="+mode, reexecEnv+"=1")
	return syscall.Exec(exe, os.Args, env)
}
