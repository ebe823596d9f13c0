//go:build !linux

package bench

import "time"

type cpuSample struct{}

func sampleCPU() cpuSample { return cpuSample{} }

// otherLoad is unknown outside Linux.
func otherLoad(a, b cpuSample, wall time.Duration) float64 { return -1 }
