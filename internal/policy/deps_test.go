package policy_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// decisionFiles hold the decision of docs/rules.md §2–§4 (MayStart, MayTalk, Admits
// and their types). They are pure: no I/O, no clock, no randomness and no
// Parley package but errcode (docs/decisions.md "Tests").
var decisionFiles = []string{"doc.go", "policy.go", "settings.go", "decision.go"}

// pureImports are all a decision file may import.
var pureImports = map[string]bool{
	"github.com/parleychat/parley/internal/errcode": true,
	"slices":       true,
	"strings":      true,
	"unicode/utf8": true,
}

// forbiddenImport reports whether path is an import that no file of a domain
// package may have (docs/decisions.md "Tests").
func forbiddenImport(path string) bool {
	const parley = "github.com/parleychat/parley/internal/"
	switch {
	case path == "net/http", strings.HasPrefix(path, "net/http/"), path == "database/sql", strings.HasPrefix(path, "database/sql/"):
		return true
	case path == parley+"store", strings.HasPrefix(path, parley+"store/"), path == parley+"httpapi", strings.HasPrefix(path, parley+"httpapi/"):
		return true
	}
	return false
}

func imports(t *testing.T, name string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	var paths []string
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			t.Fatalf("%s: import %s: %v", name, imp.Path.Value, err)
		}
		paths = append(paths, p)
	}
	return paths
}

func TestImports_DecisionIsPure(t *testing.T) {
	for _, name := range decisionFiles {
		for _, p := range imports(t, name) {
			if !pureImports[p] {
				t.Errorf("%s imports %q; the decision is pure and may import only %v", name, p, pureImports)
			}
		}
	}
}

func TestImports_DomainPackage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatalf("list files: %v", err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		for _, p := range imports(t, name) {
			if forbiddenImport(p) {
				t.Errorf("%s imports %q; a domain package never imports net/http, database/sql, store or httpapi", name, p)
			}
		}
	}
}
