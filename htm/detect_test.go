package htm

import (
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// Recorded CPU facts (CPUID family/model/stepping and the two RTM bits).
var (
	cpuAMDEPYC = CPUFeatures{Vendor: "AuthenticAMD", Brand: "AMD EPYC 7763 64-Core Processor",
		Family: 0x19, Model: 0x01, Stepping: 1}
	cpuHaswellDesktop = CPUFeatures{Vendor: "GenuineIntel", Brand: "Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz",
		Family: 6, Model: 0x3c, Stepping: 3, RTM: true}
	cpuHaswellEP = CPUFeatures{Vendor: "GenuineIntel", Brand: "Intel(R) Xeon(R) CPU E5-2699 v3 @ 2.30GHz",
		Family: 6, Model: 0x3f, Stepping: 2, RTM: true}
	cpuHaswellEPFixed = CPUFeatures{Vendor: "GenuineIntel", Brand: "Intel(R) Xeon(R) CPU E7-8890 v3 @ 2.50GHz",
		Family: 6, Model: 0x3f, Stepping: 4, RTM: true}
	cpuSkylake2021 = CPUFeatures{Vendor: "GenuineIntel", Brand: "Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz",
		Family: 6, Model: 0x5e, Stepping: 3, RTM: true, RTMAlwaysAbort: true}
	cpuCascadeLake = CPUFeatures{Vendor: "GenuineIntel", Brand: "Intel(R) Xeon(R) Platinum 8280 CPU @ 2.70GHz",
		Family: 6, Model: 0x55, Stepping: 7, RTM: true}
	cpuSapphireRapids = CPUFeatures{Vendor: "GenuineIntel", Brand: "Intel(R) Xeon(R) Platinum 8480+",
		Family: 6, Model: 0x8f, Stepping: 8, RTM: true}
)

// fakeSelfTest returns a self-test that commits committed of its n runs and
// records that it ran.
func fakeSelfTest(committed int, ran *bool) func(int) int {
	return func(n int) int {
		*ran = true
		if n != selfTestRuns {
			panic("self-test run count changed")
		}
		return committed
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name      string
		asm       bool
		f         CPUFeatures
		committed int
		ok        bool
		selfTest  bool // whether the self-test may run
		info      string
	}{
		{"no RTM", true, cpuAMDEPYC, 1000, false, false,
			"RTM not present (AMD EPYC 7763 64-Core Processor)"},
		{"no RTM, no brand", true, CPUFeatures{Vendor: "AuthenticAMD"}, 1000, false, false,
			"RTM not present (AuthenticAMD)"},
		{"no RTM, nothing known", true, CPUFeatures{}, 1000, false, false,
			"RTM not present"},
		{"RTM_ALWAYS_ABORT", true, cpuSkylake2021, 1000, false, false,
			"RTM disabled by microcode (RTM_ALWAYS_ABORT)"},
		{"Haswell 0x3c", true, cpuHaswellDesktop, 1000, false, false,
			"RTM blacklisted: Haswell TSX erratum (family 6, model 0x3c, stepping 3)"},
		{"Haswell 0x45", true, CPUFeatures{Family: 6, Model: 0x45, RTM: true}, 1000, false, false,
			"RTM blacklisted: Haswell TSX erratum (family 6, model 0x45, stepping 0)"},
		{"Haswell 0x46", true, CPUFeatures{Family: 6, Model: 0x46, Stepping: 1, RTM: true}, 1000, false, false,
			"RTM blacklisted: Haswell TSX erratum (family 6, model 0x46, stepping 1)"},
		{"Haswell-EP stepping 2", true, cpuHaswellEP, 1000, false, false,
			"RTM blacklisted: Haswell TSX erratum (family 6, model 0x3f, stepping 2)"},
		{"Haswell-EP stepping 4", true, cpuHaswellEPFixed, 990, true, true,
			"RTM available: 99% of self-test transactions committed"},
		{"self-test fails (TSX_CTRL)", true, cpuCascadeLake, 0, false, true,
			"RTM self-test failed: 0% of 1000 committed"},
		{"self-test just fails", true, cpuCascadeLake, 499, false, true,
			"RTM self-test failed: 49% of 1000 committed"},
		{"self-test just passes", true, cpuCascadeLake, 500, true, true,
			"RTM available: 50% of self-test transactions committed"},
		{"self-test passes", true, cpuSapphireRapids, 981, true, true,
			"RTM available: 98% of self-test transactions committed"},
		{"no instructions in this build", false, cpuSapphireRapids, 1000, false, false,
			"RTM not available on GOARCH=riscv64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			v := decide(tt.asm, "RTM not available on GOARCH=riscv64", tt.f, fakeSelfTest(tt.committed, &ran))
			if v.ok != tt.ok || v.info != tt.info {
				t.Errorf("decide = {%v, %q}, want {%v, %q}", v.ok, v.info, tt.ok, tt.info)
			}
			if ran && !tt.selfTest {
				t.Error("self-test ran, but it must not where RTM instructions may fault or always abort")
			}
		})
	}
}

