// Command hytm-bench runs hytm's benchmark suite: Synchrobench-style sets
// (linked list, skip list, red-black tree, hash set), a bank with long
// read-only audits and vacation-lite, under the variants seq, mutex,
// rwmutex, stm, hybrid (when built in) and anacrolix (anacrolix/stm
// v0.2.0). It prints the hardware it found, a progress bar and a table of
// throughput per workload, variant and goroutine count, and writes CSV,
// JSON and PNG charts to -out.
//
// From the repository root (go.work makes the bench module part of the
// workspace):
//
//	go run ./bench/cmd/hytm-bench
//	go run ./bench/cmd/hytm-bench -workloads rbtree,bank -variants stm,mutex -duration 1s
//	go run ./bench/cmd/hytm-bench -htm=off -variants stm,hybrid
//	go run ./bench/cmd/hytm-bench -count 3 -duration 500ms -results bench/RESULTS.md
//
// The default suite takes about a minute. -htm sets HYTM_HTM, which the htm
// package reads once at start-up, by re-executing the command with it.
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
		workloads = fs.String("workloads", "all", "comma-separated `workloads`: list, skiplist, rbtree, hashset, bank, vacation-low, vacation-high")
		variants  = fs.String("variants", "all", "comma-separated `variants`: seq, mutex, rwmutex, stm, hybrid, anacrolix")
		duration  = fs.Duration("duration", bench.DefaultDuration, "measuring `time` of each run")
		gflag     = fs.String("g", "", "comma-separated goroutine `counts` (default 1, 2, 4, ... up to GOMAXPROCS)")
		update    = fs.String("update", "0,10,50", "comma-separated update `percentages` of the set workloads")
		htmMode   = fs.String("htm", "", "HTM `mode` for the hybrid variant: auto, off or emulate (sets HYTM_HTM; default: as the environment says)")
		out       = fs.String("out", "bench-results", "output `directory` for CSV, JSON and PNG charts")
		results   = fs.String("results", "", "also write a Markdown report to this `file` (e.g. bench/RESULTS.md), with its charts in results/ beside it")
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
	})
	if err != nil {
		return usageError{err.Error()}
	}

	m := bench.ThisMachine()
	fmt.Fprintf(stdout, "hytm-bench  %s\n", m.Date.Format(time.RFC3339))
	fmt.Fprintf(stdout, "CPU: %s, %d cores, GOMAXPROCS %d, %s/%s, %s\n", m.CPU, m.Cores, m.GOMAXPROCS, m.OS, m.Arch, m.GoVersion)
	fmt.Fprintf(stdout, "HTM: %s [HYTM_HTM mode: %s]\n", m.HTM, m.HTMMode)
	if m.Revision != "" {
		fmt.Fprintf(stdout, "library: %s\n", m.Revision)
	}
	fmt.Fprintf(stdout, "plan: %d runs of %v, about %v\n\n", len(plan), *duration, estimate(plan).Round(time.Second))

	bar := newProgressBar(stderr, plan, *progress)
	rs, err := bench.RunSuite(plan, bar.start)
	bar.finish()
	if err != nil {
		return err
	}
	bench.WriteTable(stdout, rs)
	disturbed, maxLoad := 0, 0.0
	for _, r := range rs {
		if r.OtherLoad >= bench.QuietLoad {
			disturbed++
			maxLoad = max(maxLoad, r.OtherLoad)
		}
	}
	if disturbed > 0 {
		fmt.Fprintf(stdout, "\nnote: %d of %d results come from runs that shared the machine with other processes (up to %.1f cores busy); their throughput is suspect\n",
			disturbed, len(rs), maxLoad)
	}

	rep := bench.Report{Machine: m, Command: commandLine(args), Duration: duration.Seconds(), Results: rs}
	files, err := writeOutputs(*out, rep)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", strings.Join(files, ", "))
	if *results != "" {
		if err := bench.WriteResultsMarkdown(*results, rep); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *results)
	}
	for _, r := range rs {
		if r.Check != "ok" {
			return fmt.Errorf("%s/%s/g=%d: invariant violated: %s", r.Workload, r.Variant, r.Goroutines, r.Check)
		}
	}
	return nil
}

// estimate guesses the suite's wall time: the measuring time, a fifth more
// for warm-up, and about 0.1s of setup and checks per run.
func estimate(p bench.Plan) time.Duration {
	return p.Duration()*6/5 + time.Duration(len(p))*100*time.Millisecond
}

func commandLine(args []string) string {
	return strings.Join(append([]string{"hytm-bench"}, args...), " ")
}

// writeOutputs writes results.csv, results.json and the charts into dir.
func writeOutputs(dir string, rep bench.Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	write := func(name string, f func(io.Writer) error) error {
		path := filepath.Join(dir, name)
		fh, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := f(fh); err != nil {
			fh.Close()
			return err
		}
		files = append(files, path)
		return fh.Close()
	}
	if err := write("results.csv", func(w io.Writer) error { return bench.WriteCSV(w, rep.Results) }); err != nil {
		return files, err
	}
	if err := write("results.json", func(w io.Writer) error { return bench.WriteJSON(w, rep) }); err != nil {
		return files, err
	}
	charts, err := bench.WriteCharts(dir, rep.Results)
	for _, c := range charts {
		files = append(files, filepath.Join(dir, c))
	}
	return files, err
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
