//go:build !amd64 || purego

package htm

import "testing"

func TestNoRTMBuild(t *testing.T) {
	if Supported() {
		t.Fatal("Supported in a build without the RTM instructions")
	}
	if Test() {
		t.Error("Test() = true")
	}
	if CurrentMode() == ModeAuto && Info() != noAsmReason {
		t.Errorf("Info = %q, want %q", Info(), noAsmReason)
	}
	for name, f := range map[string]func(){
		"Begin":         func() { Begin() },
		"End":           End,
		"AbortLockBusy": AbortLockBusy,
		"AbortSoftware": AbortSoftware,
		"AbortNotHead":  AbortNotHead,
	} {
		func() {
			defer func() {
				if r := recover(); r != "htm: RTM not supported" {
					t.Errorf("%s: recover() = %v, want the panic \"htm: RTM not supported\"", name, r)
				}
			}()
			f()
		}()
	}
}
