package htm

import "testing"

func TestStatusDecode(t *testing.T) {
	type flags struct{ explicit, retry, conflict, capacity, debug, nested bool }
	tests := []struct {
		s    Status
		str  string
		code uint8
		f    flags
	}{
		{Started, "started", 0, flags{}},
		{0, "other(0)", 0, flags{}},
		{0x40, "other(0x40)", 0, flags{}},
		{0xab000000, "other(0xab000000)", 0, flags{}}, // code bits without the explicit bit
		{StatusCapacity, "capacity", 0, flags{capacity: true}},
		{StatusRetry, "retry", 0, flags{retry: true}},
		{StatusConflict | StatusRetry, "retry|conflict", 0, flags{retry: true, conflict: true}},
		{StatusDebug, "debug", 0, flags{debug: true}},
		{ExplicitStatus(CodeLockBusy), "explicit(0xff)", 0xff, flags{explicit: true}},
		{ExplicitStatus(CodeSoftware) | StatusNested, "explicit(0xfe)|nested", 0xfe, flags{explicit: true, nested: true}},
		{ExplicitStatus(0x0a) | StatusRetry, "explicit(0x0a)|retry", 0x0a, flags{explicit: true, retry: true}},
		{ExplicitStatus(0), "explicit(0x00)", 0, flags{explicit: true}},
		{StatusCapacity | 0x100, "capacity|reserved(0x100)", 0, flags{capacity: true}},
		{0x3f | 0x11<<24, "explicit(0x11)|retry|conflict|capacity|debug|nested", 0x11,
			flags{true, true, true, true, true, true}},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.str {
			t.Errorf("Status(%#x).String() = %q, want %q", uint32(tt.s), got, tt.str)
		}
		got := flags{tt.s.Explicit(), tt.s.Retry(), tt.s.Conflict(), tt.s.Capacity(), tt.s.Debug(), tt.s.Nested()}
		if got != tt.f {
			t.Errorf("Status(%#x) flags = %+v, want %+v", uint32(tt.s), got, tt.f)
		}
		if c := tt.s.Code(); c != tt.code {
			t.Errorf("Status(%#x).Code() = %#x, want %#x", uint32(tt.s), c, tt.code)
		}
	}
}

func TestStatusConstants(t *testing.T) {
	if Started != Status(^uint32(0)) {
		t.Errorf("Started = %#x, want ^uint32(0)", uint32(Started))
	}
	// No abort status can equal Started: the CPU never sets retry with
	// explicit. Each code must round-trip through ExplicitStatus.
	for _, c := range []uint8{CodeLockBusy, CodeSoftware, CodeNotHead} {
		s := ExplicitStatus(c)
		if s == Started || !s.Explicit() || s.Code() != c || s.Retry() {
			t.Errorf("ExplicitStatus(%#x) = %v", c, s)
		}
	}
	if CodeLockBusy != 0xff || CodeSoftware != 0xfe || CodeNotHead != 0xfd {
		t.Error("abort codes changed; the hybrid layer and asm_amd64.s depend on them")
	}
}
