//go:build !amd64 || purego || race

package stm

import (
	_ "unsafe" // go:linkname

	"github.com/hytm/hytm/htm"
)

// realHardware reports whether this build contains the real RTM path of
// runHardware (mode hwtypes.Real). It is false under the race detector, whose
// instrumentation calls into the runtime on every access and so would abort
// every hardware transaction, and on builds without the RTM instructions.
const realHardware = false

// hasRealHardware reports realHardware to package hybrid (internal/hwlink).
//
//go:linkname hasRealHardware
func hasRealHardware() bool { return realHardware }

func hwRealAbortSoftware() { panic("stm: no real hardware path in this build") }

func (tx *Tx) hwRealHead(h *varHeader) *vnode { panic("stm: no real hardware path in this build") }

func (tx *Tx) hwRealUnwritten(h *varHeader) bool {
	panic("stm: no real hardware path in this build")
}

func (tx *Tx) hwRealNode(h *varHeader) *vnode { panic("stm: no real hardware path in this build") }

func (tx *Tx) runReal(fn func(tx *Tx) error, c *hwContext) (htm.Status, error) {
	panic("stm: no real hardware path in this build")
}
