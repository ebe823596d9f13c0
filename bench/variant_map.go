package bench

import (
	"sync"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/hytm/hytm/bench/internal/ds/plainds"
	"github.com/hytm/hytm/bench/internal/wl"
)

// The map workloads' non-transactional maps: a Go map under the plain
// variants' lock, sync.Map and xsync.Map.

// lockedMap is a Go map behind the lock of a plain variant: none (seq), a
// sync.Mutex, or a sync.RWMutex that Get read-locks.
type lockedMap struct {
	lock plainds.Lock
	mu   sync.RWMutex
	m    map[int]int
}

func newLockedMap(lock plainds.Lock) *lockedMap {
	return &lockedMap{lock: lock, m: make(map[int]int)}
}

func (m *lockedMap) Get(w *wl.Worker, key int) (int, bool) {
	switch m.lock {
	case plainds.None:
		v, ok := m.m[key]
		return v, ok
	case plainds.Mutex:
		m.mu.Lock()
		v, ok := m.m[key]
		m.mu.Unlock()
		return v, ok
	}
	m.mu.RLock()
	v, ok := m.m[key]
	m.mu.RUnlock()
	return v, ok
}

func (m *lockedMap) Put(w *wl.Worker, key, v int) {
	if m.lock == plainds.None {
		m.m[key] = v
		return
	}
	m.mu.Lock()
	m.m[key] = v
	m.mu.Unlock()
}

func (m *lockedMap) Contents(w *wl.Worker) map[int]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := make(map[int]int, len(m.m))
	for k, v := range m.m {
		c[k] = v
	}
	return c
}

type syncMapVariant struct{ m sync.Map }

func (m *syncMapVariant) Get(w *wl.Worker, key int) (int, bool) {
	v, ok := m.m.Load(key)
	if !ok {
		return 0, false
	}
	return v.(int), true
}

func (m *syncMapVariant) Put(w *wl.Worker, key, v int) { m.m.Store(key, v) }

func (m *syncMapVariant) Contents(w *wl.Worker) map[int]int {
	c := make(map[int]int)
	m.m.Range(func(k, v any) bool {
		c[k.(int)] = v.(int)
		return true
	})
	return c
}

type xsyncMapVariant struct{ m *xsync.Map[int, int] }

func (m xsyncMapVariant) Get(w *wl.Worker, key int) (int, bool) { return m.m.Load(key) }

func (m xsyncMapVariant) Put(w *wl.Worker, key, v int) { m.m.Store(key, v) }

func (m xsyncMapVariant) Contents(w *wl.Worker) map[int]int {
	c := make(map[int]int)
	m.m.Range(func(k, v int) bool {
		c[k] = v
		return true
	})
	return c
}
