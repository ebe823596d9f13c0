// Package bench is hytm's benchmark suite: Synchrobench-style integer sets
// (sorted linked list, skip list, red-black tree, hash set), a bank with
// long read-only audits, vacation-lite (a reduced STAMP vacation),
// read-mostly and write-heavy mixes on a map, and interest on a batch of
// accounts (the task pool's first example), each run under several
// variants:
//
//   - seq: plain Go with no synchronisation, one goroutine only;
//   - mutex and rwmutex: the plain structures behind one lock;
//   - stm: hytm's software TM (github.com/hytm/hytm/stm);
//   - hybrid: hytm's hybrid TM, when the hybrid package is present;
//   - anacrolix: the peer STM github.com/anacrolix/stm v0.2.0;
//   - stm-txds: stm with the hash set and vacation on package txds;
//   - syncmap and xsync: sync.Map and xsync.Map, for the map workloads;
//   - tasks: a tasks.Pool running each batch of the interest workload.
//
// In the map workloads stm and hybrid use txds.Map.
//
// The data structures are written once, against stm, in internal/ds/stmds;
// internal/ds/gen derives the other variants' packages from that source, so
// every variant runs the same algorithm. internal/ds/txdsds holds the
// structures built on txds, which only hytm's TMs can run.
//
// [Run] measures one workload under one variant at one goroutine count;
// [RunSuite] runs a plan of them. The command cmd/hytm-bench drives the
// suite and writes tables, CSV, JSON, PNG charts and RESULTS.md, and the
// Benchmark functions expose the same runs to go test -bench.
package bench