// TestDecideImplications checks the gate over all combinations of the facts:
// no RTM, RTM_ALWAYS_ABORT, the erratum, a failing self-test or a build
// without the instructions each imply !ok, and the self-test only runs when
// nothing else ruled RTM out.
func TestDecideImplications(t *testing.T) {
	for mask := range 1 << 5 {
		asm, rtm, always, haswell, pass := mask&1 != 0, mask&2 != 0, mask&4 != 0, mask&8 != 0, mask&16 != 0
		f := CPUFeatures{Family: 6, Model: 0x55, RTM: rtm, RTMAlwaysAbort: always}
		if haswell {
			f.Model = 0x3c
		}
		committed := 0
		if pass {
			committed = selfTestRuns
		}
		ran := false
		v := decide(asm, "no asm", f, fakeSelfTest(committed, &ran))
		usable := asm && rtm && !always && !haswell
		if ran != usable {
			t.Errorf("%+v asm=%v: self-test ran = %v, want %v", f, asm, ran, usable)
		}
		if v.ok != (usable && pass) {
			t.Errorf("%+v asm=%v pass=%v: ok = %v (%s)", f, asm, pass, v.ok, v.info)
		}
	}
}

func TestCPUFeaturesFromCPUID(t *testing.T) {
	var c cpuid.CPUInfo
	c.VendorString = "GenuineIntel"
	c.BrandName = "  Intel(R) Xeon(R) Platinum 8480+ "
	c.Family, c.Model, c.Stepping = 6, 0x8f, 8
	if f := cpuFeatures(&c); f.RTM || f.RTMAlwaysAbort || f.Brand != "Intel(R) Xeon(R) Platinum 8480+" {
		t.Errorf("cpuFeatures = %+v", f)
	}
	c.Enable(cpuid.RTM)
	if f := cpuFeatures(&c); !f.RTM || f.RTMAlwaysAbort {
		t.Errorf("with RTM: cpuFeatures = %+v", f)
	}
	c.Enable(cpuid.RTM_ALWAYS_ABORT)
	if f := cpuFeatures(&c); !f.RTM || !f.RTMAlwaysAbort || f.Family != 6 || f.Model != 0x8f || f.Stepping != 8 {
		t.Errorf("with RTM_ALWAYS_ABORT: cpuFeatures = %+v", f)
	}
}

// TestHost checks detection on the machine running the tests.
func TestHost(t *testing.T) {
	f := HostCPU()
	t.Logf("host: %+v", f)
	t.Logf("mode %v, Supported %v, Enabled %v: %s", CurrentMode(), Supported(), Enabled(), Info())
	if Supported() != Supported() || Info() != Info() {
		t.Error("detection is not stable")
	}
	switch CurrentMode() {
	case ModeAuto:
		if Enabled() != Supported() {
			t.Error("ModeAuto: Enabled != Supported")
		}
		if !f.RTM && (Supported() || !strings.HasPrefix(Info(), "RTM not ")) {
			t.Errorf("CPUID reports no RTM, yet Supported = %v, Info = %q", Supported(), Info())
		}
		if f.RTMAlwaysAbort && Supported() {
			t.Error("RTM_ALWAYS_ABORT, yet Supported")
		}
		if !asmAvailable && Supported() {
			t.Error("no RTM instructions in this build, yet Supported")
		}
	case ModeOff, ModeEmulate:
		if Supported() || Enabled() {
			t.Errorf("%v: Supported = %v, Enabled = %v", CurrentMode(), Supported(), Enabled())
		}
	case ModeForce:
		if Enabled() != asmAvailable || !strings.HasPrefix(Info(), "HTM forced (HYTM_HTM=force); detection: ") {
			t.Errorf("force: Enabled = %v, Info = %q", Enabled(), Info())
		}
	}
}
