package audit_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDomainImports: audit is a domain package (docs/decisions.md "Tests"): no HTTP,
// SQL, store or httpapi import outside tests.
func TestDomainImports(t *testing.T) {
	const parley = "github.com/parleychat/parley/internal/"
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"net/http", "database/sql", parley + "store", parley + "httpapi"} {
				if p == bad || strings.HasPrefix(p, bad+"/") {
					t.Errorf("%s imports %s", name, p)
				}
			}
		}
	}
}
