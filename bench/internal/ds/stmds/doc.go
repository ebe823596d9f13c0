// Package stmds holds the benchmark data structures written against hytm's
// stm, the way a user would: nodes with immutable keys and *stm.Var fields
// for their links (list, skip list, red-black tree, bank accounts), or
// immutable values stored in Vars (hash-set buckets, vacation rows and
// customers). Every operation takes the transaction it runs in.
//
// This is the one hand-written copy. The generator in ../gen derives
// hybridds, anads and plainds from it; edit here and run go generate.
package stmds

//go:generate go run ../gen -dir ..
