package cmd

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxLines and maxLong keep functions short enough to read at once: at
// most maxLong functions in cmd/ and pkg/ (tests aside) run longer than
// maxLines lines, and those are byte-level state machines, where a split
// would have no name (docs/architecture.md, "Where to put new code").
// Code copied from elsewhere as it is (a directory with an UPSTREAM.md:
// pkg/stream/internal, client-go's streaming code; kubectl's printers and
// sorting under pkg/output/internal) is not kcurl's to reshape.
const (
	maxLines = 80
	maxLong  = 4
)

func TestFunctionsStayShort(t *testing.T) {
	fset := token.NewFileSet()
	var long []string
	for _, root := range []string{".", "../pkg"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				if _, copied := os.Stat(filepath.Join(path, "UPSTREAM.md")); copied == nil {
					return filepath.SkipDir
				}
			}
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				if lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; lines > maxLines {
					long = append(long, fmt.Sprintf("%s %s (%d lines)", path, fn.Name.Name, lines))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(long) > maxLong {
		t.Errorf("%d functions run over %d lines, at most %d may: split one where the split has a name\n%s",
			len(long), maxLines, maxLong, strings.Join(long, "\n"))
	}
}
