//go:build !amd64 || purego || race

package stm

import "github.com/hytm/hytm/htm"

// RealHardware reports whether this build contains the real RTM path of
// [RunHardware] (mode [HWReal]). It is false under the race detector, whose
// instrumentation calls into the runtime on every access and so would abort
// every hardware transaction, and on builds without the RTM instructions.
const RealHardware = false

func hwRealAbortSoftware() { panic("stm: no real hardware path in this build") }

func (tx *Tx) hwRealHead(h *varHeader) *vnode { panic("stm: no real hardware path in this build") }

func (tx *Tx) hwRealNode(h *varHeader) *vnode { panic("stm: no real hardware path in this build") }

func (tx *Tx) runReal(fn func(tx *Tx) error, c *HWContext) (htm.Status, error) {
	panic("stm: no real hardware path in this build")
}
