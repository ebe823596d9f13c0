package bench

import (
	"math"
	"math/bits"
	"sync"
	"time"

	"github.com/hytm/hytm/bench/internal/wl"
)

// Histogram counts durations in nanoseconds in log-linear buckets: exact
// below 32ns, then 32 buckets per power of two, so a bucket is at most
// 1/32 (about 3%) of its values wide. Recording is a few instructions and
// never allocates; the zero value is empty and ready to use.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
}

const (
	histSubBits = 5
	histSub     = 1 << histSubBits
	// histBuckets covers every uint64: exponents 0..58 above the exact range.
	histBuckets = (64 - histSubBits) * histSub
)

// histIndex returns the bucket of v.
func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits - 1 // v>>e is in [histSub, 2*histSub)
	return (e+1)*histSub + int(v>>e) - histSub
}

// histBounds returns the smallest value of bucket i and the smallest value
// of the next one.
func histBounds(i int) (lo, hi float64) {
	if i < histSub {
		return float64(i), float64(i + 1)
	}
	e := i/histSub - 1
	m := uint64(i%histSub + histSub)
	return float64(m << e), float64((m + 1) << e)
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	h.counts[histIndex(uint64(max(d, 0)))]++
	h.n++
}

// Count returns the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.n }

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// Quantile returns the q-quantile (0 < q <= 1) in nanoseconds: the
// smallest recorded value v such that at least q of the values are at most
// v, interpolated linearly inside its bucket. It returns NaN when h is
// empty.
func (h *Histogram) Quantile(q float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	rank := max(1, math.Ceil(q*float64(h.n))) // 1-based rank of the value
	var seen float64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			lo, hi := histBounds(i)
			if hi-lo <= 1 {
				return lo
			}
			// The c values of the bucket spread evenly over [lo, hi).
			return lo + (hi-lo)*(rank-seen-0.5)/float64(c)
		}
		seen += float64(c)
	}
	lo, _ := histBounds(histBuckets - 1)
	return lo
}

// Latency summarises the sampled latencies of one configuration's
// operations: the wall time of one call of the operation, transaction
// retries included, from the calling goroutine's point of view.
type Latency struct {
	// Samples is the number of timed operations; Every is the sampling
	// stride (about 1 in Every operations was timed).
	Samples uint64 `json:"samples"`
	Every   int    `json:"every"`
	// P50, P99 and P999 are percentiles in nanoseconds.
	P50  float64 `json:"p50_ns"`
	P99  float64 `json:"p99_ns"`
	P999 float64 `json:"p999_ns"`
}

// summarize returns h's percentiles, or nil when h is empty.
func (h *Histogram) summarize(every int) *Latency {
	if h == nil || h.n == 0 {
		return nil
	}
	return &Latency{Samples: h.n, Every: every, P50: h.Quantile(0.50), P99: h.Quantile(0.99), P999: h.Quantile(0.999)}
}

// SamplingBudget is the share of a worker's time that timing its sampled
// operations may take: the stride is chosen so that timing the sampled
// operations (clock reads and recording, as calibrated in a tight loop)
// costs this much of the operations' own time. Inside a workload a sample
// costs a few times the calibrated figure (cold caches), and the untimed
// operations pay one compare each; BenchmarkLatencyOverhead measures the
// total, about 1% on the fastest operations.
const SamplingBudget = 0.002

// maxStride bounds the sampling stride, so that even the fastest
// operations yield thousands of samples per second.
const maxStride = 1 << 14

// samplingStride returns the stride that keeps the timing cost within
// budget: one sample costs cost, an operation takes op.
func samplingStride(cost, op time.Duration, budget float64) int {
	if op <= 0 || budget <= 0 {
		return maxStride
	}
	n := math.Ceil(float64(cost) / (budget * float64(op)))
	return int(min(max(n, 1), maxStride))
}

var (
	sampleCostOnce sync.Once
	sampleCostVal  time.Duration
)

// sampleCost returns what timing one operation costs: a time.Now, a
// time.Since and a Record, measured once (the fastest of a few rounds).
func sampleCost() time.Duration {
	sampleCostOnce.Do(func() {
		const n = 2000
		var h Histogram
		best := time.Duration(math.MaxInt64)
		for range 5 {
			t0 := time.Now()
			for range n {
				t := time.Now()
				h.Record(time.Since(t))
			}
			best = min(best, time.Since(t0)/n)
		}
		sampleCostVal = max(best, time.Nanosecond)
	})
	return sampleCostVal
}

// sampler decides which of a worker's operations to time: a countdown
// restarted at a jittered stride (uniform in stride ± stride/2), so
// that periodic behaviour of a workload cannot line up with the samples.
type sampler struct {
	stride int
	rng    uint64
	hist   *Histogram
}

func newSampler(stride int, seed uint64, h *Histogram) *sampler {
	return &sampler{stride: stride, rng: seed | 1, hist: h}
}

// timed runs op once, timing it, and counts it in w.Ops.
func (s *sampler) timed(w *wl.Worker, op func()) {
	t := time.Now()
	op()
	s.hist.Record(time.Since(t))
	w.Ops++
}

// gap returns the number of operations from one timed operation to the
// next (1: the next operation is timed).
func (s *sampler) gap() int {
	if s.stride <= 1 {
		return 1
	}
	s.rng ^= s.rng << 13
	s.rng ^= s.rng >> 7
	s.rng ^= s.rng << 17
	h := s.stride / 2
	return s.stride - h + int(s.rng%uint64(2*h+1))
}
