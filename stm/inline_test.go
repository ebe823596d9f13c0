package stm

import (
	"os/exec"
	"regexp"
	"runtime"
	"testing"
)

// TestFastPathsInline checks, with the compiler's own report
// (-gcflags=-m), that the small functions on every transaction's path stay
// inlinable: a change that pushes one over the inliner's budget adds a
// call to every transaction without failing any other test. (Var.Load and
// Var.Store themselves are generic methods whose call of their slow path
// alone costs 65 of the budget of 80, so they cannot inline with any fast
// path; their fast paths are kept to a few loads and compares instead.)
func TestFastPathsInline(t *testing.T) {
	if testing.Short() && raceBuild {
		t.Skip("compiles the package again; skipped under -race -short")
	}
	gobin := runtime.GOROOT() + "/bin/go"
	out, err := exec.Command(gobin, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, fn := range []string{
		`leaveTx`,
		`\(\*Tx\)\.end`,
		`siteMode`,
		`\(\*varHeader\)\.waiting`,
		`\(\*varHeader\)\.link`,
		`\(\*Tx\)\.checkGoroutine`,
		`\(\*Tx\)\.findWrite`,
		`stamp`,
	} {
		if !regexp.MustCompile(`can inline ` + fn + `(\s|$)`).Match(out) {
			t.Errorf("%s is no longer inlinable (go build -gcflags=-m ./stm)", fn)
		}
	}
	// Var.readCur (Load's and loadSlow's inline read, cost 79 of 80) is
	// generic: it is compiled where a Var is instantiated, so ask a
	// package that instantiates Var[int].
	gen, err := exec.Command(gobin, "build", "-gcflags=-m", "../internal/tmtest").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m ../internal/tmtest: %v\n%s", err, gen)
	}
	if !regexp.MustCompile(`can inline stm\.\(\*Var\[go\.shape\.int\]\)\.readCur(\s|$)`).Match(gen) {
		t.Errorf("Var.readCur is no longer inlinable (go build -gcflags=-m ./internal/tmtest)")
	}
	// The release stores must inline into their callers, or each costs a
	// call where it was to save a fence.
	for _, fn := range []string{`release\.Uint64`, `release\.Pointer`} {
		if !regexp.MustCompile(`inlining call to ` + fn).Match(out) {
			t.Errorf("%s is no longer inlined into package stm", fn)
		}
	}
}
