// Package fallback holds hytm's execution decisions: how long to back off
// after an abort, when a transaction that keeps losing escalates to the
// serial-irrevocable mode, and (for the hybrid) when a call site tries
// hardware and when it goes straight to software.
//
// Mechanisms live where their data lives (the irrevocable token in stm, the
// instructions in htm); this package holds only numbers and the functions that
// turn abort histories into decisions, so that they can be tuned and tested in
// one place.
package fallback
