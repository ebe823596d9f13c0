package bench

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRate(t *testing.T) {
	for x, want := range map[float64]string{
		0:        "0",
		0.00129:  "0.00129",
		0.000222: "0.000222",
		4.2e-05:  "4.2e-05",
		0.25:     "0.25",
		1.2345:   "1.23",
		12.5:     "12.5",
		1234.4:   "1234",
	} {
		if got := Rate(x); got != want {
			t.Errorf("Rate(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestNanos(t *testing.T) {
	for ns, want := range map[float64]string{
		30:         "30ns",
		999:        "999ns",
		1234:       "1.2µs",
		96e3:       "96µs",
		250e3:      "250µs",
		1.5e6:      "1.5ms",
		2e9:        "2s",
		-1:         "-",
		math.NaN(): "-",
	} {
		if got := Nanos(ns); got != want {
			t.Errorf("Nanos(%v) = %q, want %q", ns, got, want)
		}
	}
}

// sampleResults returns a small group: a lock variant and a TM variant
// with a small abort rate and aborts by cause.
func sampleResults() []*Result {
	rs := []*Result{
		{Workload: "bank", Update: -1, Variant: "mutex", Goroutines: 2, TxPerSec: 4e7, Runs: 3, TxPerSecMin: 3.9e7, TxPerSecMax: 4.1e7,
			AbortsPerCommit: -1, HWShare: -1, Check: "ok", Latency: &Latency{Samples: 1000, Every: 100, P50: 40, P99: 170, P999: 351}},
		{Workload: "bank", Update: -1, Variant: "stm", Goroutines: 2, TxPerSec: 1.9e6, Runs: 3, TxPerSecMin: 1.8e6, TxPerSecMax: 2e6,
			Ops: 1_000_000, AbortsPerCommit: 0.00129, ROOps: 2105, HWShare: -1, Check: "ok",
			Aborts:  map[string]uint64{"validate": 1290, "locked-by-other-writer-at-commit": 40},
			Latency: &Latency{Samples: 1000, Every: 10, P50: 131, P99: 3200, P999: 26000}},
	}
	return rs
}

// TestTableCompact checks the default table: small abort rates are not
// rounded to zero, latency columns are there, the by-cause column only
// with Causes, and lines stay narrow.
func TestTableCompact(t *testing.T) {
	var b bytes.Buffer
	WriteTable(&b, sampleResults(), TableOptions{})
	out := b.String()
	for _, want := range []string{"0.00129", "p50", "p99", "p99.9", "131ns", "3.2µs", "26µs", "0/2105", "39M-41M", "median of 3 runs"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"0.000 ", "by cause", "validate", "check", "hw commits"} {
		if strings.Contains(out, bad) {
			t.Errorf("table has %q:\n%s", bad, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("line of %d characters: %q", n, l)
		}
	}

	b.Reset()
	WriteTable(&b, sampleResults(), TableOptions{Causes: true})
	if !strings.Contains(b.String(), "by cause") || !strings.Contains(b.String(), "validate 0.00129") {
		t.Errorf("table with causes:\n%s", &b)
	}

	rs := sampleResults()
	rs[1].Check = "total 99 != 100"
	b.Reset()
	WriteTable(&b, rs, TableOptions{})
	if !strings.Contains(b.String(), "check") || !strings.Contains(b.String(), "total 99 != 100") {
		t.Errorf("a failed check is not in the table:\n%s", &b)
	}
}

// TestCSVLatency checks the latency and cause columns of the CSV.
func TestCSVLatency(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, sampleResults()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	stm := rows[2]
	for name, want := range map[string]string{
		"latency_p50_ns": "131", "latency_p99_ns": "3200", "latency_p999_ns": "26000", "latency_every": "10",
		"aborts_per_commit": "0.00129", "aborts_by_cause": "locked-by-other-writer-at-commit=40;validate=1290",
	} {
		if got := stm[col[name]]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// TestLogTicks checks that the y axis gets at least three labelled ticks
// inside the range however narrow, and that fitLog adds no empty decade.
func TestLogTicks(t *testing.T) {
	for _, r := range [][2]float64{{155e3, 95e6}, {1.87e6, 22.1e6}, {12e6, 15e6}, {30, 1e6}, {5.9e6, 6.1e6}} {
		lo, hi := fitLog(r[0], r[1])
		if lo > r[0] || hi < r[1] {
			t.Errorf("fitLog(%v) = [%v, %v] cuts the data", r, lo, hi)
		}
		if hi/r[1] > 1.3 && r[1]/r[0] >= 2 {
			t.Errorf("fitLog(%v): top %v leaves empty space above %v", r, hi, r[1])
		}
		labels := 0
		for _, tk := range (logTicks{SI}).Ticks(lo, hi) {
			if tk.Value < lo || tk.Value > hi {
				t.Errorf("range %v: tick %v outside [%v, %v]", r, tk.Value, lo, hi)
			}
			if tk.Label != "" {
				labels++
			}
		}
		if labels < 3 {
			t.Errorf("range %v: %d labelled ticks", r, labels)
		}
	}
}

// TestVariantStyles checks that every variant has its own colour and its
// own marker.
func TestVariantStyles(t *testing.T) {
	colors, glyphs := map[string]string{}, map[string]string{}
	for _, v := range variantOrder {
		s := variantStyle(v)
		r, g, b, _ := s.color.RGBA()
		c := fmt.Sprint(r, g, b)
		if o, ok := colors[c]; ok {
			t.Errorf("%s and %s share a colour", v, o)
		}
		colors[c] = v
		gl := fmt.Sprintf("%T", s.glyph)
		if o, ok := glyphs[gl]; ok {
			t.Errorf("%s and %s share the marker %s", v, o, gl)
		}
		glyphs[gl] = v
	}
}

// TestEstimate checks that a plan's estimate covers warm-up and setup,
// that later runs are estimated dearer, and that the vacation workloads
// (large tables to build) cost more than a set.
func TestEstimate(t *testing.T) {
	p, err := NewPlan(PlanOptions{Workloads: []string{"hashset", "vacation-low"}, Variants: []string{"mutex", "stm"},
		Goroutines: []int{1}, Updates: []int{10}, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var sum time.Duration
	for i, c := range p {
		if c.Cost() < c.Duration+warmup(c.Duration)+10*time.Millisecond {
			t.Errorf("%s: cost %v below its measuring time", c.Label(), c.Cost())
		}
		if i > 0 && p.CostAt(i)-c.Cost() <= p.CostAt(i-1)-p[i-1].Cost() {
			t.Errorf("run %d costs no more than its configuration's cost than run %d", i, i-1)
		}
		sum += p.CostAt(i)
	}
	if p.Estimate() != sum {
		t.Errorf("Estimate %v, sum of costs %v", p.Estimate(), sum)
	}
	if p[0].Cost() >= p[2].Cost() {
		t.Errorf("hashset %v not cheaper than vacation %v", p[0].Cost(), p[2].Cost())
	}
	if p.Estimate() < p.Duration()*3/2 {
		t.Errorf("estimate %v of a plan measuring %v: setup left out", p.Estimate(), p.Duration())
	}
}
