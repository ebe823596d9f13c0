package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// SI formats x with a k/M/G suffix and three significant digits.
func SI(x float64) string {
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.3gG", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.3gM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.3gk", x/1e3)
	}
	return fmt.Sprintf("%.3g", x)
}

// describe returns the workload's description, or "".
func describe(workload string) string {
	if w, err := LookupWorkload(workload); err == nil {
		return w.Desc
	}
	return ""
}

// TableOptions select the optional columns of WriteTable.
type TableOptions struct {
	// Causes adds the aborts per commit by cause (the TM's own counters).
	Causes bool
}

// WriteTable prints one table per workload (and update ratio): throughput
// and its range over repeated runs, speed-up over seq, aborts per commit
// and latency percentiles per variant and goroutine count; audit aborts,
// the hardware commit share and failed checks where a group has them, and
// aborts by cause when o.Causes is set.
func WriteTable(out io.Writer, rs []*Result, o TableOptions) {
	for i, k := range groups(rs) {
		if i > 0 {
			fmt.Fprintln(out)
		}
		var g []*Result
		for _, r := range rs {
			if r.Workload == k.Workload && r.Update == k.Update {
				g = append(g, r)
			}
		}
		head := fmt.Sprintf("%s: %s", k, describe(k.Workload))
		if g[0].Runs > 1 {
			head += fmt.Sprintf(" (median of %d runs)", g[0].Runs)
		}
		fmt.Fprintln(out, head)
		cols := tableColumns(g, o.Causes)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t", c.name)
		}
		fmt.Fprintln(tw)
		for _, r := range g {
			for _, c := range cols {
				fmt.Fprintf(tw, "%s\t", c.cell(r))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
}

// column is one column of a results table.
type column struct {
	name string
	cell func(*Result) string
}

// tableColumns returns the columns for a group's results: the fixed ones,
// then those the group has data for.
func tableColumns(g []*Result, causes bool) []column {
	cols := []column{
		{"variant", func(r *Result) string { return r.Variant }},
		{"g", func(r *Result) string { return strconv.Itoa(r.Goroutines) }},
		{"tx/s", func(r *Result) string { return SI(r.TxPerSec) }},
	}
	has := func(f func(*Result) bool) bool { return slices.ContainsFunc(g, f) }
	if has(func(r *Result) bool { return r.Runs > 1 }) {
		cols = append(cols, column{"range", rangeCell})
	}
	cols = append(cols,
		column{"vs seq", func(r *Result) string { return ratio(r.SpeedupSeq) }},
		column{"aborts/commit", abortsCell},
	)
	if has(func(r *Result) bool { return r.ROOps > 0 }) {
		cols = append(cols, column{"audit aborts", auditCell})
	}
	cols = append(cols,
		column{"p50", func(r *Result) string { return latencyCell(r, 0.5) }},
		column{"p99", func(r *Result) string { return latencyCell(r, 0.99) }},
		column{"p99.9", func(r *Result) string { return latencyCell(r, 0.999) }},
	)
	if has(func(r *Result) bool { return r.HWShare >= 0 }) {
		cols = append(cols, column{"hw commits", hwCell})
	}
	if has(func(r *Result) bool { return r.Check != "ok" }) {
		cols = append(cols, column{"check", func(r *Result) string { return r.Check }})
	}
	if causes {
		cols = append(cols, column{" by cause", func(r *Result) string { return " " + r.CauseString() }})
	}
	return cols
}

// rangeCell shows the throughput range over repeated runs.
func rangeCell(r *Result) string {
	if r.Runs <= 1 {
		return "-"
	}
	return SI(r.TxPerSecMin) + "-" + SI(r.TxPerSecMax)
}

// ratio formats a speed-up: two decimals, or two significant digits
// below 0.1 ("0.0024x"), so that a slow variant does not show as 0.00x.
func ratio(x float64) string {
	switch {
	case x <= 0:
		return "-"
	case x < 0.1:
		return fmt.Sprintf("%.2gx", x)
	}
	return fmt.Sprintf("%.2fx", x)
}

// Rate formats a non-negative rate such as aborts per commit with three
// significant digits, so that a small rate never shows as zero: "0",
// "0.00129", "0.25", "12.5"; below 0.0001 in exponent form ("3.1e-06").
func Rate(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x < 1e-4:
		return strconv.FormatFloat(x, 'e', 1, 64)
	case x >= 1000:
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return fmt.Sprintf("%.3g", x)
}

func abortsCell(r *Result) string {
	if r.AbortsPerCommit < 0 {
		return "-"
	}
	return Rate(r.AbortsPerCommit)
}

// auditCell shows the aborted attempts of the read-only audits against
// their number.
func auditCell(r *Result) string {
	if r.ROOps == 0 || r.AbortsPerCommit < 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", r.ROAborts, r.ROOps)
}

// latencyCell shows the q-quantile of r's latency (0.5, 0.99 or 0.999).
func latencyCell(r *Result, q float64) string {
	if r.Latency == nil {
		return "-"
	}
	switch q {
	case 0.5:
		return Nanos(r.Latency.P50)
	case 0.99:
		return Nanos(r.Latency.P99)
	}
	return Nanos(r.Latency.P999)
}

// Nanos formats a duration in nanoseconds with two or three significant
// digits and a unit: "85ns", "1.2µs", "96µs", "1.5ms".
func Nanos(ns float64) string {
	if math.IsNaN(ns) || ns < 0 {
		return "-"
	}
	units := []struct {
		div  float64
		name string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}}
	for _, u := range units {
		if ns >= u.div {
			return sig(ns/u.div) + u.name
		}
	}
	return fmt.Sprintf("%.0fns", ns)
}

// sig formats x >= 1 with two significant digits below 10, else as an
// integer: "1.2", "96", "250".
func sig(x float64) string {
	if x < 9.95 {
		return fmt.Sprintf("%.2g", x)
	}
	return fmt.Sprintf("%.0f", x)
}

func hwCell(r *Result) string {
	if r.HWShare < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*r.HWShare)
}

