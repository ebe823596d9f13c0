package htm

import (
	"fmt"
	"io"
	"os"
)

// Mode is the HTM policy chosen by the HYTM_HTM environment variable, read
// once when the package initialises.
type Mode int

const (
	// ModeAuto (HYTM_HTM unset, empty or "auto") uses the RTM instructions
	// when detection finds them usable; see [Supported].
	ModeAuto Mode = iota
	// ModeOff ("off") never executes an RTM instruction: everything runs in
	// software. A HYTM_HTM value that is not one of the four modes also
	// selects ModeOff, after a message on standard error.
	ModeOff
	// ModeEmulate ("emulate") executes no RTM instruction either; the hybrid
	// layer runs its hardware path on the [Emulator] returned by
	// [DefaultEmulator] instead.
	ModeEmulate
	// ModeForce ("force") uses the RTM instructions whatever CPUID says.
	// It exists for valgrind, which executes XBEGIN as an immediate capacity
	// abort, and for testing. On a CPU without RTM the first [Begin] raises
	// SIGILL and the program crashes.
	ModeForce
)

// String returns the HYTM_HTM spelling of m: "auto", "off", "emulate" or
// "force".
func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeOff:
		return "off"
	case ModeEmulate:
		return "emulate"
	case ModeForce:
		return "force"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// EnvMode is the name of the environment variable that selects the [Mode].
const EnvMode = "HYTM_HTM"

// ParseMode parses a HYTM_HTM value. The empty string means [ModeAuto].
// Values are lower case; anything else is an error, and the mode returned
// with it is [ModeOff].
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "auto":
		return ModeAuto, nil
	case "off":
		return ModeOff, nil
	case "emulate":
		return ModeEmulate, nil
	case "force":
		return ModeForce, nil
	}
	return ModeOff, fmt.Errorf("htm: invalid %s value %q: want auto, off, emulate or force; HTM off", EnvMode, s)
}

// mode and modeInfo are set once by init and never written again.
var (
	mode     Mode
	modeInfo string // Info text for ModeOff and ModeEmulate, set by init
)

func init() {
	mode, modeInfo = modeFromEnv(os.Getenv(EnvMode), os.Stderr)
}

// modeFromEnv turns the HYTM_HTM value into the mode and, for the modes that
// do not depend on detection, the Info text. An invalid value is reported on
// w.
func modeFromEnv(v string, w io.Writer) (Mode, string) {
	m, err := ParseMode(v)
	if err != nil {
		fmt.Fprintln(w, err)
		return ModeOff, fmt.Sprintf("HTM off (invalid %s value %q)", EnvMode, v)
	}
	switch m {
	case ModeOff:
		return m, "HTM off (" + EnvMode + "=off)"
	case ModeEmulate:
		return m, "HTM emulated (" + EnvMode + "=emulate)"
	}
	return m, ""
}

// CurrentMode returns the mode selected by HYTM_HTM when the package
// initialised.
func CurrentMode() Mode { return mode }

// Enabled reports whether the hybrid layer may execute the RTM instructions:
// in [ModeAuto] when [Supported] reports true, and in [ModeForce] whenever
// the build contains them (amd64 without the purego tag), even on a CPU
// without RTM, where they crash the program. It is false in [ModeOff] and
// [ModeEmulate].
func Enabled() bool {
	switch mode {
	case ModeForce:
		return asmAvailable
	case ModeAuto:
		return Supported()
	}
	return false
}

// Emulated reports whether HYTM_HTM=emulate selected the [Emulator]
// ([ModeEmulate]).
func Emulated() bool { return mode == ModeEmulate }
