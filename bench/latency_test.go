package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hytm/hytm/bench/internal/wl"
)

// TestHistogramBuckets checks that every value falls in a bucket whose
// bounds contain it, that buckets are contiguous, and that a bucket is at
// most 1/32 of its values wide.
func TestHistogramBuckets(t *testing.T) {
	for i := 1; i < histBuckets; i++ {
		_, hi0 := histBounds(i - 1)
		lo, hi := histBounds(i)
		if lo != hi0 {
			t.Fatalf("bucket %d starts at %v, bucket %d ends at %v", i, lo, i-1, hi0)
		}
		if lo >= histSub && (hi-lo)/lo > 1.0/histSub+1e-12 {
			t.Fatalf("bucket %d [%v, %v) wider than 1/%d", i, lo, hi, histSub)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		v := rng.Uint64() >> (11 + rng.IntN(53)) // exact as float64
		i := histIndex(v)
		lo, hi := histBounds(i)
		if i < 0 || i >= histBuckets || float64(v) < lo || float64(v) >= hi {
			t.Fatalf("value %d in bucket %d [%v, %v)", v, i, lo, hi)
		}
	}
}

// TestHistogramQuantiles compares the histogram's percentiles with the exact
// ones of known distributions: uniform, exponential and a long-tailed mix
// like a lock's latencies (most fast, 0.5% a thousand times slower).
func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dists := map[string]func() float64{
		"uniform 1..100000": func() float64 { return 1 + rng.Float64()*99999 },
		"exponential 2µs":   func() float64 { return rng.ExpFloat64() * 2000 },
		"bimodal 50ns/100µs": func() float64 {
			return map[bool]float64{false: 40 + 20*rng.Float64(), true: 1e5 * (1 + rng.Float64())}[rng.IntN(200) == 0]
		},
	}
	for name, draw := range dists {
		var h Histogram
		xs := make([]float64, 200000)
		for i := range xs {
			xs[i] = math.Round(draw())
			h.Record(time.Duration(xs[i]))
		}
		slices.Sort(xs)
		if h.Count() != uint64(len(xs)) {
			t.Fatalf("%s: count %d, want %d", name, h.Count(), len(xs))
		}
		for _, q := range []float64{0.5, 0.9, 0.99, 0.995, 0.999} {
			exact := xs[int(math.Ceil(q*float64(len(xs))))-1]
			got := h.Quantile(q)
			if rel := math.Abs(got-exact) / max(exact, 1); rel > 1.0/histSub {
				t.Errorf("%s: q%v = %.1f, exact %.1f (%.1f%% off)", name, q, got, exact, 100*rel)
			}
		}
	}
	var empty Histogram
	if !math.IsNaN(empty.Quantile(0.5)) {
		t.Error("empty histogram: quantile is not NaN")
	}
	var one Histogram
	one.Record(7)
	if got := one.Quantile(0.999); got != 7 {
		t.Errorf("single value 7: p99.9 = %v", got)
	}
}

// TestHistogramMerge checks that merging equals recording everything in one.
func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := range 10000 {
		d := time.Duration(i * i)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	a.Merge(&b)
	if a != all {
		t.Error("merged histogram differs from the one that recorded everything")
	}
}

// TestSamplingStride checks the stride against the budget: fast operations
// are sampled rarely, slow ones every time, within the bounds.
func TestSamplingStride(t *testing.T) {
	for _, c := range []struct {
		cost, op time.Duration
		budget   float64
		want     int
	}{
		{50 * time.Nanosecond, 10 * time.Nanosecond, 0.005, 1000},
		{50 * time.Nanosecond, 500 * time.Nanosecond, 0.005, 20},
		{50 * time.Nanosecond, 10 * time.Microsecond, 0.005, 1},
		{50 * time.Nanosecond, time.Nanosecond, 0.001, maxStride},
		{50 * time.Nanosecond, 0, 0.005, maxStride},
	} {
		if got := samplingStride(c.cost, c.op, c.budget); got != c.want {
			t.Errorf("samplingStride(%v, %v, %v) = %d, want %d", c.cost, c.op, c.budget, got, c.want)
		}
	}
}

