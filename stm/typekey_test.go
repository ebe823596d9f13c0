package stm

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hytm/hytm/internal/gcore"
)

// checkTypeKey checks that typeKeyFor[T] gives the key that typeKeys holds
// for T, the same on every call, of version[T]'s size, and no other type's.
func checkTypeKey[T any](t *testing.T, seen map[*gcore.TypeKey]reflect.Type) {
	t.Helper()
	k := typeKeyFor[T]()
	for range 3 {
		require.Same(t, k, typeKeyFor[T](), "%v: the key changed", reflect.TypeFor[T]())
	}
	v, ok := typeKeys.Load(reflect.TypeFor[T]())
	require.True(t, ok)
	require.Same(t, v.(*gcore.TypeKey), k)
	if other, dup := seen[k]; dup {
		t.Fatalf("%v and %v share a type key", other, reflect.TypeFor[T]())
	}
	seen[k] = reflect.TypeFor[T]()
}

// TestTypeKeyCache: typeKeyFor's direct-mapped cache (64 entries, indexed by
// the type descriptor's address) answers for 80 types, twice over, so that
// types share entries and evict each other; a hit that skipped the
// descriptor compare would hand one type another's key.
func TestTypeKeyCache(t *testing.T) {
	for range 2 {
		seen := map[*gcore.TypeKey]reflect.Type{}
		checkTypeKey[[1]byte](t, seen)
		checkTypeKey[[2]byte](t, seen)
		checkTypeKey[[3]byte](t, seen)
		checkTypeKey[[4]byte](t, seen)
		checkTypeKey[[5]byte](t, seen)
		checkTypeKey[[6]byte](t, seen)
		checkTypeKey[[7]byte](t, seen)
		checkTypeKey[[8]byte](t, seen)
		checkTypeKey[[9]byte](t, seen)
		checkTypeKey[[10]byte](t, seen)
		checkTypeKey[[11]byte](t, seen)
		checkTypeKey[[12]byte](t, seen)
		checkTypeKey[[13]byte](t, seen)
		checkTypeKey[[14]byte](t, seen)
		checkTypeKey[[15]byte](t, seen)
		checkTypeKey[[16]byte](t, seen)
		checkTypeKey[[17]byte](t, seen)
		checkTypeKey[[18]byte](t, seen)
		checkTypeKey[[19]byte](t, seen)
		checkTypeKey[[20]byte](t, seen)
		checkTypeKey[[21]byte](t, seen)
		checkTypeKey[[22]byte](t, seen)
		checkTypeKey[[23]byte](t, seen)
		checkTypeKey[[24]byte](t, seen)
		checkTypeKey[[25]byte](t, seen)
		checkTypeKey[[26]byte](t, seen)
		checkTypeKey[[27]byte](t, seen)
		checkTypeKey[[28]byte](t, seen)
		checkTypeKey[[29]byte](t, seen)
		checkTypeKey[[30]byte](t, seen)
		checkTypeKey[[31]byte](t, seen)
		checkTypeKey[[32]byte](t, seen)
		checkTypeKey[[33]byte](t, seen)
		checkTypeKey[[34]byte](t, seen)
		checkTypeKey[[35]byte](t, seen)
		checkTypeKey[[36]byte](t, seen)
		checkTypeKey[[37]byte](t, seen)
		checkTypeKey[[38]byte](t, seen)
		checkTypeKey[[39]byte](t, seen)
		checkTypeKey[[40]byte](t, seen)
		checkTypeKey[[41]byte](t, seen)
		checkTypeKey[[42]byte](t, seen)
		checkTypeKey[[43]byte](t, seen)
		checkTypeKey[[44]byte](t, seen)
		checkTypeKey[[45]byte](t, seen)
		checkTypeKey[[46]byte](t, seen)
		checkTypeKey[[47]byte](t, seen)
		checkTypeKey[[48]byte](t, seen)
		checkTypeKey[[49]byte](t, seen)
		checkTypeKey[[50]byte](t, seen)
		checkTypeKey[[51]byte](t, seen)
		checkTypeKey[[52]byte](t, seen)
		checkTypeKey[[53]byte](t, seen)
		checkTypeKey[[54]byte](t, seen)
		checkTypeKey[[55]byte](t, seen)
		checkTypeKey[[56]byte](t, seen)
		checkTypeKey[[57]byte](t, seen)
		checkTypeKey[[58]byte](t, seen)
		checkTypeKey[[59]byte](t, seen)
		checkTypeKey[[60]byte](t, seen)
		checkTypeKey[[61]byte](t, seen)
		checkTypeKey[[62]byte](t, seen)
		checkTypeKey[[63]byte](t, seen)
		checkTypeKey[[64]byte](t, seen)
		checkTypeKey[[65]byte](t, seen)
		checkTypeKey[[66]byte](t, seen)
		checkTypeKey[[67]byte](t, seen)
		checkTypeKey[[68]byte](t, seen)
		checkTypeKey[[69]byte](t, seen)
		checkTypeKey[[70]byte](t, seen)
		checkTypeKey[[71]byte](t, seen)
		checkTypeKey[[72]byte](t, seen)
		checkTypeKey[[73]byte](t, seen)
		checkTypeKey[[74]byte](t, seen)
		checkTypeKey[[75]byte](t, seen)
		checkTypeKey[[76]byte](t, seen)
		checkTypeKey[[77]byte](t, seen)
		checkTypeKey[[78]byte](t, seen)
		checkTypeKey[[79]byte](t, seen)
		checkTypeKey[[80]byte](t, seen)
	}
}
