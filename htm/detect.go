package htm

import (
	"fmt"
	"strings"
	"sync"

	"github.com/klauspost/cpuid/v2"
)

// CPUFeatures are the CPU facts that RTM detection decides on. [HostCPU]
// reads them from CPUID; tests build them by hand.
type CPUFeatures struct {
	Vendor   string // CPUID vendor string, such as "GenuineIntel"
	Brand    string // brand string, such as "Intel(R) Xeon(R) Platinum 8480+"
	Family   int    // display family
	Model    int    // display model (extended model included)
	Stepping int    // stepping

	// RTM is CPUID.(EAX=7,ECX=0):EBX[11]: the RTM instructions exist.
	RTM bool
	// RTMAlwaysAbort is CPUID.(EAX=7,ECX=0):EDX[11]: the microcode makes
	// every transaction abort (Intel's 2021 TSX deprecation updates).
	RTMAlwaysAbort bool
}

// HostCPU returns the features of the CPU the program runs on, as reported
// by github.com/klauspost/cpuid/v2.
func HostCPU() CPUFeatures { return cpuFeatures(&cpuid.CPU) }

func cpuFeatures(c *cpuid.CPUInfo) CPUFeatures {
	return CPUFeatures{
		Vendor:         c.VendorString,
		Brand:          strings.TrimSpace(c.BrandName),
		Family:         c.Family,
		Model:          c.Model,
		Stepping:       c.Stepping,
		RTM:            c.Has(cpuid.RTM),
		RTMAlwaysAbort: c.Has(cpuid.RTM_ALWAYS_ABORT),
	}
}

// haswellErratum reports whether f is one of the Haswell parts whose TSX is
// broken (erratum HSD136/HSW136; fixed by microcode that clears the RTM bit,
// but old microcode may still be loaded). The list is libitm's and glibc's:
// family 6, models 0x3c, 0x45, 0x46, and 0x3f before stepping 4.
func haswellErratum(f CPUFeatures) bool {
	if f.Family != 6 {
		return false
	}
	switch f.Model {
	case 0x3c, 0x45, 0x46:
		return true
	case 0x3f:
		return f.Stepping < 4
	}
	return false
}

// selfTestRuns is how many empty transactions the self-test runs, and
// selfTestMinPercent the share that must commit. An RTM disabled through
// MSR TSX_CTRL (RTM_DISABLE) still reports RTM in CPUID but aborts every
// transaction without a fault; a healthy CPU commits nearly all.
const (
	selfTestRuns       = 1000
	selfTestMinPercent = 50
)

// verdict is the outcome of detection.
type verdict struct {
	ok   bool
	info string
}

// decide is detection as a pure function: asm says whether the build has the
// RTM instructions (noAsm says why not), f are the CPU facts, and selfTest
// runs n empty transactions and returns how many committed. selfTest is
// called only when everything else says RTM is usable, so that no RTM
// instruction ever runs on a CPU that would fault on it.
func decide(asm bool, noAsm string, f CPUFeatures, selfTest func(n int) int) verdict {
	switch {
	case !asm:
		return verdict{info: noAsm}
	case !f.RTM:
		name := f.Brand
		if name == "" {
			name = f.Vendor
		}
		if name == "" {
			return verdict{info: "RTM not present"}
		}
		return verdict{info: "RTM not present (" + name + ")"}
	case f.RTMAlwaysAbort:
		return verdict{info: "RTM disabled by microcode (RTM_ALWAYS_ABORT)"}
	case haswellErratum(f):
		return verdict{info: fmt.Sprintf("RTM blacklisted: Haswell TSX erratum (family %d, model %#x, stepping %d)",
			f.Family, f.Model, f.Stepping)}
	}
	committed := selfTest(selfTestRuns)
	pct := committed * 100 / selfTestRuns
	if pct < selfTestMinPercent {
		return verdict{info: fmt.Sprintf("RTM self-test failed: %d%% of %d committed", pct, selfTestRuns)}
	}
	return verdict{ok: true, info: fmt.Sprintf("RTM available: %d%% of self-test transactions committed", pct)}
}

// selfTest runs n empty transactions and returns how many committed. It
// must only run where decide allows it.
func selfTest(n int) int {
	committed := 0
	for range n {
		if Begin() == Started {
			End()
			committed++
		}
	}
	return committed
}

var (
	detectOnce sync.Once
	detected   verdict // written once under detectOnce
)

// detection runs detection the first time it is called and returns the
// verdict. In ModeOff and ModeEmulate nothing is probed.
func detection() *verdict {
	detectOnce.Do(func() {
		if mode == ModeOff || mode == ModeEmulate {
			detected = verdict{info: modeInfo}
			return
		}
		detected = decide(asmAvailable, noAsmReason, HostCPU(), selfTest)
	})
	return &detected
}

// Supported reports whether this CPU runs RTM transactions usefully: the
// build has the instructions (amd64 without the purego tag), CPUID reports
// RTM, the microcode does not force aborts (RTM_ALWAYS_ABORT), the CPU is not
// a Haswell with the TSX erratum, and at least 50% of 1,000 empty
// self-test transactions commit. [Info] says which condition decided.
//
// Detection runs once, on the first call of Supported, [Enabled] or [Info];
// later calls cost an atomic load. In [ModeOff] and [ModeEmulate] nothing is
// probed and Supported reports false. In [ModeForce] detection runs as in
// [ModeAuto] (it never executes an RTM instruction that could fault), but
// its verdict does not gate [Enabled].
func Supported() bool { return detection().ok }

// Info explains, in words, what [Supported] and [Enabled] report. Examples:
//
//	RTM not present (AMD EPYC 7763 64-Core Processor)
//	RTM disabled by microcode (RTM_ALWAYS_ABORT)
//	RTM blacklisted: Haswell TSX erratum (family 6, model 0x3c, stepping 3)
//	RTM self-test failed: 0% of 1000 committed
//	RTM available: 98% of self-test transactions committed
//	RTM not available on GOARCH=arm64
//	HTM emulated (HYTM_HTM=emulate)
//	HTM forced (HYTM_HTM=force); detection: RTM not present (AMD EPYC)
//	HTM off (HYTM_HTM=off)
//	HTM off (invalid HYTM_HTM value "yes")
func Info() string {
	v := detection()
	if mode == ModeForce {
		return "HTM forced (" + EnvMode + "=force); detection: " + v.info
	}
	return v.info
}
