package stm

import (
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// IrrevocableSite reports how long transactions started at one call site
// held the irrevocable token, and how long they held other transactions back.
type IrrevocableSite struct {
	// Site is "file:line" of the Atomically call whose transaction took the
	// token (escalated or through [Tx.Inevitable]); "unknown" if the stack
	// could not be walked.
	Site string
	// Count is the number of times a transaction from Site took the token.
	Count uint64
	// Held is the total time from taking the token to releasing it.
	Held time.Duration
	// Blocked is the total time other transactions spent waiting because
	// Site held the token: writers parked at commit, and transactions
	// waiting to become irrevocable themselves. Read-only transactions are
	// never blocked and do not count.
	Blocked time.Duration
}

// IrrevocableSites returns the per-site record of irrevocable transactions
// since the program started, most Held first. Only the irrevocable path
// collects it (one stack walk, cached per stack, each time the token is
// taken); ordinary transactions pay nothing.
func IrrevocableSites() []IrrevocableSite {
	sites.mu.Lock()
	out := make([]IrrevocableSite, 0, len(sites.byName))
	for _, s := range sites.byName {
		out = append(out, IrrevocableSite{
			Site:    s.site,
			Count:   s.count.Load(),
			Held:    time.Duration(s.held.Load()),
			Blocked: time.Duration(s.blocked.Load()),
		})
	}
	sites.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Held != out[j].Held {
			return out[i].Held > out[j].Held
		}
		return out[i].Site < out[j].Site
	})
	return out
}

// siteStats accumulates one call site's figures. The holder adds count and
// held; waiters add blocked concurrently.
type siteStats struct {
	site    string
	count   atomic.Uint64
	held    atomic.Int64 // ns
	blocked atomic.Int64 // ns
}

// siteDepth frames are enough for Atomically's caller unless Inevitable is
// called deep inside the body; siteOf then walks a larger stack.
const siteDepth = 32

// maxSiteStacks bounds the stack cache (recursive callers make many stacks
// for one site); past it, stacks are symbolized every time.
const maxSiteStacks = 4096

type siteKey [siteDepth]uintptr

var sites struct {
	mu      sync.Mutex
	byStack map[siteKey]*siteStats
	byName  map[string]*siteStats
}

// siteOf returns the record for the Atomically call on the current stack.
// It is called only when a transaction is about to take the token.
func siteOf() *siteStats {
	// k stays on the stack: only the cached lookup touches it here, and
	// siteOfSlow symbolizes its own copy (symbolizing makes a slice of it
	// escape, which would allocate on every escalation).
	var k siteKey
	n := runtime.Callers(1, k[:])
	sites.mu.Lock()
	s := sites.byStack[k]
	sites.mu.Unlock()
	if s != nil {
		return s
	}
	return siteOfSlow(k, n)
}

// siteOfSlow symbolizes the stack k (n frames) and records it.
func siteOfSlow(k siteKey, n int) *siteStats {
	sites.mu.Lock()
	defer sites.mu.Unlock()
	if s := sites.byStack[k]; s != nil {
		return s
	}
	name, ok := siteName(k[:n])
	if !ok && n == siteDepth {
		big := make([]uintptr, 1024)
		name, _ = siteName(big[:runtime.Callers(1, big)])
	}
	s := sites.byName[name]
	if s == nil {
		if sites.byName == nil {
			sites.byName = make(map[string]*siteStats)
			sites.byStack = make(map[siteKey]*siteStats)
		}
		s = &siteStats{site: name}
		sites.byName[name] = s
	}
	if len(sites.byStack) < maxSiteStacks {
		sites.byStack[k] = s
	}
	return s
}

const (
	stmPkg    = "github.com/hytm/hytm/stm."
	hybridPkg = "github.com/hytm/hytm/hybrid."
	runFunc   = stmPkg + "(*Tx).run"
)

// siteName finds the first frame outside stm and hybrid below (*Tx).run:
// the caller of Atomically.
func siteName(pcs []uintptr) (string, bool) {
	frames := runtime.CallersFrames(pcs)
	inRun := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == runFunc:
			inRun = true
		case inRun && !strings.HasPrefix(f.Function, stmPkg) && !strings.HasPrefix(f.Function, hybridPkg):
			return f.File + ":" + strconv.Itoa(f.Line), true
		}
		if !more {
			return "unknown", false
		}
	}
}
