// Package anads is the benchmark data structures over the peer STM
// github.com/anacrolix/stm v0.2.0, through the typed wrapper
// [github.com/hytm/hytm/bench/internal/atm]. The gen_*.go files are
// generated from ../stmds by ../gen.
package anads
