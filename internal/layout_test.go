// Package internal_test holds the layout rules of STYLE.md §1 as a test:
// dependencies point one way, and domain packages never import storage,
// SQL, HTTP or the composition root.
package internal_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/parleychat/parley/internal/"

// domain packages hold the SPEC's nouns and rules.
var domain = []string{"identity", "auth", "policy", "msgrequest", "invite", "chat", "safety", "audit", "event", "outbox", "address", "errcode", "mail"}

// forbidden for domain packages.
var forbidden = []string{"database/sql", "net/http", module + "store", module + "httpapi", module + "server", module + "cli", module + "realtime", module + "web"}

func TestLayout_DomainImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[strings.TrimPrefix(f[0], module)] = f[1:]
	}
	for _, d := range domain {
		deps, ok := imports[d]
		if !ok {
			t.Errorf("domain package %s not found", d)
			continue
		}
		for _, imp := range deps {
			for _, bad := range forbidden {
				if imp == bad {
					t.Errorf("domain package %s imports %s", d, imp)
				}
			}
		}
	}
	// Nothing but cmd/, cli and tests import the composition root, and
	// only server and tests import store.
	for pkg, deps := range imports {
		for _, imp := range deps {
			switch imp {
			case module + "server":
				if pkg != "cli" && pkg != "loadtest" && !strings.HasSuffix(pkg, "test") {
					t.Errorf("%s imports server", pkg)
				}
			case module + "store":
				if pkg != "server" && pkg != "cli" && !strings.HasSuffix(pkg, "test") {
					t.Errorf("%s imports store", pkg)
				}
			}
		}
	}
}
