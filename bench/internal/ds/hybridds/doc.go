// Package hybridds is the benchmark data structures over hytm's hybrid TM
// (github.com/hytm/hytm/hybrid: RTM first where the CPU has it, stm
// behind). The gen_*.go files are generated from ../stmds by ../gen.
package hybridds
