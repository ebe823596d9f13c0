// Package apitest holds the test that keeps hytm's public surface a
// deliberate choice: it lists the exported names of every public package
// (with the signatures of functions and methods, and the exported fields of
// structs) and compares them with the golden files in testdata. A change to
// the API fails it until the golden file is regenerated:
//
//	go test ./internal/apitest -update
package apitest

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current API")

// publicPackages are the packages users import, relative to the module root.
var publicPackages = []string{"stm", "hybrid", "htm", "gc", "fallback", "tasks", "txds"}

func TestPublicAPI(t *testing.T) {
	for _, pkg := range publicPackages {
		t.Run(pkg, func(t *testing.T) {
			got := apiOf(t, filepath.Join("..", "..", pkg))
			golden := filepath.Join("testdata", pkg+".api")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run: go test ./internal/apitest -update)", err)
			}
			if got != string(want) {
				t.Errorf("the exported API of %s changed; if that is deliberate, run go test ./internal/apitest -update and commit testdata/%s.api.\n%s",
					pkg, pkg, diff(string(want), got))
			}
		})
	}
}

// apiOf lists the exported API of the package in dir, one declaration per
// line, sorted, for the build context of this machine.
func apiOf(t *testing.T, dir string) string {
	t.Helper()
	bp, err := build.Default.ImportDir(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/hytm/hytm/"+filepath.Base(dir))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	values := func(vs []*doc.Value, kind string) {
		for _, v := range vs {
			for _, n := range v.Names {
				if ast.IsExported(n) {
					add("%s %s", kind, n)
				}
			}
		}
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			add("%s", declString(fset, f.Decl))
		}
	}
	values(p.Consts, "const")
	values(p.Vars, "var")
	funcs(p.Funcs)
	for _, ty := range p.Types {
		add("type %s %s", ty.Name, typeKind(fset, ty.Decl))
		for _, spec := range ty.Decl.Specs {
			ts := spec.(*ast.TypeSpec)
			if st, ok := ts.Type.(*ast.StructType); ok {
				for _, f := range st.Fields.List {
					for _, n := range f.Names {
						if ast.IsExported(n.Name) {
							add("field %s.%s %s", ty.Name, n.Name, exprString(fset, f.Type))
						}
					}
				}
			}
		}
		values(ty.Consts, "const")
		values(ty.Vars, "var")
		funcs(ty.Funcs)
		funcs(ty.Methods)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// declString prints a function declaration without its doc and body.
func declString(fset *token.FileSet, d *ast.FuncDecl) string {
	c := *d
	c.Doc, c.Body = nil, nil
	var b bytes.Buffer
	_ = printer.Fprint(&b, fset, &c)
	return strings.Join(strings.Fields(b.String()), " ")
}

// typeKind names what a type is: an alias with its target, or the kind of
// its underlying type expression.
func typeKind(fset *token.FileSet, d *ast.GenDecl) string {
	ts := d.Specs[0].(*ast.TypeSpec)
	prefix := ""
	if ts.TypeParams != nil {
		var ps []string
		for _, f := range ts.TypeParams.List {
			for _, n := range f.Names {
				ps = append(ps, n.Name+" "+exprString(fset, f.Type))
			}
		}
		prefix = "[" + strings.Join(ps, ", ") + "] "
	}
	if ts.Assign.IsValid() {
		return prefix + "= " + exprString(fset, ts.Type)
	}
	switch ts.Type.(type) {
	case *ast.StructType:
		return prefix + "struct"
	case *ast.InterfaceType:
		return prefix + "interface"
	default:
		return prefix + exprString(fset, ts.Type)
	}
}

func exprString(fset *token.FileSet, e ast.Expr) string {
	var b bytes.Buffer
	_ = printer.Fprint(&b, fset, e)
	return strings.Join(strings.Fields(b.String()), " ")
}

// diff lists the lines only in want (-) and only in got (+).
func diff(want, got string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
	}
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}
