package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hytm/hytm/bench"
)

// progressBar draws the suite's progress on one terminal line, redrawn a few
// times a second; on a non-terminal it prints a line at every 10%.
type progressBar struct {
	w       io.Writer
	plan    bench.Plan
	enabled bool
	tty     bool
	total   time.Duration // the plan's estimated wall time

	mu       sync.Mutex
	i        int           // index of the running configuration
	doneTime time.Duration // estimated wall time of the finished configurations
	runStart time.Time
	t0       time.Time
	lastPct  int
	stop     chan struct{}
	stopped  chan struct{}
}

func newProgressBar(w io.Writer, plan bench.Plan, enabled bool) *progressBar {
	b := &progressBar{w: w, plan: plan, enabled: enabled, i: -1, lastPct: -1, total: plan.Estimate()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	if enabled && b.tty {
		b.stop, b.stopped = make(chan struct{}), make(chan struct{})
		go b.loop()
	}
	return b
}

func (b *progressBar) loop() {
	defer close(b.stopped)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.draw()
		}
	}
}

// start is called before configuration i runs.
func (b *progressBar) start(i int) {
	if !b.enabled {
		return
	}
	b.mu.Lock()
	now := time.Now()
	if b.i < 0 {
		b.t0 = now
	} else {
		b.doneTime += b.plan.CostAt(b.i)
	}
	b.i, b.runStart = i, now
	b.mu.Unlock()
	b.draw()
}

func (b *progressBar) draw() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.i < 0 {
		return
	}
	c := b.plan[b.i]
	done := b.doneTime + min(time.Since(b.runStart), b.plan.CostAt(b.i))
	frac := float64(done) / float64(max(b.total, 1))
	pct := int(100 * frac)
	eta := fmt.Sprintf(" ETA %v", roundETA(etaLeft(time.Since(b.t0), done, b.total)))
	const width = 30
	n := int(frac * width)
	bar := strings.Repeat("#", n) + strings.Repeat(".", width-n)
	line := fmt.Sprintf("[%s] %3d%% %d/%d %s%s", bar, pct, b.i+1, len(b.plan), c.Label(), eta)
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
		return
	}
	if pct/10 > b.lastPct/10 || b.lastPct < 0 {
		b.lastPct = pct
		fmt.Fprintln(b.w, line)
	}
}

// finish stops the redraws and ends the line.
func (b *progressBar) finish() {
	if !b.enabled {
		return
	}
	if b.stop != nil {
		close(b.stop)
		<-b.stopped
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	line := fmt.Sprintf("[%s] 100%% %d runs in %v", strings.Repeat("#", 30), len(b.plan), time.Since(b.t0).Round(time.Second))
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s\n", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

// etaLeft returns the expected remaining time of a plan whose estimated
// wall time is total, when the configurations estimated at done have taken
// elapsed: the remaining estimate, scaled by how the runs so far compared
// with their estimate. The scale is trusted in proportion to the share of
// the plan done, fully from a fifth on, so that the first runs (small set
// workloads, a warming machine) do not swing it.
func etaLeft(elapsed, done, total time.Duration) time.Duration {
	left := max(total-done, 0)
	if done <= 0 || total <= 0 {
		return left
	}
	ratio := float64(elapsed) / float64(done)
	trust := min(1, float64(done)/(0.2*float64(total)))
	return time.Duration(float64(left) * (1 + trust*(ratio-1)))
}
