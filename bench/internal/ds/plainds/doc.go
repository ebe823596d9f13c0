// Package plainds is the plain-Go form of the benchmark data structures,
// for the seq, mutex and rwmutex variants. The gen_*.go files are generated
// from ../stmds by ../gen (each *stm.Var[T] becomes a T); adapter.go wraps
// them in no lock, a sync.Mutex or a sync.RWMutex.
package plainds
