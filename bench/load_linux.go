package bench

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is a reading of the machine's busy CPU time and this process's
// CPU time, for measuring other processes' load during a run.
type cpuSample struct {
	busy, self time.Duration
	ok         bool
}

// clockTick is Linux's USER_HZ, the unit of /proc/stat (100 on every
// mainstream architecture).
const clockTick = 10 * time.Millisecond

func sampleCPU() cpuSample {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return cpuSample{}
	}
	var busy int64
	for i, s := range f[1:] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return cpuSample{}
		}
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		busy += n
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return cpuSample{}
	}
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpuSample{busy: time.Duration(busy) * clockTick, self: self, ok: true}
}

// otherLoad returns the average number of cores other processes kept busy
// between a and b, over wall time wall; -1 if unknown.
func otherLoad(a, b cpuSample, wall time.Duration) float64 {
	if !a.ok || !b.ok || wall <= 0 {
		return -1
	}
	other := (b.busy - a.busy) - (b.self - a.self)
	return max(0, other.Seconds()/wall.Seconds())
}
