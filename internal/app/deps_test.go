package app_test

import (
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// TestImports_DecisionIsPure: the decision of docs/rules.md §9 and the
// policy types it reads import nothing that does I/O, keeps time or draws
// random numbers.
func TestImports_DecisionIsPure(t *testing.T) {
	pure := map[string]bool{"github.com/parleychat/parley/internal/errcode": true, "slices": true}
	for _, name := range []string{"doc.go", "decision.go", "policy.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !pure[p] {
				t.Errorf("%s imports %q; the decision is pure", name, p)
			}
		}
	}
}
