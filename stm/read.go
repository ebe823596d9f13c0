package stm

// readNode returns the version of h that tx's snapshot sees and records the
// read. It is Load's slow path.
func (tx *Tx) readNode(h *varHeader) *vnode {
	if tx.irrevocable {
		return tx.readLatest(h)
	}
	for round := 0; ; round++ {
		m := h.meta.Load() // acquire; loaded after the snapshot's clock load
		if m&metaMulti != 0 {
			// A multi-Var commit is installing; its stamp may be <= rv.
			spinWait(round)
			continue
		}
		n := h.head.Load() // acquire: pairs with the head store in commit
		isHead := true
		for n.ts > tx.rv {
			n = n.prev.Load()
			isHead = false
		}
		rm := m &^ metaLocked
		if !isHead {
			rm = staleMeta
			if !tx.stale {
				tx.stale, tx.staleVar = true, h
			}
			if len(tx.writes) > 0 {
				tx.abort(CauseStale, h)
			}
		}
		if !tx.unlogged { // unlogged: its commit cannot validate (site.go)
			tx.reads = append(tx.reads, readEntry{h: h, meta: rm, node: n})
		}
		return n
	}
}

// readNodeRO returns the version of h that a read-only attempt's snapshot
// sees (site.go), without recording the read: the newest version stamped at
// or below rv, once no commit is installing one.
func (tx *Tx) readNodeRO(h *varHeader) *vnode {
	for round := 0; ; round++ {
		// acquire; loaded after the snapshot's clock load
		if h.meta.Load()&metaMulti != 0 {
			// A commit is installing; its stamp may be <= rv.
			spinWait(round)
			continue
		}
		n := h.head.Load() // acquire: pairs with the head store in commit
		for n.ts > tx.rv {
			n = n.prev.Load()
		}
		return n
	}
}

// readLatest reads the newest committed version, waiting for any commit in
// progress on h. Irrevocable transactions read this way: once they hold the
// token no other writer commits, so the newest versions are a consistent and
// stable state.
func (tx *Tx) readLatest(h *varHeader) *vnode {
	if r := tx.findRead(h); r != nil {
		if r.node == nil {
			// Read from the Var's inline copy (Var.readCur): the head is
			// that version, since the reads were validated when the
			// token was taken and no other writer commits since.
			return h.head.Load()
		}
		return r.node
	}
	for round := 0; ; round++ {
		m := h.meta.Load()
		if m&metaLocked != 0 {
			spinWait(round)
			continue
		}
		n := h.head.Load()
		tx.reads = append(tx.reads, readEntry{h: h, meta: m, node: n})
		return n
	}
}
