package stm

// The rules by which a hardware (or emulated hardware) attempt touches a Var
// live here, next to the software ones. The hybrid package drives them.

// HWContext is the state of a hardware attempt. It is nil for software
// transactions.
type HWContext struct{}

func hwLoad[T any](tx *Tx, v *Var[T]) T {
	panic("stm: hardware attempts are not implemented")
}

func hwStore[T any](tx *Tx, v *Var[T], x T) {
	panic("stm: hardware attempts are not implemented")
}

// hwNeedsSoftware ends a hardware attempt that reached something only
// software can do (Retry, OrElse, Inevitable, nested Atomically).
func hwNeedsSoftware(tx *Tx) {
	panic("stm: hardware attempts are not implemented")
}
