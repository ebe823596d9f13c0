package release

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// A message-passing test: a writer fills a payload with plain stores and
// publishes it with a release store; a reader that acquires the flag must
// see the whole payload. It can fail only if the release store could become
// visible before the payload stores (it runs under -race too, where the
// functions are sync/atomic's).
func TestPublishOrdersPayload(t *testing.T) {
	rounds := 20000
	if testing.Short() {
		rounds = 2000
	}
	type payload struct{ a, b, c uint64 }
	for r := 0; r < rounds; r++ {
		var flag atomic.Uint64
		var ptr atomic.Pointer[payload]
		var data payload
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &payload{a: 1, b: 2, c: 3}
			data = payload{a: 4, b: 5, c: 6}
			Pointer(&ptr, p)
			Uint64(&flag, 1)
		}()
		for flag.Load() == 0 { // acquire
			runtime.Gosched()
		}
		if data != (payload{4, 5, 6}) {
			t.Fatalf("round %d: payload %v seen after the flag", r, data)
		}
		if p := ptr.Load(); p == nil || *p != (payload{1, 2, 3}) {
			t.Fatalf("round %d: pointer payload %v seen after the flag", r, p)
		}
		wg.Wait()
	}
}
