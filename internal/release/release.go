// Package release provides release stores: stores that order every memory
// access before them (in program order) before the store itself, which is
// all a publishing store needs when its reader pairs it with an acquire
// load, and less than sync/atomic's sequentially consistent Store.
//
// On amd64 (x86-TSO) every plain store already has release order: the
// processor keeps stores in order, and never moves a store before an
// earlier load. So there the functions compile to one MOV, where
// sync/atomic's Store is an XCHG, a full barrier that drains the store
// buffer (about 20 cycles). Go's compiler keeps a plain store after the
// loads and stores that precede it in the memory chain, so the program
// order the processor sees is the source order. A release store must not
// be relied on for StoreLoad order (Dekker pairings): a later load may be
// satisfied before the store is visible.
//
// Elsewhere, and under the race detector (which must see the
// synchronization), they are sync/atomic's Stores.
package release
