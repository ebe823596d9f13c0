package stmds

import (
	"errors"
	"fmt"

	tm "github.com/hytm/hytm/stm"
)

// rbNode is a red-black tree node. The key never changes; links and colour
// are transactional, Vars embedded in the node (one allocation per key).
type rbNode struct {
	key                 int
	left, right, parent tm.Var[*rbNode]
	red                 tm.Var[bool]
}

// RBTree is a red-black tree with parent links: java.util.TreeMap's insert
// fix-up and CLRS's delete, with nil leaves (no shared sentinel, which would
// be a write hot spot under TM).
type RBTree struct {
	root *tm.Var[*rbNode]
}

// NewRBTree returns an empty tree.
func NewRBTree() *RBTree {
	return &RBTree{root: tm.NewVar[*rbNode](nil)}
}

func newRBNode(key int, parent *rbNode) *rbNode {
	n := &rbNode{key: key} // left and right: the zero Vars, nil
	n.parent.Init(parent)
	n.red.Init(true)
	return n
}

// isRed reports whether n is red; nil leaves are black.
func isRed(tx *tm.Tx, n *rbNode) bool {
	return n != nil && n.red.Load(tx)
}

// Contains reports whether key is in the tree.
func (t *RBTree) Contains(tx *tm.Tx, key int) bool {
	n := t.root.Load(tx)
	for n != nil {
		if key < n.key {
			n = n.left.Load(tx)
		} else if key > n.key {
			n = n.right.Load(tx)
		} else {
			return true
		}
	}
	return false
}

// Insert adds key and reports whether it was absent.
func (t *RBTree) Insert(tx *tm.Tx, key int) bool {
	var parent *rbNode
	n := t.root.Load(tx)
	for n != nil {
		parent = n
		if key < n.key {
			n = n.left.Load(tx)
		} else if key > n.key {
			n = n.right.Load(tx)
		} else {
			return false
		}
	}
	x := newRBNode(key, parent)
	if parent == nil {
		t.root.Store(tx, x)
	} else if key < parent.key {
		parent.left.Store(tx, x)
	} else {
		parent.right.Store(tx, x)
	}
	t.fixAfterInsert(tx, x)
	return true
}

func (t *RBTree) fixAfterInsert(tx *tm.Tx, x *rbNode) {
	for {
		p := x.parent.Load(tx)
		if p == nil || !p.red.Load(tx) {
			break
		}
		g := p.parent.Load(tx) // p is red, so not the root
		if p == g.left.Load(tx) {
			y := g.right.Load(tx)
			if isRed(tx, y) {
				p.red.Store(tx, false)
				y.red.Store(tx, false)
				g.red.Store(tx, true)
				x = g
				continue
			}
			if x == p.right.Load(tx) {
				x = p
				t.rotateLeft(tx, x)
				p = x.parent.Load(tx)
			}
			p.red.Store(tx, false)
			g.red.Store(tx, true)
			t.rotateRight(tx, g)
		} else {
			y := g.left.Load(tx)
			if isRed(tx, y) {
				p.red.Store(tx, false)
				y.red.Store(tx, false)
				g.red.Store(tx, true)
				x = g
				continue
			}
			if x == p.left.Load(tx) {
				x = p
				t.rotateRight(tx, x)
				p = x.parent.Load(tx)
			}
			p.red.Store(tx, false)
			g.red.Store(tx, true)
			t.rotateLeft(tx, g)
		}
	}
	// Only the root can be left red. Writing its colour only when it is red
	// keeps most inserts from writing the root.
	if x.parent.Load(tx) == nil && x.red.Load(tx) {
		x.red.Store(tx, false)
	}
}

// replaceChild makes v take u's place under up, u's parent (nil: the root).
func (t *RBTree) replaceChild(tx *tm.Tx, up, u, v *rbNode) {
	if up == nil {
		t.root.Store(tx, v)
	} else if up.left.Load(tx) == u {
		up.left.Store(tx, v)
	} else {
		up.right.Store(tx, v)
	}
}

func (t *RBTree) rotateLeft(tx *tm.Tx, p *rbNode) {
	r := p.right.Load(tx)
	rl := r.left.Load(tx)
	p.right.Store(tx, rl)
	if rl != nil {
		rl.parent.Store(tx, p)
	}
	pp := p.parent.Load(tx)
	r.parent.Store(tx, pp)
	t.replaceChild(tx, pp, p, r)
	r.left.Store(tx, p)
	p.parent.Store(tx, r)
}

func (t *RBTree) rotateRight(tx *tm.Tx, p *rbNode) {
	l := p.left.Load(tx)
	lr := l.right.Load(tx)
	p.left.Store(tx, lr)
	if lr != nil {
		lr.parent.Store(tx, p)
	}
	pp := p.parent.Load(tx)
	l.parent.Store(tx, pp)
	t.replaceChild(tx, pp, p, l)
	l.right.Store(tx, p)
	p.parent.Store(tx, l)
}

