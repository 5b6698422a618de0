package msgrequest_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pureImports are all a file of the decision may import: it does no I/O,
// reads no clock (callers pass the time) and knows nothing of chat, so chat
// can depend on it (doc.go).
var pureImports = map[string]bool{
	"strings": true,
	"time":    true, // time.Time and time.Duration values only
	"github.com/parleychat/parley/internal/identity": true,
	"github.com/parleychat/parley/internal/policy":   true,
}

func TestImports_DecisionIsPure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		checked++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if !pureImports[p] {
				t.Errorf("%s imports %q; the decision is pure and may import only %v", name, p, pureImports)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no files checked")
	}
}
