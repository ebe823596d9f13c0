package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
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

// WriteTable prints one table per workload (and update ratio): throughput,
// speed-up over seq, aborts per commit, aborts by cause and the hardware
// commit share, per variant and goroutine count.
func WriteTable(out io.Writer, rs []*Result) {
	for i, k := range groups(rs) {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "%s: %s\n", k, describe(k.Workload))
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "variant\tg\ttx/s\trange\tvs seq\taborts/commit\t by cause\thw commits\tcheck\t")
		for _, r := range rs {
			if r.Workload != k.Workload || r.Update != k.Update {
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t %s\t%s\t%s\t\n", r.Variant, r.Goroutines, SI(r.TxPerSec),
				rangeCell(r), ratio(r.SpeedupSeq), abortsCell(r), r.CauseString(), hwCell(r), r.Check)
		}
		tw.Flush()
	}
}

// rangeCell shows the throughput range over repeated runs.
func rangeCell(r *Result) string {
	if r.Runs <= 1 {
		return "-"
	}
	return fmt.Sprintf("%s-%s (%d runs)", SI(r.TxPerSecMin), SI(r.TxPerSecMax), r.Runs)
}

func ratio(x float64) string {
	if x <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", x)
}

func abortsCell(r *Result) string {
	if r.AbortsPerCommit < 0 {
		return "-"
	}
	s := fmt.Sprintf("%.3f", r.AbortsPerCommit)
	if r.ROOps > 0 {
		s += fmt.Sprintf(" (audits %d/%d)", r.ROAborts, r.ROOps)
	}
	return s
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
	"hw_commit_share", "audit_ops", "audit_aborts", "other_load", "check",
}

// WriteCSV writes one row per result. Unknown numbers are empty cells;
// aborts_by_cause is "cause=count;..." over the run.
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
		row := []string{
			r.Workload, upd, r.Variant, strconv.Itoa(r.Goroutines), f(r.Seconds),
			strconv.FormatUint(r.Ops, 10), f(r.TxPerSec), strconv.Itoa(r.Runs), f(r.TxPerSecMin), f(r.TxPerSecMax),
			opt(nonZero(r.SpeedupSeq)),
			strconv.FormatUint(r.Attempts, 10), opt(r.AbortsPerCommit), strings.Join(causes, ";"),
			opt(r.HWShare), strconv.FormatUint(r.ROOps, 10), strconv.FormatUint(r.ROAborts, 10), opt(r.OtherLoad), r.Check,
		}
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