// TestSamplerGaps checks that the jittered gaps stay within stride ±
// stride/2 and average to the stride, so that Every is honest.
func TestSamplerGaps(t *testing.T) {
	for _, stride := range []int{1, 2, 7, 100, 1000} {
		s := newSampler(stride, 42, new(Histogram))
		sum, n := 0, 100000
		for range n {
			g := s.gap()
			if g < max(1, stride-stride/2) || g > stride+stride/2 {
				t.Fatalf("stride %d: gap %d", stride, g)
			}
			sum += g
		}
		if mean := float64(sum) / float64(n); math.Abs(mean-float64(stride))/float64(stride) > 0.02 && stride > 1 {
			t.Errorf("stride %d: mean gap %.1f", stride, mean)
		}
	}
}

// TestRunLatency checks that a run reports latency percentiles in order,
// from a sensible number of samples, and none when sampling is off.
func TestRunLatency(t *testing.T) {
	c := Config{Workload: "hashset", Variant: "stm", Goroutines: 2, Update: 10, Duration: 30 * time.Millisecond, Seed: 1}
	r, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	l := r.Latency
	if l == nil {
		t.Fatal("no latency")
	}
	if l.Samples == 0 || l.Every < 1 || !(0 < l.P50 && l.P50 <= l.P99 && l.P99 <= l.P999) {
		t.Errorf("latency %+v", *l)
	}
	if est := float64(r.Ops) / float64(l.Every); float64(l.Samples) < est/3 || float64(l.Samples) > est*3 {
		t.Errorf("%d samples from %d ops at 1 in %d", l.Samples, r.Ops, l.Every)
	}
	c.NoLatency = true
	if r, err = Run(c); err != nil {
		t.Fatal(err)
	}
	if r.Latency != nil {
		t.Errorf("latency %+v with NoLatency", *r.Latency)
	}
}

// spin is a synthetic operation of about 10ns: a short dependent chain of
// multiplications the compiler cannot remove.
var spinState uint64 = 1

func spin() {
	x := spinState
	for range 8 {
		x = x*0x9E3779B97F4A7C15 + 1
	}
	spinState = x
}

// BenchmarkSampling measures the cost of latency sampling on the worker
// loop itself, around an operation of about 10ns (faster than any of the
// suite's): off runs the plain loop, every times every operation (the
// difference from off is the cost of one sample), and on samples at the
// stride measure would choose for that operation (the difference from off
// is the cost per operation as run; divided by off's ns/op, the worst-case
// throughput loss). Compare with
//
//	go test -run XXX -bench Sampling -count 10 | benchstat -col /sampling -
func BenchmarkSampling(b *testing.B) {
	var w wl.Worker
	var stop atomic.Bool
	// The operation's time, for the stride.
	t0 := time.Now()
	for range 1 << 20 {
		spin()
	}
	stride := samplingStride(sampleCost(), time.Since(t0)>>20, SamplingBudget)
	b.Run("sampling=off", func(b *testing.B) {
		loop(&w, spin, true, uint64(b.N), &stop, nil)
	})
	b.Run("sampling=every", func(b *testing.B) {
		loop(&w, spin, true, uint64(b.N), &stop, newSampler(1, 1, new(Histogram)))
	})
	b.Run("sampling=on", func(b *testing.B) {
		loop(&w, spin, true, uint64(b.N), &stop, newSampler(stride, 1, new(Histogram)))
		b.ReportMetric(float64(stride), "stride")
	})
}

// TestLoopCounts checks that the sampling loops run exactly the operations
// asked for, count them all, and time about 1 in stride of them.
func TestLoopCounts(t *testing.T) {
	for _, stride := range []int{1, 2, 7, 100} {
		for _, limit := range []uint64{0, 1, 5, 1000, 100000} {
			var w wl.Worker
			var stop atomic.Bool
			calls := uint64(0)
			h := new(Histogram)
			loop(&w, func() { calls++ }, true, limit, &stop, newSampler(stride, 3, h))
			if w.Ops != limit || calls != limit {
				t.Errorf("stride %d, limit %d: %d ops counted, %d calls", stride, limit, w.Ops, calls)
			}
			if want := float64(limit) / float64(stride); limit >= 1000 && math.Abs(float64(h.Count())-want) > 0.1*want+2 {
				t.Errorf("stride %d, limit %d: %d timed, want about %.0f", stride, limit, h.Count(), want)
			}
		}
		var w wl.Worker
		var stop atomic.Bool
		calls := uint64(0)
		loop(&w, func() {
			if calls++; calls == 12345 {
				stop.Store(true)
			}
		}, false, 0, &stop, newSampler(stride, 3, new(Histogram)))
		if w.Ops != 12345 || calls != 12345 {
			t.Errorf("stride %d, stop after 12345: %d ops counted, %d calls", stride, w.Ops, calls)
		}
	}
}
