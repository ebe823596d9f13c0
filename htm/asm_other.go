//go:build !amd64 || purego

package htm

import "runtime"

// asmAvailable reports whether this build contains the RTM instructions.
const asmAvailable = false

// noAsmReason says why the RTM instructions are not compiled in.
var noAsmReason = func() string {
	if runtime.GOARCH == "amd64" {
		return "RTM not compiled in (built with the purego tag)"
	}
	return "RTM not available on GOARCH=" + runtime.GOARCH
}()

const notSupported = "htm: RTM not supported"

// Begin would start a hardware transaction. This build has no RTM
// instructions (GOARCH is not amd64, or the purego tag is set): [Supported]
// and [Enabled] report false, and Begin panics with "htm: RTM not supported".
func Begin() Status { panic(notSupported) }

// End would commit the current hardware transaction. In this build it panics
// with "htm: RTM not supported"; see [Begin].
func End() { panic(notSupported) }

// Test reports whether the processor is executing a hardware transaction. In
// this build there are none, so it reports false.
func Test() bool { return false }

// AbortLockBusy would abort the current transaction with [CodeLockBusy]. In
// this build it panics with "htm: RTM not supported"; see [Begin].
func AbortLockBusy() { panic(notSupported) }

// AbortSoftware would abort the current transaction with [CodeSoftware]. In
// this build it panics with "htm: RTM not supported"; see [Begin].
func AbortSoftware() { panic(notSupported) }

// AbortNotHead would abort the current transaction with [CodeNotHead]. In
// this build it panics with "htm: RTM not supported"; see [Begin].
func AbortNotHead() { panic(notSupported) }
