package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGenerated checks that the derived packages match their source: run
// go generate ./... in bench after editing ../stmds.
func TestGenerated(t *testing.T) {
	files, err := generate("..", "")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%v (run go generate ./... in bench)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./... in bench", name)
		}
	}
	for _, tg := range targets {
		old, _ := filepath.Glob(filepath.Join("..", tg.dir, genPrefix+"*.go"))
		for _, f := range old {
			if _, ok := files[f]; !ok {
				t.Errorf("%s has no source in stmds: run go generate ./... in bench", f)
			}
		}
	}
}

// TestPlainRejectsLocalStore checks that the plain rewrite refuses a Store
// through a local variable, which it would turn into a store to the copy.
func TestPlainRejectsLocalStore(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "x.go")
	code := `package stmds

import tm "github.com/hytm/hytm/stm"

type node struct{ next *tm.Var[*node] }

func f(tx *tm.Tx, n *node) {
	v := n.next
	v.Store(tx, nil)
}
`
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := convert(src, target{dir: "plainds", plain: true}); err == nil {
		t.Fatal("no error for a Store through a local variable")
	}
}