// csvHeader lists the CSV columns.
var csvHeader = []string{
	"workload", "update", "variant", "goroutines", "seconds", "ops", "tx_per_s", "runs", "tx_per_s_min", "tx_per_s_max",
	"speedup_vs_seq", "attempts", "aborts_per_commit", "aborts_by_cause",
	"hw_commit_share", "audit_ops", "audit_aborts",
	"latency_p50_ns", "latency_p99_ns", "latency_p999_ns", "latency_samples", "latency_every",
	"cpu_s", "other_load", "check",
}

// WriteCSV writes one row per result. Unknown numbers are empty cells;
// aborts_by_cause is "cause=count;..." over the run; the latency columns
// are empty when latency was not sampled.
func WriteCSV(out io.Writer, rs []*Result) error {
	cw := csv.NewWriter(out)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	opt := func(x float64) string {
		if x < 0 {
			return ""
		}
		return f(x)
	}
	for _, r := range rs {
		upd := ""
		if r.Update >= 0 {
			upd = strconv.Itoa(r.Update)
		}
		var causes []string
		for _, c := range sortedKeys(r.Aborts) {
			causes = append(causes, fmt.Sprintf("%s=%d", c, r.Aborts[c]))
		}
		lat := make([]string, 5)
		if l := r.Latency; l != nil {
			lat = []string{f(l.P50), f(l.P99), f(l.P999), strconv.FormatUint(l.Samples, 10), strconv.Itoa(l.Every)}
		}
		row := []string{
			r.Workload, upd, r.Variant, strconv.Itoa(r.Goroutines), f(r.Seconds),
			strconv.FormatUint(r.Ops, 10), f(r.TxPerSec), strconv.Itoa(r.Runs), f(r.TxPerSecMin), f(r.TxPerSecMax),
			opt(nonZero(r.SpeedupSeq)),
			strconv.FormatUint(r.Attempts, 10), opt(r.AbortsPerCommit), strings.Join(causes, ";"),
			opt(r.HWShare), strconv.FormatUint(r.ROOps, 10), strconv.FormatUint(r.ROAborts, 10),
		}
		row = append(row, lat...)
		row = append(row, opt(nonZero(r.CPUSeconds)), opt(r.OtherLoad), r.Check)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func nonZero(x float64) float64 {
	if x == 0 {
		return -1
	}
	return x
}

func sortedKeys(m map[string]uint64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Report is the JSON document: where the suite ran, how, and its results.
type Report struct {
	Machine  Machine   `json:"machine"`
	Command  string    `json:"command,omitempty"`
	Duration float64   `json:"duration_per_run_s"`
	Results  []*Result `json:"results"`
}

// WriteJSON writes rep as indented JSON.
func WriteJSON(out io.Writer, rep Report) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