// Remove deletes key and reports whether it was present.
func (t *RBTree) Remove(tx *tm.Tx, key int) bool {
	z := t.root.Load(tx)
	for z != nil && z.key != key {
		if key < z.key {
			z = z.left.Load(tx)
		} else {
			z = z.right.Load(tx)
		}
	}
	if z == nil {
		return false
	}
	zl, zr := z.left.Load(tx), z.right.Load(tx)
	zp := z.parent.Load(tx)
	removedRed := z.red.Load(tx)
	// x is the node that moves into the removed position (maybe nil) and
	// xp its new parent: the fix-up needs xp because nil leaves have none.
	var x, xp *rbNode
	switch {
	case zl == nil:
		x, xp = zr, zp
		t.replaceChild(tx, zp, z, zr)
		if zr != nil {
			zr.parent.Store(tx, zp)
		}
	case zr == nil:
		x, xp = zl, zp
		t.replaceChild(tx, zp, z, zl)
		zl.parent.Store(tx, zp)
	default:
		// Two children: z's successor y (leftmost in z's right subtree)
		// takes z's place and colour.
		y := zr
		for l := y.left.Load(tx); l != nil; l = y.left.Load(tx) {
			y = l
		}
		removedRed = y.red.Load(tx)
		x = y.right.Load(tx)
		if y == zr {
			xp = y
		} else {
			xp = y.parent.Load(tx)
			xp.left.Store(tx, x)
			if x != nil {
				x.parent.Store(tx, xp)
			}
			y.right.Store(tx, zr)
			zr.parent.Store(tx, y)
		}
		t.replaceChild(tx, zp, z, y)
		y.parent.Store(tx, zp)
		y.left.Store(tx, zl)
		zl.parent.Store(tx, y)
		if zRed := z.red.Load(tx); y.red.Load(tx) != zRed {
			y.red.Store(tx, zRed)
		}
	}
	if !removedRed {
		t.fixAfterRemove(tx, x, xp)
	}
	return true
}

// fixAfterRemove restores the black height after a black node was removed
// above x (maybe nil), whose parent is xp.
func (t *RBTree) fixAfterRemove(tx *tm.Tx, x, xp *rbNode) {
	for xp != nil && !isRed(tx, x) {
		if x == xp.left.Load(tx) {
			w := xp.right.Load(tx)
			if w.red.Load(tx) {
				w.red.Store(tx, false)
				xp.red.Store(tx, true)
				t.rotateLeft(tx, xp)
				w = xp.right.Load(tx)
			}
			wL, wR := w.left.Load(tx), w.right.Load(tx)
			if !isRed(tx, wL) && !isRed(tx, wR) {
				w.red.Store(tx, true)
				x = xp
				xp = x.parent.Load(tx)
				continue
			}
			if !isRed(tx, wR) {
				wL.red.Store(tx, false)
				w.red.Store(tx, true)
				t.rotateRight(tx, w)
				w = xp.right.Load(tx)
				wR = w.right.Load(tx)
			}
			w.red.Store(tx, xp.red.Load(tx))
			xp.red.Store(tx, false)
			wR.red.Store(tx, false)
			t.rotateLeft(tx, xp)
			return
		}
		w := xp.left.Load(tx)
		if w.red.Load(tx) {
			w.red.Store(tx, false)
			xp.red.Store(tx, true)
			t.rotateRight(tx, xp)
			w = xp.left.Load(tx)
		}
		wL, wR := w.left.Load(tx), w.right.Load(tx)
		if !isRed(tx, wL) && !isRed(tx, wR) {
			w.red.Store(tx, true)
			x = xp
			xp = x.parent.Load(tx)
			continue
		}
		if !isRed(tx, wL) {
			wR.red.Store(tx, false)
			w.red.Store(tx, true)
			t.rotateLeft(tx, w)
			w = xp.left.Load(tx)
			wL = w.left.Load(tx)
		}
		w.red.Store(tx, xp.red.Load(tx))
		xp.red.Store(tx, false)
		wL.red.Store(tx, false)
		t.rotateRight(tx, xp)
		return
	}
	if x != nil && x.red.Load(tx) {
		x.red.Store(tx, false)
	}
}

// Keys returns the keys in order.
func (t *RBTree) Keys(tx *tm.Tx) []int {
	var keys []int
	var walk func(n *rbNode)
	walk = func(n *rbNode) {
		if n == nil {
			return
		}
		walk(n.left.Load(tx))
		keys = append(keys, n.key)
		walk(n.right.Load(tx))
	}
	walk(t.root.Load(tx))
	return keys
}

// Check verifies the search order, the parent links and the red-black
// rules: a black root, no red node with a red child, and the same number of
// black nodes on every path.
func (t *RBTree) Check(tx *tm.Tx) error {
	root := t.root.Load(tx)
	if root == nil {
		return nil
	}
	if root.parent.Load(tx) != nil {
		return errors.New("rbtree: root has a parent")
	}
	if root.red.Load(tx) {
		return errors.New("rbtree: red root")
	}
	var check func(n *rbNode, lo, hi int) (int, error)
	check = func(n *rbNode, lo, hi int) (int, error) {
		if n == nil {
			return 1, nil
		}
		if n.key <= lo || n.key >= hi {
			return 0, fmt.Errorf("rbtree: key %d outside (%d, %d)", n.key, lo, hi)
		}
		l, r := n.left.Load(tx), n.right.Load(tx)
		for _, c := range []*rbNode{l, r} {
			if c == nil {
				continue
			}
			if c.parent.Load(tx) != n {
				return 0, fmt.Errorf("rbtree: key %d: wrong parent link", c.key)
			}
			if n.red.Load(tx) && c.red.Load(tx) {
				return 0, fmt.Errorf("rbtree: red key %d has red child %d", n.key, c.key)
			}
		}
		hl, err := check(l, lo, n.key)
		if err != nil {
			return 0, err
		}
		hr, err := check(r, n.key, hi)
		if err != nil {
			return 0, err
		}
		if hl != hr {
			return 0, fmt.Errorf("rbtree: key %d: black heights %d and %d", n.key, hl, hr)
		}
		if !n.red.Load(tx) {
			hl++
		}
		return hl, nil
	}
	_, err := check(root, minKey, maxKey)
	return err
}
